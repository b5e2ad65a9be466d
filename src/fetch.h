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
	unsigned retries;
	unsigned connections; /* the count the run ended with (1: a stream) */
	uint64_t shard_first; /* --shard: absolute offset of the shard */
};

struct rc_fetch;

/*
 * Creates a fetcher of auth's URL, with its credentials, for the bytes
 * [start, last] (last inclusive, RC_UNKNOWN for "to the end"); suffix
 * asks for the last suffix_len bytes instead. o, auth and ring must
 * outlive it. Returns NULL when out of memory.
 */
struct rc_fetch *rc_fetch_new(const struct rc_opts *o, struct rc_auth *auth,
			      struct rc_ring *ring, uint64_t start,
			      uint64_t last, bool suffix, uint64_t suffix_len);

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

/* Applies the transfer settings every request shares (protocols, no
 * automatic redirects, timeouts, TLS) to h. */
void rc_fetch_setup_easy(CURL *h, const struct rc_opts *o);

/* Makes a blocking transfer (curl_easy_perform: the zip reader, the
 * token fetch) end within about a second of a signal or --max-time
 * (CURLE_ABORTED_BY_CALLBACK), and below --speed-limit, or silent for
 * --stall-timeout, as a timeout. */
void rc_fetch_setup_blocking(CURL *h, const struct rc_opts *o);

/* Versions of the linked libraries, for --version. */
void rc_fetch_versions(char *out, size_t outlen);

#endif
