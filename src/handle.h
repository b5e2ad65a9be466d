/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * Curl easy-handle set-up shared by every module that makes requests:
 * protocols, timeouts, TLS, and the stop conditions of a blocking
 * transfer. Depends on the options only.
 */
#ifndef RC_HANDLE_H
#define RC_HANDLE_H

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

#endif
