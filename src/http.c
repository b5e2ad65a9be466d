/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * HTTP header parsing. Every number is parsed as 64-bit with overflow checks
 * (RFC 9110 14.1.2: "anticipate potentially large decimal numerals"); values
 * above 2^63 are refused rather than wrapped.
 */
#include "http.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "parts.h"

#define MAX_POS ((uint64_t)INT64_MAX)

/* Reads digits at *p into *out (at most MAX_POS); advances *p. */
static bool digits(const char **p, uint64_t *out)
{
	uint64_t v = 0;
	const char *s = *p;

	if (!isdigit((unsigned char)*s))
		return false;
	while (isdigit((unsigned char)*s)) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (MAX_POS - d) / 10)
			return false;
		v = v * 10 + d;
		s++;
	}
	*p = s;
	*out = v;
	return true;
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

bool rc_http_content_range(const char *v, struct rc_crange *out)
{
	const char *p = skip_ws(v);

	memset(out, 0, sizeof *out);
	if (strncasecmp(p, "bytes", 5) != 0)
		return false;
	p += 5;
	if (*p != ' ' && *p != '\t')
		return false;
	p = skip_ws(p);
	if (*p == '*') {
		out->unsatisfied = true;
		p++;
		if (*p++ != '/' || !digits(&p, &out->total))
			return false;
		return *skip_ws(p) == '\0';
	}
	if (!digits(&p, &out->first) || *p++ != '-' ||
	    !digits(&p, &out->last) || *p++ != '/')
		return false;
	if (*p == '*') {
		out->total = RC_UNKNOWN;
		p++;
	} else if (!digits(&p, &out->total)) {
		return false;
	}
	if (*skip_ws(p) != '\0')
		return false;
	if (out->last < out->first)
		return false;
	if (out->total != RC_UNKNOWN && out->last >= out->total)
		return false;
	return true;
}

bool rc_http_retry_after(const char *v, time_t now, long *secs)
{
	const char *p = skip_ws(v);
	uint64_t n;

	if (isdigit((unsigned char)*p)) {
		if (!digits(&p, &n) || *skip_ws(p) != '\0')
			return false;
		*secs = n > 86400 * 365 ? 86400 * 365 : (long)n;
		return true;
	}
	time_t t = curl_getdate(p, NULL);
	if (t == (time_t)-1)
		return false;
	*secs = t > now ? (long)(t - now) : 0;
	return true;
}

bool rc_http_etag(const char *v, bool *weak)
{
	const char *p = v;

	*weak = false;
	if (strncmp(p, "W/", 2) == 0) {
		*weak = true;
		p += 2;
	}
	size_t n = strlen(p);
	if (n < 2 || p[0] != '"' || p[n - 1] != '"')
		return false;
	/* etagc = %x21 / %x23-7E / obs-text */
	for (size_t i = 1; i + 1 < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '"' || c < 0x21 || c == 0x7f)
			return false;
	}
	return true;
}

bool rc_http_etag_same(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

bool rc_http_etag_gzip(const char *tag)
{
	size_t n = strlen(tag);

	return n > 7 && memcmp(tag + n - 6, "-gzip\"", 6) == 0;
}

bool rc_http_etag_matches(const char *reply, const char *given)
{
	size_t n = strlen(given);

	if (strncmp(reply, "W/", 2) == 0 || strncmp(given, "W/", 2) == 0)
		return false; /* If-Match compares strongly */
	if (strcmp(reply, given) == 0)
		return true;
	/* given '"x-gzip"': reply '"x"' */
	return rc_http_etag_gzip(given) && strlen(reply) == n - 5 &&
	       memcmp(reply, given, n - 6) == 0 && reply[n - 6] == '"';
}

bool rc_http_coding(const char *v, char *out, size_t outlen)
{
	size_t len = strlen(out), kept = len;

	for (const char *p = v; *p != '\0';) {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		const char *s = p;
		while (*p != '\0' && *p != ',')
			p++;
		const char *e = p;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		size_t m = (size_t)(e - s);
		if (m == 0 || (m == 8 && strncasecmp(s, "identity", 8) == 0))
			continue;
		if (len + (len > 0) + m >= outlen) {
			out[kept] = '\0';
			return false;
		}
		if (len > 0)
			out[len++] = ',';
		for (size_t i = 0; i < m; i++)
			out[len++] = (char)tolower((unsigned char)s[i]);
		out[len] = '\0';
	}
	return true;
}

/* A reply's Date to count a Retry-After date (at) from: a day or less
 * from it. Further off, the Date is a broken clock (one of 1970 made a
 * date 10 s ahead of our clock a 120 s wait, the cap), and the date is
 * counted from ours. Not judged against our clock: that is the one off
 * on a machine with no clock until NTP (two days behind, a wait of 3 s
 * was 120 s). */
static bool date_usable(time_t date, time_t at)
{
	return date > 0 && (date > at ? date - at : at - date) <= 86400;
}

void rc_resp_reset(struct rc_resp *r)
{
	memset(r, 0, sizeof *r);
	r->clen = RC_UNKNOWN;
	r->retry_after = -1;
	r->lm_time = -1;
	r->date = -1;
	r->retry_at = -1;
}

/* Copies the value of a header line, trimmed, into buf; false if too long. */
static bool value_of(const char *line, size_t n, size_t namelen, char *buf,
		     size_t buflen)
{
	const char *s = line + namelen + 1;
	const char *e = line + n;

	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' ||
			 e[-1] == '\t'))
		e--;
	if ((size_t)(e - s) >= buflen)
		return false;
	memcpy(buf, s, (size_t)(e - s));
	buf[e - s] = '\0';
	return true;
}

