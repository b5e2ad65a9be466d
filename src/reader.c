/*
 * The ring as a byte stream for the sinks. A block handed out stays in its
 * slot until the next call, which is what libarchive's read callback and
 * libzstd's input buffer need: the compressed bytes are never copied.
 */
#include "reader.h"

#include <stdio.h>

#include "sched.h"

void rc_reader_init(struct rc_reader *r, struct rc_ring *ring,
		    volatile sig_atomic_t *sig, struct rc_progress_state *pg)
{
	r->ring = ring;
	r->chain = NULL;
	r->base = 0;
	r->sig = sig;
	r->pg = pg;
	r->digest = NULL;
	r->block = NULL;
	r->pos = 0;
	r->pending = 0;
	r->consumed = 0;
	r->err = RC_OK;
	r->msg[0] = '\0';
}

static void progress(struct rc_reader *r)
{
	if (r->pg == NULL)
		return;
	uint64_t end = atomic_load(&r->ring->stat_end);
	uint64_t first = atomic_load(&r->ring->stat_first);
	/* Several URLs: the total is not known before the last one. */
	rc_progress_update(r->pg, r->consumed + r->pending,
			   end == UINT64_MAX || r->chain ? UINT64_MAX
							 : end - first,
			   atomic_load(&r->ring->stat_active),
			   atomic_load(&r->ring->stat_retries), false);
}

/* At the end of a ring: moves to the chain's next one. False at the end
 * of the stream, or with r->err set on a failure. */
static bool advance(struct rc_reader *r)
{
	if (r->chain == NULL)
		return false;
	struct rc_ring *next = r->chain->next(r->chain->arg, r);
	if (next == NULL)
		return false;
	r->ring = next;
	r->pos = 0;
	r->base = r->consumed;
	return true;
}

static bool interrupted(struct rc_reader *r)
{
	if (*r->sig == 0)
		return false;
	r->err = rc_sched_signal_err(*r->sig, r->msg, sizeof r->msg);
	return true;
}

ssize_t rc_reader_next(struct rc_reader *r, const unsigned char **p)
{
	size_t n;

	/* Hashed only once consumed: bytes given back with
	 * rc_reader_unread are handed out (and hashed) again. */
	if (r->digest && r->pending)
		rc_digest_update(r->digest, r->block, r->pending);
	r->pos += r->pending;
	r->consumed += r->pending;
	r->pending = 0;
	for (;;) {
		if (interrupted(r))
			return -1;
		if (r->chain)
			r->chain->poll(r->chain->arg, r->ring);
		enum rc_next k = rc_ring_next(r->ring, r->pos, p, &n, 250);
		switch (k) {
		case RC_NEXT_DATA:
			r->pending = n;
			r->block = *p;
			progress(r);
			return (ssize_t)n;
		case RC_NEXT_SLOT_DONE:
			rc_ring_release(r->ring);
			r->pos = 0;
			break;
		case RC_NEXT_END:
			if (advance(r))
				break;
			return r->err == RC_OK ? 0 : -1;
		case RC_NEXT_ERROR:
			/* A transfer the signal aborted (the token fetch)
			 * may fail the ring first: the signal is the cause. */
			if (interrupted(r))
				return -1;
			r->err = rc_ring_error(r->ring, r->msg, sizeof r->msg);
			return -1;
		case RC_NEXT_TIMEOUT: progress(r); break;
		}
	}
}

void rc_reader_unread(struct rc_reader *r, size_t used)
{
	if (used < r->pending)
		r->pending = used;
}

ssize_t rc_reader_peek(struct rc_reader *r, size_t min, const unsigned char **p)
{
	const unsigned char *q, *start = NULL;
	size_t n, have = 0;

	while (have < min) {
		if (interrupted(r))
			return -1;
		if (r->chain)
			r->chain->poll(r->chain->arg, r->ring);
		enum rc_next k =
		    rc_ring_next(r->ring, r->pos + have, &q, &n, 250);
		if (k == RC_NEXT_END && have == 0 && advance(r))
			continue; /* an empty URL: the next one starts */
		if (k == RC_NEXT_END && r->err != RC_OK)
			return -1;
		if (k == RC_NEXT_DATA) {
			if (start == NULL)
				start = q;
			have += n;
		} else if (k == RC_NEXT_ERROR) {
			if (interrupted(r))
				return -1;
			r->err = rc_ring_error(r->ring, r->msg, sizeof r->msg);
			return -1;
		} else if (k != RC_NEXT_TIMEOUT) {
			break; /* the slot or the stream ended first */
		}
	}
	*p = start;
	return (ssize_t)have;
}
