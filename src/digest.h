/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * --sha256 / --sha512: a digest over the bytes the reader hands out (the
 * downloaded bytes, before any decoding), checked once the stream ends.
 * Consumer (main) thread only.
 */
#ifndef RC_DIGEST_H
#define RC_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "options.h"

struct rc_digest;

/* Returns a fresh digest of kind k (not RC_DIGEST_NONE), or NULL when out
 * of memory. Free it with rc_digest_free. */
struct rc_digest *rc_digest_new(enum rc_digest_kind k);

/* Adds n bytes at p. */
void rc_digest_update(struct rc_digest *d, const void *p, size_t n);

/*
 * Finishes d and compares it with want (lowercase hex, as rc_opts keeps
 * it). Returns RC_OK, or RC_E_INTEGRITY with msg naming the option and
 * both digests. n is how many bytes were hashed, for the message.
 */
enum rc_err rc_digest_check(struct rc_digest *d, const char *want, uint64_t n,
			    char *msg, size_t msglen);

/* The option's name for k ("--sha256"), and the digest's length in hex
 * digits (64 or 128; 0 for RC_DIGEST_NONE). */
const char *rc_digest_option(enum rc_digest_kind k);
size_t rc_digest_hexlen(enum rc_digest_kind k);

void rc_digest_free(struct rc_digest *d);

#endif
