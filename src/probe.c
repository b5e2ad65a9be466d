/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * Response judging (RFC 9110 sections 14 and 15.3.7). A 206 must carry a
 * Content-Range that starts where we asked, ends no later than we asked,
 * agrees with Content-Length, and names the total the probe saw; anything
 * else is either a retry (the server or a proxy misbehaved) or proof that
 * the file changed. Nothing here touches the network.
 */
#include "probe.h"

#include <string.h>

#include <curl/curl.h>

static void set(struct rc_verdict *v, enum rc_verdict_kind k, const char *why)
{
	v->kind = k;
	v->why = why;
}

/*
 * Every reply after the probe proves it is the probe's version, whether or
 * not the server honoured If-Match or If-Unmodified-Since (many ignore
 * them): a validator the probe had must be present and equal, and one it
 * lacked must be absent. Sets v and returns true when the reply is another
 * version.
 */
static bool other_version(const struct rc_resp *r, const struct rc_want *w,
			  struct rc_verdict *v)
{
	if (w->etag && !w->etag[0] && r->etag[0]) {
		set(v, RC_V_CHANGED,
		    "a reply carries an ETag the first reply lacked: the file "
		    "changed");
		return true;
	}
	if (w->lm && !w->lm[0] && r->lm_time != -1) {
		set(v, RC_V_CHANGED,
		    "a reply carries a Last-Modified the first reply lacked: "
		    "the file changed");
		return true;
	}
	if (w->etag && w->etag[0]) {
		if (!r->etag[0]) {
			set(v, RC_V_CHANGED,
			    "a reply lacks the first reply's ETag: the file "
			    "changed");
			return true;
		}
		/* The first reply against a tag given (--if-match, -o's
		 * record); later ones against the first reply's. */
		if (w->later ? !rc_http_etag_same(w->etag, r->etag)
			     : !rc_http_etag_matches(r->etag, w->etag)) {
			set(v, RC_V_CHANGED, "the ETag changed");
			return true;
		}
	}
	if (w->lm && w->lm[0]) {
		if (r->lm_time == -1) {
			set(v, RC_V_CHANGED,
			    "a reply lacks the first reply's Last-Modified: "
			    "the file changed");
			return true;
		}
		if (r->lm_time != curl_getdate(w->lm, NULL)) {
			set(v, RC_V_CHANGED, "the Last-Modified date changed");
			return true;
		}
	}
	return false;
}

/*
 * Content-Encoding (RFC 9110 8.4) is part of the representation, and
 * ranges count its bytes. rangecat asks for identity only (auth.c), so a
 * coding on a 206 is the stored representation's (S3 and Ceph RGW keep it
 * as object metadata; a static server may label its .gz files), not a
 * compressor run on the range, and its bytes are as fixed as any file's
 * once a strong ETag names them: a strong tag changes with the coding
 * (RFC 9110 8.8.3.3). The first reply may carry one on a 206 only with a
 * strong ETag (a 200 is the whole representation, whatever its coding);
 * every later reply must carry the first one's, else a proxy on the way
 * coded it, and it is asked again. Sets v and returns true when r is
 * refused.
 */
static bool other_coding(const struct rc_resp *r, const struct rc_want *w,
			 struct rc_verdict *v)
{
	const struct rc_crange *c = &r->crange;

