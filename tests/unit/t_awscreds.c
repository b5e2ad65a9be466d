/*
 * The AWS credential chain's pure parts: the INI parser of the profile
 * files, the JSON (container, IMDS, credential_process) and STS XML
 * replies, ISO 8601 times, when to refresh, and which source the chain
 * picks from a fake environment and profile files in a scratch directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "awscreds.h"
#include "harness.h"
#include "options.h"

static const char *const *fake;

static const char *get(const char *name)
{
	size_t l = strlen(name);
	for (const char *const *p = fake; p && *p; p++)
		if (strncmp(*p, name, l) == 0 && (*p)[l] == '=')
			return *p + l + 1;
	return NULL;
}

static struct rc_aws_ini *ini(const char *text, unsigned *line,
			      const char **why)
{
	return rc_aws_ini_parse(text, strlen(text), line, why);
}

/* True when text fails to parse at line want_line with why holding
 * want_why. */
static bool ini_bad(const char *text, unsigned want_line, const char *want_why)
{
	unsigned line;
	const char *why = "";
	struct rc_aws_ini *i = ini(text, &line, &why);
	bool ok = i == NULL && line == want_line && strstr(why, want_why);
	if (!ok)
		fprintf(stderr, "ini_bad(%s): line %u, %s\n", text, line, why);
	rc_aws_ini_free(i);
	return ok;
}

