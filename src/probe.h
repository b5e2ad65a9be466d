/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * Judging responses. The first ranged GET (the probe) teaches the size,
 * range support and validator; every later response is held to what the
 * probe taught. Pure functions over struct rc_resp; any thread.
 */
#ifndef RC_PROBE_H
#define RC_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "http.h"

/* What a request asked for and what the run already knows. */
struct rc_want {
	uint64_t first;	    /* first byte asked */
	uint64_t last;	    /* last byte asked, RC_UNKNOWN for "first-" */
	bool suffix;	    /* asked "bytes=-N"; N is in last */
	uint64_t total;	    /* size learnt by the probe, or RC_UNKNOWN */
	const char *etag;   /* ETag the reply must carry, "" none, NULL any */
	const char *lm;	    /* Last-Modified likewise */
	const char *coding; /* later: the probe's Content-Encoding as
			     * rc_http_coding gives it, "" or NULL none */
	bool later;	    /* asked after the probe: a 200 is not the answer */
	bool parts;	    /* asked first-last and more ranges after it: a
			     * multipart/byteranges reply may answer */
};

enum rc_verdict_kind {
	RC_V_RANGE,    /* 206: the body is bytes first..last of total */
	RC_V_FULL,     /* 200: the body is the whole file from byte 0 */
	RC_V_AT_END,   /* 416 at exactly the end: nothing to send */
	RC_V_PAST_END, /* 416 past the end */
	RC_V_RETRY,    /* transient or broken reply: try this range again */
	RC_V_CHANGED,  /* the file is not the version we started with */
	RC_V_REDIRECT, /* 301, 302, 303, 307, 308 with a Location */
	RC_V_REFUSED,  /* 4xx and anything else final */
};

struct rc_verdict {
	enum rc_verdict_kind kind;
	uint64_t first, last; /* RC_V_RANGE */
	uint64_t total;	      /* RC_UNKNOWN when the reply did not say */
	const char *why;      /* static text for messages; NULL when fine */
	bool parts; /* RC_V_RANGE: a multipart/byteranges reply (want.parts),
		     * its parts not yet read (parts.h); first and last are
		     * the first range asked */
};

/* Judges response r against want. Never fails; see enum rc_verdict_kind. */
void rc_judge(const struct rc_resp *r, const struct rc_want *want,
	      struct rc_verdict *v);

enum rc_validator_kind { RC_VAL_NONE, RC_VAL_ETAG, RC_VAL_DATE };

/* Picks the validator a probe response offers: a strong ETag, else
 * Last-Modified, else none (a weak ETag cannot pin ranges together). */
enum rc_validator_kind rc_probe_validator(const struct rc_resp *r);

/*
 * True when the probe's validators cannot tell two versions apart: its
 * Last-Modified is not at least one second before its Date (received, the
 * local clock, when it has none). RFC 9110 8.8.2.2: such a date is weak,
 * as a file may change again within the same second, and so may an ETag
 * made of the modification second and the size (nginx, Caddy).
 */
bool rc_probe_too_fresh(const struct rc_resp *r, time_t received);

#endif
