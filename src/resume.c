/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * Building the resume command from the user's own argv, so it keeps their
 * options and spelling: only the start offset, the range and the pinned
 * validator change.
 */
#include "resume.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "http.h"
#include "log.h"
#include "options.h"

static void put(const char *s, char *out, size_t outlen, size_t *o)
{
	for (; *s; s++)
		if (*o + 1 < outlen)
			out[(*o)++] = *s;
	out[*o < outlen ? *o : outlen - 1] = '\0';
}

/*
 * A word with bytes a terminal must not see raw (controls, C1, invalid
 * UTF-8) is written as $'...' with octal escapes, as `ls` quotes such
 * names for bash, zsh and ksh, so the command stays runnable as shown.
 */
static bool dollar_quote(const char *s, char *out, size_t outlen, size_t *o)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	bool need = false;

	for (size_t i = 0; i < n;) {
		size_t l = rc_escape_utf8_len(p + i, n - i);
		if (l == 0) {
			need = true;
			break;
		}
		i += l;
	}
	if (!need)
		return false;
	put("$'", out, outlen, o);
	for (size_t i = 0; i < n;) {
		size_t l = rc_escape_utf8_len(p + i, n - i);
		char c[8];
		if (l > 0 && p[i] != '\\' && p[i] != '\'') {
			memcpy(c, p + i, l);
			c[l] = '\0';
			i += l;
		} else {
			snprintf(c, sizeof c, "\\%03o", p[i]);
			i++;
		}
		put(c, out, outlen, o);
	}
	put("'", out, outlen, o);
	return true;
}

void rc_shell_quote(const char *s, char *out, size_t outlen, size_t *o)
{
	bool plain = *s != '\0';

	if (dollar_quote(s, out, outlen, o))
		return;

	for (const char *p = s; *p; p++)
		if (!strchr(
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"0123456789_./:=@%+,-",
			*p))
			plain = false;
	if (plain) {
		put(s, out, outlen, o);
		return;
	}
	put("'", out, outlen, o);
	for (const char *p = s; *p; p++) {
		char c[2] = {*p, '\0'};
		put(*p == '\'' ? "'\\''" : c, out, outlen, o);
	}
	put("'", out, outlen, o);
}

static void word(const char *s, char *out, size_t outlen, size_t *o)
{
	put(" ", out, outlen, o);
	rc_shell_quote(s, out, outlen, o);
}

static void build(int argc, char *const argv[], uint64_t next, uint64_t last,
		  const char *etag, const char *const urls[], size_t nurls,
		  char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return;
	out[0] = '\0';
	/* Room for any one word after redaction: "[redacted]" may be far
	 * longer than what it hides ("=&" becomes "=[redacted]&", six
	 * times), and a word cut short would make a wrong command. */
	size_t room = 64 + RC_RESUME_GROWTH * (etag ? strlen(etag) : 0);
	for (int i = 1; i < argc; i++)
		room += RC_RESUME_GROWTH * strlen(argv[i]);
	for (size_t i = 0; urls && i < nurls; i++)
		if (room < RC_RESUME_GROWTH * strlen(urls[i]) + 64)
			room = RC_RESUME_GROWTH * strlen(urls[i]) + 64;
	char *buf = malloc(room), *one = malloc(room);
	if (buf == NULL || one == NULL) {
		free(buf);
		free(one);
		return; /* out stays empty: the caller says so */
	}
	put("rangecat", out, outlen, &o);
	if (next == RC_UNKNOWN) {
		/* from the start */
	} else if (last != RC_UNKNOWN) {
		snprintf(buf, room, "%" PRIu64 "-%" PRIu64, next, last);
		word("-r", out, outlen, &o);
		word(buf, out, outlen, &o);
	} else {
		snprintf(buf, room, "%" PRIu64, next);
		word("-C", out, outlen, &o);
		word(buf, out, outlen, &o);
	}
	if (etag) {
		word("--if-match", out, outlen, &o);
		word(etag, out, outlen, &o);
	}
	for (int i = 1; i < argc; i++) {
		bool next_too;
		const char *a = argv[i];
		int code = rc_options_classify(a, &next_too);
		const char *val = next_too && i + 1 < argc ? argv[i + 1] : NULL;

		/* A short cluster ending in an option with a value ("-kH..."
		 * "-vC100"): its flags stay, as their own word, and the rest
		 * is judged as "-H..." would be. */
		const char *at = a[0] == '-' && a[1] != '-' && code != 0
				     ? strchr(a + 1, code)
				     : NULL;
		if (at && at > a + 1) {
			snprintf(buf, room, "%.*s", (int)(at - a), a);
			word(buf, out, outlen, &o);
			snprintf(one, room, "-%s", at);
			a = one;
		}

		/* --sha256/--sha512 check a whole file, which a
		 * continuation is not: left out (main says so). */
		if (code == 'C' || code == 'r' || code == RC_OPT_IF_MATCH ||
		    code == RC_OPT_SHA256 || code == RC_OPT_SHA512 ||
		    (urls && code == 'i')) {
			i += val != NULL;
			continue;
		}
		if (code == 0 && urls)
			continue; /* the URLs come at the end */
		if (code == 0) {
			rc_log_redact_url(a, buf, room);
			word(buf, out, outlen, &o);
			continue;
		}
		if (code == 'H' && val == NULL) {
			/* "-HName: v" or "--header=Name: v"; a bare "-H" at
			 * the end has no value to keep. */
			const char *eq = strchr(a, '=');
			const char *h = strncmp(a, "--", 2) != 0 ? a + 2
					: eq			 ? eq + 1
								 : "";
			if (*h == '\0')
				continue;
			rc_log_redact_header(h, buf, room);
			word("-H", out, outlen, &o);
			word(buf, out, outlen, &o);
			continue;
		}
		word(a, out, outlen, &o);
		if (val) {
			if (code == 'H')
				rc_log_redact_header(val, buf, room);
			else
				snprintf(buf, room, "%s", val);
			word(buf, out, outlen, &o);
			i++;
		}
	}
	for (size_t i = 0; urls && i < nurls; i++) {
		rc_log_redact_url(urls[i], buf, room);
		word(buf, out, outlen, &o);
	}
	free(buf);
	free(one);
}

void rc_resume_command(int argc, char *const argv[], uint64_t next,
		       uint64_t last, const char *etag, char *out,
		       size_t outlen)
{
	build(argc, argv, next, last, etag, NULL, 0, out, outlen);
}

void rc_resume_command_urls(int argc, char *const argv[], uint64_t next,
			    const char *etag, const char *const urls[],
			    size_t nurls, char *out, size_t outlen)
{
	build(argc, argv, next, RC_UNKNOWN, etag, urls, nurls, out, outlen);
}
