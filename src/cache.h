/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * --cache DIR: a local copy of each whole file fetched, revalidated with
 * one conditional request on the next run and streamed from disk when the
 * server says it is still current. Main (consumer) thread only.
 */
#ifndef RC_CACHE_H
#define RC_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "err.h"
#include "fetch.h"
#include "options.h"
#include "reader.h"

struct rc_cache;

/*
 * Opens (creating) o->cache_dir and looks up the entry of auth's URL. When
 * there is one, sends one conditional request for it (If-None-Match with
 * its ETag, else If-Modified-Since) and, on a 304 or a reply naming the
 * same validator and size, checks the entry's size and SHA-256 on disk.
 * *hit then says whether the run is served from the entry: the bytes
 * from start (as main computes it from -C, -r and the bytes -o's
 * FILE.part keeps; inside --shard) to the end asked. Anything else is a miss,
 * and the run fetches as usual. Returns RC_E_OUTPUT with why set when DIR
 * cannot be used, or RC_E_NOMEM; *out is set on RC_OK (free with
 * rc_cache_free).
 */
enum rc_err rc_cache_open(const struct rc_opts *o, struct rc_auth *auth,
			  uint64_t start, struct rc_cache **out, bool *hit,
			  char *why, size_t whylen);

/*
 * Sets up r for the run: on a hit it reads the entry's file; on a miss of
 * a whole file it copies each consumed block into a temporary file in DIR.
 * c may be NULL (no --cache).
 */
void rc_cache_attach(struct rc_cache *c, struct rc_reader *r);

/* What a hit served, in the fetcher's terms (for --stats and hints). */
const struct rc_fetch_info *rc_cache_info(const struct rc_cache *c);

/*
 * After a miss: makes the copy the URL's entry (fsync, size and digest
 * checked, renamed into place) when the run succeeded (err), fetched the
 * whole file, and the reply was cacheable (a trusted validator, no
 * Cache-Control: no-store, within --cache-size); then evicts the least
 * recently used entries over --cache-size. Otherwise removes the copy.
 * A failure to store is reported, never an error of the run.
 */
void rc_cache_store(struct rc_cache *c, const struct rc_fetch_info *in,
		    enum rc_err err);

/* Removes an unstored copy, closes DIR. Accepts NULL. */
void rc_cache_free(struct rc_cache *c);

#endif
