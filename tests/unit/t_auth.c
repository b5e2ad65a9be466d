/*
 * Credentials: which scheme the environment picks, conflicts and half-set
 * schemes (named, never with values), s3:// URLs, origins and redirects,
 * and the headers each request gets on and off its origin.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/md.h>

#include "auth.h"
#include "harness.h"

/* A fake environment: "NAME=value" strings, NULL-terminated. */
static const char *const *fake;

static const char *get(const char *name)
{
	size_t l = strlen(name);
	for (const char *const *p = fake; p && *p; p++)
		if (strncmp(*p, name, l) == 0 && (*p)[l] == '=')
			return *p + l + 1;
	return NULL;
}

static struct rc_opts opts(const char *url)
{
	struct rc_opts o;
	memset(&o, 0, sizeof o);
	o.url = url;
	o.retries = 0;
	o.connect_timeout = 5;
	o.stall_timeout = 5;
	return o;
}

/* rc_auth_new's error for env, or RC_OK (the object is freed). */
static enum rc_err try(const struct rc_opts *o, const char *const *env,
		       char *why, size_t len)
{
	struct rc_auth *a = NULL;
	fake = env;
	why[0] = '\0';
	enum rc_err e = rc_auth_new(o, get, &a, why, len);
	rc_auth_free(a);
	return e;
}

static void conflicts(void)
{
	struct rc_opts o = opts("https://example.com/f");
	char why[512];

	const char *two[] = {"RANGECAT_TOKEN=tok-SECRET",
			     "RANGECAT_HMAC_KEY=key-SECRET", NULL};
	CHECK(try(&o, two, why, sizeof why) == RC_E_USAGE);
	CHECK(strstr(why, "RANGECAT_TOKEN and RANGECAT_HMAC_KEY") != NULL);
	CHECK(strstr(why, "SECRET") == NULL);

	const char *half[] = {"RANGECAT_PASSWORD=pw-SECRET", NULL};
	CHECK(try(&o, half, why, sizeof why) == RC_E_USAGE);
	CHECK(strstr(why, "RANGECAT_USER is not") != NULL);
	CHECK(strstr(why, "SECRET") == NULL);

	/* An empty password is a password; an empty token is no token. */
	const char *empty_pw[] = {"RANGECAT_USER=u",
				  "RANGECAT_PASSWORD=", NULL};
	CHECK(try(&o, empty_pw, why, sizeof why) == RC_OK);
	const char *empty_tok[] = {"RANGECAT_TOKEN=", NULL};
	CHECK(try(&o, empty_tok, why, sizeof why) == RC_OK);

	const char *oauth[] = {"RANGECAT_OAUTH_TOKEN_URL=https://t/",
			       "RANGECAT_OAUTH_CLIENT_ID=c", NULL};
	CHECK(try(&o, oauth, why, sizeof why) == RC_E_USAGE);
	CHECK(strstr(why, "RANGECAT_OAUTH_CLIENT_SECRET") != NULL);

	const char *kid[] = {"RANGECAT_HMAC_KEY_ID=k", NULL};
	CHECK(try(&o, kid, why, sizeof why) == RC_E_USAGE);
	CHECK(strstr(why, "RANGECAT_HMAC_KEY is not") != NULL);

	const char *hdr[] = {"RANGECAT_HEADERS=X-A: 1\nbad line SECRET\n",
			     NULL};
	CHECK(try(&o, hdr, why, sizeof why) == RC_E_USAGE);
	CHECK(strstr(why, "line 2") != NULL && strstr(why, "SECRET") == NULL);

	/* AWS keys are for s3:// only: with https they do not conflict. */
	const char *aws[] = {"AWS_ACCESS_KEY_ID=AKID",
			     "AWS_SECRET_ACCESS_KEY=SECRET", "RANGECAT_TOKEN=t",
			     NULL};
	CHECK(try(&o, aws, why, sizeof why) == RC_OK);
	struct rc_opts s3 = opts("s3://b/k");
	CHECK(try(&s3, aws, why, sizeof why) == RC_E_USAGE);
	CHECK(strstr(why, "AWS_ACCESS_KEY_ID") != NULL);

	/* URL credentials count as a scheme. */
	struct rc_opts ui = opts("https://u:SECRET@example.com/f");
	const char *tok[] = {"RANGECAT_TOKEN=t", NULL};
	CHECK(try(&ui, tok, why, sizeof why) == RC_E_USAGE);
	CHECK(strstr(why, "URL's user:password") != NULL);
	CHECK(strstr(why, "SECRET") == NULL);

	/* -H Authorization fights any scheme that sets it. */
	o.headers[0] = "Authorization: Bearer x";
	o.nheaders = 1;
	CHECK(try(&o, tok, why, sizeof why) == RC_E_USAGE);
	CHECK(strstr(why, "-H Authorization and RANGECAT_TOKEN") != NULL);
}

