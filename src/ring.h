/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The reorder ring. Chunk number seq lives in slot seq % nslots and may be
 * claimed only while seq < head + cap, so the live chunks [head, claimed)
 * always sit in distinct slots. The window cap starts at two and grows by
 * one whenever a claim finds it full while the head chunk still waits on
 * the network (a connection would otherwise idle, not the output); it
 * never shrinks, and growing never moves a slot, since the slot of a seq
 * does not depend on cap. Each claimed chunk gets a buffer of its own
 * length, from the buffers of released chunks or newly allocated at its
 * first byte; the bytes in buffers never exceed the budget (--memory, or
 * less once the file's size is known: rc_ring_budget_for). A claim
 * reserves no budget: replies whose first bytes find it spent wait
 * (rc_ring_may_fill). The fetcher thread fills
 * slots (out of order across slots, in order within one); the consumer
 * thread writes the head slot's filled prefix as soon as it lands, then
 * releases the slot for refilling.
 *
 * The two threads share this and struct rc_run (run.h: progress figures
 * and the flags around the probe). Field by field:
 *   mu, cv          guard err/errmsg/stopped and the sleep handshake
 *   slots[].off,buf written by the fetcher before claimed is published;
 *                   the consumer reads buf only after filled says so
 *   slots[].len     atomic; fetcher stores (claim, or a shrink: EOF,
 *                   a stream's cut; never below filled)
 *   slots[].filled  atomic; fetcher stores with release after the bytes,
 *                   consumer loads with acquire before reading them
 *   claimed         atomic; fetcher stores, consumer loads
 *   head            atomic; consumer stores, fetcher loads
 *   nchunks         atomic; fetcher stores once the end is known
 *   sleeping        atomic; the consumer's "about to wait" flag
 *   want            atomic; consumer stores before sleeping, fetcher loads
 *   slot_size, cap, budget, pool, held, live, reclaimed: fetcher only
 *                   (main reads them before the fetcher starts or after
 *                   it ended)
 *   peak            atomic; fetcher stores, anyone loads
 */
#ifndef RC_RING_H
#define RC_RING_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The largest a buffer may be with an unknown size: the floor of the 5%
 * rule (rc_ring_budget_for). */
#define RC_RING_FLOOR (2u << 20)

/* A consumer that caught up with the head sleeps until RC_RING_BATCH more
 * bytes of it landed (or the chunk is complete), but at most
 * RC_RING_BATCH_MS: waking it for every write the fetcher makes cost a
 * sixth of the CPU on loopback, and each wake-up takes a core from the
 * fetcher or the server there (1 MiB: 4% more time for 1 GiB with -n 1);
 * a slow link's bytes wait that long at most. The run's first bytes are
 * not held back. */
#define RC_RING_BATCH (4096u << 10)
#define RC_RING_BATCH_MS 10

struct rc_slot {
	uint64_t off;		 /* file offset of buf[0] */
	_Atomic uint64_t len;	 /* bytes this chunk holds */
	_Atomic uint64_t filled; /* contiguous bytes landed */
	unsigned char *buf;	 /* owned while claimed; NULL until the
				  * first byte (rc_ring_buf) */
	size_t bufcap;		 /* bytes buf has, or will have */
};

/* A buffer a released chunk gave back (fetcher only). */
struct rc_buf {
	unsigned char *p;
	size_t cap;
};

struct rc_ring {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct rc_slot *slots; /* nslots, owned */
	size_t nslots;	       /* most chunks ever live at once */
	size_t slot_size;      /* the longest chunk a claim may ask */
	size_t cap;	       /* chunks live at once now: the window */
	uint64_t budget;       /* bytes in buffers at most */
	uint64_t held;	       /* bytes in buffers, live or pooled */
	uint64_t live;	       /* ... of chunks not yet released */
	struct rc_buf *pool;   /* nslots, owned: buffers of released chunks */
	size_t npool;
	uint64_t reclaimed;    /* chunks before it gave their buffers back */
	bool near;	       /* chunks take buffers only before
				* rc_ring_edge (fetcher only; stripes) */
	bool prefault;	       /* new buffers take their pages at once
				* (fetcher only; ring.c new_buf) */
	size_t page;	       /* the system's page size */
	_Atomic uint64_t peak; /* the most bytes ever held */

	_Atomic uint64_t claimed; /* chunks claimed so far */
	_Atomic uint64_t head;	  /* chunk the consumer needs next */
	_Atomic uint64_t nchunks; /* total chunks, UINT64_MAX until known */
	_Atomic int sleeping;
	_Atomic uint64_t want; /* the consumer sleeps until the head holds
				* this many bytes (set before sleeping) */

	enum rc_err err;  /* under mu: first error wins */
	char errmsg[512]; /* under mu */
	bool stopped;	  /* under mu: consumer gave up */

	void (*wake_fetcher)(void *arg); /* called when a slot frees */
	void *wake_arg;
};

/* Makes a ring for at most nslots live chunks of at most slot_size bytes
 * each, and at most budget bytes in their buffers (at least one chunk).
 * No chunk buffer is allocated yet. Returns NULL when memory is short.
 * Free with rc_ring_free (NULL is fine). */
struct rc_ring *rc_ring_new(size_t nslots, size_t slot_size, uint64_t budget);
void rc_ring_free(struct rc_ring *r);

/* The buffer budget for a download of size bytes (UINT64_MAX: not known)
 * under a cap of memory bytes: 5% of the size, but never less than
 * RC_RING_FLOOR, and never more than memory. */
uint64_t rc_ring_budget_for(uint64_t memory, uint64_t size);

/* Lowers the budget to budget bytes (it never rises) and the longest
 * chunk so that min_slots of them fit, in multiples of 64 KiB; with
 * keep_chunk the chunk length (a --chunk-size given) stays and the budget
 * keeps room for two chunks instead. The budget always holds one chunk,
 * so a claim with nothing else live never fails. Fetcher side, or before
 * it starts. */
void rc_ring_lower_budget(struct rc_ring *r, uint64_t budget, size_t min_slots,
			  bool keep_chunk);

/* Raises the budget to budget bytes (it never lowers it; the chunk length
 * stays). Fetcher side, or before it starts. */
void rc_ring_raise_budget(struct rc_ring *r, uint64_t budget);

/* --- fetcher side --- */

/* Claims the next chunk for file bytes [off, off+len); len <= slot_size,
 * with a buffer of at least len bytes. When the window is full it grows
 * by one slot if the head chunk is still incomplete (the output waits on
 * the network) and the budget allows the buffer. Returns its seq, or
 * UINT64_MAX when the ring is full. */
uint64_t rc_ring_claim(struct rc_ring *r, uint64_t off, uint64_t len);

/* Claims the next chunk for file bytes [off, off+len) ahead of the
 * window: whenever a slot is free (seq < head + nslots), the window
 * grown to hold it, whatever the buffers hold. For chunks asked long
 * before their bytes come (fetch.c's stripes): a claim takes no memory,
 * and rc_ring_may_fill still holds each chunk's first byte to the
 * budget. Returns its seq, or UINT64_MAX when no slot is free. */
uint64_t rc_ring_claim_ahead(struct rc_ring *r, uint64_t off, uint64_t len);

/* Number of chunks of len (> 0) bytes that could be claimed now, one
 * after another, each taking its buffer: the free slots of the window
 * (without growing it) that the budget has room for. */
uint64_t rc_ring_free_slots(struct rc_ring *r, uint64_t len);

/* The buffer of chunk seq, allocated at the first call (bufcap bytes);
 * NULL when memory is short. Fetcher side, for writing the chunk. */
unsigned char *rc_ring_buf(struct rc_ring *r, uint64_t seq);

/* With near, the file offset where the window ends: the head chunk's
 * start, and the budget but the longest chunk after it. The chunks
 * that start before it hold at most the budget; UINT64_MAX without
 * near. Fetcher side. */
uint64_t rc_ring_edge(struct rc_ring *r);

/* Whether chunk seq may take its buffer now: it has one, or the budget
 * has room for it beside the buffers held and the longest chunk's room
 * kept for the head (and, with near, it starts before rc_ring_edge),
 * or it is the head chunk (the output waits on it: it always may, and
 * that room holds it).
 * A reply that may not waits (the fetcher pauses it) until the consumer
 * frees buffers. Fetcher side. */
bool rc_ring_may_fill(struct rc_ring *r, uint64_t seq);

/* Whether the output waits on the network: the head chunk is claimed and
 * incomplete (a full ring then waits on it, not on the reader). */
bool rc_ring_head_waits(struct rc_ring *r);

/* The slot holding chunk seq. Valid while seq is claimed and unreleased. */
struct rc_slot *rc_ring_slot(struct rc_ring *r, uint64_t seq);

/* Publishes that chunk seq now holds filled contiguous bytes. */
void rc_ring_filled(struct rc_ring *r, uint64_t seq, uint64_t filled);

/* Chunk seq becomes len bytes long: the file ends sooner than planned,
 * or a stream that gives way stops there (fetch.c's stream_cut). len is
 * never less than the bytes that landed; before any did, its buffer
 * shrinks to fit, after, it keeps its size until released. */
void rc_ring_trim(struct rc_ring *r, uint64_t seq, uint64_t len);

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

/* Wakes the fetcher (after the consumer changed something it waits on,
 * such as struct rc_run's hold). */
void rc_ring_wake(struct rc_ring *r);

/* The consumer gives up with err (EPIPE is passed as RC_OK): the fetcher
 * sees rc_ring_stopped and winds down. */
void rc_ring_stop(struct rc_ring *r, enum rc_err err, const char *msg);

#endif
