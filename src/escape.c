/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * One escaping function for everything printed that came from outside:
 * the bytes of an archive name or a server's reply must not move the
 * cursor, retitle the terminal or hide the rest of a line. The style is
 * `ls -b` and GNU tar's: C escapes for the common controls, three-digit
 * octal for other unsafe bytes, and "\\" for the backslash itself, so the
 * escaped text maps back to exactly one byte string. Pure; any thread.
 */
#include "escape.h"

#include <stdbool.h>
#include <string.h>

size_t rc_escape_utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned cp;

	if (c < 0x80)
		return c >= 0x20 && c != 0x7f ? 1 : 0;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0; /* a continuation byte, 0xc0, 0xc1 or 0xf5.. */
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF, and C1 controls. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
	    (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return len;
}

static const char *escape(const unsigned char *s, size_t n, bool backslash,
			  char *out, size_t outlen)
{
	static const char named[] = "\aa\bb\tt\nn\vv\ff\rr";
	size_t o = 0;

	if (outlen == 0)
		return out;
	for (size_t i = 0; i < n;) {
		char e[5];
		size_t el, take = rc_escape_utf8_len(s + i, n - i);
		const char *hit =
		    s[i] ? memchr(named, s[i], sizeof named - 1) : NULL;

		if (backslash && s[i] == '\\') {
			memcpy(e, "\\\\", 2);
			el = 2;
			take = 1;
		} else if (take > 0) {
			memcpy(e, s + i, take);
			el = take;
		} else if (hit && (hit - named) % 2 == 0) {
			e[0] = '\\';
			e[1] = hit[1];
			el = 2;
			take = 1;
		} else {
			e[0] = '\\';
			e[1] = (char)('0' + (s[i] >> 6));
			e[2] = (char)('0' + ((s[i] >> 3) & 7));
			e[3] = (char)('0' + (s[i] & 7));
			el = 4;
			take = 1;
		}
		if (o + el >= outlen)
			break;
		memcpy(out + o, e, el);
		o += el;
		i += take;
	}
	out[o] = '\0';
	return out;
}

const char *rc_escape_mem(const void *s, size_t n, char *out, size_t outlen)
{
	return escape(s, n, true, out, outlen);
}

const char *rc_escape(const char *s, char *out, size_t outlen)
{
	if (s == NULL)
		s = "";
	return escape((const unsigned char *)s, strlen(s), true, out, outlen);
}

const char *rc_escape_controls(const char *s, char *out, size_t outlen)
{
	return escape((const unsigned char *)s, strlen(s), false, out, outlen);
}
