/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * Escaping text that comes from outside (archive member names, link
 * targets, owner names, libarchive's messages, server bodies, headers and
 * URLs) before it reaches a terminal or a listing. Any thread.
 */
#ifndef RC_ESCAPE_H
#define RC_ESCAPE_H

#include <stddef.h>

/*
 * Writes the n bytes at s to out (outlen bytes, NUL-terminated) in the
 * style of `ls -b`: a backslash becomes "\\"; BEL, BS, TAB, LF, VT, FF and
 * CR become "\a" "\b" "\t" "\n" "\v" "\f" "\r"; every other C0 byte, DEL,
 * a C1 character (U+0080..U+009F, raw or UTF-8 encoded) and each byte of
 * invalid UTF-8 becomes "\ooo" (three octal digits). Valid printable UTF-8
 * passes as is, so the original bytes can be recovered exactly. Output
 * that does not fit is cut before an escape or character, never inside
 * one. Returns out.
 */
const char *rc_escape_mem(const void *s, size_t n, char *out, size_t outlen);

/* rc_escape_mem over a NUL-terminated string; NULL is shown as "". */
const char *rc_escape(const char *s, char *out, size_t outlen);

/*
 * The same, but a backslash passes as is: for a line that may already hold
 * escaped text (the logger's last line of defence). Raw control bytes,
 * C1 and invalid UTF-8 still become "\ooo".
 */
const char *rc_escape_controls(const char *s, char *out, size_t outlen);

/* The length of the valid UTF-8 character at s (n bytes left) when it is
 * printable here (not C1), else 0. */
size_t rc_escape_utf8_len(const unsigned char *s, size_t n);

#endif