static bool is_header(const char *line, size_t n, const char *name,
		      size_t *namelen)
{
	size_t l = strlen(name);

	if (n <= l || line[l] != ':' || strncasecmp(line, name, l) != 0)
		return false;
	*namelen = l;
	return true;
}

/* Whether the Cache-Control value [s, e) holds the directive name (any
 * case, with or without an argument), read from the raw line so that a
 * long value cannot hide it. */
static bool has_directive(const char *s, const char *e, const char *name)
{
	size_t l = strlen(name);

	while (s < e) {
		while (s < e && (*s == ' ' || *s == '\t' || *s == ','))
			s++;
		const char *t = s;
		while (t < e && *t != ',' && *t != '=' && *t != ' ' &&
		       *t != '\t' && *t != '\r' && *t != '\n')
			t++;
		if ((size_t)(t - s) == l && strncasecmp(s, name, l) == 0)
			return true;
		/* Skip an argument, quoted strings included. */
		bool quoted = false;
		while (t < e && (quoted || *t != ',')) {
			if (*t == '"')
				quoted = !quoted;
			t++;
		}
		s = t;
	}
	return false;
}

static void status_line(struct rc_resp *r, const char *line, size_t n)
{
	char buf[64];
	const char *p;

	rc_resp_reset(r);
	if (n >= sizeof buf)
		n = sizeof buf - 1;
	memcpy(buf, line, n);
	buf[n] = '\0';
	p = strchr(buf, ' ');
	if (p == NULL)
		return;
	p = skip_ws(p);
	uint64_t code;
	if (digits(&p, &code) && code >= 100 && code <= 999)
		r->status = (long)code;
}

