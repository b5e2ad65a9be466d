/*
 * Credentials: which scheme the environment picks, conflicts and half-set
 * schemes (named, never with values), s3:// URLs, origins and redirects,
 * and the headers each request gets on and off its origin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/md.h>

#include "auth.h"
#include "harness.h"
#include "log.h"
#include "http.h"
#include "options.h"
#include "resume.h"

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
	/* Not to another host, not even signed: only the coding asked. */
	l = rc_auth_headers(a, "https://elsewhere/x", "5-9", NULL, &gen, &err,
			    why, sizeof why);
	CHECK(err == RC_OK && l != NULL && l->next == NULL &&
	      strcmp(l->data, "Accept-Encoding: identity") == 0);
	rc_auth_free_list(l);
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

/* A netrc file written now; the path is static. */
static const char *netrc_file(const char *text)
{
	static char path[64];
	snprintf(path, sizeof path, "/tmp/t_auth_netrc_%d", (int)getpid());
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

/* The Authorization line rc_auth_headers gives url, or "" (a static
 * buffer), for a run of o with NETRC holding text. */
static const char *netrc_authz(struct rc_opts *o, const char *text,
			       const char *url, enum rc_err *e)
{
	static char out[256];
	char env[128], why[256];
	const char *vars[] = {env, NULL};
	struct rc_auth *a = NULL;
	unsigned gen;
	enum rc_err err;

	snprintf(env, sizeof env, "NETRC=%s", netrc_file(text));
	fake = vars;
	out[0] = '\0';
	*e = rc_auth_new(o, get, &a, why, sizeof why);
	if (*e != RC_OK)
		return out;
	struct curl_slist *l =
	    rc_auth_headers(a, url, NULL, NULL, &gen, &err, why, sizeof why);
	for (struct curl_slist *p = l; p; p = p->next)
		if (strncmp(p->data, "Authorization:", 14) == 0)
			snprintf(out, sizeof out, "%s", p->data);
	rc_auth_free_list(l);
	rc_auth_free(a);
	return out;
}

static void netrc(void)
{
	struct rc_opts o = opts("http://Host.example/f");
	enum rc_err e;
	/* base64("al:pw") and base64("dflt:dpw") */
	const char *al = "Authorization: Basic YWw6cHc=";
	const char *dflt = "Authorization: Basic ZGZsdDpkcHc=";
	const char *both = "machine other.example login x password y\n"
			   "machine host.example\n  login al password pw\n"
			   "default login dflt password dpw\n";

	CHECK(strcmp(netrc_authz(&o, both, "http://host.example/g", &e), al) ==
	      0);
	/* Not to another port, host, or the default entry's "anywhere". */
	CHECK(*netrc_authz(&o, both, "http://host.example:81/g", &e) == '\0');
	CHECK(*netrc_authz(&o, both, "http://other.example/g", &e) == '\0');
	CHECK(*netrc_authz(&o, both, "http://x.example/g", &e) == '\0');
	/* The default entry serves the origin when no machine matches. */
	const char *def = "machine other.example login x password y\n"
			  "default login dflt password dpw\n";
	CHECK(strcmp(netrc_authz(&o, def, "http://host.example/g", &e), dflt) ==
	      0);
	CHECK(*netrc_authz(&o, def, "http://other.example/g", &e) == '\0');
	/* Comments, macros and quoted tokens, as curl reads them. */
	const char *tricky = "# machine host.example login no password no\n"
			     "macdef init\nmachine host.example login m\n\n"
			     "machine host.example login \"al\" password "
			     "\"p\\w\" account z\n";
	CHECK(strcmp(netrc_authz(&o, tricky, "http://host.example/g", &e),
		     al) == 0);
	/* No entry: nothing sent, no error. */
	CHECK(*netrc_authz(&o, "machine a login b password c\n",
			   "http://host.example/g", &e) == '\0' &&
	      e == RC_OK);
	/* A CR or LF (quoted escapes) is refused. */
	netrc_authz(&o, "default login a password \"x\\ny\"\n",
		    "http://host.example/g", &e);
	CHECK(e == RC_E_USAGE);
	/* A word longer than rangecat reads is refused, not cut. */
	static char longpw[5200];
	snprintf(longpw, sizeof longpw, "default login a password ");
	memset(longpw + strlen(longpw), 'x', 5000);
	netrc_authz(&o, longpw, "http://host.example/g", &e);
	CHECK(e == RC_E_USAGE);
	/* -H Authorization wins, as with curl. */
	o.headers[0] = "Authorization: Bearer mine";
	o.nheaders = 1;
	CHECK(strcmp(netrc_authz(&o, both, "http://host.example/g", &e),
		     "Authorization: Bearer mine") == 0);
	unlink(netrc_file(""));
}

static void line_breaks(void)
{
	struct rc_opts o = opts("https://example.com/f");
	struct rc_opts s3 = opts("s3://b/k");
	char why[256];
	static const char *const names[] = {
	    "RANGECAT_TOKEN",		"RANGECAT_USER",
	    "RANGECAT_PASSWORD",	"RANGECAT_OAUTH_TOKEN_URL",
	    "RANGECAT_OAUTH_CLIENT_ID", "RANGECAT_OAUTH_CLIENT_SECRET",
	    "RANGECAT_OAUTH_SCOPE",	"RANGECAT_HMAC_KEY",
	    "RANGECAT_HMAC_KEY_ID",	"AWS_ACCESS_KEY_ID",
	    "AWS_SECRET_ACCESS_KEY",	"AWS_SESSION_TOKEN",
	};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		for (int cr = 0; cr < 2; cr++) {
			char env[128];
			const char *vars[] = {env, NULL};
			snprintf(env, sizeof env, "%s=V4LU3%sX: 1", names[i],
				 cr ? "\r" : "\n");
			bool aws = strncmp(names[i], "AWS_", 4) == 0;
			CHECK(try(aws ? &s3 : &o, vars, why, sizeof why) ==
			      RC_E_USAGE);
			CHECK(strncmp(why, names[i], strlen(names[i])) == 0 &&
			      strstr(why, "holds a CR or LF") != NULL &&
			      strstr(why, "V4LU3") == NULL);
		}
	const char *hcr[] = {"RANGECAT_HEADERS=X-A: SECRET\rX-B: 1", NULL};
	CHECK(try(&o, hcr, why, sizeof why) == RC_E_USAGE);
	CHECK(strstr(why, "line 1 holds a CR") && !strstr(why, "SECRET"));
	const char *crlf[] = {"RANGECAT_HEADERS=X-A: 1\r\nX-B: 2\r\n", NULL};
	CHECK(try(&o, crlf, why, sizeof why) == RC_OK);
	/* The URL's userinfo, percent-encoded. */
	const char *bad[] = {"https://u:SE%0DCRET@example.com/f",
			     "https://u:SE%0aCRET@example.com/f",
			     "https://u:SE%00CRET@example.com/f",
			     "https://u%0A:SECRET@example.com/f"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct rc_opts u = opts(bad[i]);
		CHECK(try(&u, NULL, why, sizeof why) == RC_E_USAGE);
		CHECK(strstr(why, "control character") &&
		      !strstr(why, "SECRET"));
	}
	struct rc_opts ok = opts("https://u:SE%20CRET%3A@example.com/f");
	CHECK(try(&ok, NULL, why, sizeof why) == RC_OK);
}

static void redaction(void)
{
	char out[256];
	const char *h[] = {"RANGECAT_HEADERS=X-JFrog-Art-Api: SECRET", NULL};
	struct rc_opts o = opts("https://example.com/f");
	char why[256];

	rc_log_redact_header("X-Jfrog-Art-Api: SECRET", out, sizeof out);
	CHECK(strstr(out, "SECRET") != NULL); /* not yet known */
	CHECK(try(&o, h, why, sizeof why) == RC_OK);
	rc_log_redact_header("X-Jfrog-Art-Api: SECRET", out, sizeof out);
	CHECK(strcmp(out, "X-Jfrog-Art-Api: [redacted]") == 0);
	rc_log_redact_header("X-Jfrog-Art-Apis: 1", out, sizeof out);
	CHECK(strcmp(out, "X-Jfrog-Art-Apis: 1") == 0);
}

/* A usage error names the argument at fault, never a secret in it: a
 * second URL with a password, a forgotten -H, a misspelt --header. */
static void usage_errors(void)
{
	struct {
		const char *args[3];
		const char *must;
	} cases[] = {
	    {{"http://a:pwONE@h/x", "http://a:pwTWO-SECRET@h/y z"},
	     "argument 2 of 2"},
	    {{"http://h/x", "Authorization: Bearer tok-SECRET"}, NULL},
	    {{"http://h/x", "tok-SECRET"}, NULL},
	    {{"--headers=Authorization: Bearer tok-SECRET", "http://h/x"},
	     "--headers"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char a1[128], a2[128], why[512];
		char *argv[] = {"rangecat", a1, a2, NULL};
		struct rc_opts o;
		snprintf(a1, sizeof a1, "%s", cases[i].args[0]);
		snprintf(a2, sizeof a2, "%s", cases[i].args[1]);
		why[0] = '\0';
		CHECK(rc_options_parse(&o, 3, argv, why, sizeof why) ==
		      RC_E_USAGE);
		CHECK(why[0] != '\0' && strstr(why, "SECRET") == NULL);
		if (cases[i].must)
			CHECK(strstr(why, cases[i].must) != NULL);
	}
}

/* The resume hint splits a short-option cluster ending in -H, -C or -r:
 * the flags before it are kept, and the header is judged by its own name
 * (a RANGECAT_HEADERS name is secret). -d takes no next argument: the URL
 * after it is redacted as a URL. */
static void resume_clusters(void)
{
	char out[1024];
	char h[] = "-kHX-Clustered: arg-SECRET";
	char c[] = "-kC100";
	char d[] = "-d";
	char u[] = "http://h/x?token=tok-SECRET";
	char *argv[] = {"rangecat", h, c, d, u, NULL};

	rc_log_add_secret_name("X-Clustered", strlen("X-Clustered"));
	rc_resume_command(5, argv, 5, RC_UNKNOWN, NULL, out, sizeof out);
	CHECK(strstr(out, "SECRET") == NULL);
	CHECK(strstr(out, "-k -H 'X-Clustered: [redacted]'") != NULL);
	CHECK(strstr(out, "HX-Clustered") == NULL);
	CHECK(strstr(out, "-k -k") == NULL);
	CHECK(strcmp(out, "rangecat -C 5 -k -H 'X-Clustered: [redacted]' -k "
			  "-d 'http://h/x?token=[redacted]'") == 0);
}

/* A name may come twice in the environment execve gets: every copy of a
 * secret is wiped, not only the first that getenv finds. */
static void scrub_duplicates(void)
{
	char t1[] = "RANGECAT_TOKEN=first-SECRET";
	char t2[] = "RANGECAT_TOKEN=second-SECRET";
	char p1[] = "http_proxy=http://proxy:3128";
	char p2[] = "http_proxy=http://u:second-SECRET@proxy:3128";
	char a1[] = "all_proxy=http://u:first-SECRET@proxy:3128";
	char a2[] = "all_proxy=http://u:second-SECRET@proxy:3128";
	char *env[] = {t1, p1, a1, t2, p2, a2, NULL};
	char **saved = environ;
	char *argv[] = {"rangecat", NULL};

	environ = env;
	CHECK(rc_auth_scrub(1, argv));
	CHECK(strstr(t2 + strlen("RANGECAT_TOKEN="), "SECRET") == NULL);
	CHECK(strstr(t1 + strlen("RANGECAT_TOKEN="), "SECRET") == NULL);
	CHECK(strstr(p2 + strlen("http_proxy="), "SECRET") == NULL);
	CHECK(strstr(a1 + strlen("all_proxy="), "SECRET") == NULL);
	CHECK(strstr(a2 + strlen("all_proxy="), "SECRET") == NULL);
	/* The first of each proxy is what libcurl uses, as it was. */
	CHECK(getenv("http_proxy") &&
	      strcmp(getenv("http_proxy"), "http://proxy:3128") == 0);
	CHECK(getenv("all_proxy") &&
	      strcmp(getenv("all_proxy"), "http://u:first-SECRET@proxy:3128") ==
		  0);
	CHECK(getenv("RANGECAT_TOKEN") == NULL);
	char *kept = getenv("all_proxy");
	unsetenv("all_proxy");
	if (kept)
		free(kept - strlen("all_proxy="));
	environ = saved;
}

static void scrub(void)
{
	char url[] = "https://user:SECRET@example.com/p?q=1";
	char other[] = "-H";
	char *argv[] = {"rangecat", other, url, NULL};
	size_t len = sizeof url;

	setenv("RANGECAT_TOKEN", "SECRET", 1);
	setenv("https_proxy", "http://p:SECRET@proxy:3128", 1);
	setenv("http_proxy", "http://proxy:3128", 1);
	CHECK(rc_auth_scrub(3, argv));
	CHECK(strcmp(url, "https://user@example.com/p?q=1") == 0);
	size_t zeros = 0;
	for (size_t i = strlen(url); i < len; i++)
		zeros += url[i] == '\0';
	CHECK(zeros == len - strlen(url));
	CHECK(getenv("RANGECAT_TOKEN") == NULL);
	/* The proxy stays usable for libcurl. */
	CHECK(getenv("https_proxy") &&
	      strcmp(getenv("https_proxy"), "http://p:SECRET@proxy:3128") == 0);
	/* The copy is the "name=value" string putenv got: free it. */
	char *kept = getenv("https_proxy");
	unsetenv("https_proxy");
	if (kept)
		free(kept - strlen("https_proxy="));
	CHECK(!rc_auth_scrub(3, argv));
	unsetenv("http_proxy");
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	conflicts();
	s3_urls();
	origins();
	signing();
	hints();
	netrc();
	line_breaks();
	redaction();
	scrub();
	scrub_duplicates();
	usage_errors();
	resume_clusters();
	curl_global_cleanup();
	return DONE();
}
