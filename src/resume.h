/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The resume hint: after a failure, the exact command that continues where
 * the delivered bytes end. Pure; main thread.
 */
#ifndef RC_RESUME_H
#define RC_RESUME_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of a resume command per byte of argv at most: redaction
 * ("=&" to "=[redacted]&") and quoting ($'\ooo' for a raw byte) included.
 * Size out as RC_RESUME_GROWTH times argv, and then some. */
#define RC_RESUME_GROWTH 11

/*
 * Writes to out a shell command line that resumes the run given by argv at
 * absolute byte next. last is the last byte wanted (inclusive) when the run
 * had a range, RC_UNKNOWN otherwise. etag, when not NULL, is pinned with
 * --if-match. -C, -r and --if-match of argv are replaced; header values
 * and URL parts that carry credentials are redacted.
 */
void rc_resume_command(int argc, char *const argv[], uint64_t next,
		       uint64_t last, const char *etag, char *out,
		       size_t outlen);

/*
 * As rc_resume_command, for a run of several URLs: the URL operands and
 * -i FILE of argv are dropped and the nurls urls put at the end instead;
 * -C next is added unless next is RC_UNKNOWN.
 */
void rc_resume_command_urls(int argc, char *const argv[], uint64_t next,
			    const char *etag, const char *const urls[],
			    size_t nurls, char *out, size_t outlen);

/* Appends s to out (at *o) quoted for a POSIX shell when needed. */
void rc_shell_quote(const char *s, char *out, size_t outlen, size_t *o);

#endif
