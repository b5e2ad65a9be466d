/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * Credentials from the environment. rc_auth_new reads every variable in
 * one place, rejects two schemes at once (naming both variables, never a
 * value) and half-set ones, and resolves s3:// URLs. rc_auth_headers then
 * builds each request's headers: bearer and Basic are fixed strings, S3
 * and HMAC sign every request afresh (a download may outlast the
 * signature's validity), and OAuth hands out its current token,
 * refreshing it shortly before it expires.
 *
 * Credentials follow the origin, not the request: any URL that is not on
 * the origin they were given for (a redirect to another host, say) gets
 * no credentials and no secret -H header. AWS variables apply to s3://
 * URLs only, since they sit in many environments for other reasons.
 *
 * Any thread: fixed after rc_auth_new but for the OAuth token, which a
 * mutex guards.
 */
#include "auth.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include "awscreds.h"
#include "log.h"
#include "oauth.h"
#include "sched.h"
#include "sigv4.h"

#define MAX_SECRET_HEADERS 64

/* One URL, parsed as the transfer will send it. */
struct url {
	char scheme[8];	       /* lower case */
	char *host;	       /* curl_free */
	long port;	       /* the scheme's default when not given */
	char host_header[512]; /* host, and ":port" unless the default */
	char *path, *query;    /* curl_free; query NULL when none */
};

struct rc_auth {
	enum rc_auth_kind kind;
	char source[320]; /* the variables, for messages */
	char *url;	  /* what to fetch, owned */
	const struct rc_opts *o;

	bool as_is;	   /* s3://: paths are sent and signed unnormalised */
	struct url origin; /* where the credentials may go */

	char *user;   /* Basic user, AWS access key, client id, key id */
	char *secret; /* token, password, AWS secret, client secret, key */
	char *basic;  /* "Authorization: Basic ..." */
	char *session_token;
	char *region;
	struct rc_awscreds *aws; /* s3://: the profile, and the credential
				  * chain when kind is S3 and no keys are
				  * in the environment */
	char *token_url, *scope;
	char *headers[MAX_SECRET_HEADERS]; /* RANGECAT_HEADERS lines */
	size_t nheaders;
	bool argv_secret; /* a -H header has a secret-looking name */
	bool argv_authz;  /* a -H Authorization header (wins over NETRC) */

	pthread_mutex_t mu; /* guards the OAuth fields below */
	struct rc_oauth_token tok;
	unsigned gen;	 /* bumped at every new token */
	double fetched;	 /* monotonic time of the token's fetch */
	double next_try; /* no refresh attempt before this */
};

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void wipe_free(char *s)
{
	if (s) {
		mbedtls_platform_zeroize(s, strlen(s));
		free(s);
	}
}

/* A set, non-empty variable, or NULL. */
static const char *var(rc_getenv_fn get, const char *name)
{
	const char *v = get(name);
	return v && *v ? v : NULL;
}

static void url_free(struct url *u)
{
	curl_free(u->host);
	curl_free(u->path);
	curl_free(u->query);
	u->host = u->path = u->query = NULL;
}

/* Parses url into *u (url_free it); false when it does not parse. as_is
 * keeps "." and ".." segments, as CURLOPT_PATH_AS_IS sends them. */
static bool url_parse(const char *url, bool as_is, struct url *u)
{
	CURLU *h = curl_url();
	char *s = NULL, *p = NULL, *explicit = NULL;
	bool ok = false;

	memset(u, 0, sizeof *u);
	if (h == NULL ||
	    curl_url_set(h, CURLUPART_URL, url, as_is ? CURLU_PATH_AS_IS : 0) !=
		CURLUE_OK ||
	    curl_url_get(h, CURLUPART_SCHEME, &s, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_HOST, &u->host, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) !=
		CURLUE_OK ||
	    curl_url_get(h, CURLUPART_PATH, &u->path, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_QUERY, &u->query, 0) ==
		CURLUE_OUT_OF_MEMORY)
		goto done;
	snprintf(u->scheme, sizeof u->scheme, "%s", s);
	for (char *c = u->scheme; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	u->port = strtol(p, NULL, 10);
	curl_url_get(h, CURLUPART_PORT, &explicit, CURLU_NO_DEFAULT_PORT);
	snprintf(u->host_header, sizeof u->host_header, "%s%s%s", u->host,
		 explicit ? ":" : "", explicit ? explicit : "");
	ok = true;
done:
	if (!ok)
		url_free(u);
	curl_free(s);
	curl_free(p);
	curl_free(explicit);
	curl_url_cleanup(h);
	return ok;
}

static void add_source(struct rc_auth *a, const char *s)
{
	snprintf(a->source, sizeof a->source, "%s", s);
}

/* A variable holding an http:// or https:// URL; otherwise why names
 * the variable. */
static bool http_url_ok(const char *url, char *why, size_t whylen,
			const char *name)
{
	const char *uwhy = "it must be an http:// or https:// URL";

	if (strncasecmp(url, "s3://", 5) != 0 && rc_url_ok(url, &uwhy))
		return true;
	snprintf(why, whylen, "bad %s: %s", name, uwhy);
	return false;
}

/* s3://bucket/key to the URL of the endpoint (path style) or of AWS's
 * virtual host. The key is taken literally, as the AWS CLI does. */
static enum rc_err s3_url(struct rc_auth *a, const char *s3, rc_getenv_fn get,
			  char *why, size_t whylen)
{
	const char *b = s3 + 5;
	size_t bl = strcspn(b, "/");
	const char *key = b + bl;
	const char *ep = var(get, "AWS_ENDPOINT_URL_S3");
	const char *epvar = "AWS_ENDPOINT_URL_S3";

	if (bl == 0 || *key != '/' || key[1] == '\0')
		return rc_err_usage(why, whylen,
				    "bad URL: an S3 URL is s3://BUCKET/KEY");
	for (size_t i = 0; i < bl; i++) {
		char c = b[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		      c == '_'))
			return rc_err_usage(
			    why, whylen,
			    "bad URL: the S3 bucket name may hold "
			    "only letters, digits, '.', '-' and '_'");
	}
	key++;
	if (ep == NULL) {
		ep = var(get, "AWS_ENDPOINT_URL");
		epvar = "AWS_ENDPOINT_URL";
	}
	if (ep == NULL) {
		ep = rc_awscreds_endpoint(a->aws);
		epvar = "the AWS profile's endpoint_url";
	}
	size_t cap = strlen(key) * 3 + bl + 256 + (ep ? strlen(ep) : 0);
	char *u = calloc(1, cap);
	if (u == NULL)
		return RC_E_NOMEM;
	if (ep) {
		if (!http_url_ok(ep, why, whylen, epvar)) {
			free(u);
			return RC_E_USAGE;
		}
		size_t el = strlen(ep);
		while (el > 0 && ep[el - 1] == '/')
			el--;
		snprintf(u, cap, "%.*s/%.*s/", (int)el, ep, (int)bl, b);
	} else if (memchr(b, '.', bl)) {
		/* A dotted bucket would not match AWS's wildcard
		 * certificate as a virtual host. */
		snprintf(u, cap, "https://s3.%s.amazonaws.com/%.*s/", a->region,
			 (int)bl, b);
	} else {
		snprintf(u, cap, "https://%.*s.s3.%s.amazonaws.com/", (int)bl,
			 b, a->region);
	}
	rc_sigv4_encode(key, strlen(key), true, u, cap);
	a->url = u;
	return RC_OK;
}

/* RANGECAT_HEADERS: one "Name: value" per line, blank lines skipped. */
static enum rc_err secret_headers(struct rc_auth *a, const char *v, char *why,
				  size_t whylen)
{
	unsigned lineno = 0;

	while (*v) {
		size_t len = strcspn(v, "\n");
		size_t l = len;
		lineno++;
		if (l > 0 && v[l - 1] == '\r')
			l--;
		const char *colon = memchr(v, ':', l);
		bool blank = strspn(v, " \t") >= l;
		if (!blank) {
			bool ok = colon && colon > v;
			for (const char *p = v; ok && p < colon; p++)
				ok = *p > 0x20 && *p < 0x7f;
			if (!ok)
				return rc_err_usage(
				    why, whylen,
				    "RANGECAT_HEADERS line %u is not "
				    "'Name: value'",
				    lineno);
			/* CR ends a line only before its LF. */
			if (memchr(v, '\r', l))
				return rc_err_usage(
				    why, whylen,
				    "RANGECAT_HEADERS line %u holds a CR "
				    "that does not end it",
				    lineno);
			/* Its values are secret whatever the names: -v
			 * shows them as [redacted], and they stay on
			 * their origin. */
			rc_log_add_secret_name(v, (size_t)(colon - v));
			const char *use = rc_options_header_owner(v);
			if (use)
				return rc_err_usage(
				    why, whylen, "RANGECAT_HEADERS line %u: %s",
				    lineno, use);
			if (a->nheaders == MAX_SECRET_HEADERS)
				return rc_err_usage(
				    why, whylen,
				    "RANGECAT_HEADERS holds more than "
				    "%d headers",
				    MAX_SECRET_HEADERS);
			a->headers[a->nheaders] = strndup(v, l);
			if (a->headers[a->nheaders++] == NULL)
				return RC_E_NOMEM;
		}
		v += len;
		if (*v == '\n')
			v++;
	}
	if (a->nheaders == 0)
		return rc_err_usage(why, whylen,
				    "RANGECAT_HEADERS holds no header");
	return RC_OK;
}

static bool is_authorization(const char *h)
{
	return strncasecmp(h, "Authorization:", 14) == 0;
}

/* The scheme set, from the environment; conflicts and half-set schemes
 * are usage errors. */
static enum rc_err pick(struct rc_auth *a, const struct rc_opts *o,
			rc_getenv_fn get, bool s3, bool userinfo, char *why,
			size_t whylen)
{
	struct {
		enum rc_auth_kind kind;
		const char *name;
	} set[8];
	size_t n = 0;
#define SET(k, nm)                                                             \
	do {                                                                   \
		set[n].kind = (k);                                             \
		set[n++].name = (nm);                                          \
	} while (0)

	if (userinfo)
		SET(RC_AUTH_BASIC, "the URL's user:password");
	if (var(get, "RANGECAT_TOKEN"))
		SET(RC_AUTH_BEARER, "RANGECAT_TOKEN");
	if (var(get, "RANGECAT_USER") || get("RANGECAT_PASSWORD"))
		SET(RC_AUTH_BASIC, var(get, "RANGECAT_USER")
				       ? "RANGECAT_USER"
				       : "RANGECAT_PASSWORD");
	if (var(get, "RANGECAT_HEADERS"))
		SET(RC_AUTH_HEADERS, "RANGECAT_HEADERS");
	if (var(get, "NETRC"))
		SET(RC_AUTH_NETRC, "NETRC");
	if (s3 && (var(get, "AWS_ACCESS_KEY_ID") ||
		   var(get, "AWS_SECRET_ACCESS_KEY")))
		SET(RC_AUTH_S3, var(get, "AWS_ACCESS_KEY_ID")
				    ? "AWS_ACCESS_KEY_ID"
				    : "AWS_SECRET_ACCESS_KEY");
	if (var(get, "RANGECAT_OAUTH_TOKEN_URL") ||
	    var(get, "RANGECAT_OAUTH_CLIENT_ID") ||
	    var(get, "RANGECAT_OAUTH_CLIENT_SECRET"))
		SET(RC_AUTH_OAUTH, var(get, "RANGECAT_OAUTH_TOKEN_URL")
				       ? "RANGECAT_OAUTH_TOKEN_URL"
				   : var(get, "RANGECAT_OAUTH_CLIENT_ID")
				       ? "RANGECAT_OAUTH_CLIENT_ID"
				       : "RANGECAT_OAUTH_CLIENT_SECRET");
	if (var(get, "RANGECAT_HMAC_KEY") || var(get, "RANGECAT_HMAC_KEY_ID"))
		SET(RC_AUTH_HMAC, var(get, "RANGECAT_HMAC_KEY")
				      ? "RANGECAT_HMAC_KEY"
				      : "RANGECAT_HMAC_KEY_ID");
#undef SET
	if (n > 1)
		return rc_err_usage(why, whylen,
				    "%s and %s are both set: use one kind of "
				    "credentials per run",
				    set[0].name, set[1].name);
	if (n == 0) {
		a->kind = RC_AUTH_NONE;
		return RC_OK;
	}
	a->kind = set[0].kind;
	for (size_t i = 0; i < o->nheaders; i++)
		if (is_authorization(o->headers[i]) &&
		    a->kind != RC_AUTH_HEADERS && a->kind != RC_AUTH_NETRC)
			return rc_err_usage(why, whylen,
					    "-H Authorization and %s cannot be "
					    "combined",
					    set[0].name);
	return RC_OK;
}

/* The next token of a netrc line at *pp: a word, or a "quoted string"
 * with \" \\ \n \r \t escapes, as curl reads them. Returns its length in
 * tok (NUL-terminated; *cut set when it did not fit cap), or 0 at the end
 * of the line. */
static size_t netrc_token(const char **pp, char *tok, size_t cap, bool *cut)
{
	const char *p = *pp;
	size_t n = 0;

	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	if (*p == '\0' || *p == '\n') {
		*pp = p;
		return 0;
	}
	if (*p == '"') {
		for (p++; *p && *p != '"' && *p != '\n'; p++) {
			char c = *p;
			if (c == '\\' && p[1] && p[1] != '\n') {
				c = *++p;
				c = c == 'n'   ? '\n'
				    : c == 'r' ? '\r'
				    : c == 't' ? '\t'
					       : c;
			}
			if (n + 1 < cap)
				tok[n++] = c;
			else
				*cut = true;
		}
		if (*p == '"')
			p++;
	} else {
		for (;
		     *p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n';
		     p++)
			if (n + 1 < cap)
				tok[n++] = *p;
			else
				*cut = true;
	}
	tok[n] = '\0';
	*pp = p;
	return n ? n : 1; /* "" is a token too */
}

/*
 * Looks host up in the netrc file text (NUL-terminated): the first
 * "machine host" entry, or a "default" entry met before it. *login and
 * *password are set to copies of what the entry holds (NULL for what it
 * lacks). Returns false when out of memory; *cut is set when a token was
 * longer than rangecat reads.
 */
static bool netrc_find(const char *text, const char *host, char **login,
		       char **password, bool *cut)
{
	enum { NONE, MACHINE, LOGIN, PASSWORD, SKIP } want = NONE;
	bool macdef = false, in = false, done = false;
	char tok[4096];
	const char *p = text;

	*login = *password = NULL;
	while (*p && !done) {
		const char *line = p;
		const char *eol = strchr(p, '\n');
		const char *next = eol ? eol + 1 : p + strlen(p);
		if (macdef) {
			/* A macro runs to the next empty line. */
			if (strspn(line, " \t\r") >= (size_t)(next - line) - 1)
				macdef = false;
			p = next;
			continue;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#') {
			p = next;
			continue;
		}
		while (!done && !macdef &&
		       netrc_token(&p, tok, sizeof tok, cut)) {
			switch (want) {
			case MACHINE:
				in = strcasecmp(tok, host) == 0;
				want = NONE;
				continue;
			case LOGIN:
			case PASSWORD:
				if (in) {
					char **dst =
					    want == LOGIN ? login : password;
					wipe_free(*dst);
					if ((*dst = strdup(tok)) == NULL)
						goto nomem;
				}
				want = NONE;
				continue;
			case SKIP: want = NONE; continue;
			case NONE: break;
			}
			if (strcmp(tok, "machine") == 0 ||
			    strcmp(tok, "default") == 0) {
				/* The entry found ends where another
				 * begins. */
				if (in)
					done = true;
				else if (tok[0] == 'd')
					in = true;
				else
					want = MACHINE;
			} else if (strcmp(tok, "login") == 0) {
				want = LOGIN;
			} else if (strcmp(tok, "password") == 0) {
				want = PASSWORD;
			} else if (strcmp(tok, "account") == 0) {
				want = SKIP;
			} else if (strcmp(tok, "macdef") == 0) {
				macdef = true;
			}
		}
		p = next;
	}
	mbedtls_platform_zeroize(tok, sizeof tok);
	if (!in) {
		wipe_free(*login);
		wipe_free(*password);
		*login = *password = NULL;
	}
	return true;
nomem:
	mbedtls_platform_zeroize(tok, sizeof tok);
	wipe_free(*login);
	wipe_free(*password);
	*login = *password = NULL;
	return false;
}

/*
 * NETRC: the entry for the origin's host (or the default entry) becomes
 * Basic credentials for the origin only. libcurl's own netrc support is
 * not used: it would look up every host a redirect leads to, and send
 * the default entry anywhere.
 */
static enum rc_err load_netrc(struct rc_auth *a, const char *path, char *why,
			      size_t whylen)
{
	FILE *f = fopen(path, "r");
	size_t cap = 1 << 20, n = 0;
	char *text;
	char *login = NULL, *password = NULL;
	enum rc_err err = RC_OK;
	char host[256];
	size_t hl = strlen(a->origin.host);
	bool cut = false;

	if (f == NULL)
		return rc_err_usage(why, whylen,
				    "NETRC names a file that cannot be read");
	text = malloc(cap + 1);
	if (text == NULL) {
		fclose(f);
		return RC_E_NOMEM;
	}
	n = fread(text, 1, cap, f);
	bool bad = ferror(f) || (n == cap && fgetc(f) != EOF);
	fclose(f);
	if (bad) {
		err = rc_err_usage(why, whylen,
				   "NETRC names a file that cannot be read "
				   "whole (or is over 1 MiB)");
		goto done;
	}
	text[n] = '\0';
	if (memchr(text, '\0', n)) {
		err = rc_err_usage(why, whylen, "NETRC holds a NUL byte");
		goto done;
	}
	/* An IPv6 literal's brackets are not part of the machine name. A
	 * host too long for DNS matches no entry (nor a cut one). */
	if (hl >= 2 && a->origin.host[0] == '[')
		snprintf(host, sizeof host, "%.*s", (int)(hl - 2),
			 a->origin.host + 1);
	else
		snprintf(host, sizeof host, "%s", a->origin.host);
	if (hl >= sizeof host) {
		rc_log("NETRC is not read for a host name over 255 bytes");
		goto done;
	}
	if (!netrc_find(text, host, &login, &password, &cut)) {
		err = RC_E_NOMEM;
		goto done;
	}
	if (cut) {
		err = rc_err_usage(why, whylen,
				   "NETRC holds a word over 4095 bytes");
		goto done;
	}
	if (login == NULL && password == NULL) {
		rc_log("NETRC has no entry for %s: no credentials sent", host);
		goto done;
	}
	if ((login && strpbrk(login, "\r\n")) ||
	    (password && strpbrk(password, "\r\n"))) {
		err = rc_err_usage(
		    why, whylen, "NETRC's entry for %s holds a CR or LF", host);
		goto done;
	}
	if (login && strchr(login, ':')) {
		err = rc_err_usage(why, whylen,
				   "NETRC's login for %s holds a ':', which "
				   "Basic authentication cannot carry",
				   host);
		goto done;
	}
	a->user = login ? login : strdup("");
	a->secret = password ? password : strdup("");
	login = password = NULL;
	if (a->user == NULL || a->secret == NULL)
		err = RC_E_NOMEM;
done:
	wipe_free(login);
	wipe_free(password);
	mbedtls_platform_zeroize(text, n);
	free(text);
	return err;
}

/* Copies what scheme a->kind needs; half-set schemes are usage errors. */
static enum rc_err load(struct rc_auth *a, rc_getenv_fn get, char *why,
			size_t whylen)
{
	const char *v;

	switch (a->kind) {
	case RC_AUTH_NONE: return RC_OK;
	case RC_AUTH_BEARER:
		add_source(a, "RANGECAT_TOKEN");
		a->secret = strdup(var(get, "RANGECAT_TOKEN"));
		break;
	case RC_AUTH_BASIC:
		add_source(a, "RANGECAT_USER and RANGECAT_PASSWORD");
		if (var(get, "RANGECAT_USER") == NULL)
			return rc_err_usage(why, whylen,
					    "RANGECAT_PASSWORD is set but "
					    "RANGECAT_USER is not");
		if (get("RANGECAT_PASSWORD") == NULL)
			return rc_err_usage(why, whylen,
					    "RANGECAT_USER is set but "
					    "RANGECAT_PASSWORD is not");
		a->user = strdup(var(get, "RANGECAT_USER"));
		a->secret = strdup(get("RANGECAT_PASSWORD"));
		if (a->user && strchr(a->user, ':'))
			return rc_err_usage(
			    why, whylen,
			    "RANGECAT_USER holds a ':', which Basic "
			    "authentication cannot carry");
		break;
	case RC_AUTH_HEADERS:
		add_source(a, "RANGECAT_HEADERS");
		return secret_headers(a, var(get, "RANGECAT_HEADERS"), why,
				      whylen);
	case RC_AUTH_NETRC:
		add_source(a, "NETRC");
		return load_netrc(a, var(get, "NETRC"), why, whylen);
	case RC_AUTH_S3:
		add_source(a, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
		if (var(get, "AWS_ACCESS_KEY_ID") == NULL)
			return rc_err_usage(why, whylen,
					    "AWS_SECRET_ACCESS_KEY is set but "
					    "AWS_ACCESS_KEY_ID is not");
		if (var(get, "AWS_SECRET_ACCESS_KEY") == NULL)
			return rc_err_usage(why, whylen,
					    "AWS_ACCESS_KEY_ID is set but "
					    "AWS_SECRET_ACCESS_KEY is not");
		a->user = strdup(var(get, "AWS_ACCESS_KEY_ID"));
		a->secret = strdup(var(get, "AWS_SECRET_ACCESS_KEY"));
		if ((v = var(get, "AWS_SESSION_TOKEN")) != NULL) {
			a->session_token = strdup(v);
			if (a->session_token == NULL)
				return RC_E_NOMEM;
			add_source(a,
				   "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY "
				   "and AWS_SESSION_TOKEN");
		}
		break;
	case RC_AUTH_OAUTH:
		add_source(a, "RANGECAT_OAUTH_CLIENT_ID and "
			      "RANGECAT_OAUTH_CLIENT_SECRET");
		{
			static const char *const need[] = {
			    "RANGECAT_OAUTH_TOKEN_URL",
			    "RANGECAT_OAUTH_CLIENT_ID",
			    "RANGECAT_OAUTH_CLIENT_SECRET"};
			for (size_t i = 0; i < 3; i++)
				if (var(get, need[i]) == NULL)
					return rc_err_usage(
					    why, whylen,
					    "OAuth needs %s, which "
					    "is not set",
					    need[i]);
		}
		if (!http_url_ok(var(get, "RANGECAT_OAUTH_TOKEN_URL"), why,
				 whylen, "RANGECAT_OAUTH_TOKEN_URL"))
			return RC_E_USAGE;
		a->token_url = strdup(var(get, "RANGECAT_OAUTH_TOKEN_URL"));
		a->user = strdup(var(get, "RANGECAT_OAUTH_CLIENT_ID"));
		a->secret = strdup(var(get, "RANGECAT_OAUTH_CLIENT_SECRET"));
		if ((v = var(get, "RANGECAT_OAUTH_SCOPE")) != NULL &&
		    (a->scope = strdup(v)) == NULL)
			return RC_E_NOMEM;
		if (a->token_url == NULL)
			return RC_E_NOMEM;
		break;
	case RC_AUTH_HMAC:
		add_source(a, "RANGECAT_HMAC_KEY");
		if (var(get, "RANGECAT_HMAC_KEY") == NULL)
			return rc_err_usage(why, whylen,
					    "RANGECAT_HMAC_KEY_ID is set but "
					    "RANGECAT_HMAC_KEY is not");
		a->secret = strdup(var(get, "RANGECAT_HMAC_KEY"));
		if ((v = var(get, "RANGECAT_HMAC_KEY_ID")) != NULL) {
			for (const char *p = v; *p; p++)
				if (*p < 0x20 || *p >= 0x7f)
					return rc_err_usage(
					    why, whylen,
					    "RANGECAT_HMAC_KEY_ID "
					    "holds a character a "
					    "header cannot carry");
			if ((a->user = strdup(v)) == NULL)
				return RC_E_NOMEM;
		}
		break;
	}
	if (a->secret == NULL ||
	    (a->user == NULL &&
	     (a->kind == RC_AUTH_BASIC || a->kind == RC_AUTH_S3 ||
	      a->kind == RC_AUTH_OAUTH)))
		return RC_E_NOMEM;
	return RC_OK;
}

/* "Authorization: Basic base64(user:password)". */
static enum rc_err make_basic(struct rc_auth *a)
{
	size_t ul = strlen(a->user), pl = strlen(a->secret);
	size_t raw = ul + 1 + pl, cap = 4 * (raw / 3 + 2) + 32, olen;
	char *pair = malloc(raw + 1);
	char *out = malloc(cap);

	if (pair == NULL || out == NULL) {
		free(pair);
		free(out);
		return RC_E_NOMEM;
	}
	memcpy(pair, a->user, ul);
	pair[ul] = ':';
	memcpy(pair + ul + 1, a->secret, pl);
	strcpy(out, "Authorization: Basic ");
	size_t at = strlen(out);
	mbedtls_base64_encode((unsigned char *)out + at, cap - at, &olen,
			      (unsigned char *)pair, raw);
	out[at + olen] = '\0';
	mbedtls_platform_zeroize(pair, raw);
	free(pair);
	a->basic = out;
	return RC_OK;
}

/*
 * Variables whose values go into requests: a CR or LF would end a header
 * line (or split a signed one), so they are refused, by name. The
 * environment cannot hold a NUL. AWS variables count only for s3:// URLs,
 * as they are used only there. RANGECAT_HEADERS is checked line by line.
 */
static enum rc_err check_vars(rc_getenv_fn get, bool s3, char *why,
			      size_t whylen)
{
	static const char *const names[] = {
	    "RANGECAT_TOKEN",		"RANGECAT_USER",
	    "RANGECAT_PASSWORD",	"RANGECAT_OAUTH_TOKEN_URL",
	    "RANGECAT_OAUTH_CLIENT_ID", "RANGECAT_OAUTH_CLIENT_SECRET",
	    "RANGECAT_OAUTH_SCOPE",	"RANGECAT_HMAC_KEY",
	    "RANGECAT_HMAC_KEY_ID",	"NETRC",
	    "AWS_ACCESS_KEY_ID",	"AWS_SECRET_ACCESS_KEY",
	    "AWS_SESSION_TOKEN",
	};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		const char *v = get(names[i]);
		if (!s3 && strncmp(names[i], "AWS_", 4) == 0)
			continue;
		if (v && strpbrk(v, "\r\n"))
			return rc_err_usage(why, whylen,
					    "%s holds a CR or LF: refused",
					    names[i]);
	}
	return RC_OK;
}

/* True when s holds a byte below 0x20 or DEL. */
static bool has_ctl(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* Moves user:password out of the URL into Basic credentials. A control
 * character (%0D, %0A, %00...) in either is a usage error. */
static enum rc_err take_userinfo(struct rc_auth *a, bool *had, char *why,
				 size_t whylen)
{
	CURLU *u = curl_url();
	char *user = NULL, *pass = NULL, *clean = NULL;
	char *ruser = NULL, *rpass = NULL;
	enum rc_err err = RC_OK;

	*had = false;
	if (u == NULL)
		return RC_E_NOMEM;
	if (curl_url_set(u, CURLUPART_URL, a->url, CURLU_PATH_AS_IS) !=
	    CURLUE_OK)
		goto done; /* curl will report the URL itself */
	curl_url_get(u, CURLUPART_USER, &ruser, 0);
	curl_url_get(u, CURLUPART_PASSWORD, &rpass, 0);
	if (ruser == NULL && rpass == NULL)
		goto done;
	*had = true;
	/* libcurl will not decode a control character, and says so only
	 * by its error. */
	if ((ruser && (curl_url_get(u, CURLUPART_USER, &user,
				    CURLU_URLDECODE) != CURLUE_OK ||
		       has_ctl(user))) ||
	    (rpass && (curl_url_get(u, CURLUPART_PASSWORD, &pass,
				    CURLU_URLDECODE) != CURLUE_OK ||
		       has_ctl(pass)))) {
		err = rc_err_usage(why, whylen,
				   "bad URL: its user:password holds a "
				   "control character (CR, LF or NUL)");
		goto done;
	}
	a->user = strdup(user ? user : "");
	a->secret = strdup(pass ? pass : "");
	curl_url_set(u, CURLUPART_USER, NULL, 0);
	curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
	if (curl_url_get(u, CURLUPART_URL, &clean, 0) != CURLUE_OK ||
	    a->user == NULL || a->secret == NULL) {
		err = RC_E_NOMEM;
		goto done;
	}
	free(a->url);
	a->url = strdup(clean);
	if (a->url == NULL)
		err = RC_E_NOMEM;
done:
	if (pass)
		mbedtls_platform_zeroize(pass, strlen(pass));
	if (rpass)
		mbedtls_platform_zeroize(rpass, strlen(rpass));
	curl_free(user);
	curl_free(pass);
	curl_free(ruser);
	curl_free(rpass);
	curl_free(clean);
	curl_url_cleanup(u);
	return err;
}

enum rc_err rc_auth_new(const struct rc_opts *o, rc_getenv_fn get,
			struct rc_auth **out, char *why, size_t whylen)
{
	struct rc_auth *a = calloc(1, sizeof *a);
	enum rc_err err;
	bool s3 = strncasecmp(o->url, "s3://", 5) == 0;
	bool userinfo = false;

	*out = NULL;
	if (a == NULL)
		return RC_E_NOMEM;
	pthread_mutex_init(&a->mu, NULL);
	a->o = o;
	a->tok.expires_in = -1;
	/* s3://: the profile files give the region and endpoint when the
	 * environment does not, and, when no other credentials are set,
	 * the credential chain. */
	if (s3) {
		if ((err = pick(a, o, get, true, false, why, whylen)) !=
			RC_OK ||
		    (err = rc_awscreds_new(o, get, a->kind == RC_AUTH_NONE,
					   &a->aws, why, whylen)) != RC_OK)
			goto fail;
	}
	const char *region = var(get, "AWS_REGION");
	const char *regvar = "AWS_REGION";
	if (region == NULL) {
		region = var(get, "AWS_DEFAULT_REGION");
		regvar = "AWS_DEFAULT_REGION";
	}
	if (region == NULL) {
		region = rc_awscreds_region(a->aws);
		regvar = "region in the AWS profile";
	}
	a->region = strdup(region ? region : "us-east-1");
	if (a->region == NULL) {
		err = RC_E_NOMEM;
		goto fail;
	}
	for (const char *p = a->region; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '-')) {
			err = rc_err_usage(why, whylen,
					   "bad %s: a region is like us-east-1",
					   regvar);
			goto fail;
		}
	if (s3) {
		if ((err = s3_url(a, o->url, get, why, whylen)) != RC_OK)
			goto fail;
	} else {
		a->url = strdup(o->url);
		if (a->url == NULL) {
			err = RC_E_NOMEM;
			goto fail;
		}
		if ((err = take_userinfo(a, &userinfo, why, whylen)) != RC_OK)
			goto fail;
	}
	if ((err = check_vars(get, s3, why, whylen)) != RC_OK)
		goto fail;
	a->as_is = s3;
	if (!url_parse(a->url, a->as_is, &a->origin)) {
		err = rc_err_usage(why, whylen, "bad URL: it does not parse");
		goto fail;
	}
	if ((err = pick(a, o, get, s3, userinfo, why, whylen)) != RC_OK)
		goto fail;
	if (userinfo)
		add_source(a, "the URL's user:password");
	else if ((err = load(a, get, why, whylen)) != RC_OK)
		goto fail;
	if ((a->kind == RC_AUTH_BASIC ||
	     (a->kind == RC_AUTH_NETRC && a->secret)) &&
	    (err = make_basic(a)) != RC_OK)
		goto fail;
	for (size_t i = 0; i < o->nheaders; i++) {
		const char *c = strchr(o->headers[i], ':');
		if (c && rc_log_secret_header(o->headers[i],
					      (size_t)(c - o->headers[i])))
			a->argv_secret = true;
		if (is_authorization(o->headers[i]))
			a->argv_authz = true;
	}
	if (s3 && a->kind == RC_AUTH_NONE && rc_awscreds_source(a->aws)) {
		/* Fetched (and logged) by rc_auth_start. */
		a->kind = RC_AUTH_S3;
		add_source(a, rc_awscreds_source(a->aws));
	} else if (a->kind != RC_AUTH_NONE)
		rc_log("credentials: %s", a->source);
	else if (s3)
		rc_log("no AWS_ACCESS_KEY_ID: S3 requests go unsigned");
	*out = a;
	return RC_OK;
fail:
	if (err == RC_E_NOMEM)
		snprintf(why, whylen, "out of memory");
	rc_auth_free(a);
	return err;
}

/* The password's place in a URL: *pw at its ':' and *at at the '@' that
 * ends the userinfo; false when the URL has no password. The scheme is
 * optional, as in proxy variables. */
static bool password_span(char *url, char **pw, char **at)
{
	char *s = strstr(url, "://");
	char *auth = s ? s + 3 : url;
	size_t al = strcspn(auth, "/?#");

	*at = NULL;
	for (size_t i = 0; i < al; i++)
		if (auth[i] == '@')
			*at = auth + i;
	if (*at == NULL)
		return false;
	*pw = memchr(auth, ':', (size_t)(*at - auth));
	return *pw != NULL;
}

/* The value of environment entry e ("NAME=value") when it is name's. */
static char *env_value(char *e, const char *name)
{
	size_t l = strlen(name);
	return strncmp(e, name, l) == 0 && e[l] == '=' ? e + l + 1 : NULL;
}

bool rc_auth_scrub(int argc, char *argv[])
{
	static const char *const secret[] = {
	    "RANGECAT_TOKEN",
	    "RANGECAT_PASSWORD",
	    "RANGECAT_HEADERS",
	    "AWS_SECRET_ACCESS_KEY",
	    "AWS_SESSION_TOKEN",
	    "RANGECAT_OAUTH_CLIENT_SECRET",
	    "RANGECAT_HMAC_KEY",
	    "RANGECAT_HEADER",
	    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
	};
	static const char *const proxy[] = {
	    "http_proxy",  "HTTP_PROXY", "https_proxy",
	    "HTTPS_PROXY", "all_proxy",	 "ALL_PROXY",
	};
	bool held = false;
	char *pw, *at;

	/* /proc/PID/environ shows the environment's original bytes,
	 * whatever unsetenv does: overwrite them first, in every entry of
	 * that name (execve lets a name come twice; getenv finds the first
	 * only, unsetenv removes all). */
	for (size_t i = 0; i < sizeof secret / sizeof *secret; i++) {
		for (char **e = environ; *e; e++) {
			char *v = env_value(*e, secret[i]);
			if (v)
				mbedtls_platform_zeroize(v, strlen(v));
		}
		unsetenv(secret[i]);
	}
	/* libcurl reads the proxy variables itself, per request (with
	 * no_proxy and the URL's scheme): a proxy holding a password moves
	 * to a "name=value" copy on the heap that putenv puts in environ
	 * as it is (setenv might hand back the very bytes wiped next), and
	 * the original bytes of every entry of that name holding a
	 * password are wiped. The copy lives as long as the process. */
	for (size_t i = 0; i < sizeof proxy / sizeof *proxy; i++) {
		char *v = getenv(proxy[i]);
		char *copy = NULL;
		bool drop = false;
		if (v && password_span(v, &pw, &at)) {
			size_t cap = strlen(proxy[i]) + strlen(v) + 2;
			copy = malloc(cap);
			if (copy)
				snprintf(copy, cap, "%s=%s", proxy[i], v);
			if (copy == NULL || putenv(copy) != 0) {
				free(copy);
				copy = NULL;
				drop = true; /* no proxy beats a leak */
			}
			/* Out of environ now (putenv replaced it): its
			 * bytes are still where /proc shows them. */
			if (copy)
				mbedtls_platform_zeroize(v, strlen(v));
		}
		for (char **e = environ; *e; e++) {
			char *w = env_value(*e, proxy[i]);
			if (w == NULL || *e == copy ||
			    !password_span(w, &pw, &at))
				continue;
			mbedtls_platform_zeroize(w, strlen(w));
			held = true;
		}
		held = held || copy != NULL;
		if (drop)
			unsetenv(proxy[i]);
	}
	/* /proc/PID/cmdline: the URL keeps its user, not its password
	 * (the rest of the string moves up, the freed tail is zeroed). */
	for (int i = 1; i < argc; i++) {
		char *u = argv[i];
		if ((strncasecmp(u, "http://", 7) != 0 &&
		     strncasecmp(u, "https://", 8) != 0) ||
		    !password_span(u, &pw, &at))
			continue;
		size_t len = strlen(u), cut = (size_t)(at - pw);
		memmove(pw, at, strlen(at) + 1);
		mbedtls_platform_zeroize(u + len - cut, cut);
		held = true;
	}
	return held;
}

bool rc_auth_holds_secret(const struct rc_auth *a)
{
	return a && (a->kind != RC_AUTH_NONE || a->argv_secret);
}

const char *rc_auth_url(const struct rc_auth *a)
{
	return a->url;
}

enum rc_auth_kind rc_auth_kind(const struct rc_auth *a)
{
	return a->kind;
}

/* Fetches a token into a (mu held). */
static enum rc_err fetch_token_locked(struct rc_auth *a, char *why,
				      size_t whylen)
{
	struct rc_oauth_token t;
	double at = mono();
	enum rc_err err = rc_oauth_fetch(a->token_url, a->user, a->secret,
					 a->scope, a->o, &t, why, whylen);

	a->next_try = mono() + 1;
	if (err != RC_OK)
		return err;
	rc_oauth_token_clear(&a->tok);
	a->tok = t;
	a->fetched = at;
	a->gen++;
	return RC_OK;
}

enum rc_err rc_auth_start(struct rc_auth *a, const struct rc_opts *o, char *why,
			  size_t whylen)
{
	enum rc_err err = RC_OK;

	if (a->kind == RC_AUTH_S3 && rc_awscreds_source(a->aws)) {
		err = rc_awscreds_start(a->aws, a->region, why, whylen);
		if (err == RC_OK && rc_awscreds_source(a->aws) == NULL) {
			/* No instance metadata: not an EC2 machine. */
			a->kind = RC_AUTH_NONE;
			rc_log("no AWS credentials found: S3 requests go "
			       "unsigned");
		}
		return err;
	}
	if (a->kind != RC_AUTH_OAUTH)
		return RC_OK;
	struct rc_sched_retry policy;
	unsigned fails = 0;
	double d;

	rc_sched_retry_init(&policy, o->retries, o->retry_delay,
			    rc_sched_seed());
	pthread_mutex_lock(&a->mu);
	for (;;) {
		err = fetch_token_locked(a, why, whylen);
		/* Transient failures get the same policy as ranges. */
		if (err != RC_E_NETWORK || rc_sched_signal() ||
		    rc_sched_after_failure(&policy, &fails, 0, false, -1, &d) ==
			RC_SCHED_GIVE_UP)
			break;
		rc_sched_announce(o->quiet, why, fails, o->retries, d);
		if (!rc_sched_sleep(d))
			break;
	}
	pthread_mutex_unlock(&a->mu);
	if (err != RC_OK && rc_sched_signal())
		err = rc_sched_signal_err(rc_sched_signal(), why, whylen);
	return err;
}

/* Same host, and the same scheme and port or an upgrade from http:80 to
 * https:443. */
static bool on_origin(const struct rc_auth *a, const struct url *u)
{
	const struct url *o = &a->origin;

	return strcasecmp(u->host, o->host) == 0 &&
	       ((strcmp(u->scheme, o->scheme) == 0 && u->port == o->port) ||
		(strcmp(o->scheme, "http") == 0 && o->port == 80 &&
		 strcmp(u->scheme, "https") == 0 && u->port == 443));
}

bool rc_auth_same_origin(const struct rc_auth *a, const char *url)
{
	struct url u;

	if (!url_parse(url, a->as_is, &u))
		return false;
	bool same = on_origin(a, &u);
	url_free(&u);
	return same;
}

void rc_auth_setup_easy(const struct rc_auth *a, CURL *h)
{
	if (a == NULL)
		return;
	/* S3 keys may hold "." and ".." segments and "//": sent as they
	 * are, as they were signed. */
	if (a->as_is)
		curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
}

static bool add(struct curl_slist **l, const char *s)
{
	struct curl_slist *t = curl_slist_append(*l, s);
	if (t == NULL)
		return false;
	*l = t;
	return true;
}

static void amz_date(char out[17])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* The S3 headers and the signature for one GET of url, with the static
 * keys or the chain's current credentials (refreshed when due: a failure
 * sets *err and why). */