static void s3_urls(void)
{
	struct rc_auth *a;
	char why[256];
	const char *ep[] = {"AWS_ENDPOINT_URL=http://127.0.0.1:7480/", NULL};
	struct rc_opts o = opts("s3://bkt/dir/a b ü+c//%x");

	fake = ep;
	CHECK(rc_auth_new(&o, get, &a, why, sizeof why) == RC_OK);
	CHECK(
	    strcmp(rc_auth_url(a),
		   "http://127.0.0.1:7480/bkt/dir/a%20b%20%C3%BC%2Bc//%25x") ==
	    0);
	rc_auth_free(a);

	const char *both[] = {"AWS_ENDPOINT_URL=http://x:1",
			      "AWS_ENDPOINT_URL_S3=http://y:2", NULL};
	fake = both;
	CHECK(rc_auth_new(&o, get, &a, why, sizeof why) == RC_OK);
	CHECK(strncmp(rc_auth_url(a), "http://y:2/bkt/", 15) == 0);
	rc_auth_free(a);

	const char *region[] = {"AWS_DEFAULT_REGION=eu-west-1", NULL};
	struct rc_opts v = opts("s3://bkt/k");
	fake = region;
	CHECK(rc_auth_new(&v, get, &a, why, sizeof why) == RC_OK);
	CHECK(strcmp(rc_auth_url(a),
		     "https://bkt.s3.eu-west-1.amazonaws.com/k") == 0);
	rc_auth_free(a);
	struct rc_opts dotted = opts("s3://my.bkt/k");
	fake = NULL;
	CHECK(rc_auth_new(&dotted, get, &a, why, sizeof why) == RC_OK);
	CHECK(strcmp(rc_auth_url(a),
		     "https://s3.us-east-1.amazonaws.com/my.bkt/k") == 0);
	rc_auth_free(a);

	struct rc_opts bad = opts("s3://bkt/");
	CHECK(try(&bad, NULL, why, sizeof why) == RC_E_USAGE);
	bad = opts("s3://b@d/k");
	CHECK(try(&bad, NULL, why, sizeof why) == RC_E_USAGE);
	const char *s3ep[] = {"AWS_ENDPOINT_URL=s3://x/", NULL};
	CHECK(try(&v, s3ep, why, sizeof why) == RC_E_USAGE);
	CHECK(strstr(why, "bad AWS_ENDPOINT_URL: it must be an http") != NULL);
	const char *badreg[] = {"AWS_REGION=../x", NULL};
	CHECK(try(&v, badreg, why, sizeof why) == RC_E_USAGE);
	CHECK(strstr(why, "AWS_REGION") != NULL);
}

static bool has(struct curl_slist *l, const char *prefix)
{
	for (; l; l = l->next)
		if (strncmp(l->data, prefix, strlen(prefix)) == 0)
			return true;
	return false;
}

