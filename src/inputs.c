/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * -i FILE: the URL list, read whole at start-up so a bad line is a usage
 * error before any byte is written, and so stdin is free again once read.
 * The bytes are wiped when freed: a URL may carry user:password.
 */
#include "inputs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "escape.h"
#include "options.h"

/* A list larger than this is surely not a URL list. */
#define MAX_INPUT (64u << 20)

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

enum rc_err rc_inputs_parse(char *text, size_t len, const char *name,
			    struct rc_inputs *in, char *why, size_t whylen)
{
	char shown[256];
	size_t cap = 0, line = 0;

	memset(in, 0, sizeof *in);
	in->text = text;
	in->len = len;
	rc_escape(name, shown, sizeof shown);
	if (memchr(text, '\0', len) != NULL)
		return rc_err_usage(why, whylen,
				    "--input-file %s holds a NUL byte", shown);
	for (size_t i = 0; i < len;) {
		char *s = text + i, *nl = memchr(s, '\n', len - i);
		char *e = nl ? nl : text + len;
		i = (size_t)(e - text) + 1;
		line++;
		*e = '\0'; /* text has room: len < allocation */
		while (s < e && blank(*s))
			s++;
		while (e > s && blank(e[-1]))
			*--e = '\0';
		if (s == e || *s == '#')
			continue;
		const char *uwhy;
		if (!rc_url_ok(s, &uwhy))
			return rc_err_usage(why, whylen,
					    "--input-file %s, line %zu: bad "
					    "URL: %s",
					    shown, line, uwhy);
		if (in->n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **u = realloc(in->urls, ncap * sizeof *u);
			if (u == NULL) {
				snprintf(why, whylen,
					 "out of memory for "
					 "--input-file");
				return RC_E_NOMEM;
			}
			in->urls = u;
			cap = ncap;
		}
		in->urls[in->n++] = s;
	}
	return RC_OK;
}

enum rc_err rc_inputs_read(const char *path, struct rc_inputs *in, char *why,
			   size_t whylen)
{
	char shown[256];
	bool std = strcmp(path, "-") == 0;
	int fd = std ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0, cap = 0;
	char *buf = NULL;

	memset(in, 0, sizeof *in);
	rc_escape(path, shown, sizeof shown);
	if (fd < 0)
		return rc_err_usage(why, whylen, "--input-file %s: %s", shown,
				    strerror(errno));
	for (;;) {
		if (len + 1 >= cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			char *b = ncap > MAX_INPUT + 1 ? NULL : malloc(ncap);
			if (b == NULL) {
				if (buf)
					explicit_bzero(buf, len);
				free(buf);
				if (!std)
					close(fd);
				if (ncap > MAX_INPUT + 1)
					return rc_err_usage(
					    why, whylen,
					    "--input-file %s: larger than "
					    "64M",
					    shown);
				snprintf(why, whylen,
					 "out of memory for --input-file");
				return RC_E_NOMEM;
			}
			if (buf) {
				memcpy(b, buf, len);
				explicit_bzero(buf, len);
			}
			free(buf);
			buf = b;
			cap = ncap;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			explicit_bzero(buf, len);
			free(buf);
			if (!std)
				close(fd);
			return rc_err_usage(why, whylen, "--input-file %s: %s",
					    shown, strerror(e));
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (!std)
		close(fd);
	buf[len] = '\0';
	return rc_inputs_parse(buf, len, std ? "(stdin)" : path, in, why,
			       whylen);
}

void rc_inputs_free(struct rc_inputs *in)
{
	if (in->text)
		explicit_bzero(in->text, in->len);
	free(in->text);
	free(in->urls);
	memset(in, 0, sizeof *in);
}