static bool s3_headers(struct rc_auth *a, struct curl_slist **l,
		       const struct url *u, const char *range, enum rc_err *err,
		       char *why, size_t whylen)
{
	char date[17], line[8192];
	const char *sign[5];
	char *lines[5] = {0};
	size_t n = 0;
	bool ok = false;
	const char *ak = a->user, *sk = a->secret, *st = a->session_token;
	const struct rc_aws_cred *cur = NULL;

	if (a->aws && a->user == NULL) {
		enum rc_err e = rc_awscreds_lock(a->aws, &cur, why, whylen);
		if (e != RC_OK) {
			rc_awscreds_unlock(a->aws);
			*err = e;
			return false;
		}
		ak = cur->access_key;
		sk = cur->secret_key;
		st = cur->session_token;
	}
	amz_date(date);
#define LINE(...)                                                              \
	do {                                                                   \
		snprintf(line, sizeof line, __VA_ARGS__);                      \
		if ((lines[n] = strdup(line)) == NULL)                         \
			goto done;                                             \
		sign[n] = lines[n];                                            \
		n++;                                                           \
	} while (0)
	LINE("Host: %s", u->host_header);
	if (range)
		LINE("Range: bytes=%s", range);
	LINE("X-Amz-Content-Sha256: %s", RC_SIGV4_EMPTY_SHA256);
	LINE("X-Amz-Date: %s", date);
	if (st)
		LINE("X-Amz-Security-Token: %s", st);
#undef LINE
	struct rc_sigv4_req r = {
	    .method = "GET",
	    .path = u->path,
	    .query = u->query,
	    .headers = sign,
	    .nheaders = n,
	    .payload_hash = RC_SIGV4_EMPTY_SHA256,
	    .amz_date = date,
	};
	struct rc_sigv4_cred c = {ak, sk, a->region, "s3"};
	char *authz = rc_sigv4_authorization(&r, &c);
	if (authz == NULL)
		goto done;
	snprintf(line, sizeof line, "Authorization: %s", authz);
	free(authz);
	ok = true;
	/* Range goes through CURLOPT_RANGE; the others as headers. */
	for (size_t i = 0; i < n && ok; i++)
		if (strncmp(lines[i], "Range:", 6) != 0)
			ok = add(l, lines[i]);
	ok = ok && add(l, line);
done:
	if (cur)
		rc_awscreds_unlock(a->aws);
	mbedtls_platform_zeroize(line, sizeof line);
	for (size_t i = 0; i < n; i++)
		wipe_free(lines[i]);
	return ok;
}

