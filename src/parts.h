/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * multipart/byteranges (RFC 9110 14.6, RFC 2046 5.1.1): the reply to a
 * request for several ranges. A pull parser over the body as it comes, in
 * pieces of any size: it reads the framing (delimiters, each part's
 * headers) itself and hands each part's bytes to the caller, who takes
 * as many as it has room for. A part's length is what its Content-Range
 * names; the delimiter must follow it. Pure; any thread.
 */
#ifndef RC_PARTS_H
#define RC_PARTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

/* RFC 2046: a boundary is 1 to 70 characters. */
#define RC_PARTS_BOUNDARY_MAX 70

/* Framing bytes (delimiter and headers) a part may have, at most. */
#define RC_PARTS_HEADER_MAX 4096

enum rc_parts_event {
	RC_PARTS_MORE,	/* every byte given was framing: give more */
	RC_PARTS_PART,	/* a part's headers ended: cr is its range */
	RC_PARTS_BODY,	/* the part's bytes come next, left of them */
	RC_PARTS_END,	/* the close delimiter came */
	RC_PARTS_ERROR, /* the framing is broken: err says how */
};

struct rc_parts {
	char delim[RC_PARTS_BOUNDARY_MAX + 3]; /* "--" and the boundary */
	size_t dlen;
	int phase;	/* parts.c */
	char line[256]; /* the framing line being read */
	size_t llen;	/* ... its bytes so far */
	size_t framing; /* framing bytes since the last part's bytes */
	bool has_cr;	/* the part's headers had a Content-Range */
	struct rc_crange cr;
	uint64_t left;	 /* bytes of the current part still to come */
	const char *err; /* static text after RC_PARTS_ERROR */
};

/* The boundary parameter of a Content-Type value (RFC 2046 5.1.1: token
 * or quoted-string, 1-70 of its characters) into out. False when there is
 * none, or it is not one. */
bool rc_parts_boundary(const char *ctype, char *out, size_t outlen);

/* Starts reading a body framed by boundary. */
void rc_parts_init(struct rc_parts *p, const char *boundary);

/*
 * Reads framing at buf[0, n) and says what comes next; *used is the
 * bytes it consumed. BODY consumes nothing: the part's next bytes are at
 * buf, and the caller takes k <= left of them with rc_parts_took. Once
 * END or ERROR came, every later call says the same (after END, the
 * epilogue is consumed and ignored).
 */
enum rc_parts_event rc_parts_next(struct rc_parts *p, const char *buf, size_t n,
				  size_t *used);

/* Whether the next bytes are a part's (a BODY would come). */
bool rc_parts_in_body(const struct rc_parts *p);

/* The caller took k of the current part's bytes. */
void rc_parts_took(struct rc_parts *p, uint64_t k);

#endif
