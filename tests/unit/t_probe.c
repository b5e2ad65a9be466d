/* Response judging: what a 206, 200, 416, 412, 5xx... mean for a range. */
#include <string.h>

#include "harness.h"
#include "probe.h"

static struct rc_resp resp(long status, const char *crange, uint64_t clen,
			   const char *etag)
{
	struct rc_resp r;

	rc_resp_reset(&r);
	r.status = status;
	if (crange) {
		r.has_crange = true;
		r.bad_crange = !rc_http_content_range(crange, &r.crange);
	}
	r.clen = clen;
	if (etag) {
		strcpy(r.etag, etag);
		rc_http_etag(etag, &r.etag_weak);
	}
	return r;
}

static enum rc_verdict_kind k(struct rc_resp r, struct rc_want w)
{
	struct rc_verdict v;

	rc_judge(&r, &w, &v);
	return v.kind;
}

/* The verdict's reason ("" when fine). */
static const char *why(struct rc_resp r, struct rc_want w)
{
	struct rc_verdict v;

	rc_judge(&r, &w, &v);
	return v.why ? v.why : "";
}

/* A reply with the Content-Encoding field value coding (NULL: none), as
 * http.c would parse it. */
static struct rc_resp coded(long status, const char *crange, uint64_t clen,
			    const char *etag, const char *coding)
{
	struct rc_resp r = resp(status, crange, clen, etag);

	if (coding) {
		r.long_coding =
		    !rc_http_coding(coding, r.coding, sizeof r.coding);
		r.encoded = r.long_coding || r.coding[0] != '\0';
	}
	return r;
}

/* Content-Encoding on ranges: the stored representation's, accepted on
 * the first reply with a strong ETag, then held to it. */
