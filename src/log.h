/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * Logging to stderr for -v, with secrets redacted, and the one-line error
 * messages. Each line is a single write(2), so lines from the two threads
 * never interleave mid-line. Any thread.
 */
#ifndef RC_LOG_H
#define RC_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* Sets the verbosity (0 = errors only) and the clock origin. */
void rc_log_init(int verbose);

/* True when -v was given. */
bool rc_log_verbose(void);

/* True when -v was given twice (-vv): also each transfer's state. */
bool rc_log_debug(void);

/* -v only: a timestamped line "[  1.234] ...". */
void rc_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Always: "rangecat: ..." on stderr (erasing a progress bar first). */
void rc_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Called by the progress bar so errors erase it first. */
void rc_log_set_bar(bool shown);

/* Marks header name (n bytes) as secret for the rest of the run, whatever
 * it is called (RANGECAT_HEADERS holds secrets by definition). Call
 * before other threads start. */
void rc_log_add_secret_name(const char *name, size_t n);

/* True when a header (by name) carries a credential: a name marked
 * secret, or one that looks like a credential's. */
bool rc_log_secret_header(const char *name, size_t namelen);

/* Writes header h to out with its value replaced by [redacted] when the
 * name is secret. */
void rc_log_redact_header(const char *h, char *out, size_t outlen);

/* Writes url to out with userinfo and credential-like query values
 * replaced by [redacted]. */
void rc_log_redact_url(const char *url, char *out, size_t outlen);

#endif
