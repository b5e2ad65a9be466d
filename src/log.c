/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * Logging and redaction. Redaction happens here, at the last step, so no
 * caller can forget it: header values whose names carry credentials, URL
 * userinfo, and query parameters that look like signatures or tokens.
 */
#include "log.h"
#include "escape.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static int verbosity;
static struct timespec origin;
static atomic_bool bar_shown;

/* Header names whose values are secret whatever they are called: those
 * RANGECAT_HEADERS sets. Filled by the main thread before the fetcher
 * starts (thread creation orders it), only read afterwards. A name too
 * long to keep, or one too many, makes every header secret. */
#define MAX_SECRET_NAMES 64
static char secret_names[MAX_SECRET_NAMES][128];
static size_t nsecret_names;
static bool all_secret;

void rc_log_init(int verbose)
{
	verbosity = verbose;
	clock_gettime(CLOCK_MONOTONIC, &origin);
}

bool rc_log_verbose(void)
{
	return verbosity > 0;
}

bool rc_log_debug(void)
{
	return verbosity > 1;
}

void rc_log_set_bar(bool shown)
{
	atomic_store(&bar_shown, shown);
}

/*
 * Callers escape outside text with rc_escape (escape.h); as a last line
 * of defence any raw control byte, C1 or invalid UTF-8 left in a message
 * is escaped here too, so none reaches the terminal whatever a caller
 * forgot. Backslashes pass, so text escaped once stays as it was.
 */
static void emit(const char *prefix, const char *fmt, va_list ap)
{
	char line[2048], msg[2048], esc[2048];
	int n = 0;

	vsnprintf(msg, sizeof msg, fmt, ap);
	rc_escape_controls(msg, esc, sizeof esc);
	if (atomic_load(&bar_shown))
		n = snprintf(line, sizeof line, "\r\033[K");
	n += snprintf(line + n, sizeof line - (size_t)n, "%s", prefix);
	if (n < (int)sizeof line)
		n += snprintf(line + n, sizeof line - (size_t)n, "%s", esc);
	if (n >= (int)sizeof line - 1)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	/* One write per line; a short write to stderr is not worth a loop. */
	ssize_t w = write(2, line, (size_t)n);
	(void)w;
}

void rc_log(const char *fmt, ...)
{
	struct timespec now;
	char prefix[32];
	va_list ap;

	if (verbosity == 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double t = (double)(now.tv_sec - origin.tv_sec) +
		   (double)(now.tv_nsec - origin.tv_nsec) / 1e9;
	snprintf(prefix, sizeof prefix, "[%8.3f] ", t);
	va_start(ap, fmt);
	emit(prefix, fmt, ap);
	va_end(ap);
}

void rc_log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("rangecat: ", fmt, ap);
	va_end(ap);
}

static bool contains(const char *s, size_t n, const char *word)
{
	size_t w = strlen(word);

	for (size_t i = 0; i + w <= n; i++)
		if (strncasecmp(s + i, word, w) == 0)
			return true;
	return false;
}

void rc_log_add_secret_name(const char *name, size_t n)
{
	for (size_t i = 0; i < nsecret_names; i++)
		if (strlen(secret_names[i]) == n &&
		    strncasecmp(secret_names[i], name, n) == 0)
			return;
	if (nsecret_names == MAX_SECRET_NAMES || n >= sizeof secret_names[0]) {
		all_secret = true;
		return;
	}
	memcpy(secret_names[nsecret_names], name, n);
	secret_names[nsecret_names++][n] = '\0';
}

bool rc_log_secret_header(const char *name, size_t n)
{
	if (all_secret)
		return true;
	while (n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < nsecret_names; i++)
		if (strlen(secret_names[i]) == n &&
		    strncasecmp(secret_names[i], name, n) == 0)
			return true;
	static const char *const words[] = {
	    "authorization", "cookie",	  "token",	"secret",  "password",
	    "key",	     "signature", "credential", "session", "auth",
	};
	for (size_t i = 0; i < sizeof words / sizeof *words; i++)
		if (contains(name, n, words[i]))
			return true;
	return false;
}

void rc_log_redact_header(const char *h, char *out, size_t outlen)
{
	const char *colon = strchr(h, ':');

	if (colon && rc_log_secret_header(h, (size_t)(colon - h)))
		snprintf(out, outlen, "%.*s: [redacted]", (int)(colon - h), h);
	else
		snprintf(out, outlen, "%s", h);
}

void rc_log_redact_url(const char *url, char *out, size_t outlen)
{
	size_t o = 0;
	const char *p = url;
	const char *scheme = strstr(url, "://");
	const char *at = NULL;

	if (outlen == 0)
		return;
#define PUT(c)                                                                 \
	do {                                                                   \
		if (o + 1 < outlen)                                            \
			out[o++] = (c);                                        \
	} while (0)
	if (scheme) {
		const char *host = scheme + 3;
		size_t hl = strcspn(host, "/?#");
		for (size_t i = 0; i < hl; i++)
			if (host[i] == '@')
				at = host + i;
		for (; p < host; p++)
			PUT(*p);
		if (at) {
			for (const char *r = "[redacted]@"; *r; r++)
				PUT(*r);
			p = at + 1;
		}
	}
	for (; *p && *p != '?'; p++)
		PUT(*p);
	while (*p) {
		/* p is at '?' or '&': copy the key, judge it, then the value */
		PUT(*p);
		p++;
		const char *key = p;
		size_t kl = strcspn(key, "=&#");
		for (size_t i = 0; i < kl; i++)
			PUT(key[i]);
		p = key + kl;
		if (*p != '=')
			continue;
		PUT('=');
		p++;
		size_t vl = strcspn(p, "&#");
		/* sig: Azure's sig=, CloudFront's Signature; jwt: the token
		 * in GitHub's release-asset URLs; hmac, hdnts, hdnea:
		 * Akamai's token ("exp=...~acl=...~hmac=..."). */
		if (rc_log_secret_header(key, kl) || contains(key, kl, "sig") ||
		    contains(key, kl, "jwt") || contains(key, kl, "hmac") ||
		    contains(key, kl, "hdnts") || contains(key, kl, "hdnea")) {
			for (const char *r = "[redacted]"; *r; r++)
				PUT(*r);
		} else {
			for (size_t i = 0; i < vl; i++)
				PUT(p[i]);
		}
		p += vl;
		if (*p == '#') {
			for (; *p; p++)
				PUT(*p);
		}
	}
#undef PUT
	out[o] = '\0';
}