void rc_resp_header(struct rc_resp *r, const char *line, size_t n, time_t now)
{
	char val[RC_ETAG_MAX];
	size_t nl;

	if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		status_line(r, line, n);
		return;
	}
	if (is_header(line, n, "Content-Range", &nl)) {
		struct rc_crange prev = r->crange;
		bool had = r->has_crange;
		r->has_crange = true;
		if (!value_of(line, n, nl, val, sizeof val) ||
		    !rc_http_content_range(val, &r->crange))
			r->bad_crange = true;
		if (had && memcmp(&prev, &r->crange, sizeof prev) != 0 &&
		    r->malformed == NULL)
			r->malformed = "two different Content-Ranges";
	} else if (is_header(line, n, "Content-Length", &nl)) {
		uint64_t v;
		const char *p = val;
		bool ok = value_of(line, n, nl, val, sizeof val);
		if (!ok || !digits(&p, &v) || *p != '\0') {
			/* Only digits, yet no number: over 2^63. */
			bool big = ok && val[0] != '\0' &&
				   strspn(val, "0123456789") == strlen(val);
			r->clen_conflict = true;
			r->malformed =
			    big ? "a Content-Length too large to be a size"
				: "an unparseable Content-Length";
		} else if (r->clen != RC_UNKNOWN && r->clen != v) {
			r->clen_conflict = true;
			r->malformed = "two different Content-Lengths";
		} else {
			r->clen = v;
		}
		if (r->chunked && r->malformed == NULL)
			r->malformed = "both Content-Length and "
				       "Transfer-Encoding: chunked";
	} else if (is_header(line, n, "ETag", &nl)) {
		/* One that is no entity-tag (unquoted, say) is kept as sent:
		 * it cannot pin a request, but a later reply must still carry
		 * the same text. */
		char prev[RC_ETAG_MAX];
		bool had = r->etag[0] || r->bad_etag;
		memcpy(prev, r->etag, sizeof prev);
		r->bad_etag = false;
		if (!value_of(line, n, nl, r->etag, sizeof r->etag)) {
			r->etag[0] = '\0';
			r->bad_etag = true;
		} else if (!rc_http_etag(r->etag, &r->etag_weak)) {
			r->bad_etag = true;
		}
		/* Which of two would name the version? */
		if (had && strcmp(prev, r->etag) != 0 && r->malformed == NULL)
			r->malformed = "two different ETags";
	} else if (is_header(line, n, "Last-Modified", &nl)) {
		time_t prev = r->lm_time;
		bool had = r->has_lm;
		r->has_lm = true;
		if (!value_of(line, n, nl, r->last_modified,
			      sizeof r->last_modified) ||
		    (r->lm_time = curl_getdate(r->last_modified, NULL)) ==
			(time_t)-1) {
			r->last_modified[0] = '\0';
			r->lm_time = -1;
		}
		if (had && prev != r->lm_time && r->malformed == NULL)
			r->malformed = "two different Last-Modified dates";
	} else if (is_header(line, n, "Date", &nl)) {
		if (value_of(line, n, nl, val, sizeof val))
			r->date = curl_getdate(val, NULL);
		if (r->retry_at != -1 && date_usable(r->date, r->retry_at))
			r->retry_after = r->retry_at > r->date
					     ? (long)(r->retry_at - r->date)
					     : 0;
	} else if (is_header(line, n, "Content-Encoding", &nl)) {
		if (!value_of(line, n, nl, val, sizeof val) ||
		    !rc_http_coding(val, r->coding, sizeof r->coding))
			r->long_coding = true;
		r->encoded = r->long_coding || r->coding[0] != '\0';
	} else if (is_header(line, n, "Content-Type", &nl)) {
		if (value_of(line, n, nl, val, sizeof val) &&
		    strncasecmp(val, "multipart/byteranges", 20) == 0) {
			r->multipart = true;
			if (!rc_parts_boundary(val, r->boundary,
					       sizeof r->boundary))
				r->boundary[0] = '\0';
		}
	} else if (is_header(line, n, "Transfer-Encoding", &nl)) {
		if (value_of(line, n, nl, val, sizeof val) &&
		    strcasestr(val, "chunked") != NULL) {
			r->chunked = true;
			/* RFC 9112 6.3: a sender must not send both; a reply
			 * that does may be smuggling a second response. */
			if (r->clen != RC_UNKNOWN && r->malformed == NULL)
				r->malformed = "both Content-Length and "
					       "Transfer-Encoding: chunked";
		}
	} else if (is_header(line, n, "Retry-After", &nl)) {
		long s;
		if (value_of(line, n, nl, val, sizeof val)) {
			const char *v = skip_ws(val);
			time_t at = isdigit((unsigned char)*v)
					? -1
					: curl_getdate(v, NULL);
			time_t from = at != -1 && date_usable(r->date, at)
					  ? r->date
					  : now;
			if (rc_http_retry_after(v, from, &s)) {
				r->retry_after = s;
				r->retry_at = at;
			}
		}
	} else if (is_header(line, n, "Location", &nl)) {
		if (!value_of(line, n, nl, r->location, sizeof r->location)) {
			r->location[0] = '\0';
			r->long_location = true;
		}
	} else if (is_header(line, n, "WWW-Authenticate", &nl)) {
		r->www_auth = true;
	} else if (is_header(line, n, "Proxy-Authenticate", &nl)) {
		r->proxy_auth = true;
	} else if (is_header(line, n, "Accept-Ranges", &nl)) {
		if (value_of(line, n, nl, val, sizeof val) &&
		    strcasecmp(val, "none") == 0)
			r->accept_ranges_none = true;
	} else if (is_header(line, n, "Cache-Control", &nl)) {
		if (has_directive(line + nl + 1, line + n, "no-store"))
			r->no_store = true;
	}
}
