/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The ring as a byte stream for the sinks. A block handed out stays in its
 * slot until the next call, which is what libarchive's read callback and
 * libzstd's input buffer need: the compressed bytes are never copied.
 */
#include "reader.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sched.h"

void rc_reader_init(struct rc_reader *r, struct rc_ring *ring,
		    struct rc_run *run, volatile sig_atomic_t *sig,
		    struct rc_progress_state *pg)
{
	r->ring = ring;
	r->run = run;
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
	r->src = -1;
	r->src_left = r->src_total = 0;
	r->src_buf = NULL;
	r->src_cap = r->src_len = r->src_at = 0;
	r->tap = NULL;
	r->tap_arg = NULL;
}

void rc_reader_from_fd(struct rc_reader *r, int fd, uint64_t len,
		       unsigned char *buf, size_t cap)
{
	r->src = fd;
	r->src_left = r->src_total = len;
	r->src_buf = buf;
	r->src_cap = cap;
	r->src_len = r->src_at = 0;
}

static bool interrupted(struct rc_reader *r);

/* Reads from src until min bytes are held past src_at, or src ends.
 * Returns false with r->err set on a read error or a file that ends
 * before its length. */
static bool src_fill(struct rc_reader *r, size_t min)
{
	if (r->src_at > 0) {
		memmove(r->src_buf, r->src_buf + r->src_at,
			r->src_len - r->src_at);
		r->src_len -= r->src_at;
		r->src_at = 0;
	}
	while (r->src_len < min && r->src_len < r->src_cap && r->src_left > 0) {
		size_t want = r->src_cap - r->src_len;
		if (want > r->src_left)
			want = (size_t)r->src_left;
		ssize_t n = read(r->src, r->src_buf + r->src_len, want);
		if (n < 0 && errno == EINTR) {
			if (interrupted(r))
				return false;
			continue;
		}
		if (n <= 0) {
			r->err = RC_E_OUTPUT;
			snprintf(r->msg, sizeof r->msg,
				 "--cache: reading the entry: %s",
				 n < 0 ? strerror(errno)
				       : "it ends before its recorded size");
			return false;
		}
		r->src_len += (size_t)n;
		r->src_left -= (uint64_t)n;
	}
	return true;
}

/* rc_reader_next for a cache entry: the previous block is counted. */
static ssize_t src_next(struct rc_reader *r, const unsigned char **p)
{
	if (interrupted(r))
		return -1;
	if (r->src_at == r->src_len && !src_fill(r, 1))
		return -1;
	if (r->src_at == r->src_len)
		return 0;
	*p = r->block = r->src_buf + r->src_at;
	r->pending = r->src_len - r->src_at;
	if (r->pg)
		rc_progress_update(r->pg, r->consumed + r->pending,
				   r->src_total, 0, 0, false);
	return (ssize_t)r->pending;
}

static void progress(struct rc_reader *r)
{
	if (r->pg == NULL || r->run == NULL)
		return;
	uint64_t end = atomic_load(&r->run->end);
	uint64_t first = atomic_load(&r->run->first);
	/* Several URLs: the total is not known before the last one. */
	rc_progress_update(
	    r->pg, r->consumed + r->pending,
	    end == UINT64_MAX || r->chain ? UINT64_MAX : end - first,
	    atomic_load(&r->run->active), atomic_load(&r->run->retries), false);
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
	if (r->tap && r->pending)
		r->tap(r->tap_arg, r->block, r->pending);
	r->src_at += r->pending;
	r->pos += r->pending;
	r->consumed += r->pending;
	r->pending = 0;
	if (r->src >= 0)
		return src_next(r, p);
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

	if (r->src >= 0) {
		if (interrupted(r) ||
		    !src_fill(r, min < r->src_cap ? min : r->src_cap))
			return -1;
		*p = r->src_buf + r->src_at;
		return (ssize_t)(r->src_len - r->src_at);
	}

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
