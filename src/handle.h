/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * Curl easy-handle set-up shared by every module that makes requests:
 * protocols, timeouts, TLS, and the stop conditions of a blocking
 * transfer. Depends on the options only.
 */
#ifndef RC_HANDLE_H
#define RC_HANDLE_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "options.h"

/* Applies the transfer settings every request shares (protocols, no
 * automatic redirects, timeouts, TLS) to h. */
void rc_handle_setup_easy(CURL *h, const struct rc_opts *o);

/* Makes a blocking transfer (curl_easy_perform: the zip reader, the
 * token fetch, the credential sources) end within about a second of a
 * signal or --max-time (CURLE_ABORTED_BY_CALLBACK), and below
 * --speed-limit, or silent for --stall-timeout, as a timeout. */
void rc_handle_setup_blocking(CURL *h, const struct rc_opts *o);

/* A small reply body (a token, credentials, an error document) collected
 * whole into a bounded buffer. */
struct rc_handle_body {
	char *buf;    /* cap + 1 bytes, owned by the caller */
	size_t cap;   /* the most body bytes kept */
	size_t n;     /* body bytes kept; buf[n] is '\0' */
	bool too_big; /* the body was longer than cap: the transfer ended */
};

/* Makes h write its reply body into b (CURLOPT_WRITEFUNCTION and _DATA),
 * which must outlive the transfer; resets b->n and b->too_big. A body of
 * more than b->cap bytes sets too_big and ends the transfer
 * (CURLE_WRITE_ERROR, with the reply's status still known). */
void rc_handle_collect_body(CURL *h, struct rc_handle_body *b);

/* Wipes the kept bytes (they may be credentials) and frees b->buf. */
void rc_handle_body_free(struct rc_handle_body *b);

#endif
