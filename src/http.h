/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * HTTP header parsing: Content-Range, Content-Length, Retry-After, ETag and
 * the response summary (struct rc_resp) that the fetcher's header callback
 * fills line by line. Pure functions, no I/O; any thread.
 */
#ifndef RC_HTTP_H
#define RC_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define RC_UNKNOWN UINT64_MAX
#define RC_ETAG_MAX 256
#define RC_DATE_MAX 64
#define RC_LOCATION_MAX 8192
#define RC_CODING_MAX 64

struct rc_crange {
	bool unsatisfied;     /* "bytes *\/T" (416) */
	uint64_t first, last; /* inclusive; unset when unsatisfied */
	uint64_t total;	      /* RC_UNKNOWN when the total is "*" */
};

/* What one response said, as far as rangecat cares. */
struct rc_resp {
	long status; /* 0 until a status line was seen */
	bool has_crange;
	bool bad_crange; /* a Content-Range we could not parse */
	struct rc_crange crange;
	uint64_t clen;		/* RC_UNKNOWN when absent */
	bool clen_conflict;	/* two different or malformed Content-Lengths */
	const char *malformed;	/* why the framing cannot be trusted (static
				 * text), or NULL: see rc_resp_header */
	char etag[RC_ETAG_MAX]; /* as sent, quotes included; "" if none
				 * (kept when bad_etag, unless too long) */
	bool etag_weak;
	bool bad_etag; /* present but not an entity-tag */
	char last_modified[RC_DATE_MAX];
	bool has_lm;	 /* a Last-Modified line came, parseable or not */
	time_t lm_time;	 /* Last-Modified parsed, -1 when absent */
	time_t date;	 /* Date parsed, -1 when absent or unparsable */
	time_t retry_at; /* a Retry-After HTTP-date, -1 when none */
	bool encoded;	 /* Content-Encoding other than identity */
	char coding[RC_CODING_MAX]; /* that Content-Encoding, normalised
				     * (rc_http_coding), "" for none */
	bool long_coding;  /* ... too long to keep: no two compare equal */
	bool multipart;	   /* Content-Type multipart/byteranges */
	char boundary[72]; /* ... its boundary (parts.h), "" if none valid */
	bool chunked;	   /* Transfer-Encoding: chunked */
	long retry_after;  /* seconds, -1 when absent or unparsable */
	bool accept_ranges_none;
	bool www_auth;	 /* WWW-Authenticate present (the origin asks) */
	bool proxy_auth; /* Proxy-Authenticate present (a proxy asks) */
	bool no_store;	 /* Cache-Control: no-store (--cache keeps nothing) */
	char location[RC_LOCATION_MAX]; /* Location as sent, "" if none */
	bool long_location;		/* over RC_LOCATION_MAX - 1 bytes */
};

/* Parses a Content-Range value. Returns false on any syntax or range error
 * (last < first, last >= total, numbers over 2^63). */
bool rc_http_content_range(const char *v, struct rc_crange *out);

/* Parses Retry-After: delta-seconds or an HTTP-date relative to now.
 * Returns false when unparsable; a date in the past gives 0. (A reply's
 * own Date is the better now: rc_resp_header takes it when it came.) */
bool rc_http_retry_after(const char *v, time_t now, long *secs);

/* Checks an entity-tag (RFC 9110 8.8.3): "x" or W/"x". Sets *weak. */
bool rc_http_etag(const char *v, bool *weak);

/* True when two replies' entity-tags name the same version: the same
 * bytes (a weak tag never equals a strong one, nor "x-gzip" "x": the
 * bytes asked for are never encoded, so a reply that differs so is
 * another representation). */
bool rc_http_etag_same(const char *a, const char *b);

/* True when a reply's entity-tag is the one given (--if-match, or a
 * partial file's record), compared strongly as If-Match is (RFC 9110
 * 13.1.1: neither weak). A given tag may carry Apache mod_deflate's
 * "-gzip" (copied from a compressed reply) that the reply, unencoded,
 * lacks. */
bool rc_http_etag_matches(const char *reply, const char *given);

/*
 * Appends the Content-Encoding value v to out (outlen bytes, "" for none
 * so far) in a form that compares with strcmp: codings in lower case,
 * joined by "," without spaces, "identity" and empty members dropped
 * (RFC 9110 8.4: codings are case-insensitive, and a field sent on two
 * lines is one list). Returns false when the result does not fit.
 */
bool rc_http_coding(const char *v, char *out, size_t outlen);

/* Whether an entity-tag ends in "-gzip" with something before it: Apache
 * mod_deflate's mark on what it compressed (DeflateAlterETag). */
bool rc_http_etag_gzip(const char *tag);

/* Resets r for a new response (also done at every status line). */
void rc_resp_reset(struct rc_resp *r);

/* Feeds one raw header line (CRLF included or not) of a response into r.
 * A status line ("HTTP/...") starts a new response, so after redirects r
 * describes the last one. A Retry-After date counts from the reply's
 * Date, in whichever order they come, else from now: both are the
 * server's clock, whole seconds apart, however far ours is off. */
void rc_resp_header(struct rc_resp *r, const char *line, size_t n, time_t now);

#endif