/* X-Rangecat-Timestamp, -Key-Id and -Signature for one GET of url. */
static bool hmac_headers(struct rc_auth *a, struct curl_slist **l,
			 const struct url *u)
{
	unsigned char mac[32];
	char line[128], sig[65];
	bool ok = false;

	long long ts = (long long)time(NULL);
	size_t cap = strlen(u->path) + (u->query ? strlen(u->query) : 0) + 64;
	char *msg = malloc(cap);
	if (msg == NULL)
		goto done;
	snprintf(msg, cap, "GET\n%s%s%s\n%lld", u->path, u->query ? "?" : "",
		 u->query ? u->query : "", ts);
	mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
			(const unsigned char *)a->secret, strlen(a->secret),
			(const unsigned char *)msg, strlen(msg), mac);
	rc_sigv4_hex(mac, sizeof mac, sig);
	snprintf(line, sizeof line, "X-Rangecat-Timestamp: %lld", ts);
	ok = add(l, line);
	if (ok && a->user) {
		char *kid = malloc(strlen(a->user) + 32);
		ok = kid != NULL;
		if (ok) {
			sprintf(kid, "X-Rangecat-Key-Id: %s", a->user);
			ok = add(l, kid);
			free(kid);
		}
	}
	snprintf(line, sizeof line, "X-Rangecat-Signature: %s", sig);
	ok = ok && add(l, line);
