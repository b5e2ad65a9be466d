/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * Random access to the remote file by range requests, for readers that
 * seek (libarchive's seekable zip reader: the central directory at the
 * end, then only the members asked for). One easy handle, blocking, on
 * the main thread once the fetcher thread has ended.
 */
#ifndef RC_RANGED_H
#define RC_RANGED_H

#include <stdint.h>
#include <sys/types.h>

#include <curl/curl.h>

#include "auth.h"
#include "err.h"
#include "options.h"

struct rc_ranged;

/* A reader of url's total bytes, each request pinned with pin (a header
 * line or NULL) and carrying auth's credentials; every reply must carry
 * the ETag etag and the Last-Modified lm ("": none; NULL: anything), and
 * the Content-Encoding coding (as rc_http_coding gives it; "" or NULL:
 * none). url, pin, etag, lm, coding and auth are borrowed. Returns NULL
 * when out of memory. */
struct rc_ranged *rc_ranged_new(const struct rc_opts *o, struct rc_auth *auth,
				const char *url, const char *pin,
				const char *etag, const char *lm,
				const char *coding, uint64_t total);
void rc_ranged_free(struct rc_ranged *z);

/* Reads at the current position: *p holds the bytes until the next call.
 * Returns their number, 0 at the end, -1 with rc_ranged_error set. Blocks
 * grow while reads are sequential, so a member streams in large ranges
 * and a scattered header costs a few KiB. */
ssize_t rc_ranged_read(struct rc_ranged *z, const void **p);

/* Moves the position (whence as lseek); returns it, or -1 if invalid. */
int64_t rc_ranged_seek(struct rc_ranged *z, int64_t off, int whence);

/* The error of the last failed read, with a message. */
enum rc_err rc_ranged_error(const struct rc_ranged *z, const char **msg);

/* Body bytes received so far. */
uint64_t rc_ranged_fetched(const struct rc_ranged *z);

#endif
