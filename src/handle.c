/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The settings every libcurl easy handle of a run shares, whoever owns
 * it: the fetcher's transfers, the zip reader by ranges, the OAuth token
 * fetch and the AWS credential sources. It depends on the options (and
 * the signal flag every blocking wait checks) only, so the modules that
 * make requests of their own need not include the fetcher. Any thread;
 * each call touches only the handle it is given.
 */
#include "handle.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "sched.h"

void rc_handle_setup_easy(CURL *h, const struct rc_opts *o)
{
	/* Redirects are followed by the fetcher itself (follow_redirect),
	 * which decides per URL whether credentials may go along. */
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "rangecat/" RC_VERSION);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, o->connect_timeout);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L * 1024);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	if (o->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	const char *ca = o->cacert;
	if (ca == NULL)
		ca = getenv("CURL_CA_BUNDLE");
	if (ca == NULL)
		ca = getenv("SSL_CERT_FILE");
	if (ca && *ca)
		curl_easy_setopt(h, CURLOPT_CAINFO, ca);
}

static int stop_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow,
		   curl_off_t ultotal, curl_off_t ulnow)
{
	(void)ud;
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return rc_sched_signal() != 0;
}

void rc_handle_setup_blocking(CURL *h, const struct rc_opts *o)
{
	/* curl calls the progress function at least once a second, even
	 * while nothing arrives. */
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, stop_cb);
	if (o->speed_limit) {
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT,
				 (long)(o->speed_limit > LONG_MAX
					    ? LONG_MAX
					    : o->speed_limit));
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, o->speed_time);
	} else {
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, o->stall_timeout);
	}
}

static size_t body_cb(char *p, size_t sz, size_t nm, void *ud)
{
	struct rc_handle_body *b = ud;
	size_t n = sz * nm;

	if (n > b->cap - b->n) {
		b->too_big = true;
		return 0;
	}
	memcpy(b->buf + b->n, p, n);
	b->n += n;
	b->buf[b->n] = '\0';
	return n;
}

void rc_handle_collect_body(CURL *h, struct rc_handle_body *b)
{
	b->n = 0;
	b->too_big = false;
	b->buf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
}

void rc_handle_body_free(struct rc_handle_body *b)
{
	if (b->buf) {
		mbedtls_platform_zeroize(b->buf, b->n);
		free(b->buf);
	}
	b->buf = NULL;
	b->n = 0;
}