static void codings(void)
{
	struct rc_want probe = {.first = 0, .last = 99, .total = RC_UNKNOWN};
	struct rc_want later = {.first = 100,
				.last = 199,
				.total = 1000,
				.etag = "\"v1\"",
				.coding = "gzip",
				.later = true};
	struct rc_want plain = later;
	struct rc_verdict v;
	struct rc_resp r;

	plain.coding = "";
	/* the probe: a strong ETag proves one fixed representation */
	r = coded(206, "bytes 0-99/1000", 100, "\"v1\"", "gzip");
	rc_judge(&r, &probe, &v);
	CHECK(v.kind == RC_V_RANGE && v.last == 99 && v.total == 1000);
	CHECK(k(coded(206, "bytes 0-99/1000", 100, "\"v1\"", " X-GZip , br"),
		probe) == RC_V_RANGE);
	/* ... a weak one, none, or one that is no entity-tag does not */
	r = coded(206, "bytes 0-99/1000", 100, "W/\"v1\"", "gzip");
	CHECK(k(r, probe) == RC_V_RETRY);
	CHECK(strstr(why(r, probe), "Content-Encoding") &&
	      strstr(why(r, probe), "no strong ETag"));
	r = coded(206, "bytes 0-99/1000", 100, NULL, "gzip");
	strcpy(r.last_modified, "Sun, 09 Sep 2001 01:46:40 GMT");
	r.lm_time = 1000000000;
	CHECK(k(r, probe) == RC_V_RETRY);
	CHECK(strstr(why(r, probe), "no strong ETag"));
	r = coded(206, "bytes 0-99/1000", 100, "v1", "gzip");
	r.bad_etag = true;
	CHECK(k(r, probe) == RC_V_RETRY);
	/* ... nor one too long to compare */
	r = coded(206, "bytes 0-99/1000", 100, "\"v1\"",
		  "x-a-coding-nobody-uses, x-another-coding-nobody-uses, "
		  "x-and-a-third");
	CHECK(r.long_coding && k(r, probe) == RC_V_RETRY);
	/* identity is no coding */
	CHECK(k(coded(206, "bytes 0-99/1000", 100, NULL, "Identity"), probe) ==
	      RC_V_RANGE);
	/* A compressor run on each range: no length (chunked), the coded
	 * length, or Apache's "-gzip" mark in the ETag. Refused first and
	 * later: its bytes are not the stored representation's. */
	r = coded(206, "bytes 0-99/1000", RC_UNKNOWN, "\"v1\"", "gzip");
	CHECK(k(r, probe) == RC_V_RETRY &&
	      strstr(why(r, probe), "compressing each range"));
	CHECK(k(coded(206, "bytes 0-99/1000", 37, "\"v1\"", "gzip"), probe) ==
	      RC_V_RETRY);
	CHECK(k(coded(206, "bytes 100-199/1000", RC_UNKNOWN, "\"v1\"", "gzip"),
		later) == RC_V_RETRY);
	r = coded(206, "bytes 0-99/1000", 100, "\"v1-gzip\"", "gzip");
	CHECK(k(r, probe) == RC_V_RETRY && strstr(why(r, probe), "-gzip"));
	/* ... and the same tag on an unlabelled reply is no coding */
	CHECK(k(coded(206, "bytes 0-99/1000", 100, "\"v1-gzip\"", NULL),
		probe) == RC_V_RANGE);
	/* a 200 is the whole representation, whatever it carries */
	r = coded(200, NULL, 1000, NULL, "gzip");
	rc_judge(&r, &probe, &v);
	CHECK(v.kind == RC_V_FULL && v.total == 1000);
	/* the probe against --if-match (or -o's record) */
	struct rc_want im = probe;
	im.etag = "\"v2\"";
	CHECK(k(coded(206, "bytes 0-99/1000", 100, "\"v1\"", "gzip"), im) ==
	      RC_V_CHANGED);
	im.etag = "\"v1\"";
	CHECK(k(coded(206, "bytes 0-99/1000", 100, "\"v1\"", "gzip"), im) ==
	      RC_V_RANGE);

	/* later replies: the same coding, in any case and spacing */
	CHECK(k(coded(206, "bytes 100-199/1000", 100, "\"v1\"", "gzip"),
		later) == RC_V_RANGE);
	CHECK(k(coded(206, "bytes 100-199/1000", 100, "\"v1\"", " GZIP "),
		later) == RC_V_RANGE);
	/* ... another, none or identity is asked again */
	r = coded(206, "bytes 100-199/1000", 100, "\"v1\"", "br");
	CHECK(k(r, later) == RC_V_RETRY);
	CHECK(strstr(why(r, later), "Content-Encoding differs"));
	r = coded(206, "bytes 100-199/1000", 100, "\"v1\"", NULL);
	CHECK(k(r, later) == RC_V_RETRY);
	CHECK(strstr(why(r, later), "Content-Encoding differs"));
	CHECK(k(coded(206, "bytes 100-199/1000", 100, "\"v1\"", "identity"),
		later) == RC_V_RETRY);
	CHECK(k(coded(206, "bytes 100-199/1000", 100, "\"v1\"", "gzip, br"),
		later) == RC_V_RETRY);
	/* ... as is one that appears later, with or without a strong ETag */
	r = coded(206, "bytes 100-199/1000", 100, "\"v1\"", "gzip");
	CHECK(k(r, plain) == RC_V_RETRY);
	CHECK(strstr(why(r, plain), "Content-Encoding differs"));
	CHECK(k(coded(206, "bytes 100-199/1000", 100, "\"v1\"", "identity"),
		plain) == RC_V_RANGE);
	/* a 200 later: never the answer, and a coded one says so */
	r = coded(200, NULL, 1000, "\"v1\"", "br");
	CHECK(k(r, later) == RC_V_RETRY);
	CHECK(strstr(why(r, later), "Content-Encoding differs"));
	r = coded(200, NULL, 1000, "\"v1\"", "gzip");
	CHECK(k(r, later) == RC_V_RETRY);
	CHECK(strstr(why(r, later), "ignored the Range"));
	r = coded(200, NULL, 1000, "\"v1\"", "gzip");
	CHECK(k(r, plain) == RC_V_RETRY);
	CHECK(strstr(why(r, plain), "Content-Encoding differs"));
	/* the same coding does not hide another version */
	CHECK(k(coded(206, "bytes 100-199/1000", 100, "\"v2\"", "gzip"),
		later) == RC_V_CHANGED);
}

