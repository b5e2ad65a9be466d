/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * Random access by range requests. Each read asks for one block at the
 * current position, pinned to the probe's version (If-Match or
 * If-Unmodified-Since) and judged like every other range (probe.c): a
 * reply must carry the probe's ETag, Last-Modified and Content-Encoding,
 * whether or not the server honoured the precondition.
 * Transient failures are retried with backoff, as the fetcher does.
 */
#include "ranged.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handle.h"
#include "http.h"
#include "log.h"
#include "probe.h"
#include "sched.h"

#define MIN_BLOCK (16u << 10)
/* A block may run past the member it is read for: 1 MiB bounds the
 * waste and still makes few requests. */
#define MAX_BLOCK (1u << 20)

struct rc_ranged {
	CURL *h;
	const struct rc_opts *o;
	struct rc_auth *auth;
	const char *url, *pin;
	const char *etag, *lm; /* what every reply carries ("" none), or NULL */
	const char *coding;    /* its Content-Encoding ("" none) */
	uint64_t total, pos;
	uint64_t last_end; /* where the previous read ended */
	size_t block;
	unsigned char *buf; /* MAX_BLOCK bytes, owned */
	size_t len;
	bool overflow;
	struct rc_resp resp;
	uint64_t fetched;
	struct rc_sched_retry policy;
	enum rc_err err;
	char msg[512];
};

static size_t body_cb(char *p, size_t sz, size_t nm, void *ud)
{
	struct rc_ranged *z = ud;
	size_t n = sz * nm;

	if (z->len + n > z->block) {
		z->overflow = true;
		return 0;
	}
	memcpy(z->buf + z->len, p, n);
	z->len += n;
	z->fetched += n;
	return n;
}

static size_t head_cb(char *p, size_t sz, size_t nm, void *ud)
{
	struct rc_ranged *z = ud;
	rc_resp_header(&z->resp, p, sz * nm, time(NULL));
	return sz * nm;
}