	/* A compressor run on each range as it is sent cannot know the
	 * coded length beforehand: it sends none (chunked), or the coded
	 * length, not the range's. The stored representation's bytes are
	 * counted by the Content-Range, so a coded 206 must say so in its
	 * Content-Length (S3, Ceph RGW and nginx always do). Apache's
	 * mod_deflate marks what it coded with "-gzip" in the ETag. */
	if (r->status == 206 && r->encoded &&
	    (r->clen == RC_UNKNOWN || !r->has_crange || r->bad_crange ||
	     c->unsatisfied || r->clen != c->last - c->first + 1)) {
		set(v, RC_V_RETRY,
		    "a range reply with Content-Encoding but no Content-Length "
		    "equal to its range: the server may be compressing each "
		    "range as it sends it");
		return true;
	}
	if (r->status == 206 && r->encoded && rc_http_etag_gzip(r->etag)) {
		set(v, RC_V_RETRY,
		    "a range reply with Content-Encoding and an ETag marked "
		    "-gzip: the server compresses each range as it sends it");
		return true;
	}
	if (w->later) {
		const char *want = w->coding ? w->coding : "";
		if (r->encoded == (want[0] != '\0') && !r->long_coding &&
		    strcmp(r->coding, want) == 0)
			return false;
		set(v, RC_V_RETRY,
		    "Content-Encoding differs from the first reply's");
		return true;
	}
	if (r->status != 206 || !r->encoded)
		return false;
	if (r->long_coding)
		set(v, RC_V_RETRY,
		    "a range reply's Content-Encoding is too long to compare");
	else if (rc_probe_validator(r) != RC_VAL_ETAG)
		set(v, RC_V_RETRY,
		    "the server applies Content-Encoding to ranges and names "
		    "no strong ETag that would prove the bytes are one fixed "
		    "representation");
	else
		return false;
	return true;
}

static void judge_206(const struct rc_resp *r, const struct rc_want *w,
		      struct rc_verdict *v)
{
	const struct rc_crange *c = &r->crange;

	if (r->multipart && !w->parts)
		return set(v, RC_V_RETRY,
			   "multipart/byteranges reply to a single range");
	if (r->multipart) {
		/* Each part names its range (fetch.c checks every one); the
		 * reply as a whole names the version. */
		if (!r->boundary[0])
			return set(v, RC_V_RETRY,
				   "a multipart reply without a usable "
				   "boundary");
		if (r->encoded)
			return set(v, RC_V_RETRY,
				   "a multipart reply with Content-Encoding");
		if (other_version(r, w, v))
			return;
		v->first = w->first;
		v->last = w->last;
		v->total = w->total;
		v->parts = true;
		return set(v, RC_V_RANGE, NULL);
	}
	if (other_coding(r, w, v))
		return;
	if (!r->has_crange || r->bad_crange || c->unsatisfied)
		return set(v, RC_V_RETRY, "206 without a valid Content-Range");
	if (w->total != RC_UNKNOWN && c->total != RC_UNKNOWN &&
	    c->total != w->total)
		return set(v, RC_V_CHANGED, "the file size changed");
	/* An unknown size ("*") after a reply that named one proves
	 * nothing of it: asked again. */
	if (w->total != RC_UNKNOWN && c->total == RC_UNKNOWN)
		return set(v, RC_V_RETRY,
			   "a Content-Range without the size the first reply "
			   "named");
	if (other_version(r, w, v))
		return;
	if (w->suffix) {
		if (c->total == RC_UNKNOWN || c->last != c->total - 1 ||
		    (c->total >= w->last ? c->last - c->first + 1 != w->last
					 : c->first != 0))
			return set(v, RC_V_RETRY,
				   "Content-Range does not match the suffix "
				   "asked for");
	} else {
		if (c->first != w->first)
			return set(v, RC_V_RETRY,
				   "Content-Range does not start where asked");
		if (w->last != RC_UNKNOWN && c->last > w->last)
			return set(v, RC_V_RETRY,
				   "Content-Range ends past the range asked");
	}
	if (r->clen != RC_UNKNOWN && r->clen != c->last - c->first + 1)
		return set(v, RC_V_RETRY,
			   "Content-Length disagrees with Content-Range");
	v->first = c->first;
	v->last = c->last;
	v->total = c->total != RC_UNKNOWN ? c->total : w->total;
	set(v, RC_V_RANGE, NULL);
}

