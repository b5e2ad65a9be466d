/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * multipart/byteranges, read as it comes. The body is
 *
 *   [preamble CRLF] "--" boundary CRLF headers CRLF bytes
 *   CRLF "--" boundary CRLF headers CRLF bytes ...
 *   CRLF "--" boundary "--" [CRLF epilogue]
 *
 * (nginx, Apache and lighttpd all start with a CRLF, an empty preamble).
 * Framing is read a line at a time; a part's bytes are counted by its
 * Content-Range, never searched for the boundary, so no byte of a part
 * is taken for framing or the reverse.
 */
#include "parts.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

enum phase {
	P_PREAMBLE, /* lines before the first delimiter */
	P_HEADERS,  /* a part's header lines */
	P_BODY,	    /* a part's bytes */
	P_AFTER,    /* the CRLF that ends a part's bytes */
	P_DELIM,    /* the delimiter after it */
	P_END,	    /* after the close delimiter: the epilogue */
	P_ERROR,
};

/* RFC 2046 bcharsnospace, and space inside. */
static bool bchar(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || strchr("'()+_,-./:=? ", c) != NULL;
}

bool rc_parts_boundary(const char *ctype, char *out, size_t outlen)
{
	const char *p = strchr(ctype, ';');

	while (p != NULL) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, "boundary=", 9) != 0) {
			p = strchr(p, ';');
			continue;
		}
		p += 9;
		size_t n = 0;
		if (*p == '"') {
			p++;
			while (p[n] && p[n] != '"')
				n++;
			if (p[n] != '"')
				return false;
		} else {
			while (p[n] && p[n] != ';' && p[n] != ' ' &&
			       p[n] != '\t')
				n++;
		}
		if (n == 0 || n > RC_PARTS_BOUNDARY_MAX || n >= outlen ||
		    p[n - 1] == ' ')
			return false;
		for (size_t i = 0; i < n; i++)
			if (!bchar(p[i]))
				return false;
		memcpy(out, p, n);
		out[n] = '\0';
		return true;
	}
	return false;
}

void rc_parts_init(struct rc_parts *p, const char *boundary)
{
	memset(p, 0, sizeof *p);
	p->dlen = (size_t)snprintf(p->delim, sizeof p->delim, "--%s", boundary);
	if (p->dlen >= sizeof p->delim)
		p->dlen = sizeof p->delim - 1;
	p->phase = P_PREAMBLE;
}

static enum rc_parts_event broken(struct rc_parts *p, const char *why)
{
	p->phase = P_ERROR;
	p->err = why;
	return RC_PARTS_ERROR;
}

/* 1: line is the delimiter, 2: the close delimiter, 0: neither. Transport
 * padding (spaces and tabs) may follow either. */
static int delimiter(const struct rc_parts *p, const char *line, size_t n)
{
	if (n < p->dlen || memcmp(line, p->delim, p->dlen) != 0)
		return 0;
	size_t i = p->dlen;
	int kind = 1;
	if (n - i >= 2 && line[i] == '-' && line[i + 1] == '-') {
		kind = 2;
		i += 2;
	}
	for (; i < n; i++)
		if (line[i] != ' ' && line[i] != '\t')
			return 0;
	return kind;
}

/* One header line of a part (no CRLF). */
static enum rc_parts_event header(struct rc_parts *p, const char *line,
				  size_t n)
{
	static const char name[] = "Content-Range:";
	char val[sizeof p->line];

	if (n < sizeof name - 1 || strncasecmp(line, name, sizeof name - 1))
		return RC_PARTS_MORE; /* Content-Type and others */
	if (p->has_cr)
		return broken(p, "a part with two Content-Range headers");
	size_t k = n - (sizeof name - 1);
	memcpy(val, line + sizeof name - 1, k);
	val[k] = '\0';
	while (k > 0 && (val[k - 1] == ' ' || val[k - 1] == '\t'))
		val[--k] = '\0';
	if (!rc_http_content_range(val, &p->cr) || p->cr.unsatisfied)
		return broken(p, "a part with a bad Content-Range");
	p->has_cr = true;
	return RC_PARTS_MORE;
}

/* A whole framing line came (CRLF stripped): what it means here. */
static enum rc_parts_event line_done(struct rc_parts *p, const char *line,
				     size_t n)
{
	int d;

	switch (p->phase) {
	case P_PREAMBLE:
		d = delimiter(p, line, n);
		if (d == 2)
			return broken(p, "a multipart reply with no part");
		if (d == 1) {
			p->phase = P_HEADERS;
			p->has_cr = false;
		}
		return RC_PARTS_MORE;
	case P_HEADERS:
		if (n > 0)
			return header(p, line, n);
		if (!p->has_cr)
			return broken(p, "a part without Content-Range");
		p->left = p->cr.last - p->cr.first + 1;
		p->phase = P_BODY;
		return RC_PARTS_PART;
	case P_AFTER:
		if (n != 0)
			return broken(p,
				      "no line end right after a part: it is "
				      "not as long as its Content-Range "
				      "says");
		p->phase = P_DELIM;
		return RC_PARTS_MORE;
	case P_DELIM:
		d = delimiter(p, line, n);
		if (d == 0)
			return broken(p, "no boundary after a part");
		if (d == 2) {
			p->phase = P_END;
			return RC_PARTS_END;
		}
		p->phase = P_HEADERS;
		p->has_cr = false;
		return RC_PARTS_MORE;
	default: return broken(p, "multipart parser state");
	}
}

enum rc_parts_event rc_parts_next(struct rc_parts *p, const char *buf, size_t n,
				  size_t *used)
{
	size_t i = 0;

	*used = 0;
	for (;;) {
		if (p->phase == P_ERROR)
			return RC_PARTS_ERROR;
		if (p->phase == P_END) {
			*used = n;
			return RC_PARTS_END;
		}
		if (p->phase == P_BODY) {
			if (p->left > 0)
				return RC_PARTS_BODY;
			p->phase = P_AFTER;
			p->framing = 0;
		}
		if (i == n)
			return RC_PARTS_MORE;
		/* Framing: up to the end of the line. */
		const char *nl = memchr(buf + i, '\n', n - i);
		size_t k = nl ? (size_t)(nl - (buf + i)) + 1 : n - i;
		p->framing += k;
		if (p->framing > RC_PARTS_HEADER_MAX)
			return broken(p, "a part's headers are too long");
		if (p->llen + k > sizeof p->line)
			return broken(p, "a part header line is too long");
		memcpy(p->line + p->llen, buf + i, k);
		p->llen += k;
		i += k;
		*used = i;
		if (nl == NULL)
			return RC_PARTS_MORE;
		size_t len = p->llen - 1; /* the LF */
		if (len > 0 && p->line[len - 1] == '\r')
			len--;
		p->llen = 0;
		enum rc_parts_event e = line_done(p, p->line, len);
		if (e != RC_PARTS_MORE)
			return e;
	}
}

bool rc_parts_in_body(const struct rc_parts *p)
{
	return p->phase == P_BODY && p->left > 0;
}

void rc_parts_took(struct rc_parts *p, uint64_t k)
{
	p->left -= k < p->left ? k : p->left;
	if (p->left == 0)
		p->framing = 0;
}
