/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The consumer's view of the ring as one byte stream: each call hands out
 * the next landed bytes in place (no copy) and counts the previous block as
 * consumed, releasing slots as they are used up. It also redraws progress
 * and notices signals while it waits. Consumer (main) thread only.
 */
#ifndef RC_READER_H
#define RC_READER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "digest.h"
#include "err.h"
#include "progress.h"
#include "ring.h"
#include "run.h"

/*
 * Several URLs read as one stream (main.c): the reader goes from one ring
 * to the next at the end of each. Both callbacks run on the consumer
 * thread.
 */
struct rc_reader;

struct rc_reader_chain {
	/* Called whenever the reader looks at ring (each block, each wait
	 * of 250 ms): lets the caller start the next URL's fetcher early. */
	void (*poll)(void *arg, struct rc_ring *ring);
	/* At the end of r->ring's bytes: the next URL's ring (having set
	 * r->run to its figures), or NULL after the last URL, or on a
	 * failure with r->err and r->msg set. */
	struct rc_ring *(*next)(void *arg, struct rc_reader *r);
	void *arg;
};

struct rc_reader {
	struct rc_ring *ring;
	struct rc_run *run; /* the ring's figures; may be NULL; borrowed */
	const struct rc_reader_chain *chain; /* NULL for one URL; borrowed */
	uint64_t base; /* stream offset of the current ring's first byte */
	volatile sig_atomic_t *sig;   /* set by the signal handler */
	struct rc_progress_state *pg; /* may be NULL */
	struct rc_digest *digest;     /* may be NULL; borrowed */
	const unsigned char *block;   /* the last block handed out */
	uint64_t pos;		      /* consumed bytes of the head slot */
	size_t pending;		      /* handed out by the last call */
	uint64_t consumed;	      /* stream offset of the next byte */
	enum rc_err err;	      /* why rc_reader_next returned -1 */
	char msg[512];

	/* --cache: a hit reads an entry's file instead of the ring
	 * (rc_reader_from_fd), and a miss copies each consumed block (tap,
	 * called as the digest is updated). */
	int src;			 /* -1: the ring */
	uint64_t src_left;		 /* bytes of src not read yet */
	uint64_t src_total;		 /* for the progress display */
	unsigned char *src_buf;		 /* borrowed, src_cap bytes */
	size_t src_cap, src_len, src_at; /* held, and handed out, in src_buf */
	void (*tap)(void *arg, const unsigned char *p, size_t n);
	void *tap_arg;
};

/* Sets r up over ring; run (its figures for progress, may be NULL), sig
 * and pg are borrowed. Set r->chain after it to read several rings as one
 * stream. */
void rc_reader_init(struct rc_reader *r, struct rc_ring *ring,
		    struct rc_run *run, volatile sig_atomic_t *sig,
		    struct rc_progress_state *pg);

/*
 * Counts the previous block as consumed (adding its consumed bytes to
 * r->digest, while they are still in their slot) and hands out the next landed
 * bytes in *p: valid until the next call. Returns their number, 0 at the
 * end of the stream, or -1 with r->err and r->msg set (a fetch error or a
 * signal).
 */
ssize_t rc_reader_next(struct rc_reader *r, const unsigned char **p);

/* Makes r read len bytes from fd (at its current offset) instead of the
 * ring, through buf (cap bytes, borrowed). A file that ends early or
 * fails to read is RC_E_OUTPUT, named by what (the cache entry). */
void rc_reader_from_fd(struct rc_reader *r, int fd, uint64_t len,
		       unsigned char *buf, size_t cap);

/* Only the first used bytes of the last block were consumed. */
void rc_reader_unread(struct rc_reader *r, size_t used);

/*
 * Waits until at least min bytes follow the current position (or the
 * stream ends) without consuming them, for format detection. Call only
 * before the first rc_reader_next. Returns how many bytes *p holds (up to
 * the end of the head slot; empty rings of a chain are skipped), or -1 as
 * rc_reader_next.
 */
ssize_t rc_reader_peek(struct rc_reader *r, size_t min,
		       const unsigned char **p);

#endif
