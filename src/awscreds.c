/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The AWS credential chain. rc_awscreds_new reads the environment and the
 * shared profile files once and picks the source the AWS CLI would pick
 * when no keys are in the environment:
 *
 *   1. web identity: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE, through
 *      STS AssumeRoleWithWebIdentity (unsigned; the token file is read
 *      again at every fetch, as Kubernetes rotates it);
 *   2. the profile (AWS_PROFILE, else "default"): keys in the credentials
 *      file, then credential_process, then keys in the config file, then
 *      the profile's own web_identity_token_file + role_arn;
 *   3. container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
 *      (169.254.170.2) or _FULL_URI (https, or a loopback or container
 *      metadata address only, as the SDKs allow), with
 *      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or _TOKEN;
 *   4. EC2 instance metadata, IMDSv2 only, with a 1 s connect timeout and
 *      one attempt, unless AWS_EC2_METADATA_DISABLED=true.
 *
 * A source that is configured but fails is an error; only instance
 * metadata that does not answer means "no credentials". The chosen
 * source's temporary credentials are fetched again 5 minutes before they
 * expire (half-way for ones that live under 10 minutes) by whichever
 * thread asks for them next, under the chain's mutex. Secrets are held
 * only in memory, wiped when replaced; messages name variables and
 * files, never values, and a credential_process's stderr is discarded.
 */
#include "awscreds.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <mbedtls/platform_util.h>

#include "handle.h"
#include "log.h"
#include "sched.h"

extern char **environ;

#define MAX_REPLY (64u << 10)
#define MAX_FILE (1u << 20)

static void wipe_free(char *s)
{
	if (s) {
		mbedtls_platform_zeroize(s, strlen(s));
		free(s);
	}
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void rc_aws_cred_clear(struct rc_aws_cred *c)
{
	wipe_free(c->access_key);
	wipe_free(c->secret_key);
	wipe_free(c->session_token);
	c->access_key = c->secret_key = c->session_token = NULL;
	c->expires = 0;
}

/* ---------------------------------------------------------------- INI */

struct ini_ent {
	char *section, *key, *value;
};

struct rc_aws_ini {
	struct ini_ent *e;
	size_t n, cap;
	char **sections;
	size_t nsec, seccap;
};

void rc_aws_ini_free(struct rc_aws_ini *ini)
{
	if (ini == NULL)
		return;
	for (size_t i = 0; i < ini->n; i++) {
		free(ini->e[i].key);
		wipe_free(ini->e[i].value);
	}
	for (size_t i = 0; i < ini->nsec; i++)
		free(ini->sections[i]);
	free(ini->e);
	free(ini->sections);
	free(ini);
}

bool rc_aws_ini_has(const struct rc_aws_ini *ini, const char *section)
{
	for (size_t i = 0; ini && i < ini->nsec; i++)
		if (strcmp(ini->sections[i], section) == 0)
			return true;
	return false;
}

const char *rc_aws_ini_get(const struct rc_aws_ini *ini, const char *section,
			   const char *key)
{
	for (size_t i = 0; ini && i < ini->n; i++)
		if (strcmp(ini->e[i].section, section) == 0 &&
		    strcasecmp(ini->e[i].key, key) == 0)
			return ini->e[i].value;
	return NULL;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* s[0..*n) without blanks at both ends. */
static const char *trim(const char *s, size_t *n)
{
	while (*n > 0 && blank(*s)) {
		s++;
		(*n)--;
	}
	while (*n > 0 && blank(s[*n - 1]))
		(*n)--;
	return s;
}

static bool ini_add(struct rc_aws_ini *ini, const char *section,
		    const char *key, size_t kl, const char *val, size_t vl)
{
	if (ini->n == ini->cap) {
		size_t cap = ini->cap ? 2 * ini->cap : 16;
		struct ini_ent *e = realloc(ini->e, cap * sizeof *e);
		if (e == NULL)
			return false;
		ini->e = e;
		ini->cap = cap;
	}
	struct ini_ent *e = &ini->e[ini->n];
	e->section = (char *)section;
	e->key = strndup(key, kl);
	e->value = strndup(val, vl);
	if (e->key == NULL || e->value == NULL) {
		free(e->key);
		free(e->value);
		return false;
	}
	for (char *p = e->key; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	ini->n++;
	return true;
}

struct rc_aws_ini *rc_aws_ini_parse(const char *text, size_t n, unsigned *line,
				    const char **why)
{
	struct rc_aws_ini *ini = calloc(1, sizeof *ini);
	const char *p = text, *end = text + n;
	const char *section = NULL;
	char nested[256] = "";	/* the key whose nested block this is */
	bool value_set = false; /* the last line was "key = value" */
	/* As in the AWS CLI's parser (Python's configparser), a line is
	 * nested under the key before it when it is indented deeper than
	 * that key: keys indented alike under their section are keys. */
	bool have_key = false; /* a key line since the section header */
	size_t base = 0;       /* indentation of that key or the header */

	*line = 0;
	*why = "out of memory";
	if (ini == NULL)
		return NULL;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *l = p;
		p = nl ? nl + 1 : end;
		(*line)++;
		if (len > 0 && l[len - 1] == '\r')
			len--;
		if (memchr(l, '\0', len) || memchr(l, '\r', len)) {
			*why = "it holds a NUL or a stray CR";
			goto bad;
		}
		size_t ind = 0;
		while (ind < len && blank(l[ind]))
			ind++;
		bool indented = have_key && ind > base;
		size_t tl = len;
		const char *t = trim(l, &tl);
		if (tl == 0 || t[0] == '#' || t[0] == ';')
			continue;
		if (!indented && t[0] == '[') {
			/* "[default]  # main account": a comment may follow,
			 * as the AWS CLI's parser ignores what does. */
			const char *rb = memchr(t, ']', tl);
			if (rb == NULL) {
				*why = "a section header lacks its ']'";
				goto bad;
			}
			size_t rest = tl - (size_t)(rb + 1 - t);
			const char *after = trim(rb + 1, &rest);
			if (rest > 0 && after[0] != '#' && after[0] != ';') {
				*why = "a section header has text after its "
				       "']'";
				goto bad;
			}
			tl = (size_t)(rb + 1 - t);
			size_t sl = tl - 2;
			const char *s = trim(t + 1, &sl);
			if (sl == 0) {
				*why = "a section has no name";
				goto bad;
			}
			char *name = strndup(s, sl);
			if (name == NULL)
				goto nomem;
			if (rc_aws_ini_has(ini, name)) {
				free(name);
				*why = "a section appears twice";
				goto bad;
			}
			if (ini->nsec == ini->seccap) {
				size_t cap = ini->seccap ? 2 * ini->seccap : 8;
				char **sv =
				    realloc(ini->sections, cap * sizeof *sv);
				if (sv == NULL) {
					free(name);
					goto nomem;
				}
				ini->sections = sv;
				ini->seccap = cap;
			}
			ini->sections[ini->nsec++] = name;
			section = name;
			nested[0] = '\0';
			value_set = false;
			have_key = false;
			base = ind;
			continue;
		}
		if (section == NULL) {
			*why = "a line comes before the first [section]";
			goto bad;
		}
		const char *eq = NULL;
		for (size_t i = 0; i < tl && eq == NULL; i++)
			if (t[i] == '=' || t[i] == ':')
				eq = t + i;
		if (indented && !nested[0]) {
			*why = value_set ? "an indented line continues a value "
					   "(not supported)"
					 : "an indented line follows no key";
			goto bad;
		}
		if (eq == NULL) {
			*why = "a line is neither [section] nor key = value";
			goto bad;
		}
		size_t kl = (size_t)(eq - t), vl = tl - kl - 1;
		const char *k = trim(t, &kl);
		const char *v = trim(eq + 1, &vl);
		if (kl == 0) {
			*why = "a line has no key before its '='";
			goto bad;
		}
		char key[512];
		if (indented)
			snprintf(key, sizeof key, "%s.%.*s", nested, (int)kl,
				 k);
		else
			snprintf(key, sizeof key, "%.*s", (int)kl, k);
		if (!indented) {
			have_key = true;
			base = ind;
			nested[0] = '\0';
			if (vl == 0 && kl < sizeof nested)
				snprintf(nested, sizeof nested, "%.*s", (int)kl,
					 k);
		}
		value_set = vl > 0;
		if (rc_aws_ini_get(ini, section, key)) {
			*why = "a key appears twice in its section";
			goto bad;
		}
		if (!ini_add(ini, section, key, strlen(key), v, vl))
			goto nomem;
	}
	return ini;
nomem:
	*line = 0;
	*why = "out of memory";
bad:
	rc_aws_ini_free(ini);
	return NULL;
}

/* ------------------------------------------------------- reply parsers */

bool rc_aws_parse_time(const char *s, time_t *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return false;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	/* An offset (+02:00, -0500) as RFC 3339 allows and the SDKs
	 * accept: a credential_process may print local time. */
	long off = 0;
	if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2])) {
		const char *m = p + 3 + (p[3] == ':');
		if (!isdigit((unsigned char)m[0]) ||
		    !isdigit((unsigned char)m[1]) || m[2] != '\0')
			return false;
		long hh = (p[1] - '0') * 10 + (p[2] - '0');
		long mm = (m[0] - '0') * 10 + (m[1] - '0');
		if (hh > 23 || mm > 59)
			return false;
		off = (hh * 60 + mm) * 60 * (*p == '-' ? -1 : 1);
	} else if (strcasecmp(p, "Z") != 0 && strcmp(p, "UTC") != 0) {
		return false;
	}
	*out = timegm(&tm);
	if (*out == (time_t)-1)
		return false;
	*out -= off;
	return true;
}

