/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The reorder ring: a fixed number of slots of one chunk each, allocated
 * once. Chunk number seq lives in slot seq % nslots and may be claimed only
 * when seq < head + nslots, so memory never grows. The fetcher thread fills
 * slots (out of order across slots, in order within one); the consumer
 * thread writes the head slot's filled prefix as soon as it lands, then
 * releases the slot for refilling.
 *
 * This is the only object the two threads share. Field by field:
 *   mu, cv          guard err/errmsg/stopped and the sleep handshake
 *   slots[].off     written by the fetcher before claimed is published
 *   slots[].len     atomic; fetcher stores (claim, or shrink at EOF)
 *   slots[].filled  atomic; fetcher stores with release after the bytes,
 *                   consumer loads with acquire before reading them
 *   claimed         atomic; fetcher stores, consumer loads
 *   head            atomic; consumer stores, fetcher loads
 *   nchunks         atomic; fetcher stores once the end is known
 *   sleeping        atomic; the consumer's "about to wait" flag
 */
#ifndef RC_RING_H
#define RC_RING_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct rc_slot {
	uint64_t off;		 /* file offset of buf[0] */
	_Atomic uint64_t len;	 /* bytes this chunk holds */
	_Atomic uint64_t filled; /* contiguous bytes landed */
	unsigned char *buf;	 /* into rc_ring.mem */
};

struct rc_ring {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned char *mem;    /* nslots * slot_size, owned */
	struct rc_slot *slots; /* owned */
	size_t nslots;
	size_t slot_size;

	_Atomic uint64_t claimed; /* chunks claimed so far */
	_Atomic uint64_t head;	  /* chunk the consumer needs next */
	_Atomic uint64_t nchunks; /* total chunks, UINT64_MAX until known */
	_Atomic int sleeping;

	enum rc_err err;  /* under mu: first error wins */
	char errmsg[512]; /* under mu */
	bool stopped;	  /* under mu: consumer gave up */

	/* Figures for the progress display: fetcher stores, consumer loads. */
	_Atomic uint64_t stat_end;     /* absolute end offset, UINT64_MAX */
	_Atomic uint64_t stat_first;   /* absolute offset of chunk 0 */
	_Atomic unsigned stat_active;  /* transfers in flight */
	_Atomic unsigned stat_retries; /* retries so far */

	/* Consumer to fetcher: fetch nothing past the probe until the
	 * consumer has seen the first bytes (set before the fetcher starts,
	 * cleared by rc_ring_go). Fetcher to consumer: the probe found
	 * ranges, a size and a validator, so random access works. */
	_Atomic int hold;
	_Atomic int seekable;

	void (*wake_fetcher)(void *arg); /* called when a slot frees */
	void *wake_arg;
};

/* Allocates a ring of nslots slots of slot_size bytes. Returns NULL when
 * memory is short. Free with rc_ring_free (NULL is fine). */
struct rc_ring *rc_ring_new(size_t nslots, size_t slot_size);
void rc_ring_free(struct rc_ring *r);

/* --- fetcher side --- */

/* Claims the next chunk for file bytes [off, off+len); len <= slot_size.
 * Returns its seq, or UINT64_MAX when the ring is full. */
uint64_t rc_ring_claim(struct rc_ring *r, uint64_t off, uint64_t len);

/* Number of chunks that could be claimed now. */
uint64_t rc_ring_free_slots(struct rc_ring *r);

/* The slot holding chunk seq. Valid while seq is claimed and unreleased. */
struct rc_slot *rc_ring_slot(struct rc_ring *r, uint64_t seq);

/* Publishes that chunk seq now holds filled contiguous bytes. */
void rc_ring_filled(struct rc_ring *r, uint64_t seq, uint64_t filled);

/* Shrinks chunk seq to len bytes (a stream ended early) and records that
 * it is the last chunk. */
void rc_ring_end_at(struct rc_ring *r, uint64_t seq, uint64_t len);

/* Records that the file ends after nchunks chunks. */
void rc_ring_set_nchunks(struct rc_ring *r, uint64_t nchunks);

/* Records an error; the first one wins and its message is kept. The
 * consumer still writes every byte that landed in order before it. */
void rc_ring_fail(struct rc_ring *r, enum rc_err err, const char *msg);

/* True once the consumer stopped (output closed, error, signal). */
bool rc_ring_stopped(struct rc_ring *r);

/* The fetcher's copy of the first error (RC_OK if none). */
enum rc_err rc_ring_error(struct rc_ring *r, char *msg, size_t msglen);

/* --- consumer side --- */

enum rc_next {
	RC_NEXT_DATA,
	RC_NEXT_SLOT_DONE,
	RC_NEXT_END,
	RC_NEXT_ERROR,
	RC_NEXT_TIMEOUT
};

/* Looks at the head chunk, of which pos bytes were written already.
 * DATA: *p, *n are the next landed bytes. SLOT_DONE: the head chunk is all
 * written; call rc_ring_release. END: every chunk was written. ERROR: the
 * fetcher failed and no more bytes will come. TIMEOUT: nothing new within
 * timeout_ms (so the caller can redraw progress or see a signal). */
enum rc_next rc_ring_next(struct rc_ring *r, uint64_t pos,
			  const unsigned char **p, size_t *n, int timeout_ms);

/* Frees the head slot for the fetcher and moves to the next chunk. */
void rc_ring_release(struct rc_ring *r);

/* Lets a held fetcher go on past the probe. */
void rc_ring_go(struct rc_ring *r);

/* The consumer gives up with err (EPIPE is passed as RC_OK): the fetcher
 * sees rc_ring_stopped and winds down. */
void rc_ring_stop(struct rc_ring *r, enum rc_err err, const char *msg);

#endif