done:
	mbedtls_platform_zeroize(mac, sizeof mac);
	free(msg);
	return ok;
}

/* Refreshes the OAuth token when it is close to expiry (mu held). A
 * failed refresh keeps the old token while it is still valid. */
static enum rc_err refresh_due_locked(struct rc_auth *a, char *why,
				      size_t whylen)
{
	double t = mono();

	if (a->tok.access_token && a->tok.expires_in < 0)
		return RC_OK;
	double life = (double)a->tok.expires_in;
	double margin = life / 5 < 60 ? life / 5 : 60;
	if (a->tok.access_token && t < a->fetched + life - margin)
		return RC_OK;
	if (t < a->next_try && a->tok.access_token && t < a->fetched + life)
		return RC_OK;
	rc_log("OAuth token %s: fetching a new one",
	       a->tok.access_token ? "about to expire" : "missing");
	enum rc_err err = fetch_token_locked(a, why, whylen);
	if (err != RC_OK && a->tok.access_token && t < a->fetched + life) {
		rc_log("%s; the current token is still valid", why);
		return RC_OK;
	}
	return err;
}

struct curl_slist *rc_auth_headers(struct rc_auth *a, const char *url,
				   const char *range, const char *extra,
				   unsigned *gen, enum rc_err *err, char *why,
				   size_t whylen)
{
	struct curl_slist *l = NULL;
	struct url u;
	/* Only credentials and secret -H headers depend on the URL: a run
	 * without them parses nothing. A URL that does not parse gets none. */
	bool scoped = a->kind != RC_AUTH_NONE || a->argv_secret;
	bool parsed = scoped && url_parse(url, a->as_is, &u);
	bool here = !scoped || (parsed && on_origin(a, &u));
	bool ok = true;

	*err = RC_E_NOMEM;
	*gen = 0;
	snprintf(why, whylen, "out of memory");
	for (size_t i = 0; ok && i < a->o->nheaders; i++) {
		const char *h = a->o->headers[i];
		const char *c = strchr(h, ':');
		if (!here && c && rc_log_secret_header(h, (size_t)(c - h)))
			continue;
		ok = add(&l, h);
	}
	if (ok && extra)
		ok = add(&l, extra);
	/* Without it any content coding is acceptable (RFC 9110 12.5.3),
	 * and a server could send the file compressed as if it were the
	 * file. curl's own option would also decode: not wanted. */
	if (ok)
		ok = add(&l, "Accept-Encoding: identity");
	if (ok && here) {
		switch (a->kind) {
		case RC_AUTH_NONE: break;
		case RC_AUTH_NETRC:
			/* As with curl, -H Authorization wins over netrc. */
			if (a->basic && !a->argv_authz)
				ok = add(&l, a->basic);
			break;
		case RC_AUTH_BEARER:
		case RC_AUTH_OAUTH: {
			const char *tok = a->secret;
			if (a->kind == RC_AUTH_OAUTH) {
				pthread_mutex_lock(&a->mu);
				enum rc_err e =
				    refresh_due_locked(a, why, whylen);
				if (e != RC_OK) {
					pthread_mutex_unlock(&a->mu);
					*err = e;
					ok = false;
					break;
				}
				tok = a->tok.access_token;
				*gen = a->gen;
			}
			size_t cap = strlen(tok) + 32;
			char *s = malloc(cap);
			ok = s != NULL;
			if (ok) {
				snprintf(s, cap, "Authorization: Bearer %s",
					 tok);
				ok = add(&l, s);
				wipe_free(s);
			}
			if (a->kind == RC_AUTH_OAUTH)
				pthread_mutex_unlock(&a->mu);
			break;
		}
		case RC_AUTH_BASIC: ok = add(&l, a->basic); break;
		case RC_AUTH_HEADERS:
			for (size_t i = 0; ok && i < a->nheaders; i++)
				ok = add(&l, a->headers[i]);
			break;
		case RC_AUTH_S3:
			ok = s3_headers(a, &l, &u, range, err, why, whylen);
			break;
		case RC_AUTH_HMAC: ok = hmac_headers(a, &l, &u); break;
		}
	}
	if (parsed)
		url_free(&u);
	if (!ok) {
		rc_auth_free_list(l);
		return NULL;
	}
	*err = RC_OK;
	why[0] = '\0';
	return l;
}