static void t_ini(void)
{
	unsigned line;
	const char *why;
	struct rc_aws_ini *i = ini("# comment\n; another\n\n[default]\r\n"
				   "aws_access_key_id = AKID \r\n"
				   "AWS_Secret_Access_Key=sec=ret:x\n"
				   "  \n"
				   "[profile dev]\n"
				   "region: eu-west-1\n"
				   "s3 =\n"
				   "  addressing_style = path\n"
				   "\tmax_concurrent_requests = 4\n"
				   "endpoint_url = http://h:1/p#frag\n"
				   "[ spaced ]\n"
				   "empty =\n"
				   "[last]\n"
				   "k = v",
				   &line, &why);
	CHECK(i != NULL);
	CHECK(rc_aws_ini_has(i, "default"));
	CHECK(rc_aws_ini_has(i, "profile dev"));
	CHECK(rc_aws_ini_has(i, "spaced"));
	CHECK(!rc_aws_ini_has(i, "dev"));
	CHECK(!rc_aws_ini_has(NULL, "default"));
	const char *v = rc_aws_ini_get(i, "default", "aws_access_key_id");
	CHECK(v && strcmp(v, "AKID") == 0);
	/* Keys are case-insensitive; the first '=' or ':' splits. */
	v = rc_aws_ini_get(i, "default", "aws_secret_access_key");
	CHECK(v && strcmp(v, "sec=ret:x") == 0);
	v = rc_aws_ini_get(i, "profile dev", "REGION");
	CHECK(v && strcmp(v, "eu-west-1") == 0);
	v = rc_aws_ini_get(i, "profile dev", "s3.addressing_style");
	CHECK(v && strcmp(v, "path") == 0);
	v = rc_aws_ini_get(i, "profile dev", "s3.max_concurrent_requests");
	CHECK(v && strcmp(v, "4") == 0);
	/* No inline comments, as in the AWS CLI. */
	v = rc_aws_ini_get(i, "profile dev", "endpoint_url");
	CHECK(v && strcmp(v, "http://h:1/p#frag") == 0);
	v = rc_aws_ini_get(i, "spaced", "empty");
	CHECK(v && strcmp(v, "") == 0);
	v = rc_aws_ini_get(i, "last", "k");
	CHECK(v && strcmp(v, "v") == 0);
	CHECK(rc_aws_ini_get(i, "default", "region") == NULL);
	CHECK(rc_aws_ini_get(i, "nosuch", "k") == NULL);
	rc_aws_ini_free(i);
	rc_aws_ini_free(NULL);

	i = ini("", &line, &why);
	CHECK(i != NULL && !rc_aws_ini_has(i, "default"));
	rc_aws_ini_free(i);

	CHECK(ini_bad("k = v\n", 1, "before the first [section]"));
	CHECK(ini_bad("[a]\nk = v\njunk\n", 3, "neither"));
	CHECK(ini_bad("[a\n", 1, "lacks its ']'"));
	CHECK(ini_bad("[a]\n[ ]\n", 2, "no name"));
	CHECK(ini_bad("[a]\n[b]\n[a]\n", 3, "appears twice"));
	CHECK(ini_bad("[a]\nk = 1\nK = 2\n", 3, "key appears twice"));
	CHECK(ini_bad("[a]\n = v\n", 2, "no key"));
	/* Keys indented alike under their section are keys, as for the
	 * AWS CLI; deeper ones after a value continue it. */
	i = ini("[a]\n  x = 1\n  s3 =\n    y = 2\n  z = 3\n  [b]\n\tw = 4\n",
		&line, &why);
	CHECK(i && strcmp(rc_aws_ini_get(i, "a", "x"), "1") == 0 &&
	      strcmp(rc_aws_ini_get(i, "a", "s3.y"), "2") == 0 &&
	      strcmp(rc_aws_ini_get(i, "a", "z"), "3") == 0 &&
	      !rc_aws_ini_get(i, "a", "y") &&
	      strcmp(rc_aws_ini_get(i, "b", "w"), "4") == 0);
	rc_aws_ini_free(i);
	CHECK(ini_bad("[a]\n  k = v\n    more\n", 3, "continues a value"));
	CHECK(ini_bad("[a]\nk = v\n  more\n", 3, "continues a value"));
	CHECK(ini_bad("[a]\nk = v\rw\n", 2, "stray CR"));
	i = rc_aws_ini_parse("[a]\nk = v\0w\n", 12, &line, &why);
	CHECK(i == NULL && line == 2 && strstr(why, "NUL"));
	/* A comment after a section header, as the AWS CLI allows. */
	i = ini("[a] # main\nk = 1\n[b];x\nk = 2\n", &line, &why);
	CHECK(i && rc_aws_ini_has(i, "a") && rc_aws_ini_has(i, "b") &&
	      strcmp(rc_aws_ini_get(i, "a", "k"), "1") == 0 &&
	      strcmp(rc_aws_ini_get(i, "b", "k"), "2") == 0);
	rc_aws_ini_free(i);
	CHECK(ini_bad("[a] b\n", 1, "text after its ']'"));
	CHECK(ini_bad("[a\n", 1, "lacks its ']'"));
	/* A nested block ends at the next unindented key. */
	i = ini("[a]\ns3 =\n  x = 1\ny = 2\n", &line, &why);
	CHECK(i && rc_aws_ini_get(i, "a", "s3.x") &&
	      rc_aws_ini_get(i, "a", "y") && !rc_aws_ini_get(i, "a", "s3.y"));
	rc_aws_ini_free(i);
}

static void t_time(void)
{
	time_t t;
	CHECK(rc_aws_parse_time("1970-01-01T00:00:00Z", &t) && t == 0);
	CHECK(rc_aws_parse_time("2026-11-30T08:40:00Z", &t) && t == 1796028000);
	CHECK(rc_aws_parse_time("2026-11-30T08:40:00.123Z", &t) &&
	      t == 1796028000);
	CHECK(rc_aws_parse_time("2026-11-30T08:40:00+00:00", &t) &&
	      t == 1796028000);
	/* Offsets, as RFC 3339 and the AWS SDKs allow. */
	CHECK(rc_aws_parse_time("2026-11-30T10:40:00+02:00", &t) &&
	      t == 1796028000);
	CHECK(rc_aws_parse_time("2026-11-30T03:10:00.5-05:30", &t) &&
	      t == 1796028000);
	CHECK(rc_aws_parse_time("2026-11-30T10:40:00+0200", &t) &&
	      t == 1796028000);
	CHECK(rc_aws_parse_time("2026-11-30T08:40:00z", &t) && t == 1796028000);
	CHECK(!rc_aws_parse_time("2026-11-30T08:40:00+2:00", &t));
	CHECK(!rc_aws_parse_time("2026-11-30T08:40:00+24:00", &t));
	CHECK(!rc_aws_parse_time("2026-11-30T08:40:00+02:00junk", &t));
	CHECK(!rc_aws_parse_time("2026-11-30T08:40:00+02:", &t));
	CHECK(!rc_aws_parse_time("2026-11-30 08:40:00Z", &t));
	CHECK(!rc_aws_parse_time("2026-11-30T08:40:00", &t));
	CHECK(!rc_aws_parse_time("tomorrow", &t));
	CHECK(!rc_aws_parse_time("", &t));
}

