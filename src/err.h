/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * Errors as values. Every module returns an enum rc_err (0 = OK); only main
 * turns one into an exit status, through the single table in err.c.
 */
#ifndef RC_ERR_H
#define RC_ERR_H

#include <stddef.h>

enum rc_err {
	RC_OK = 0,
	RC_E_USAGE,	 /* bad option, bad URL, conflicting options */
	RC_E_REMOTE,	 /* HTTP 4xx, 416 past the end, bad redirect */
	RC_E_NETWORK,	 /* retries exhausted, timeouts, TLS */
	RC_E_CHANGED,	 /* validator mismatch: the file changed */
	RC_E_OUTPUT,	 /* write error on stdout, disk full */
	RC_E_DECODE,	 /* decode/unpack failed */
	RC_E_INTEGRITY,	 /* --sha256 mismatch */
	RC_E_INTERRUPT,	 /* SIGINT */
	RC_E_TERMINATED, /* SIGTERM */
	RC_E_NOMEM,	 /* allocation failed */
	RC_E__COUNT
};

/* Returns the documented exit status for err (0 for RC_OK). */
int rc_err_exit_status(enum rc_err err);

/* Returns a short static noun phrase for err ("network error"). */
const char *rc_err_name(enum rc_err err);

/* Writes a one-line message to why and returns RC_E_USAGE: for option
 * and environment checks. */
enum rc_err rc_err_usage(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