static void origins(void)
{
	struct rc_auth *a;
	char why[256];
	unsigned gen;
	enum rc_err err;
	const char *tok[] = {"RANGECAT_TOKEN=tok", NULL};
	struct rc_opts o = opts("http://Example.com/f");

	o.headers[0] = "X-Trace: 1";
	o.headers[1] = "Cookie: c=SECRET";
	o.headers[2] = "X-Api-Key: SECRET";
	o.nheaders = 3;
	fake = tok;
	CHECK(rc_auth_new(&o, get, &a, why, sizeof why) == RC_OK);
	CHECK(rc_auth_same_origin(a, "http://example.com:80/other"));
	CHECK(rc_auth_same_origin(a, "https://example.com/f"));
	CHECK(!rc_auth_same_origin(a, "http://example.com:8080/f"));
	CHECK(!rc_auth_same_origin(a, "http://evil.example.com/f"));
	CHECK(!rc_auth_same_origin(a, "http://example.com.evil/f"));

	struct curl_slist *l =
	    rc_auth_headers(a, "http://example.com/g", "0-9", "If-Match: \"e\"",
			    &gen, &err, why, sizeof why);
	CHECK(err == RC_OK && has(l, "Authorization: Bearer tok") &&
	      has(l, "Cookie:") && has(l, "X-Api-Key:") &&
	      has(l, "If-Match:") && has(l, "X-Trace:"));
	rc_auth_free_list(l);
	l = rc_auth_headers(a, "http://other.example/g", "0-9", NULL, &gen,
			    &err, why, sizeof why);
	CHECK(err == RC_OK && !has(l, "Authorization") && !has(l, "Cookie") &&
	      !has(l, "X-Api-Key") && has(l, "X-Trace: 1"));
	rc_auth_free_list(l);

	/* https to http: refused with credentials, fine without. */
	CHECK(rc_auth_redirect_ok(a, "https://example.com/f",
				  "http://example.com/f", why,
				  sizeof why) == RC_E_REMOTE);
	CHECK(strstr(why, "RANGECAT_TOKEN") != NULL);
	CHECK(rc_auth_redirect_ok(a, "http://example.com/f", "file:///etc/x",
				  why, sizeof why) == RC_E_REMOTE);
	CHECK(rc_auth_redirect_ok(a, "http://example.com/f",
				  "https://cdn.example/x?sig=1", why,
				  sizeof why) == RC_OK);
	rc_auth_free(a);
	struct rc_opts plain = opts("https://example.com/f");
	fake = NULL;
	CHECK(rc_auth_new(&plain, get, &a, why, sizeof why) == RC_OK);
	CHECK(rc_auth_redirect_ok(a, "https://example.com/f",
				  "http://example.com/f", why,
				  sizeof why) == RC_OK);
	rc_auth_free(a);
}