int main(void)
{
	struct rc_want probe = {.first = 0, .last = 99, .total = RC_UNKNOWN};
	struct rc_want later = {.first = 100,
				.last = 199,
				.total = 1000,
				.etag = "\"v1\"",
				.later = true};
	struct rc_verdict v;
	struct rc_resp r;

	r = resp(206, "bytes 0-99/1000", 100, "\"v1\"");
	rc_judge(&r, &probe, &v);
	CHECK(v.kind == RC_V_RANGE && v.first == 0 && v.last == 99 &&
	      v.total == 1000);
	/* a short 206 is accepted; the fetcher asks for the rest */
	r = resp(206, "bytes 100-149/1000", 50, "\"v1\"");
	rc_judge(&r, &later, &v);
	CHECK(v.kind == RC_V_RANGE && v.last == 149);
	CHECK(k(resp(206, "bytes 101-199/1000", 99, "\"v1\""), later) ==
	      RC_V_RETRY);
	CHECK(k(resp(206, "bytes 100-200/1000", 101, "\"v1\""), later) ==
	      RC_V_RETRY);
	CHECK(k(resp(206, "bytes 100-199/1000", 99, "\"v1\""), later) ==
	      RC_V_RETRY);
	CHECK(k(resp(206, "bytes 100-199/2000", 100, "\"v1\""), later) ==
	      RC_V_CHANGED);
	CHECK(k(resp(206, "bytes 100-199/1000", 100, "\"v2\""), later) ==
	      RC_V_CHANGED);
	CHECK(k(resp(206, NULL, 100, "\"v1\""), later) == RC_V_RETRY);
	/* no size where the first reply named one: asked again */
	CHECK(k(resp(206, "bytes 100-199/*", 100, "\"v1\""), later) ==
	      RC_V_RETRY);
	/* a 200 whose Content-Range names a part is no whole file */
	CHECK(k(resp(200, "bytes 0-99/1000", 100, "\"v1\""), probe) ==
	      RC_V_RETRY);
	CHECK(k(resp(200, "bytes 0-99/*", 100, "\"v1\""), probe) == RC_V_RETRY);
	CHECK(k(resp(200, "bytes 0-999/1000", 100, "\"v1\""), probe) ==
	      RC_V_RETRY);
	CHECK(k(resp(200, "bytes 0-999/1000", 1000, "\"v1\""), probe) ==
	      RC_V_FULL);
	CHECK(k(resp(206, "bytes x", 100, "\"v1\""), later) == RC_V_RETRY);
	CHECK(k(resp(206, "bytes 100-199/1000", RC_UNKNOWN, "\"v1\""), later) ==
	      RC_V_RANGE);
	r = resp(206, "bytes 100-199/1000", 100, "\"v1\"");
	r.encoded = true;
	CHECK(k(r, later) == RC_V_RETRY);
	r.encoded = false;
	r.multipart = true;
	CHECK(k(r, later) == RC_V_RETRY);
	/* asked several ranges: a multipart reply answers, its parts are
	 * the fetcher's to check; the reply still names the version */
	struct rc_want several = later;
	several.parts = true;
	r = resp(206, NULL, RC_UNKNOWN, "\"v1\"");
	r.multipart = true;
	strcpy(r.boundary, "00000000001");
	rc_judge(&r, &several, &v);
	CHECK(v.kind == RC_V_RANGE && v.parts && v.first == several.first &&
	      v.last == several.last && v.total == several.total);
	CHECK(k(r, later) == RC_V_RETRY); /* not asked for */
	r.boundary[0] = '\0';
	CHECK(k(r, several) == RC_V_RETRY);
	strcpy(r.boundary, "b");
	r.encoded = true;
	CHECK(k(r, several) == RC_V_RETRY);
	r.encoded = false;
	snprintf(r.etag, sizeof r.etag, "\"v2\"");
	CHECK(k(r, several) == RC_V_CHANGED);
	r.etag[0] = '\0';
	CHECK(k(r, several) == RC_V_CHANGED);
	/* a plain 206 to several ranges: judged as the first */
	CHECK(k(resp(206, "bytes 100-199/1000", 100, "\"v1\""), several) ==
	      RC_V_RANGE);
	CHECK(k(resp(206, "bytes 100-299/1000", 200, "\"v1\""), several) ==
	      RC_V_RETRY);
	r = resp(206, "bytes 100-199/1000", 100, "\"v1\"");
	r.clen_conflict = true;
	CHECK(k(r, later) == RC_V_RETRY);

	/* 200: the whole file on the probe, a broken promise later */
	r = resp(200, NULL, 1000, "\"v1\"");
	rc_judge(&r, &probe, &v);
	CHECK(v.kind == RC_V_FULL && v.total == 1000);
	CHECK(k(resp(200, NULL, 1000, "\"v1\""), later) == RC_V_RETRY);
	CHECK(k(resp(200, NULL, 1000, "\"v2\""), later) == RC_V_CHANGED);
	CHECK(k(resp(200, "bytes 100-199/1000", 1000, "\"v1\""), later) ==
	      RC_V_RETRY);

	/* 416 */
	struct rc_want at = {.first = 1000, .last = 1099, .total = RC_UNKNOWN};
	r = resp(416, "bytes */1000", RC_UNKNOWN, NULL);
	rc_judge(&r, &at, &v);
	CHECK(v.kind == RC_V_AT_END && v.total == 1000);
	at.first = 1001;
	rc_judge(&r, &at, &v);
	CHECK(v.kind == RC_V_PAST_END && v.total == 1000);
	CHECK(k(resp(416, NULL, RC_UNKNOWN, NULL), at) == RC_V_PAST_END);
	/* a 416 without Content-Range for bytes=0-: the file is empty */
	struct rc_want zero = {.first = 0, .last = 99, .total = RC_UNKNOWN};
	r = resp(416, NULL, RC_UNKNOWN, NULL);
	rc_judge(&r, &zero, &v);
	CHECK(v.kind == RC_V_AT_END && v.total == 0);
	CHECK(k(resp(416, "bytes */1000", RC_UNKNOWN, NULL), later) ==
	      RC_V_CHANGED);

	CHECK(k(resp(412, NULL, 0, NULL), later) == RC_V_CHANGED);
	CHECK(k(resp(503, NULL, 0, NULL), later) == RC_V_RETRY);
	CHECK(k(resp(500, NULL, 0, NULL), later) == RC_V_RETRY);
	CHECK(k(resp(429, NULL, 0, NULL), later) == RC_V_RETRY);
	CHECK(k(resp(408, NULL, 0, NULL), later) == RC_V_RETRY);
	CHECK(k(resp(404, NULL, 0, NULL), later) == RC_V_REFUSED);
	CHECK(k(resp(403, NULL, 0, NULL), probe) == RC_V_REFUSED);
	CHECK(k(resp(304, NULL, 0, NULL), probe) == RC_V_REFUSED);
	CHECK(k(resp(204, NULL, 0, NULL), probe) == RC_V_REFUSED);
	CHECK(k(resp(0, NULL, 0, NULL), probe) == RC_V_RETRY);

	/* suffix ranges: bytes=-N */
	struct rc_want suf = {.suffix = true, .last = 10, .total = RC_UNKNOWN};
	CHECK(k(resp(206, "bytes 990-999/1000", 10, NULL), suf) == RC_V_RANGE);
	CHECK(k(resp(206, "bytes 989-999/1000", 11, NULL), suf) == RC_V_RETRY);
	CHECK(k(resp(206, "bytes 0-4/5", 5, NULL), suf) == RC_V_RANGE);
	CHECK(k(resp(206, "bytes 0-3/5", 4, NULL), suf) == RC_V_RETRY);

	/* validators */
	r = resp(206, "bytes 0-99/1000", 100, "\"v1\"");
	CHECK(rc_probe_validator(&r) == RC_VAL_ETAG);
	r = resp(206, "bytes 0-99/1000", 100, "W/\"v1\"");
	CHECK(rc_probe_validator(&r) == RC_VAL_NONE);
	strcpy(r.last_modified, "Sun, 09 Sep 2001 01:46:40 GMT");
	CHECK(rc_probe_validator(&r) == RC_VAL_DATE);

	/* Every later reply proves its version, whatever the server did
	 * with If-Match: a validator the probe had must be there and equal. */
	CHECK(k(resp(206, "bytes 100-199/1000", 100, NULL), later) ==
	      RC_V_CHANGED);
	/* ... byte for byte: "-gzip" or W/ is another representation. */
	CHECK(k(resp(206, "bytes 100-199/1000", 100, "\"v1-gzip\""), later) ==
	      RC_V_CHANGED);
	CHECK(k(resp(206, "bytes 100-199/1000", 100, "W/\"v1\""), later) ==
	      RC_V_CHANGED);
	CHECK(k(resp(206, "bytes 100-199/1000", 100, "W/\"v2\""), later) ==
	      RC_V_CHANGED);
	/* The first reply against a tag given may drop its "-gzip". */
	struct rc_want given = {
	    .first = 0, .last = 99, .total = RC_UNKNOWN, .etag = "\"v1-gzip\""};
	CHECK(k(resp(206, "bytes 0-99/1000", 100, "\"v1\""), given) ==
	      RC_V_RANGE);
	struct rc_want lm = {.first = 100,
			     .last = 199,
			     .total = 1000,
			     .lm = "Sun, 09 Sep 2001 01:46:40 GMT",
			     .later = true};
	r = resp(206, "bytes 100-199/1000", 100, NULL);
	CHECK(k(r, lm) == RC_V_CHANGED); /* no Last-Modified */
	r.lm_time = 1000000000;
	CHECK(k(r, lm) == RC_V_RANGE);
	r.lm_time = 1000000001;
	CHECK(k(r, lm) == RC_V_CHANGED);
	r = resp(200, NULL, 1000, NULL);
	CHECK(k(r, lm) == RC_V_CHANGED);
	r.lm_time = 1000000000;
	/* a 200 after the probe is never the answer, even of unknown size */
	lm.total = RC_UNKNOWN;
	CHECK(k(r, lm) == RC_V_RETRY);
	lm.later = false;
	CHECK(k(r, lm) == RC_V_FULL);
	/* ... and a validator the probe lacked must be absent */
	struct rc_want bare = {.first = 100,
			       .last = 199,
			       .total = 1000,
			       .etag = "",
			       .lm = "",
			       .later = true};
	r = resp(206, "bytes 100-199/1000", 100, NULL);
	CHECK(k(r, bare) == RC_V_RANGE);
	r.lm_time = 1000000000;
	CHECK(k(r, bare) == RC_V_CHANGED);
	CHECK(k(resp(206, "bytes 100-199/1000", 100, "\"v1\""), bare) ==
	      RC_V_CHANGED);
	/* the probe's own --if-match: a reply without ETag is another file */
	struct rc_want im = {
	    .first = 0, .last = 99, .total = RC_UNKNOWN, .etag = "\"v1\""};
	CHECK(k(resp(206, "bytes 0-99/1000", 100, NULL), im) == RC_V_CHANGED);

	/* Weak dates (RFC 9110 8.8.2.2): Last-Modified must be at least a
	 * second before Date, or before the local clock without Date. */
	r = resp(206, "bytes 0-99/1000", 100, "\"v1\"");
	CHECK(!rc_probe_too_fresh(&r, 1000000000)); /* no Last-Modified */
	r.lm_time = 1000000000;
	r.date = 1000000000;
	CHECK(rc_probe_too_fresh(&r, 2000000000));
	r.date = 999999990; /* modified "in the future" */
	CHECK(rc_probe_too_fresh(&r, 2000000000));
	r.date = 1000000001;
	CHECK(!rc_probe_too_fresh(&r, 0));
	r.date = -1;
	CHECK(rc_probe_too_fresh(&r, 1000000000));
	CHECK(!rc_probe_too_fresh(&r, 1000000001));
	CHECK(rc_probe_too_fresh(&r, -1));

	codings();
	return DONE();
}
