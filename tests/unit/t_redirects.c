/* Expiring redirect targets: the expiry a signed URL's query names, and
 * the redaction of such URLs in log lines. */
#include <string.h>

#include "fetch.h"
#include "harness.h"
#include "log.h"

static int redacted(const char *url, const char *secret)
{
	char red[1024];

	rc_log_redact_url(url, red, sizeof red);
	return strstr(red, secret) == NULL && strstr(red, "[redacted]");
}

int main(void)
{
	/* SigV4 presigned (S3, GitHub's release assets): 2013-05-24 00:00:00
	 * is 1369353600. */
	CHECK(rc_fetch_url_expiry("https://b.s3.amazonaws.com/k?X-Amz-Algorithm"
				  "=AWS4-HMAC-SHA256&X-Amz-Date=20130524T000000"
				  "Z&X-Amz-Expires=86400&X-Amz-Signature=ab") ==
	      1369353600 + 86400);
	CHECK(rc_fetch_url_expiry("https://h/k?x-amz-expires=300&x-amz-date="
				  "20130524T000000Z") == 1369353600 + 300);
	CHECK(rc_fetch_url_expiry("https://storage.googleapis.com/b/o?X-Goog-"
				  "Date=20130524T000000Z&X-Goog-Expires=60") ==
	      1369353600 + 60);
	/* CloudFront (model hubs), Cloud Storage V2. */
	CHECK(rc_fetch_url_expiry("https://cdn/f?Expires=1796027964&Signature="
				  "x&Key-Pair-Id=K") == 1796027964);
	/* Nothing, or nothing trustworthy. */
	CHECK(rc_fetch_url_expiry("https://h/plain") == 0);
	CHECK(rc_fetch_url_expiry("https://h/k?X-Amz-Expires=300") == 0);
	CHECK(rc_fetch_url_expiry("https://h/k?X-Amz-Date=20130524T000000Z") ==
	      0);
	CHECK(rc_fetch_url_expiry("https://h/k?X-Amz-Date=20131324T000000Z&X-"
				  "Amz-Expires=1") == 0);
	CHECK(rc_fetch_url_expiry("https://h/k?X-Amz-Date=20130524T000000&X-"
				  "Amz-Expires=1") == 0);
	CHECK(rc_fetch_url_expiry("https://h/k?Expires=-5") == 0);
	CHECK(rc_fetch_url_expiry("https://h/k?Expires=1e9") == 0);
	CHECK(rc_fetch_url_expiry("https://h/k?Expires=1234567890123") == 0);
	CHECK(rc_fetch_url_expiry("https://h/k?NotExpires=5") == 0);
	CHECK(rc_fetch_url_expiry("https://h/k#?Expires=5") == 0);
	CHECK(rc_fetch_url_expiry("https://h/k?a=1#Expires=5") == 0);
	CHECK(rc_fetch_url_expiry("https://h/k?Expires") == 0);
	CHECK(rc_fetch_url_expiry("https://h/k?a&Expires=7") == 7);

	/* A quarter of the life, at most 30 s; at least half of it up to
	 * 2 s, so a short-lived target's refresh has time to land. */
	CHECK(rc_fetch_refresh_margin(3600) == 30);
	CHECK(rc_fetch_refresh_margin(60) == 15);
	CHECK(rc_fetch_refresh_margin(8) == 2);
	CHECK(rc_fetch_refresh_margin(6) == 2);
	CHECK(rc_fetch_refresh_margin(2) == 1);
	CHECK(rc_fetch_refresh_margin(1) == 0.5);

	/* The secrets of real signed targets never reach a log line. */
	CHECK(redacted("https://objects.githubusercontent.com/r/1?X-Amz-"
		       "Credential=AKIDSECRET%2F20130524&X-Amz-Signature=SIGX",
		       "SIGX"));
	CHECK(redacted("https://objects.githubusercontent.com/r/1?X-Amz-"
		       "Credential=AKIDSECRET%2F20130524&X-Amz-Signature=SIGX",
		       "AKIDSECRET"));
	CHECK(redacted("https://b.s3.amazonaws.com/k?X-Amz-Security-Token="
		       "TOKX&X-Amz-Date=20130524T000000Z",
		       "TOKX"));
	CHECK(redacted("https://cdn-lfs.hf.co/r?Expires=1&Signature=SIGX&Key-"
		       "Pair-Id=KPX",
		       "SIGX"));
	CHECK(redacted("https://release-assets.githubusercontent.com/g/1?sp=r&"
		       "sig=SIGX&jwt=JWTX",
		       "JWTX"));
	CHECK(redacted("https://release-assets.githubusercontent.com/g/1?sp=r&"
		       "sig=SIGX&jwt=JWTX",
		       "SIGX"));
	CHECK(redacted("https://storage.googleapis.com/b/o?X-Goog-Signature="
		       "SIGX",
		       "SIGX"));
	CHECK(redacted("https://h/k?token=TOKX", "TOKX"));
	/* Akamai's token, in the query under hdnts / hdnea, or as hmac. */
	CHECK(redacted("https://a.akamaized.net/f?hdnts=exp=1~acl=/*~hmac="
		       "HMACX",
		       "HMACX"));
	CHECK(redacted("https://a.akamaized.net/f?hdnea=exp=1~hmac=HMACX",
		       "HMACX"));
	CHECK(redacted("https://cdn/f?e=1&hmac=HMACX", "HMACX"));
	return DONE();
}
