/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The URL list of -i FILE: one URL per line, read whole before the run
 * starts ('-' is stdin). Main thread.
 */
#ifndef RC_INPUTS_H
#define RC_INPUTS_H

#include <stddef.h>

#include "err.h"

struct rc_inputs {
	char *text;  /* the file's bytes, owned; wiped when freed */
	size_t len;  /* bytes of text */
	char **urls; /* n pointers into text, owned array */
	size_t n;
};

/*
 * Splits text (len bytes and room for a NUL after them; taken over by in,
 * freed by rc_inputs_free) into
 * URLs: blanks around a line and a CR before its LF are dropped, and
 * blank lines and lines whose first character is '#' are skipped. Each
 * URL must pass rc_url_ok. name is the file's name for messages. Returns
 * RC_OK, or RC_E_USAGE with why naming the file and line (never the
 * line's text, which may hold a password), RC_E_NOMEM.
 */
enum rc_err rc_inputs_parse(char *text, size_t len, const char *name,
			    struct rc_inputs *in, char *why, size_t whylen);

/*
 * Reads path ('-' for stdin) and parses it as rc_inputs_parse. A file
 * that cannot be read is RC_E_USAGE with why naming it and the reason.
 */
enum rc_err rc_inputs_read(const char *path, struct rc_inputs *in, char *why,
			   size_t whylen);

/* Wipes and frees what in holds; in may be zeroed or already freed. */
void rc_inputs_free(struct rc_inputs *in);

#endif