static bool json_ok(const char *s, const char *ak, const char *sk,
		    const char *tok, time_t exp)
{
	struct rc_aws_cred c;
	const char *why = "";
	bool ok = rc_aws_parse_json(s, strlen(s), &c, &why);
	ok = ok && strcmp(c.access_key, ak) == 0 &&
	     strcmp(c.secret_key, sk) == 0 &&
	     (tok ? c.session_token && strcmp(c.session_token, tok) == 0
		  : c.session_token == NULL) &&
	     c.expires == exp;
	if (!ok)
		fprintf(stderr, "json_ok(%s): %s\n", s, why);
	rc_aws_cred_clear(&c);
	return ok;
}

static bool json_bad(const char *s, const char *want)
{
	struct rc_aws_cred c;
	const char *why = "";
	bool bad = !rc_aws_parse_json(s, strlen(s), &c, &why) &&
		   strstr(why, want) && c.access_key == NULL;
	if (!bad)
		fprintf(stderr, "json_bad(%s): %s\n", s, why);
	return bad;
}

static void t_json(void)
{
	/* The container endpoint. */
	CHECK(json_ok("{\"AccessKeyId\":\"ASIA1\",\"SecretAccessKey\":\"s/+=\","
		      "\"Token\":\"t0k\",\"Expiration\":"
		      "\"2026-11-30T08:40:00Z\",\"RoleArn\":\"x\"}\n",
		      "ASIA1", "s/+=", "t0k", 1796028000));
	/* IMDS. */
	CHECK(
	    json_ok("{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\","
		    "\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\","
		    "\"Token\":\"T\",\"Expiration\":\"1970-01-01T00:00:10Z\"}",
		    "A", "S", "T", 10));
	/* credential_process: SessionToken, no expiry = long-lived. */
	CHECK(json_ok("{\"Version\":1,\"AccessKeyId\":\"A\","
		      "\"SecretAccessKey\":\"S\",\"SessionToken\":\"T\"}",
		      "A", "S", "T", 0));
	CHECK(json_ok("{\"Version\":1,\"AccessKeyId\":\"A\","
		      "\"SecretAccessKey\":\"S\",\"SessionToken\":\"\"}",
		      "A", "S", NULL, 0));
	CHECK(json_bad("{\"Version\":2,\"AccessKeyId\":\"A\","
		       "\"SecretAccessKey\":\"S\"}",
		       "Version"));
	CHECK(json_bad("{\"Code\":\"Failure\",\"AccessKeyId\":\"A\","
		       "\"SecretAccessKey\":\"S\"}",
		       "Success"));
	CHECK(json_bad("{\"AccessKeyId\":\"A\"}", "lacks"));
	CHECK(
	    json_bad("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":7}", "lacks"));
	CHECK(json_bad("{\"AccessKeyId\":\"A B\",\"SecretAccessKey\":\"S\"}",
		       "header"));
	CHECK(json_bad("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\","
		       "\"Token\":\"a\\r\\nX-Evil: 1\"}",
		       "header"));
	CHECK(json_bad("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\","
		       "\"Expiration\":\"soon\"}",
		       "Expiration"));
	/* An Expiration that is no string is no "never expires". */
	CHECK(json_bad("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\","
		       "\"Expiration\":1796028000}",
		       "Expiration"));
	CHECK(json_bad("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\","
		       "\"Expiration\":1e400}",
		       "Expiration"));
	CHECK(json_ok("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\","
		      "\"Expiration\":null}",
		      "A", "S", NULL, 0));
	CHECK(json_bad("[1]", "not a JSON object"));
	CHECK(json_bad("{\"AccessKeyId\":", "not a JSON object"));
	CHECK(json_bad("{} x", "not a JSON object"));
	CHECK(json_bad("", "not a JSON object"));
}

static void t_sts(void)
{
	static const char ok[] =
	    "<AssumeRoleWithWebIdentityResponse xmlns=\"x\">"
	    "<AssumeRoleWithWebIdentityResult><Credentials>"
	    "<SessionToken>tok&amp;en/+=</SessionToken>"
	    "<SecretAccessKey>sec</SecretAccessKey>"
	    "<Expiration>2026-11-30T08:40:00Z</Expiration>"
	    "<AccessKeyId>ASIA2</AccessKeyId></Credentials>"
	    "<AccessKeyId>WRONG</AccessKeyId>"
	    "</AssumeRoleWithWebIdentityResult>"
	    "</AssumeRoleWithWebIdentityResponse>";
	struct rc_aws_cred c;
	char code[32];
	const char *why = "";

	CHECK(rc_aws_parse_sts(ok, strlen(ok), &c, code, sizeof code, &why));
	CHECK(c.access_key && strcmp(c.access_key, "ASIA2") == 0);
	CHECK(c.secret_key && strcmp(c.secret_key, "sec") == 0);
	CHECK(c.session_token && strcmp(c.session_token, "tok&en/+=") == 0);
	CHECK(c.expires == 1796028000);
	CHECK(code[0] == '\0');
	rc_aws_cred_clear(&c);
	CHECK(c.access_key == NULL && c.expires == 0);

	static const char err[] =
	    "<ErrorResponse><Error><Type>Sender</Type>"
	    "<Code>Invalid<b>Identity-Token</Code><Message>m</Message>"
	    "</Error></ErrorResponse>";
	CHECK(!rc_aws_parse_sts(err, strlen(err), &c, code, sizeof code, &why));
	CHECK(strcmp(code, "InvalidbIdentityToken") == 0);
	CHECK(c.access_key == NULL);

	static const char notok[] =
	    "<Credentials><AccessKeyId>A</AccessKeyId>"
	    "<SecretAccessKey>S</SecretAccessKey></Credentials>";
	CHECK(!rc_aws_parse_sts(notok, strlen(notok), &c, code, sizeof code,
				&why));
	CHECK(strstr(why, "SessionToken") != NULL);
	static const char cut[] = "<Credentials><AccessKeyId>A</AccessKeyId>";
	CHECK(!rc_aws_parse_sts(cut, strlen(cut), &c, code, sizeof code, &why));
	CHECK(!rc_aws_parse_sts("", 0, &c, code, sizeof code, &why));
	CHECK(code[0] == '\0');
}

static void t_refresh(void)
{
	CHECK(rc_aws_refresh_at(1000, 0) == 0);
	/* An hour: 5 minutes before. */
	CHECK(rc_aws_refresh_at(1000, 1000 + 3600) == 1000 + 3300);
	/* 15 minutes (STS's shortest): 5 minutes before. */
	CHECK(rc_aws_refresh_at(1000, 1000 + 900) == 1000 + 600);
	/* Short lives: half-way. */
	CHECK(rc_aws_refresh_at(1000, 1000 + 4) == 1002);
	CHECK(rc_aws_refresh_at(1000, 1000 + 599) == 1000 + 299);
	CHECK(rc_aws_refresh_at(1000, 1001) == 1000);
}

static char dir[] = "/tmp/t_awscreds-XXXXXX";

static const char *file(const char *name, const char *text)
{
	static char path[4][512];
	static int k;
	char *p = path[k++ % 4];
	snprintf(p, 512, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	return p;
}

/* rc_awscreds_new with the fake environment; the source (or NULL) in
 * *src, the error message in why. */
static enum rc_err chain(bool want, struct rc_awscreds **c, char *why,
			 size_t whylen)
{
	static struct rc_opts o;
	o.connect_timeout = 1;
	o.stall_timeout = 1;
	return rc_awscreds_new(&o, get, want, c, why, whylen);
}

static bool source_is(const char *want)
{
	struct rc_awscreds *c = NULL;
	char why[512] = "";
	enum rc_err e = chain(true, &c, why, sizeof why);
	const char *s = c ? rc_awscreds_source(c) : NULL;
	bool ok = e == RC_OK && (want ? s && strcmp(s, want) == 0 : s == NULL);
	if (!ok)
		fprintf(stderr, "source_is(%s): err %d, %s, %s\n",
			want ? want : "NULL", e, s ? s : "NULL", why);
	rc_awscreds_free(c);
	return ok;
}

static bool refused(const char *want)
{
	struct rc_awscreds *c = NULL;
	char why[512] = "";
	enum rc_err e = chain(true, &c, why, sizeof why);
	bool ok = e == RC_E_USAGE && c == NULL && strstr(why, want);
	if (!ok)
		fprintf(stderr, "refused(%s): err %d, %s\n", want, e, why);
	rc_awscreds_free(c);
	return ok;
}

static void t_chain(void)
{
	char home[600], h[640], f1[640], f2[640];

	if (mkdtemp(dir) == NULL) {
		CHECK(!"mkdtemp");
		return;
	}
	snprintf(home, sizeof home, "HOME=%s", dir);
	snprintf(h, sizeof h, "%s/.aws", dir);
	mkdir(h, 0700);
	file(".aws/credentials", "[default]\naws_access_key_id = A\n"
				 "aws_secret_access_key = S\n"
				 "[half]\naws_access_key_id = A\n"
				 "[two]\nregion = ap-south-1\n");
	file(".aws/config", "[default]\nregion = eu-west-1\n"
			    "endpoint_url = http://127.0.0.1:9/\n"
			    "[profile proc]\ncredential_process = echo x\n"
			    "aws_access_key_id = C\naws_secret_access_key = D\n"
			    "[profile keys]\naws_access_key_id = C\n"
			    "aws_secret_access_key = D\n"
			    "[profile two]\nregion = us-west-2\n"
			    "credential_process = echo two\n"
			    "[profile role]\nrole_arn = arn:x\n"
			    "source_profile = default\n"
			    "[profile wi]\nrole_arn = arn:x\n"
			    "web_identity_token_file = /t\n"
			    "[profile sso]\nsso_session = s\n"
			    "[proc]\ncredential_process = ignored\n");

	/* The default profile from ~/.aws, its region and endpoint. */
	const char *e1[] = {home, NULL};
	fake = e1;
	CHECK(source_is("AWS profile default (~/.aws/credentials)"));
	struct rc_awscreds *c = NULL;
	char why[512];
	CHECK(chain(false, &c, why, sizeof why) == RC_OK && c);
	CHECK(rc_awscreds_source(c) == NULL);
	CHECK(strcmp(rc_awscreds_region(c), "eu-west-1") == 0);
	CHECK(strcmp(rc_awscreds_endpoint(c), "http://127.0.0.1:9/") == 0);
	rc_awscreds_free(c);

	/* credential_process beats keys in the config file; credentials-file
	 * values beat config values; "[proc]" in config is not a profile. */
	const char *e2[] = {home, "AWS_PROFILE=proc", NULL};
	fake = e2;
	CHECK(source_is("credential_process of AWS profile proc"));
	const char *e3[] = {home, "AWS_PROFILE=keys", NULL};
	fake = e3;
	CHECK(source_is("AWS profile keys (~/.aws/config)"));
	const char *e4[] = {home, "AWS_PROFILE=two", NULL};
	fake = e4;
	CHECK(chain(true, &c, why, sizeof why) == RC_OK && c);
	CHECK(c && strcmp(rc_awscreds_region(c), "ap-south-1") == 0);
	rc_awscreds_free(c);
	const char *e4b[] = {home, "AWS_DEFAULT_PROFILE=keys", NULL};
	fake = e4b;
	CHECK(source_is("AWS profile keys (~/.aws/config)"));

	/* A name too long to keep is refused, never cut short to another
	 * profile's name. */
	char longname[300], longprof[320], longsec[400];
	memset(longname, 'p', 200);
	longname[200] = '\0';
	snprintf(longprof, sizeof longprof, "AWS_PROFILE=%s", longname);
	snprintf(longsec, sizeof longsec,
		 "[%.127s]\naws_access_key_id = A\naws_secret_access_key = S\n",
		 longname);
	snprintf(f1, sizeof f1, "AWS_SHARED_CREDENTIALS_FILE=%s",
		 file("long", longsec));
	const char *e4c[] = {home, f1, longprof, NULL};
	fake = e4c;
	CHECK(refused("AWS_PROFILE is too long (over 127 bytes)"));

	/* An empty aws_session_token is none. */
	snprintf(f1, sizeof f1, "AWS_SHARED_CREDENTIALS_FILE=%s",
		 file("emptytok", "[default]\naws_access_key_id = A\n"
				  "aws_secret_access_key = S\n"
				  "aws_session_token =\n"));
	const char *e4d[] = {home, f1, NULL};
	fake = e4d;
	CHECK(source_is("AWS profile default (AWS_SHARED_CREDENTIALS_FILE)"));

	/* Errors name the profile, the file and the key. */
	const char *e5[] = {home, "AWS_PROFILE=half", NULL};
	fake = e5;
	CHECK(refused("AWS profile half in ~/.aws/credentials has "
		      "aws_access_key_id but not aws_secret_access_key"));
	const char *e6[] = {home, "AWS_PROFILE=nosuch", NULL};
	fake = e6;
	CHECK(refused("AWS_PROFILE names profile nosuch, which is in neither "
		      "~/.aws/credentials nor ~/.aws/config"));
	const char *e7[] = {home, "AWS_PROFILE=role", NULL};
	fake = e7;
	CHECK(refused("assumes a role (role_arn), which rangecat does not "
		      "support"));
	const char *e8[] = {home, "AWS_PROFILE=sso", NULL};
	fake = e8;
	CHECK(refused("IAM Identity Center"));
	const char *e9[] = {home, "AWS_PROFILE=wi", NULL};
	fake = e9;
	CHECK(source_is("web identity (profile wi)"));

	/* Files named by their variables; a missing one is an error, a
	 * missing default one is not. */
	snprintf(f1, sizeof f1, "AWS_SHARED_CREDENTIALS_FILE=%s/none", dir);
	const char *e10[] = {home, f1, NULL};
	fake = e10;
	CHECK(refused("AWS_SHARED_CREDENTIALS_FILE cannot be read"));
	snprintf(f2, sizeof f2, "AWS_CONFIG_FILE=%s", file("bad", "[a]\nk\n"));
	const char *e11[] = {home, f2, NULL};
	fake = e11;
	CHECK(refused("bad AWS_CONFIG_FILE, line 2: a line is neither"));
	/* "~/" in a variable is HOME. */
	const char *e11b[] = {home, "AWS_SHARED_CREDENTIALS_FILE=~/.aws/config",
			      "AWS_CONFIG_FILE=~/nothing-here",
			      "AWS_PROFILE=keys", NULL};
	fake = e11b;
	CHECK(refused("AWS_CONFIG_FILE cannot be read"));
	const char *e11c[] = {home, "AWS_SHARED_CREDENTIALS_FILE=~/.aws/config",
			      "AWS_PROFILE=default", NULL};
	fake = e11c;
	/* config's [default] region only, read as a credentials file: the
	 * default profile has no keys, so instance metadata comes next. */
	CHECK(source_is("EC2 instance metadata (IMDSv2)"));
	const char *e12[] = {"HOME=/nonexistent-home",
			     "AWS_EC2_METADATA_DISABLED=TRUE", NULL};
	fake = e12;
	CHECK(source_is(NULL));
	const char *e13[] = {"AWS_EC2_METADATA_DISABLED=false", NULL};
	fake = e13;
	CHECK(source_is("EC2 instance metadata (IMDSv2)"));
	const char *e13b[] = {"AWS_EC2_METADATA_SERVICE_ENDPOINT=ftp://x",
			      NULL};
	fake = e13b;
	CHECK(refused("bad AWS_EC2_METADATA_SERVICE_ENDPOINT"));

	/* Web identity comes before the profile, as in the AWS CLI; half
	 * set is an error naming both variables. */
	const char *e14[] = {home, "AWS_ROLE_ARN=arn:aws:iam::1:role/r",
			     "AWS_WEB_IDENTITY_TOKEN_FILE=/var/run/t", NULL};
	fake = e14;
	CHECK(source_is("web identity (AWS_WEB_IDENTITY_TOKEN_FILE)"));
	const char *e15[] = {home, "AWS_ROLE_ARN=arn:aws:iam::1:role/r", NULL};
	fake = e15;
	CHECK(refused("AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is "
		      "not"));
	/* ... but only when credentials are wanted. */
	CHECK(chain(false, &c, why, sizeof why) == RC_OK && c);
	rc_awscreds_free(c);

	/* Container credentials: relative URI, allowed and refused full
	 * URIs; they come after the profile. */
	const char *e16[] = {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/x",
			     NULL};
	fake = e16;
	CHECK(source_is("container credentials "
			"(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)"));
	const char *e16b[] = {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=v2",
			      NULL};
	fake = e16b;
	CHECK(refused("must be a path"));
	static const char *const okuri[] = {
	    "http://127.0.0.1:80/x", "http://localhost/x", "http://[::1]:9/",
	    "http://169.254.170.23/v1/credentials", "https://creds.example/x"};
	for (size_t i = 0; i < sizeof okuri / sizeof *okuri; i++) {
		snprintf(f1, sizeof f1, "AWS_CONTAINER_CREDENTIALS_FULL_URI=%s",
			 okuri[i]);
		const char *e[] = {f1, NULL};
		fake = e;
		CHECK(source_is("container credentials "
				"(AWS_CONTAINER_CREDENTIALS_FULL_URI)"));
	}
	static const char *const baduri[] = {
	    "http://10.0.0.1/x", "http://169.254.169.254/", "http://evil/x",
	    "http://127.0.0.1.evil.example/"};
	for (size_t i = 0; i < sizeof baduri / sizeof *baduri; i++) {
		snprintf(f1, sizeof f1, "AWS_CONTAINER_CREDENTIALS_FULL_URI=%s",
			 baduri[i]);
		const char *e[] = {f1, NULL};
		fake = e;
		CHECK(refused("AWS_CONTAINER_CREDENTIALS_FULL_URI is refused"));
	}
	const char *e17[] = {"AWS_CONTAINER_CREDENTIALS_FULL_URI=http://"
			     "127.0.0.1/",
			     "AWS_CONTAINER_AUTHORIZATION_TOKEN=a\nb", NULL};
	fake = e17;
	CHECK(refused("AWS_CONTAINER_AUTHORIZATION_TOKEN holds"));
	const char *e18[] = {home, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/x",
			     NULL};
	fake = e18;
	CHECK(source_is("AWS profile default (~/.aws/credentials)"));

	char cmd[1200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
}

int main(void)
{
	t_ini();
	t_time();
	t_json();
	t_sts();
	t_refresh();
	t_chain();
	return DONE();
}