void rc_auth_free_list(struct curl_slist *l)
{
	for (struct curl_slist *p = l; p; p = p->next)
		mbedtls_platform_zeroize(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

bool rc_auth_refresh(struct rc_auth *a, unsigned gen, enum rc_err *err,
		     char *why, size_t whylen)
{
	bool ok = true;

	*err = RC_OK;
	if (a->kind != RC_AUTH_OAUTH)
		return false;
	pthread_mutex_lock(&a->mu);
	if (a->gen == gen) {
		rc_log("HTTP 401: fetching a new OAuth token");
		*err = fetch_token_locked(a, why, whylen);
		ok = *err == RC_OK;
	}
	pthread_mutex_unlock(&a->mu);
	return ok;
}

static bool credentials_in_use(const struct rc_auth *a)
{
	return a->kind != RC_AUTH_NONE || a->argv_secret;
}

enum rc_err rc_auth_redirect_ok(const struct rc_auth *a, const char *from,
				const char *to, char *why, size_t whylen)
{
	bool to_http = strncasecmp(to, "http://", 7) == 0;

	if (!to_http && strncasecmp(to, "https://", 8) != 0) {
		snprintf(why, whylen,
			 "redirect to a scheme other than http or https "
			 "refused");
		return RC_E_REMOTE;
	}
	if (to_http && strncasecmp(from, "https://", 8) == 0 &&
	    credentials_in_use(a)) {
		snprintf(why, whylen,
			 "redirect from https to http refused: credentials "
			 "(%s) are in use",
			 a->kind != RC_AUTH_NONE ? a->source : "-H");
		return RC_E_REMOTE;
	}
	return RC_OK;
}

void rc_auth_hint(const struct rc_auth *a, long status, const char *s3code,
		  char *out, size_t outlen)
{
	/* chain: what the code says of credentials from the chain, whose
	 * source is named instead of variables it did not use. */
	static const struct {
		const char *code, *hint, *chain;
	} s3[] = {
	    {"SignatureDoesNotMatch", "check AWS_SECRET_ACCESS_KEY",
	     "were refused"},
	    {"InvalidAccessKeyId", "check AWS_ACCESS_KEY_ID", "were refused"},
	    {"InvalidToken", "check AWS_SESSION_TOKEN", "were refused"},
	    {"ExpiredToken", "AWS_SESSION_TOKEN has expired", "have expired"},
	    {"TokenRefreshRequired", "AWS_SESSION_TOKEN has expired",
	     "have expired"},
	    {"RequestTimeTooSkewed", "this machine's clock is off", NULL},
	    {"AuthorizationHeaderMalformed", "check AWS_REGION", NULL},
	    {"PermanentRedirect", "check AWS_REGION", NULL},
	    {"AccessDenied", "AWS_ACCESS_KEY_ID has no access to it",
	     "have no access to it"},
	};

	out[0] = '\0';
	if (s3code && *s3code) {
		for (size_t i = 0; i < sizeof s3 / sizeof *s3; i++)
			if (strcmp(s3code, s3[i].code) == 0) {
				const char *h = s3[i].hint;
				if (a->kind != RC_AUTH_S3 &&
				    (status == 401 || status == 403))
					h = "the request was not signed: set "
					    "AWS_ACCESS_KEY_ID and "
					    "AWS_SECRET_ACCESS_KEY";
				else if (a->kind == RC_AUTH_S3 &&
					 a->user == NULL && s3[i].chain) {
					snprintf(out, outlen,
						 "S3 %s: the credentials from "
						 "%s %s",
						 s3code, a->source,
						 s3[i].chain);
					return;
				}
				snprintf(out, outlen, "S3 %s: %s", s3code, h);
				return;
			}
		snprintf(out, outlen, "S3 %s", s3code);
		return;
	}
	if (status != 401 && status != 403)
		return;
	/* A 403 without credentials is a plain "forbidden": nothing the
	 * user could set would help, so no variable is pointed at. */
	if (a->kind == RC_AUTH_NONE && status == 403)
		return;
	if (a->kind == RC_AUTH_NONE)
		snprintf(out, outlen,
			 "no credentials were sent (see ENVIRONMENT in "
			 "rangecat(1))");
	else if (a->kind == RC_AUTH_NETRC)
		snprintf(out, outlen,
			 "the credentials from NETRC were refused, or it "
			 "has none for this host");
	else
		snprintf(out, outlen, "the credentials from %s were refused",
			 a->source);
}

bool rc_auth_proxy_name(const char *url, char *out, size_t outlen)
{
	/* curl's order; http_proxy is lowercase only (CGI's HTTP_PROXY
	 * comes from a request header). */
	static const char *const http[] = {"http_proxy", "all_proxy",
					   "ALL_PROXY", NULL};
	static const char *const https[] = {"https_proxy", "HTTPS_PROXY",
					    "all_proxy", "ALL_PROXY", NULL};
	const char *const *var =
	    strncasecmp(url, "https:", 6) == 0 ? https : http;
	char red[1024];

	for (; *var; var++) {
		const char *v = getenv(*var);
		if (v && *v) {
			rc_log_redact_url(v, red, sizeof red);
			snprintf(out, outlen, "%s (%s)", red, *var);
			return true;
		}
	}
	snprintf(out, outlen, "the proxy");
	return false;
}

void rc_auth_s3_code(const char *body, char *out, size_t outlen)
{
	const char *s = strstr(body, "<Code>");
	const char *e = s ? strstr(s, "</Code>") : NULL;
	size_t o = 0;

	if (s && e)
		for (s += 6; s < e && o + 1 < outlen; s++)
			if ((*s >= 'A' && *s <= 'Z') ||
			    (*s >= 'a' && *s <= 'z') ||
			    (*s >= '0' && *s <= '9'))
				out[o++] = *s;
	out[o] = '\0';
}

void rc_auth_free(struct rc_auth *a)
{
	if (a == NULL)
		return;
	wipe_free(a->secret);
	wipe_free(a->basic);
	wipe_free(a->session_token);
	wipe_free(a->user);
	for (size_t i = 0; i < a->nheaders; i++)
		wipe_free(a->headers[i]);
	rc_oauth_token_clear(&a->tok);
	rc_awscreds_free(a->aws);
	pthread_mutex_destroy(&a->mu);
	url_free(&a->origin);
	free(a->url);
	free(a->region);
	free(a->token_url);
	free(a->scope);
	free(a);
}