/* A value that may go into a header: printable, no blank. */
static bool header_safe(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* Printable ASCII, blanks allowed (an Authorization value). */
static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* Takes the three credential strings and the expiry into *c. */
static bool take_cred(const char *ak, const char *sk, const char *tok,
		      const char *exp, struct rc_aws_cred *c, const char **why)
{
	time_t t = 0;

	if (ak == NULL || sk == NULL) {
		*why = "the reply lacks AccessKeyId or SecretAccessKey";
		return false;
	}
	if (!header_safe(ak) || !header_safe(sk) ||
	    (tok && !header_safe(tok))) {
		*why = "the reply's credentials hold characters a header "
		       "cannot carry";
		return false;
	}
	if (exp && !rc_aws_parse_time(exp, &t)) {
		*why = "the reply's Expiration is not an ISO 8601 time";
		return false;
	}
	c->access_key = strdup(ak);
	c->secret_key = strdup(sk);
	c->session_token = tok ? strdup(tok) : NULL;
	c->expires = t;
	if (c->access_key == NULL || c->secret_key == NULL ||
	    (tok && c->session_token == NULL)) {
		rc_aws_cred_clear(c);
		*why = "out of memory";
		return false;
	}
	return true;
}

static const char *jstr(struct json_object *j, const char *name)
{
	struct json_object *v;
	if (json_object_object_get_ex(j, name, &v) &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

static void json_wipe(struct json_object *j)
{
	static const char *const secret[] = {"SecretAccessKey", "Token",
					     "SessionToken"};
	struct json_object *v;

	for (size_t i = 0; i < 3; i++)
		if (json_object_object_get_ex(j, secret[i], &v) &&
		    json_object_is_type(v, json_type_string))
			mbedtls_platform_zeroize(
			    (char *)json_object_get_string(v),
			    (size_t)json_object_get_string_len(v));
}

bool rc_aws_parse_json(const char *body, size_t n, struct rc_aws_cred *c,
		       const char **why)
{
	struct json_tokener *tok = json_tokener_new_ex(8);
	struct json_object *j = NULL, *v;
	bool ok = false;

	memset(c, 0, sizeof *c);
	*why = "out of memory";
	if (tok == NULL)
		return false;
	if (n > MAX_REPLY) {
		*why = "the reply is over 64 KiB";
		goto done;
	}
	j = json_tokener_parse_ex(tok, body, (int)n);
	size_t at = j ? (size_t)tok->char_offset : 0;
	while (j && at < n && isspace((unsigned char)body[at]))
		at++;
	if (j == NULL || at != n || !json_object_is_type(j, json_type_object)) {
		*why = "the reply is not a JSON object";
		goto done;
	}
	/* IMDS says "Code": "Success"; credential_process "Version": 1. */
	const char *code = jstr(j, "Code");
	if (code && strcmp(code, "Success") != 0) {
		*why = "the reply's Code is not Success";
		goto done;
	}
	if (json_object_object_get_ex(j, "Version", &v) &&
	    json_object_get_int(v) != 1) {
		*why = "the reply's Version is not 1";
		goto done;
	}
	/* An Expiration that is no string (epoch seconds, say) would read
	 * as none: credentials used past their end. */
	if (json_object_object_get_ex(j, "Expiration", &v) && v != NULL &&
	    !json_object_is_type(v, json_type_string)) {
		*why = "the reply's Expiration is not an ISO 8601 time";
		goto done;
	}
	const char *token = jstr(j, "Token");
	if (token == NULL)
		token = jstr(j, "SessionToken");
	if (token && *token == '\0')
		token = NULL;
	ok = take_cred(jstr(j, "AccessKeyId"), jstr(j, "SecretAccessKey"),
		       token, jstr(j, "Expiration"), c, why);
done:
	if (j) {
		json_wipe(j);
		json_object_put(j);
	}
	json_tokener_free(tok);
	return ok;
}

/* The text of the first <tag>...</tag> within [s, e), entities decoded,
 * malloc'd; NULL when absent (or out of memory). */
static char *xml_get(const char *s, const char *e, const char *tag)
{
	char open[64], close[64];
	snprintf(open, sizeof open, "<%s>", tag);
	snprintf(close, sizeof close, "</%s>", tag);
	const char *a = memmem(s, (size_t)(e - s), open, strlen(open));
	if (a == NULL)
		return NULL;
	a += strlen(open);
	const char *b = memmem(a, (size_t)(e - a), close, strlen(close));
	if (b == NULL)
		return NULL;
	char *out = malloc((size_t)(b - a) + 1);
	size_t o = 0;
	if (out == NULL)
		return NULL;
	static const struct {
		const char *ent;
		char c;
	} ents[] = {{"&amp;", '&'},
		    {"&lt;", '<'},
		    {"&gt;", '>'},
		    {"&quot;", '"'},
		    {"&apos;", '\''}};
	while (a < b) {
		size_t k = 0;
		if (*a == '&')
			for (k = 0; k < 5; k++)
				if ((size_t)(b - a) >= strlen(ents[k].ent) &&
				    memcmp(a, ents[k].ent,
					   strlen(ents[k].ent)) == 0)
					break;
		if (*a == '&' && k < 5) {
			out[o++] = ents[k].c;
			a += strlen(ents[k].ent);
		} else {
			out[o++] = *a++;
		}
	}
	out[o] = '\0';
	return out;
}

bool rc_aws_parse_sts(const char *body, size_t n, struct rc_aws_cred *c,
		      char *code, size_t codelen, const char **why)
{
	const char *end = body + n;
	char *ak = NULL, *sk = NULL, *tok = NULL, *exp = NULL;
	bool ok = false;

	memset(c, 0, sizeof *c);
	if (codelen)
		code[0] = '\0';
	const char *cs = memmem(body, n, "<Credentials>", 13);
	const char *ce =
	    cs ? memmem(cs, (size_t)(end - cs), "</Credentials>", 14) : NULL;
	if (cs == NULL || ce == NULL) {
		char *cd = xml_get(body, end, "Code");
		size_t o = 0;
		for (const char *p = cd; p && *p && o + 1 < codelen; p++)
			if (isalnum((unsigned char)*p))
				code[o++] = *p;
		if (codelen)
			code[o] = '\0';
		free(cd);
		*why = "the reply holds no Credentials";
		return false;
	}
	ak = xml_get(cs, ce, "AccessKeyId");
	sk = xml_get(cs, ce, "SecretAccessKey");
	tok = xml_get(cs, ce, "SessionToken");
	exp = xml_get(cs, ce, "Expiration");
	if (tok == NULL) {
		*why = "the reply's Credentials lack a SessionToken";
		goto done;
	}
	ok = take_cred(ak, sk, tok, exp, c, why);
done:
	free(ak);
	wipe_free(sk);
	wipe_free(tok);
	free(exp);
	return ok;
}

time_t rc_aws_refresh_at(time_t fetched, time_t expires)
{
	if (expires == 0)
		return 0;
	time_t life = expires - fetched;
	if (life < 600)
		return fetched + life / 2;
	return expires - 300;
}

/* ------------------------------------------------------------ the chain */

enum src {
	SRC_NONE,
	SRC_PROFILE,   /* static keys from a profile */
	SRC_PROCESS,   /* credential_process */
	SRC_WEBID,     /* AssumeRoleWithWebIdentity */
	SRC_CONTAINER, /* ECS / EKS Pod Identity endpoint */
	SRC_IMDS,      /* EC2 instance metadata */
};

struct rc_awscreds {
	const struct rc_opts *o;
	enum src src;
	char source[320]; /* for -v and hints */
	char *region;	  /* the profile's */
	char *endpoint;	  /* the profile's endpoint_url */
	char profile[128];

	/* What the source needs, copied from the environment or files. */
	char *process;
	char *role_arn, *token_file, *session_name, *sts_url;
	const char *token_file_name; /* variable or "the profile's ..." */
	const char *role_name;	     /* the same for the role ARN */
	char *cont_url, *cont_token, *cont_token_file;
	const char *cont_url_var;
	char *imds_url;
	char *env_sts, *env_ep; /* AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL */

	pthread_mutex_t mu; /* guards what follows */
	struct rc_aws_cred cur;
	time_t fetched, refresh_at;
	double next_try; /* monotonic: no refresh attempt before */
};

static const char *var(rc_getenv_fn get, const char *name)
{
	const char *v = get(name);
	return v && *v ? v : NULL;
}

static bool dup_to(char **dst, const char *s)
{
	if (s == NULL)
		return true;
	*dst = strdup(s);
	return *dst != NULL;
}

/* Reads a whole file (at most max bytes) into a NUL-terminated buffer.
 * Returns NULL with errno set. */
static char *read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t n = 0;

	if (f == NULL)
		return NULL;
	buf = malloc(max + 1);
	if (buf == NULL) {
		fclose(f);
		errno = ENOMEM;
		return NULL;
	}
	errno = 0;
	n = fread(buf, 1, max, f);
	int e = errno ? errno : EIO; /* EISDIR for a directory */
	bool bad = ferror(f) || (n == max && fgetc(f) != EOF);
	if (!ferror(f))
		e = EFBIG;
	fclose(f);
	if (bad) {
		mbedtls_platform_zeroize(buf, n);
		free(buf);
		errno = e;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Reads and parses one profile file; a missing one is fine unless named
 * by its variable. */
static enum rc_err load_ini(const char *path, const char *shown, bool named,
			    struct rc_aws_ini **out, char *why, size_t whylen)
{
	size_t n = 0;
	unsigned line;
	const char *pwhy;
	char *text = read_file(path, MAX_FILE, &n);

	*out = NULL;
	if (text == NULL) {
		if (errno == ENOENT && !named)
			return RC_OK;
		return rc_err_usage(why, whylen, "%s cannot be read: %s", shown,
				    errno == EFBIG ? "it is over 1 MiB"
						   : strerror(errno));
	}
	*out = rc_aws_ini_parse(text, n, &line, &pwhy);
	mbedtls_platform_zeroize(text, n);
	free(text);
	if (*out == NULL && line == 0)
		return RC_E_NOMEM;
	if (*out == NULL)
		return rc_err_usage(why, whylen, "bad %s, line %u: %s", shown,
				    line, pwhy);
	return RC_OK;
}

/* A copy of a variable's URL when http or https; otherwise why names the
 * variable. */
static enum rc_err url_var(rc_getenv_fn get, const char *name, char **out,
			   char *why, size_t whylen)
{
	const char *v = var(get, name);
	const char *uwhy = "it must be an http:// or https:// URL";

	*out = NULL;
	if (v == NULL)
		return RC_OK;
	if (!rc_url_ok(v, &uwhy) || strpbrk(v, "\r\n"))
		return rc_err_usage(why, whylen, "bad %s: %s", name, uwhy);
	return dup_to(out, v) ? RC_OK : RC_E_NOMEM;
}

/* Whether a container credentials URL may be used: https anywhere, or
 * http to loopback or the ECS / EKS Pod Identity addresses only. */
static bool container_host_ok(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	bool ok = false;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		struct in_addr a4;
		ok = strcasecmp(scheme, "https") == 0 ||
		     (inet_pton(AF_INET, host, &a4) == 1 &&
		      (ntohl(a4.s_addr) >> 24) == 127) ||
		     strcmp(host, "[::1]") == 0 ||
		     strcasecmp(host, "localhost") == 0 ||
		     strcmp(host, "169.254.170.2") == 0 ||
		     strcmp(host, "169.254.170.23") == 0 ||
		     strcasecmp(host, "[fd00:ec2::23]") == 0;
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

static void set_source(struct rc_awscreds *c, enum src s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_source(struct rc_awscreds *c, enum src s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->source, sizeof c->source, fmt, ap);
	va_end(ap);
	c->src = s;
}

/* The profile's sources, in the AWS CLI's order: role_arn first (only
 * with web_identity_token_file here), keys in the credentials file,
 * credential_process, keys in the config file. Sets c->src, or leaves it
 * SRC_NONE when the profile gives no credentials. */
static enum rc_err profile_source(struct rc_awscreds *c,
				  const struct rc_aws_ini *cred,
				  const char *credsec, const char *credname,
				  const struct rc_aws_ini *conf,
				  const char *confsec, const char *confname,
				  char *why, size_t whylen)
{
#define PGET(k)                                                                \
	(rc_aws_ini_get(cred, credsec, k) ? rc_aws_ini_get(cred, credsec, k)   \
					  : rc_aws_ini_get(conf, confsec, k))
	const char *role = PGET("role_arn");
	const char *wif = PGET("web_identity_token_file");

	if (role && wif) {
		char abs[4096];
		/* Relative to where rangecat started (see -x). */
		if (wif[0] != '/' && c->o->start_dir &&
		    snprintf(abs, sizeof abs, "%s/%s", c->o->start_dir, wif) <
			(int)sizeof abs)
			wif = abs;
		if (!dup_to(&c->role_arn, role) ||
		    !dup_to(&c->token_file, wif) ||
		    !dup_to(&c->session_name, PGET("role_session_name")))
			return RC_E_NOMEM;
		c->token_file_name = "the profile's web_identity_token_file";
		c->role_name = "the profile's role_arn";
		set_source(c, SRC_WEBID, "web identity (profile %s)",
			   c->profile);
		return RC_OK;
	}
	if (role)
		return rc_err_usage(why, whylen,
				    "AWS profile %s assumes a role (role_arn), "
				    "which rangecat does not support: use "
				    "keys, credential_process or web identity",
				    c->profile);
	if (PGET("sso_start_url") || PGET("sso_session"))
		return rc_err_usage(why, whylen,
				    "AWS profile %s uses IAM Identity Center "
				    "(sso_*), which rangecat does not support: "
				    "use credential_process with 'aws "
				    "configure export-credentials'",
				    c->profile);
	/* 0: the credentials file, 1: credential_process, 2: config. */
	for (int which = 0; which < 3; which++) {
		const struct rc_aws_ini *f = which == 0 ? cred : conf;
		const char *sec = which == 0 ? credsec : confsec;
		const char *fname = which == 0 ? credname : confname;
		if (which == 1) {
			const char *p = PGET("credential_process");
			if (p == NULL)
				continue;
			if (!dup_to(&c->process, p))
				return RC_E_NOMEM;
			set_source(c, SRC_PROCESS,
				   "credential_process of AWS profile %s",
				   c->profile);
			return RC_OK;
		}
		const char *ak = rc_aws_ini_get(f, sec, "aws_access_key_id");
		const char *sk =
		    rc_aws_ini_get(f, sec, "aws_secret_access_key");
		if (ak == NULL && sk == NULL)
			continue;
		if (ak == NULL || sk == NULL)
			return rc_err_usage(
			    why, whylen,
			    "AWS profile %s in %s has %s but not %s",
			    c->profile, fname,
			    ak ? "aws_access_key_id" : "aws_secret_access_key",
			    ak ? "aws_secret_access_key" : "aws_access_key_id");
		const char *tok = rc_aws_ini_get(f, sec, "aws_session_token");
		/* "aws_session_token =" is no token, as for the AWS CLI (and
		 * as an empty AWS_SESSION_TOKEN is). */
		if (tok && *tok == '\0')
			tok = NULL;
		if (!header_safe(ak) || !header_safe(sk) ||
		    (tok && !header_safe(tok)))
			return rc_err_usage(why, whylen,
					    "AWS profile %s in %s holds keys "
					    "with characters a header cannot "
					    "carry",
					    c->profile, fname);
		c->cur.access_key = strdup(ak);
		c->cur.secret_key = strdup(sk);
		if (c->cur.access_key == NULL || c->cur.secret_key == NULL ||
		    !dup_to(&c->cur.session_token, tok))
			return RC_E_NOMEM;
		set_source(c, SRC_PROFILE, "AWS profile %s (%s)", c->profile,
			   fname);
		return RC_OK;
	}
#undef PGET
	return RC_OK;
}

/* The file a variable names (a leading "~/" is HOME, as the AWS CLI
 * expands it), else dflt under HOME. */
static void home_path(char *out, size_t outlen, const char *home, const char *v,
		      const char *dflt)
{
	const char *p = v ? v : dflt;

	if (home && strncmp(p, "~/", 2) == 0)
		snprintf(out, outlen, "%s%s", home, p + 1);
	else
		snprintf(out, outlen, "%s", p);
}

/* The profile files: region, endpoint_url, and the profile's source. */
static enum rc_err read_profile(struct rc_awscreds *c, rc_getenv_fn get,
				bool want_creds, char *why, size_t whylen)
{
	const char *home = var(get, "HOME");
	const char *credvar = var(get, "AWS_SHARED_CREDENTIALS_FILE");
	const char *confvar = var(get, "AWS_CONFIG_FILE");
	const char *prof = var(get, "AWS_PROFILE");
	char credpath[4096], confpath[4096], confsec[160];
	struct rc_aws_ini *cred = NULL, *conf = NULL;
	enum rc_err err;

	const char *profvar = "AWS_PROFILE";
	if (prof == NULL) {
		prof = var(get, "AWS_DEFAULT_PROFILE");
		profvar = "AWS_DEFAULT_PROFILE";
	}
	/* Cut short, the name could be another profile's. */
	if (prof && strlen(prof) >= sizeof c->profile)
		return rc_err_usage(why, whylen,
				    "%s is too long (over %zu bytes)", profvar,
				    sizeof c->profile - 1);
	snprintf(c->profile, sizeof c->profile, "%s", prof ? prof : "default");
	for (char *p = c->profile; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return rc_err_usage(why, whylen,
					    "AWS_PROFILE holds a control "
					    "character");
	home_path(credpath, sizeof credpath, home, credvar,
		  "~/.aws/credentials");
	home_path(confpath, sizeof confpath, home, confvar, "~/.aws/config");
	const char *credname =
	    credvar ? "AWS_SHARED_CREDENTIALS_FILE" : "~/.aws/credentials";
	const char *confname = confvar ? "AWS_CONFIG_FILE" : "~/.aws/config";
	if ((credvar || home) &&
	    (err = load_ini(credpath, credname, credvar != NULL, &cred, why,
			    whylen)) != RC_OK)
		goto done;
	if ((confvar || home) &&
	    (err = load_ini(confpath, confname, confvar != NULL, &conf, why,
			    whylen)) != RC_OK)
		goto done;
	snprintf(confsec, sizeof confsec, "profile %s", c->profile);
	if (strcmp(c->profile, "default") == 0 &&
	    !rc_aws_ini_has(conf, confsec))
		snprintf(confsec, sizeof confsec, "default");
	if (prof && !rc_aws_ini_has(cred, c->profile) &&
	    !rc_aws_ini_has(conf, confsec)) {
		err = rc_err_usage(why, whylen,
				   "AWS_PROFILE names profile %s, which is in "
				   "neither %s nor %s",
				   c->profile, credname, confname);
		goto done;
	}
	const char *v = rc_aws_ini_get(cred, c->profile, "region");
	if (v == NULL)
		v = rc_aws_ini_get(conf, confsec, "region");
	err = RC_E_NOMEM;
	if (!dup_to(&c->region, v))
		goto done;
	v = rc_aws_ini_get(cred, c->profile, "endpoint_url");
	if (v == NULL)
		v = rc_aws_ini_get(conf, confsec, "endpoint_url");
	if (!dup_to(&c->endpoint, v))
		goto done;
	err = RC_OK;
	if (want_creds)
		err = profile_source(c, cred, c->profile, credname, conf,
				     confsec, confname, why, whylen);
done:
	rc_aws_ini_free(cred);
	rc_aws_ini_free(conf);
	return err;
}

enum rc_err rc_awscreds_new(const struct rc_opts *o, rc_getenv_fn get,
			    bool want_creds, struct rc_awscreds **out,
			    char *why, size_t whylen)
{
	struct rc_awscreds *c = calloc(1, sizeof *c);
	enum rc_err err = RC_E_NOMEM;
	const char *v;

	*out = NULL;
	if (c == NULL)
		return RC_E_NOMEM;
	pthread_mutex_init(&c->mu, NULL);
	c->o = o;
	const char *arn = var(get, "AWS_ROLE_ARN");
	const char *wif = var(get, "AWS_WEB_IDENTITY_TOKEN_FILE");
	bool webid = want_creds && (arn || wif);
	if (webid && !(arn && wif)) {
		err = rc_err_usage(
		    why, whylen, "%s is set but %s is not",
		    arn ? "AWS_ROLE_ARN" : "AWS_WEB_IDENTITY_TOKEN_FILE",
		    arn ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "AWS_ROLE_ARN");
		goto fail;
	}
	/* The profile's region and endpoint count whatever the source. */
	if ((err = read_profile(c, get, want_creds && !webid, why, whylen)) !=
	    RC_OK)
		goto fail;
	if ((err = url_var(get, "AWS_ENDPOINT_URL_STS", &c->env_sts, why,
			   whylen)) != RC_OK ||
	    (err = url_var(get, "AWS_ENDPOINT_URL", &c->env_ep, why, whylen)) !=
		RC_OK)
		goto fail;
	if (!want_creds || c->src != SRC_NONE)
		goto done;
	err = RC_E_NOMEM;
	if (webid) {
		if (!dup_to(&c->role_arn, arn) || !dup_to(&c->token_file, wif))
			goto fail;
		c->token_file_name = "AWS_WEB_IDENTITY_TOKEN_FILE";
		c->role_name = "AWS_ROLE_ARN";
		set_source(c, SRC_WEBID,
			   "web identity (AWS_WEB_IDENTITY_TOKEN_FILE)");
	} else if ((v = var(get, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) ||
		   var(get, "AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
		if (v) {
			if (v[0] != '/' || strpbrk(v, "\r\n \t")) {
				err = rc_err_usage(
				    why, whylen,
				    "bad "
				    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "
				    "it must be a path starting with '/'");
				goto fail;
			}
			size_t cap = strlen(v) + 32;
			if ((c->cont_url = malloc(cap)) == NULL)
				goto fail;
			snprintf(c->cont_url, cap, "http://169.254.170.2%s", v);
			c->cont_url_var =
			    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
		} else {
			c->cont_url_var = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
			if ((err = url_var(get, c->cont_url_var, &c->cont_url,
					   why, whylen)) != RC_OK)
				goto fail;
			if (!container_host_ok(c->cont_url)) {
				err = rc_err_usage(
				    why, whylen,
				    "AWS_CONTAINER_CREDENTIALS_FULL_URI is "
				    "refused: over http it must name a "
				    "loopback or container metadata address");
				goto fail;
			}
		}
		err = RC_E_NOMEM;
		if ((v = var(get, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"))) {
			if (!dup_to(&c->cont_token_file, v))
				goto fail;
		} else if ((v = var(get,
				    "AWS_CONTAINER_AUTHORIZATION_TOKEN"))) {
			if (!printable(v)) {
				err = rc_err_usage(
				    why, whylen,
				    "AWS_CONTAINER_AUTHORIZATION_TOKEN holds "
				    "characters a header cannot carry");
				goto fail;
			}
			if (!dup_to(&c->cont_token, v))
				goto fail;
		}
		set_source(c, SRC_CONTAINER, "container credentials (%s)",
			   c->cont_url_var);
	} else if ((v = var(get, "AWS_EC2_METADATA_DISABLED")) == NULL ||
		   strcasecmp(v, "true") != 0) {
		if ((err = url_var(get, "AWS_EC2_METADATA_SERVICE_ENDPOINT",
				   &c->imds_url, why, whylen)) != RC_OK)
			goto fail;
		if (c->imds_url == NULL &&
		    (c->imds_url = strdup("http://169.254.169.254")) == NULL)
			goto fail;
		size_t l = strlen(c->imds_url);
		while (l > 0 && c->imds_url[l - 1] == '/')
			c->imds_url[--l] = '\0';
		set_source(c, SRC_IMDS, "EC2 instance metadata (IMDSv2)");
	}
	if (c->src == SRC_WEBID) {
		if ((v = var(get, "AWS_ROLE_SESSION_NAME")) &&
		    !dup_to(&c->session_name, v))
			goto fail;
	}
done:
	*out = c;
	return RC_OK;
fail:
	if (err == RC_E_NOMEM)
		snprintf(why, whylen, "out of memory");
	rc_awscreds_free(c);
	return err;
}

const char *rc_awscreds_region(const struct rc_awscreds *c)
{
	return c ? c->region : NULL;
}

const char *rc_awscreds_endpoint(const struct rc_awscreds *c)
{
	return c ? c->endpoint : NULL;
}

const char *rc_awscreds_source(const struct rc_awscreds *c)
{
	return c && c->src != SRC_NONE ? c->source : NULL;
}

/* ------------------------------------------------------------ requests */

enum kind { REMOTE, LOCAL_IMDS, LOCAL_CONTAINER };

/*
 * One blocking request. method "PUT", "POST" (with post) or NULL for GET.
 * RC_OK when an HTTP status came back (*status; the body in r), else
 * RC_E_NETWORK with why naming what (a source's description).
 */
static enum rc_err request(const struct rc_awscreds *c, const char *url,
			   const char *method, const char *post,
			   struct curl_slist *hdrs, enum kind kind,
			   long *status, struct rc_handle_body *r,
			   const char *what, char *why, size_t whylen)
{
	CURL *h = curl_easy_init();
	enum rc_err err = RC_E_NETWORK;

	*status = 0;
	if (r->buf == NULL)
		r->buf = malloc(MAX_REPLY + 1);
	if (h == NULL || r->buf == NULL) {
		if (h)
			curl_easy_cleanup(h);
		snprintf(why, whylen, "out of memory");
		return RC_E_NOMEM;
	}
	rc_handle_setup_easy(h, c->o);
	rc_handle_setup_blocking(h, c->o);
	curl_easy_setopt(h, CURLOPT_URL, url);
	if (hdrs)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if (post)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
	else if (method && strcmp(method, "PUT") == 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
	}
	rc_handle_collect_body(h, r);
	if (kind == REMOTE) {
		curl_easy_setopt(h, CURLOPT_TIMEOUT,
				 c->o->connect_timeout + c->o->stall_timeout);
	} else {
		/* Link-local endpoints: never through a proxy, and quick,
		 * so a machine without them does not wait. */
		curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
				 kind == LOCAL_IMDS ? 1000L : 2000L);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
				 kind == LOCAL_IMDS ? 2000L : 5000L);
	}
	CURLcode res = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(h);
	if (res != CURLE_OK && !(r->too_big && *status != 0)) {
		snprintf(why, whylen, "%s could not be reached: %s", what,
			 curl_easy_strerror(res));
		*status = 0;
		return err;
	}
	return RC_OK;
}

/* HTTP status to error: server trouble is worth a retry. */
static enum rc_err status_err(long status)
{
	return status >= 500 || status == 429 ? RC_E_NETWORK : RC_E_REMOTE;
}

/* Reads a token file: its first line, blanks trimmed. */
static enum rc_err read_token(const char *path, const char *name, char **out,
			      char *why, size_t whylen)
{
	size_t n = 0;
	char *t = read_file(path, MAX_REPLY, &n);

	*out = NULL;
	if (t == NULL)
		return rc_err_usage(
		    why, whylen, "%s names a file that cannot be read: %s",
		    name,
		    errno == EFBIG ? "it is over 64 KiB" : strerror(errno));
	while (n > 0 && isspace((unsigned char)t[n - 1]))
		t[--n] = '\0';
	size_t s = 0;
	while (s < n && isspace((unsigned char)t[s]))
		s++;
	memmove(t, t + s, n - s + 1);
	n -= s;
	if (n == 0 || strpbrk(t, "\r\n")) {
		mbedtls_platform_zeroize(t, n);
		free(t);
		return rc_err_usage(
		    why, whylen, "%s names a file that %s", name,
		    n == 0 ? "is empty" : "holds more than one line");
	}
	*out = t;
	return RC_OK;
}

static bool form_add(char *out, size_t outlen, const char *name,
		     const char *val)
{
	char *e = curl_easy_escape(NULL, val, 0);
	size_t have = strlen(out);
	bool ok = e && have + strlen(name) + strlen(e) + 3 < outlen;

	if (ok)
		snprintf(out + have, outlen - have, "%s%s=%s", have ? "&" : "",
			 name, e);
	if (e) {
		mbedtls_platform_zeroize(e, strlen(e));
		curl_free(e);
	}
	return ok;
}

static enum rc_err fetch_webid(struct rc_awscreds *c, struct rc_aws_cred *out,
			       char *why, size_t whylen)
{
	char *token = NULL, *form = NULL, code[64], name[96];
	struct rc_handle_body r = {.cap = MAX_REPLY};
	long status = 0;
	enum rc_err err;
	const char *pwhy = "";

	if ((err = read_token(c->token_file, c->token_file_name, &token, why,
			      whylen)) != RC_OK)
		return err;
	size_t cap = 3 * (strlen(token) + strlen(c->role_arn)) + 512;
	if ((form = calloc(1, cap)) == NULL) {
		err = RC_E_NOMEM;
		snprintf(why, whylen, "out of memory");
		goto done;
	}
	snprintf(name, sizeof name, "rangecat-%ld-%ld", (long)getpid(),
		 (long)time(NULL));
	if (!form_add(form, cap, "Action", "AssumeRoleWithWebIdentity") ||
	    !form_add(form, cap, "Version", "2011-06-15") ||
	    !form_add(form, cap, "RoleArn", c->role_arn) ||
	    !form_add(form, cap, "RoleSessionName",
		      c->session_name ? c->session_name : name) ||
	    !form_add(form, cap, "WebIdentityToken", token)) {
		err = RC_E_NOMEM;
		snprintf(why, whylen, "out of memory");
		goto done;
	}
	err = request(c, c->sts_url, "POST", form, NULL, REMOTE, &status, &r,
		      "STS (AssumeRoleWithWebIdentity)", why, whylen);
	if (err != RC_OK)
		goto done;
	bool ok = !r.too_big &&
		  rc_aws_parse_sts(r.buf, r.n, out, code, sizeof code, &pwhy);
	if (status == 200 && ok)
		goto done;
	if (ok)
		rc_aws_cred_clear(out);
	err = status == 200 ? RC_E_REMOTE : status_err(status);
	if (status == 200)
		snprintf(why, whylen,
			 "STS AssumeRoleWithWebIdentity for %s answered "
			 "200, but %s",
			 c->role_name,
			 r.too_big ? "the reply is over 64 KiB" : pwhy);
	else
		snprintf(why, whylen,
			 "STS AssumeRoleWithWebIdentity for %s answered "
			 "HTTP %ld%s%s%s%s%s",
			 c->role_name, status, code[0] ? " (" : "", code,
			 code[0] ? ")" : "",
			 strcmp(code, "InvalidIdentityToken") == 0 ||
				 strcmp(code, "ExpiredTokenException") == 0
			     ? ": check the token in "
			     : "",
			 strcmp(code, "InvalidIdentityToken") == 0 ||
				 strcmp(code, "ExpiredTokenException") == 0
			     ? c->token_file_name
			     : "");
done:
	rc_handle_body_free(&r);
	wipe_free(token);
	wipe_free(form);
	return err;
}

static enum rc_err fetch_container(struct rc_awscreds *c,
				   struct rc_aws_cred *out, char *why,
				   size_t whylen)
{
	struct curl_slist *hdrs = NULL;
	struct rc_handle_body r = {.cap = MAX_REPLY};
	char *tok = NULL, *line = NULL, what[128];
	long status = 0;
	enum rc_err err = RC_OK;
	const char *pwhy = "";

	snprintf(what, sizeof what, "the container credentials endpoint (%s)",
		 c->cont_url_var);
	if (c->cont_token_file &&
	    (err = read_token(c->cont_token_file,
			      "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", &tok,
			      why, whylen)) != RC_OK)
		return err;
	const char *t = tok ? tok : c->cont_token;
	if (t && !printable(t)) {
		err =
		    rc_err_usage(why, whylen,
				 "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE holds "
				 "characters a header cannot carry");
		goto done;
	}
	if (t) {
		size_t cap = strlen(t) + 32;
		if ((line = malloc(cap)) == NULL) {
			err = RC_E_NOMEM;
			goto done;
		}
		snprintf(line, cap, "Authorization: %s", t);
		if ((hdrs = curl_slist_append(NULL, line)) == NULL) {
			err = RC_E_NOMEM;
			goto done;
		}
	}
	err = request(c, c->cont_url, NULL, NULL, hdrs, LOCAL_CONTAINER,
		      &status, &r, what, why, whylen);
	if (err != RC_OK)
		goto done;
	if (status == 200 && !r.too_big &&
	    rc_aws_parse_json(r.buf, r.n, out, &pwhy))
		goto done;
	err = status == 200 ? RC_E_REMOTE : status_err(status);
	if (status == 200)
		snprintf(why, whylen, "%s answered 200, but %s", what,
			 r.too_big ? "the reply is over 64 KiB" : pwhy);
	else
		snprintf(
		    why, whylen, "%s answered HTTP %ld%s", what, status,
		    status == 401 || status == 403
			? ": check AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)"
			: "");
done:
	if (err == RC_E_NOMEM)
		snprintf(why, whylen, "out of memory");
	if (hdrs)
		mbedtls_platform_zeroize(hdrs->data, strlen(hdrs->data));
	curl_slist_free_all(hdrs);
	rc_handle_body_free(&r);
	wipe_free(tok);
	wipe_free(line);
	return err;
}

/* IMDSv2: a session token (PUT), the role's name, its credentials. */
static enum rc_err fetch_imds(struct rc_awscreds *c, struct rc_aws_cred *out,
			      char *why, size_t whylen)
{
	static const char what[] = "EC2 instance metadata";
	struct curl_slist *hdrs = NULL;
	struct rc_handle_body r = {.cap = MAX_REPLY};
	char url[1024], line[512], role[256];
	long status = 0;
	enum rc_err err;
	const char *pwhy = "";

	snprintf(url, sizeof url, "%s/latest/api/token", c->imds_url);
	hdrs = curl_slist_append(NULL,
				 "X-aws-ec2-metadata-token-ttl-seconds: 300");
	if (hdrs == NULL)
		return RC_E_NOMEM;
	err = request(c, url, "PUT", NULL, hdrs, LOCAL_IMDS, &status, &r, what,
		      why, whylen);
	curl_slist_free_all(hdrs);
	hdrs = NULL;
	if (err != RC_OK)
		goto done;
	if (status != 200 || r.n == 0 || r.n > 400 || !header_safe(r.buf)) {
		err = status == 200 ? RC_E_REMOTE : status_err(status);
		snprintf(why, whylen,
			 "%s answered HTTP %ld to the IMDSv2 token request",
			 what, status);
		goto done;
	}
	snprintf(line, sizeof line, "X-aws-ec2-metadata-token: %s", r.buf);
	hdrs = curl_slist_append(NULL, line);
	mbedtls_platform_zeroize(line, sizeof line);
	if (hdrs == NULL) {
		err = RC_E_NOMEM;
		goto done;
	}
	snprintf(url, sizeof url,
		 "%s/latest/meta-data/iam/security-credentials/", c->imds_url);
	err = request(c, url, NULL, NULL, hdrs, LOCAL_IMDS, &status, &r, what,
		      why, whylen);
	if (err != RC_OK)
		goto done;
	size_t rl = strcspn(r.buf, "\r\n");
	if (status != 200 || rl == 0 || rl >= sizeof role) {
		err = status == 200 || status == 404 ? RC_E_REMOTE
						     : status_err(status);
		snprintf(why, whylen, "%s %s", what,
			 status == 404 || (status == 200 && rl == 0)
			     ? "names no IAM role for this instance"
			     : "answered the role request with an error");
		goto done;
	}
	char *esc = curl_easy_escape(NULL, r.buf, (int)rl);
	if (esc == NULL) {
		err = RC_E_NOMEM;
		goto done;
	}
	snprintf(role, sizeof role, "%s", esc);
	curl_free(esc);
	snprintf(url, sizeof url,
		 "%s/latest/meta-data/iam/security-credentials/%s", c->imds_url,
		 role);
	err = request(c, url, NULL, NULL, hdrs, LOCAL_IMDS, &status, &r, what,
		      why, whylen);
	if (err != RC_OK)
		goto done;
	if (status == 200 && !r.too_big &&
	    rc_aws_parse_json(r.buf, r.n, out, &pwhy))
		goto done;
	err = status == 200 ? RC_E_REMOTE : status_err(status);
	snprintf(why, whylen, "%s answered %s%ld%s%s", what,
		 status == 200 ? "" : "HTTP ", status,
		 status == 200 ? ", but " : "", status == 200 ? pwhy : "");
done:
	if (err == RC_E_NOMEM)
		snprintf(why, whylen, "out of memory");
	if (hdrs)
		mbedtls_platform_zeroize(hdrs->data, strlen(hdrs->data));
	curl_slist_free_all(hdrs);
	rc_handle_body_free(&r);
	return err;
}

/* Ends the credential_process group at once: it is a helper whose output
 * is no longer wanted, and one that ignores SIGTERM must not hold the
 * run. A group of its own costs a helper nothing it could do here: its
 * stdin is /dev/null and its stderr discarded, so it cannot prompt. */
static void kill_group(pid_t pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
}

/*
 * Runs credential_process with sh -c, stdin and stderr on /dev/null (its
 * stderr might show secrets), and parses its stdout. It gets as long as a
 * credential request (--connect-timeout plus --stall-timeout), in its own
 * process group, which is killed after that: a helper that hangs, or
 * leaves a child holding its stdout, would otherwise stop the download
 * for good, at its start or at a refresh.
 */
static enum rc_err fetch_process(struct rc_awscreds *c, struct rc_aws_cred *out,
				 char *why, size_t whylen)
{
	int fd[2];
	pid_t pid;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, def;
	struct rc_handle_body r = {.cap = MAX_REPLY};
	enum rc_err err = RC_OK;
	const char *pwhy = "";
	bool killed = false, late = false;
	long limit = c->o->connect_timeout + c->o->stall_timeout;
	double deadline = mono() + (double)limit;

	if ((r.buf = malloc(MAX_REPLY + 1)) == NULL)
		return RC_E_NOMEM;
	if (pipe2(fd, O_CLOEXEC) != 0) {
		free(r.buf);
		snprintf(why, whylen, "cannot make a pipe: %s",
			 strerror(errno));
		return RC_E_USAGE;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	/* Where rangecat started, not the directory -x unpacks into: a
	 * relative command must not run a member of the archive. */
	if (c->o->start_dir)
		posix_spawn_file_actions_addchdir_np(&fa, c->o->start_dir);
	posix_spawnattr_init(&at);
	/* The fetcher thread blocks signals and main ignores SIGPIPE: the
	 * child starts with neither. */
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
					  POSIX_SPAWN_SETSIGDEF |
					  POSIX_SPAWN_SETPGROUP);
	char *argv[] = {"sh", "-c", c->process, NULL};
	int e = posix_spawn(&pid, "/bin/sh", &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(fd[1]);
	if (e != 0) {
		close(fd[0]);
		free(r.buf);
		snprintf(why, whylen,
			 "credential_process of AWS profile %s cannot be "
			 "started: %s",
			 c->profile, strerror(e));
		return RC_E_USAGE;
	}
	for (;;) {
		struct pollfd p = {.fd = fd[0], .events = POLLIN};
		late = mono() >= deadline;
		if (rc_sched_signal() || r.too_big || late) {
			kill_group(pid);
			killed = true;
			break;
		}
		int k = poll(&p, 1, 200);
		if (k < 0 && errno != EINTR)
			break;
		if (k <= 0)
			continue;
		ssize_t got = read(fd[0], r.buf + r.n, MAX_REPLY - r.n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		r.n += (size_t)got;
		if (r.n == MAX_REPLY)
			r.too_big = true;
	}
	close(fd[0]);
	/* Its stdout closed: it may still not exit (it closed stdout and
	 * went on), so the same deadline holds while it is reaped. */
	int st = 0;
	pid_t w;
	while ((w = waitpid(pid, &st, killed ? 0 : WNOHANG)) == 0 ||
	       (w < 0 && errno == EINTR)) {
		if (w < 0)
			continue;
		late = mono() >= deadline;
		if (rc_sched_signal() || late) {
			kill_group(pid);
			killed = true;
			continue;
		}
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	r.buf[r.n] = '\0';
	if (killed && rc_sched_signal()) {
		err = rc_sched_signal_err(rc_sched_signal(), why, whylen);
	} else if (killed && late) {
		err = RC_E_USAGE;
		snprintf(why, whylen,
			 "credential_process of AWS profile %s did not finish "
			 "within %ld s (--connect-timeout + --stall-timeout): "
			 "killed",
			 c->profile, limit);
	} else if (r.too_big) {
		err = RC_E_USAGE;
		snprintf(why, whylen,
			 "credential_process of AWS profile %s printed no "
			 "usable credentials: its output is over 64 KiB",
			 c->profile);
	} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		err = RC_E_USAGE;
		if (WIFEXITED(st))
			snprintf(why, whylen,
				 "credential_process of AWS profile %s exited "
				 "with status %d (its output is not shown: it "
				 "may hold secrets)",
				 c->profile, WEXITSTATUS(st));
		else
			snprintf(why, whylen,
				 "credential_process of AWS profile %s was "
				 "killed by signal %d",
				 c->profile,
				 WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	} else if (!rc_aws_parse_json(r.buf, r.n, out, &pwhy)) {
		err = RC_E_USAGE;
		snprintf(why, whylen,
			 "credential_process of AWS profile %s printed no "
			 "usable credentials: %s",
			 c->profile, pwhy);
	}
	rc_handle_body_free(&r);
	return err;
}

/* Fetches new credentials from the source into cur (mu held). */
static enum rc_err fetch_locked(struct rc_awscreds *c, char *why, size_t whylen)
{
	struct rc_aws_cred n = {0};
	enum rc_err err = RC_OK;
	time_t now = time(NULL);

	c->next_try = mono() + 1;
	switch (c->src) {
	case SRC_NONE:
	case SRC_PROFILE: return RC_OK;
	case SRC_PROCESS: err = fetch_process(c, &n, why, whylen); break;
	case SRC_WEBID: err = fetch_webid(c, &n, why, whylen); break;
	case SRC_CONTAINER: err = fetch_container(c, &n, why, whylen); break;
	case SRC_IMDS: err = fetch_imds(c, &n, why, whylen); break;
	}
	if (err != RC_OK)
		return err;
	if (n.expires != 0 && n.expires <= now) {
		rc_aws_cred_clear(&n);
		snprintf(why, whylen,
			 "the credentials from %s had expired on arrival "
			 "(is this machine's clock right?)",
			 c->source);
		return RC_E_REMOTE;
	}
	rc_aws_cred_clear(&c->cur);
	c->cur = n;
	c->fetched = now;
	c->refresh_at = rc_aws_refresh_at(now, n.expires);
	if (n.expires)
		rc_log("credentials from %s, expire in %lld s", c->source,
		       (long long)(n.expires - now));
	else
		rc_log("credentials from %s", c->source);
	return RC_OK;
}

enum rc_err rc_awscreds_start(struct rc_awscreds *c, const char *region,
			      char *why, size_t whylen)
{
	enum rc_err err = RC_OK;

	if (c->src == SRC_NONE || c->src == SRC_PROFILE) {
		if (c->src == SRC_PROFILE)
			rc_log("credentials from %s", c->source);
		return RC_OK;
	}
	if (c->src == SRC_WEBID && c->sts_url == NULL) {
		const char *ep = c->env_sts    ? c->env_sts
				 : c->env_ep   ? c->env_ep
				 : c->endpoint ? c->endpoint
					       : NULL;
		char buf[256];
		if (ep == NULL)
			snprintf(buf, sizeof buf,
				 "https://sts.%s.amazonaws.com", region);
		if ((c->sts_url = strdup(ep ? ep : buf)) == NULL) {
			snprintf(why, whylen, "out of memory");
			return RC_E_NOMEM;
		}
	}
	struct rc_sched_retry policy;
	unsigned fails = 0;
	double d;

	rc_sched_retry_init(&policy, c->o->retries, c->o->retry_delay,
			    rc_sched_seed());
	pthread_mutex_lock(&c->mu);
	for (;;) {
		err = fetch_locked(c, why, whylen);
		/* Instance metadata is asked once: a machine without it
		 * is not an EC2 instance, and goes unsigned. */
		if (c->src == SRC_IMDS)
			break;
		if (err != RC_E_NETWORK || rc_sched_signal() ||
		    rc_sched_after_failure(&policy, &fails, 0, false, -1, &d) ==
			RC_SCHED_GIVE_UP)
			break;
		rc_sched_announce(c->o->quiet, why, fails, c->o->retries, d);
		if (!rc_sched_sleep(d))
			break;
	}
	if (c->src == SRC_IMDS && err != RC_OK && !rc_sched_signal() &&
	    err != RC_E_NOMEM) {
		rc_log("%s; no credentials", why);
		c->src = SRC_NONE;
		err = RC_OK;
	}
	pthread_mutex_unlock(&c->mu);
	if (err != RC_OK && rc_sched_signal())
		err = rc_sched_signal_err(rc_sched_signal(), why, whylen);
	return err;
}

enum rc_err rc_awscreds_lock(struct rc_awscreds *c,
			     const struct rc_aws_cred **cur, char *why,
			     size_t whylen)
{
	time_t now = time(NULL);
	enum rc_err err = RC_OK;

	pthread_mutex_lock(&c->mu);
	*cur = NULL;
	bool have = c->cur.access_key != NULL;
	bool valid = have && (c->cur.expires == 0 || now < c->cur.expires);
	if (have && (c->refresh_at == 0 || now < c->refresh_at))
		goto ok;
	if (valid && mono() < c->next_try)
		goto ok;
	rc_log("credentials from %s %s: fetching new ones", c->source,
	       valid ? "about to expire" : "expired");
	err = fetch_locked(c, why, whylen);
	if (err != RC_OK && valid) {
		rc_log("%s; the current credentials are still valid", why);
		err = RC_OK;
	}
	if (err != RC_OK)
		return err;
ok:
	*cur = &c->cur;
	return RC_OK;
}

void rc_awscreds_unlock(struct rc_awscreds *c)
{
	pthread_mutex_unlock(&c->mu);
}

void rc_awscreds_free(struct rc_awscreds *c)
{
	if (c == NULL)
		return;
	rc_aws_cred_clear(&c->cur);
	pthread_mutex_destroy(&c->mu);
	free(c->region);
	free(c->endpoint);
	wipe_free(c->process);
	free(c->role_arn);
	free(c->token_file);
	free(c->session_name);
	free(c->sts_url);
	free(c->cont_url);
	wipe_free(c->cont_token);
	free(c->cont_token_file);
	free(c->imds_url);
	free(c->env_sts);
	free(c->env_ep);
	free(c);
}