static void signing(void)
{
	struct rc_auth *a;
	char why[256];
	unsigned gen;
	enum rc_err err;

	/* HMAC: the documented string, recomputed here. */
	const char *h[] = {"RANGECAT_HMAC_KEY=k3y", "RANGECAT_HMAC_KEY_ID=id1",
			   NULL};
	struct rc_opts o = opts("http://h.example/p/a%20b?x=1");
	fake = h;
	CHECK(rc_auth_new(&o, get, &a, why, sizeof why) == RC_OK);
	struct curl_slist *l = rc_auth_headers(a, rc_auth_url(a), "0-9", NULL,
					       &gen, &err, why, sizeof why);
	const char *ts = NULL, *sig = NULL;
	for (struct curl_slist *p = l; p; p = p->next) {
		if (strncmp(p->data, "X-Rangecat-Timestamp: ", 22) == 0)
			ts = p->data + 22;
		if (strncmp(p->data, "X-Rangecat-Signature: ", 22) == 0)
			sig = p->data + 22;
	}
	CHECK(ts && sig && has(l, "X-Rangecat-Key-Id: id1"));
	if (ts && sig) {
		char msg[256], hex[65];
		unsigned char mac[32];
		snprintf(msg, sizeof msg, "GET\n/p/a%%20b?x=1\n%s", ts);
		mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
				(const unsigned char *)"k3y", 3,
				(const unsigned char *)msg, strlen(msg), mac);
		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", mac[i]);
		CHECK(strcmp(hex, sig) == 0);
	}
	rc_auth_free_list(l);
	rc_auth_free(a);

	/* S3: every request signed, with its range and the token. */
	const char *s3[] = {"AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=s",
			    "AWS_SESSION_TOKEN=tok",
			    "AWS_ENDPOINT_URL=http://127.0.0.1:9000", NULL};
	struct rc_opts so = opts("s3://b/k");
	fake = s3;
	CHECK(rc_auth_new(&so, get, &a, why, sizeof why) == RC_OK);
	l = rc_auth_headers(a, rc_auth_url(a), "5-9", NULL, &gen, &err, why,
			    sizeof why);
	CHECK(has(l, "Host: 127.0.0.1:9000") &&
	      has(l, "X-Amz-Content-Sha256: e3b0") && has(l, "X-Amz-Date: ") &&
	      has(l, "X-Amz-Security-Token: tok") &&
	      has(l, "Authorization: AWS4-HMAC-SHA256 Credential=AKID/"));
	bool signed_range = false;
	for (struct curl_slist *p = l; p; p = p->next)
		if (strstr(p->data, "SignedHeaders=host;range;"
				    "x-amz-content-sha256;x-amz-date;"
				    "x-amz-security-token,"))
			signed_range = true;
	CHECK(signed_range);
	CHECK(!has(l, "Range:")); /* sent by CURLOPT_RANGE */
	/* A later request is dated and signed anew: a download longer
	 * than S3's 15-minute window keeps working. */
	struct timespec pause = {1, 100000000};
	nanosleep(&pause, NULL);
	struct curl_slist *l2 = rc_auth_headers(a, rc_auth_url(a), "5-9", NULL,
						&gen, &err, why, sizeof why);
	bool date_same = false, auth_same = false;
	for (struct curl_slist *p = l, *q = l2; p && q;
	     p = p->next, q = q->next) {
		if (strncmp(p->data, "X-Amz-Date:", 11) == 0)
			date_same = strcmp(p->data, q->data) == 0;
		if (strncmp(p->data, "Authorization:", 14) == 0)
			auth_same = strcmp(p->data, q->data) == 0;
	}
	CHECK(l2 != NULL && !date_same && !auth_same);
	rc_auth_free_list(l2);
	rc_auth_free_list(l);
	/* Not to another host, not even signed. */
	l = rc_auth_headers(a, "https://elsewhere/x", "5-9", NULL, &gen, &err,
			    why, sizeof why);
	CHECK(err == RC_OK && l == NULL);
	rc_auth_free(a);
}

static void hints(void)
{
	struct rc_auth *a;
	char why[256], hint[256];
	struct rc_opts o = opts("https://example.com/f");

	fake = NULL;
	CHECK(rc_auth_new(&o, get, &a, why, sizeof why) == RC_OK);
	rc_auth_hint(a, 401, "", hint, sizeof hint);
	CHECK(strstr(hint, "no credentials were sent") != NULL);
	rc_auth_hint(a, 404, "", hint, sizeof hint);
	CHECK(hint[0] == '\0');
	/* A plain 403 without credentials points at none. */
	rc_auth_hint(a, 403, "", hint, sizeof hint);
	CHECK(hint[0] == '\0');
	rc_auth_hint(a, 403, "AccessDenied", hint, sizeof hint);
	CHECK(strstr(hint, "not signed") != NULL);
	rc_auth_free(a);
	const char *s3[] = {"AWS_ACCESS_KEY_ID=A", "AWS_SECRET_ACCESS_KEY=s",
			    NULL};
	struct rc_opts so = opts("s3://b/k");
	fake = s3;
	CHECK(rc_auth_new(&so, get, &a, why, sizeof why) == RC_OK);
	rc_auth_hint(a, 403, "SignatureDoesNotMatch", hint, sizeof hint);
	CHECK(strcmp(hint, "S3 SignatureDoesNotMatch: check "
			   "AWS_SECRET_ACCESS_KEY") == 0);
	rc_auth_hint(a, 404, "NoSuchKey", hint, sizeof hint);
	CHECK(strcmp(hint, "S3 NoSuchKey") == 0);
	rc_auth_free(a);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	conflicts();
	s3_urls();
	origins();
	signing();
	hints();
	curl_global_cleanup();
	return DONE();
}
