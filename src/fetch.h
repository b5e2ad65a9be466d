/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The fetcher: one thread that owns libcurl (the multi handle and every
 * easy handle), sends the probe, plans the chunks, runs N range requests
 * into the ring, and retries each from the first byte it did not deliver.
 */
#ifndef RC_FETCH_H
#define RC_FETCH_H

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>

#include "auth.h"
#include "err.h"
#include "http.h"
#include "options.h"
#include "probe.h"
#include "ring.h"
#include "run.h"

/* What the run learnt; read by main only after rc_fetch_join. */
struct rc_fetch_info {
	uint64_t first; /* absolute offset of the first byte wanted */
	uint64_t end;	/* absolute end (exclusive), RC_UNKNOWN */
	uint64_t total; /* file size, RC_UNKNOWN */
	bool ranges;	/* the server honours Range: resumable */
	/* What pins later requests: RC_VAL_NONE also when the probe's
	 * Last-Modified was within a second of its Date (rc_probe_too_fresh) */
	enum rc_validator_kind validator;
	char etag[RC_ETAG_MAX]; /* the probe's ETag (strong or weak) */
	char last_modified[RC_DATE_MAX];
	char coding[RC_CODING_MAX]; /* the probe's Content-Encoding
				     * (rc_http_coding), "" none */
	unsigned retries;
	bool no_store; /* the probe's reply said Cache-Control: no-store */
	unsigned connections; /* the count the run ended with, at most the
			       * most that ran at once (1: a stream) */
	unsigned per_request; /* ranges a request asked at most (1, or
			       * RC_STRIPE_MAX with stripes on to the end) */
	uint64_t shard_first; /* --shard: absolute offset of the shard */
};

struct rc_fetch;

/* The most ranges one request asks for, on a server a round trip away
 * (fetch.c, stripes): lighttpd answers only the first 10 of more. */
#define RC_STRIPE_MAX 8

/*
 * Creates a fetcher of auth's URL, with its credentials, for the bytes
 * [start, last] (last inclusive, RC_UNKNOWN for "to the end"); suffix
 * asks for the last suffix_len bytes instead. o, auth, ring and run (the
 * figures and flags it shares with the consumer) must outlive it.
 * Returns NULL when out of memory.
 */
struct rc_fetch *rc_fetch_new(const struct rc_opts *o, struct rc_auth *auth,
			      struct rc_ring *ring, struct rc_run *run,
			      uint64_t start, uint64_t last, bool suffix,
			      uint64_t suffix_len);

/* Starts the fetcher thread. */
enum rc_err rc_fetch_start(struct rc_fetch *f);

/* Waits for the fetcher thread to end. */
void rc_fetch_join(struct rc_fetch *f);

/* What the run learnt (valid after rc_fetch_join). */
const struct rc_fetch_info *rc_fetch_info(const struct rc_fetch *f);

void rc_fetch_free(struct rc_fetch *f);

/* The URL after the probe's redirects (valid until rc_fetch_free). */
const char *rc_fetch_url(const struct rc_fetch *f);

/* The header that pins requests after the probe to its version
 * ("If-Match: ..."), or NULL; owned by f. */
const char *rc_fetch_pin_line(const struct rc_fetch *f);

/* When a signed URL expires, in seconds since the epoch, by its query:
 * X-Amz-Date + X-Amz-Expires (SigV4 presigned: S3, GitHub release assets),
 * the same with X-Goog- (Cloud Storage), or Expires= (CloudFront, Cloud
 * Storage V2). 0 when it names none. */
uint64_t rc_fetch_url_expiry(const char *url);

/* How long before a target's expiry, life seconds away, the origin is
 * asked for a fresh one: a quarter of its life, at most 30 s, but at
 * least half of it up to 2 s (a fresh target costs a request to the
 * origin and one to the target, with their handshakes). */
double rc_fetch_refresh_margin(double life);

/*
 * Where one of the fetcher's transfers is in its life. One function in
 * fetch.c changes it, and only along the transitions rc_fetch_state_ok
 * allows (docs/ARCHITECTURE.md, "The fetcher", has the table); -vv logs
 * every change. Exported for the unit test of that table.
 */
enum rc_xfer_state {
	RC_XS_IDLE,	  /* holds no range: free for new work */
	RC_XS_CONNECTING, /* in the multi handle, the request not yet sent */
	RC_XS_RUNNING,	  /* the request went out: the stall clock runs */
	RC_XS_PAUSED,  /* a spanning transfer paused while the ring is full */
	RC_XS_DONE,    /* out of the multi handle: its reply is acted on */
	RC_XS_WAITING, /* holds its range until its retry time */
	RC_XS_PARKED,  /* holds its range until a fresh redirect target */
	RC_XS__COUNT
};

/* Whether a transfer may go from state a to state b. */
bool rc_fetch_state_ok(enum rc_xfer_state a, enum rc_xfer_state b);

/* The state's name in logs ("running"), "?" for none. */
const char *rc_fetch_state_name(enum rc_xfer_state s);

/* Versions of the linked libraries, for --version. */
void rc_fetch_versions(char *out, size_t outlen);

#endif