static void judge_416(const struct rc_resp *r, const struct rc_want *w,
		      struct rc_verdict *v)
{
	const struct rc_crange *c = &r->crange;
	bool told = r->has_crange && !r->bad_crange && c->unsatisfied;

	if (w->total != RC_UNKNOWN) {
		/* Every range after the probe lies inside the file. */
		return set(v, RC_V_CHANGED,
			   "416 for a range inside the file: it got shorter");
	}
	if (!told && !w->suffix && w->first == 0) {
		/* Not even byte 0 (RFC 9110 14.1.1): the file is empty. */
		v->total = 0;
		return set(v, RC_V_AT_END, NULL);
	}
	if (!told) {
		v->total = RC_UNKNOWN;
		return set(v, RC_V_PAST_END,
			   "the server refused the range (416)");
	}
	v->total = c->total;
	if (!w->suffix && w->first == c->total)
		return set(v, RC_V_AT_END, NULL);
	set(v, RC_V_PAST_END, "the start is past the end of the file");
}

void rc_judge(const struct rc_resp *r, const struct rc_want *w,
	      struct rc_verdict *v)
{
	memset(v, 0, sizeof *v);
	v->total = RC_UNKNOWN;

	if (r->status == 0)
		return set(v, RC_V_RETRY, "no HTTP status line");
	if (r->malformed)
		return set(v, RC_V_RETRY, r->malformed);
	if (r->clen_conflict)
		return set(v, RC_V_RETRY, "conflicting Content-Length headers");
	switch (r->status) {
	case 206: return judge_206(r, w, v);
	case 200:
		if (r->has_crange &&
		    (r->bad_crange || r->crange.unsatisfied ||
		     r->crange.first != 0 || r->crange.total == RC_UNKNOWN ||
		     r->crange.last + 1 != r->crange.total ||
		     (r->clen != RC_UNKNOWN && r->clen != r->crange.total)))
			/* A 200 whose Content-Range names a part (a proxy that
			 * rewrote the status, say) is no whole file. */
			return set(v, RC_V_RETRY,
				   "a 200 whose Content-Range names a part of "
				   "the file");
		if (other_coding(r, w, v) || other_version(r, w, v))
			return;
		if (w->total != RC_UNKNOWN && r->clen != RC_UNKNOWN &&
		    r->clen != w->total)
			return set(v, RC_V_CHANGED, "the file size changed");
		if (w->later || w->total != RC_UNKNOWN)
			/* Ranges worked for the probe; a 200 now is a proxy
			 * or a server under strain. */
			return set(v, RC_V_RETRY,
				   "the server ignored the Range header");
		v->total = r->clen;
		return set(v, RC_V_FULL, NULL);
	case 416: return judge_416(r, w, v);
	case 412:
		return set(v, RC_V_CHANGED,
			   "the If-Match/If-Unmodified-Since check failed "
			   "(HTTP 412)");
	case 408:
	case 429: return set(v, RC_V_RETRY, "the server asked to retry");
	case 301:
	case 302:
	case 303:
	case 307:
	case 308:
		if (r->location[0])
			return set(v, RC_V_REDIRECT, NULL);
		if (r->long_location)
			return set(v, RC_V_REFUSED,
				   "a redirect to a URL over 8 KiB");
		break;
	default: break;
	}
	if (r->status >= 500)
		return set(v, RC_V_RETRY, "server error");
	set(v, RC_V_REFUSED, "the server refused the request");
}

enum rc_validator_kind rc_probe_validator(const struct rc_resp *r)
{
	if (r->etag[0] && !r->etag_weak && !r->bad_etag)
		return RC_VAL_ETAG;
	if (r->last_modified[0])
		return RC_VAL_DATE;
	return RC_VAL_NONE;
}

bool rc_probe_too_fresh(const struct rc_resp *r, time_t received)
{
	time_t now = r->date != -1 ? r->date : received;

	return r->lm_time != -1 && (now == -1 || now - r->lm_time < 1);
}