struct rc_ranged *rc_ranged_new(const struct rc_opts *o, struct rc_auth *auth,
				const char *url, const char *pin,
				const char *etag, const char *lm,
				const char *coding, uint64_t total)
{
	struct rc_ranged *z = calloc(1, sizeof *z);

	if (z == NULL)
		return NULL;
	z->h = curl_easy_init();
	z->buf = malloc(MAX_BLOCK);
	if (z->h == NULL || z->buf == NULL) {
		rc_ranged_free(z);
		return NULL;
	}
	z->o = o;
	z->auth = auth;
	z->url = url;
	z->pin = pin;
	z->etag = etag;
	z->lm = lm;
	z->coding = coding;
	z->total = total;
	z->block = MIN_BLOCK;
	z->last_end = UINT64_MAX;
	rc_sched_retry_init(&z->policy, o->retries, o->retry_delay,
			    rc_sched_seed());
	rc_handle_setup_easy(z->h, o);
	rc_handle_setup_blocking(z->h, o);
	rc_auth_setup_easy(auth, z->h);
	curl_easy_setopt(z->h, CURLOPT_URL, url);
	curl_easy_setopt(z->h, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(z->h, CURLOPT_WRITEDATA, z);
	curl_easy_setopt(z->h, CURLOPT_HEADERFUNCTION, head_cb);
	curl_easy_setopt(z->h, CURLOPT_HEADERDATA, z);
	return z;
}

void rc_ranged_free(struct rc_ranged *z)
{
	if (z == NULL)
		return;
	if (z->h)
		curl_easy_cleanup(z->h);
	free(z->buf);
	free(z);
}

/* One attempt at [first, last]; RC_OK with z->len bytes, or an error
 * (retry says whether another attempt may help). */
static enum rc_err attempt(struct rc_ranged *z, uint64_t first, uint64_t last,
			   bool *retry)
{
	char range[64];
	struct rc_want w = {.first = first,
			    .last = last,
			    .total = z->total,
			    .etag = z->etag,
			    .lm = z->lm,
			    .coding = z->coding,
			    .later = true};
	struct rc_verdict v;

	snprintf(range, sizeof range, "%" PRIu64 "-%" PRIu64, first, last);
	curl_easy_setopt(z->h, CURLOPT_RANGE, range);
	rc_resp_reset(&z->resp);
	z->len = 0;
	z->overflow = false;
	*retry = false;
	rc_log("GET bytes=%s (random access)", range);
	/* Signatures and tokens are per request. */
	unsigned gen;
	enum rc_err aerr;
	struct curl_slist *hdrs = rc_auth_headers(
	    z->auth, z->url, range, z->pin, &gen, &aerr, z->msg, sizeof z->msg);
	if (aerr != RC_OK)
		return aerr;
	curl_easy_setopt(z->h, CURLOPT_HTTPHEADER, hdrs);
	CURLcode res = curl_easy_perform(z->h);
	curl_easy_setopt(z->h, CURLOPT_HTTPHEADER, NULL);
	rc_auth_free_list(hdrs);
	if (z->resp.status != 0)
		rc_judge(&z->resp, &w, &v);
	if (res != CURLE_OK && !z->overflow && z->resp.status == 0) {
		/* A name that does not resolve will not in a moment. */
		*retry = res != CURLE_COULDNT_RESOLVE_HOST &&
			 res != CURLE_COULDNT_RESOLVE_PROXY;
		snprintf(z->msg, sizeof z->msg, "%s", curl_easy_strerror(res));
		return RC_E_NETWORK;
	}
	switch (z->resp.status ? v.kind : RC_V_RETRY) {
	case RC_V_RANGE:
		if (res != CURLE_OK || z->overflow ||
		    z->len != v.last - v.first + 1) {
			*retry = true;
			snprintf(z->msg, sizeof z->msg,
				 "short or broken reply");
			return RC_E_NETWORK;
		}
		return RC_OK;
	case RC_V_CHANGED:
		snprintf(z->msg, sizeof z->msg, "%s", v.why);
		return RC_E_CHANGED;
	case RC_V_RETRY:
		*retry = true;
		snprintf(z->msg, sizeof z->msg, "HTTP %ld: %s", z->resp.status,
			 v.why ? v.why : "retry");
		return RC_E_NETWORK;
	default:
		if (z->resp.status == 401 &&
		    rc_auth_refresh(z->auth, gen, &aerr, z->msg,
				    sizeof z->msg)) {
			*retry = true;
			snprintf(z->msg, sizeof z->msg, "HTTP 401");
			return RC_E_REMOTE;
		}
		if (aerr != RC_OK)
			return aerr;
		/* The body of a refusal is short: S3 names its error there. */
		char code[64], hint[256];
		z->buf[z->len < MAX_BLOCK ? z->len : MAX_BLOCK - 1] = '\0';
		rc_auth_s3_code((const char *)z->buf, code, sizeof code);
		rc_auth_hint(z->auth, z->resp.status, code, hint, sizeof hint);
		snprintf(z->msg, sizeof z->msg, "HTTP %ld for bytes %s%s%s",
			 z->resp.status, range, hint[0] ? ": " : "", hint);
		return RC_E_REMOTE;
	}
}

ssize_t rc_ranged_read(struct rc_ranged *z, const void **p)
{
	if (z->pos >= z->total)
		return 0;
	/* Sequential reads double the block; a jump starts small again. */
	if (z->pos == z->last_end)
		z->block = z->block * 2 > MAX_BLOCK ? MAX_BLOCK : z->block * 2;
	else
		z->block = MIN_BLOCK;
	uint64_t last = z->pos + z->block - 1;
	if (last >= z->total)
		last = z->total - 1;
	unsigned fails = 0;
	for (;;) {
		bool retry;
		double d;
		z->err = attempt(z, z->pos, last, &retry);
		if (z->err == RC_OK)
			break;
		if (rc_sched_signal())
			break;
		enum rc_sched_action a = rc_sched_after_failure(
		    &z->policy, &fails, 0, !retry,
		    z->resp.status ? z->resp.retry_after : -1, &d);
		if (a == RC_SCHED_GIVE_UP) {
			if (retry) {
				size_t n = strlen(z->msg);
				snprintf(z->msg + n, sizeof z->msg - n,
					 " (gave up after %u retries)",
					 z->o->retries);
			}
			return -1;
		}
		char why[600];
		snprintf(why, sizeof why, "bytes %" PRIu64 "-%" PRIu64 ": %s",
			 z->pos, last, z->msg);
		rc_sched_announce(z->o->quiet, why, fails, z->o->retries, d);
		if (!rc_sched_sleep(d))
			break;
	}
	if (z->err != RC_OK && rc_sched_signal()) {
		/* Ctrl-C, SIGTERM or --max-time, mid-request or mid-wait. */
		z->err = rc_sched_signal_err(rc_sched_signal(), z->msg,
					     sizeof z->msg);
		return -1;
	}
	*p = z->buf;
	z->pos += z->len;
	z->last_end = z->pos;
	return (ssize_t)z->len;
}

int64_t rc_ranged_seek(struct rc_ranged *z, int64_t off, int whence)
{
	int64_t base = whence == SEEK_SET   ? 0
		       : whence == SEEK_CUR ? (int64_t)z->pos
					    : (int64_t)z->total;
	int64_t to = base + off;

	if (to < 0)
		return -1;
	z->pos = (uint64_t)to;
	return to;
}

enum rc_err rc_ranged_error(const struct rc_ranged *z, const char **msg)
{
	*msg = z->msg;
	return z->err;
}

uint64_t rc_ranged_fetched(const struct rc_ranged *z)
{
	return z->fetched;
}
