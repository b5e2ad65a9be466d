/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The reorder ring (see ring.h for who may touch what).
 *
 * Waking the consumer costs a futex call, so the fetcher does it only when
 * the consumer said it is about to sleep. The handshake is the classic
 * store-then-load pair on both sides, all sequentially consistent: the
 * consumer stores sleeping = 1 then loads filled; the fetcher stores filled
 * then loads sleeping. At least one of them sees the other's store, so a
 * wake-up is never lost; and the fetcher signals under mu, which the
 * consumer holds from its check until pthread_cond_wait releases it.
 */
#include "ring.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

struct rc_ring *rc_ring_new(size_t nslots, size_t slot_size, uint64_t budget)
{
	struct rc_ring *r = calloc(1, sizeof *r);
	pthread_condattr_t ca;

	if (r == NULL || nslots == 0 || slot_size == 0 ||
	    nslots > SIZE_MAX / slot_size)
		goto fail;
	long page = sysconf(_SC_PAGESIZE);
	r->page = page > 0 ? (size_t)page : 4096;
	r->slots = calloc(nslots, sizeof *r->slots);
	r->pool = calloc(nslots, sizeof *r->pool);
	if (r->slots == NULL || r->pool == NULL)
		goto fail;
	r->nslots = nslots;
	r->slot_size = slot_size;
	r->cap = nslots < 2 ? nslots : 2;
	r->budget = budget < slot_size ? slot_size : budget;
	atomic_init(&r->nchunks, UINT64_MAX);
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	return r;
fail:
	if (r) {
		free(r->slots);
		free(r->pool);
		free(r);
	}
	return NULL;
}

void rc_ring_free(struct rc_ring *r)
{
	if (r == NULL)
		return;
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	for (size_t i = 0; i < r->nslots; i++)
		free(r->slots[i].buf);
	for (size_t i = 0; i < r->npool; i++)
		free(r->pool[i].p);
	free(r->slots);
	free(r->pool);
	free(r);
}

uint64_t rc_ring_budget_for(uint64_t memory, uint64_t size)
{
	uint64_t b = size == UINT64_MAX ? memory : size / 20;

	if (b < RC_RING_FLOOR)
		b = RC_RING_FLOOR;
	return b < memory ? b : memory;
}

void rc_ring_lower_budget(struct rc_ring *r, uint64_t budget, size_t min_slots,
			  bool keep_chunk)
{
	const uint64_t unit = 64u << 10;

	if (keep_chunk) {
		/* The chunk length asked for stays; two of them fit, unless
		 * the budget was smaller already. */
		uint64_t two = 2 * (uint64_t)r->slot_size;
		if (budget < two)
			budget = two;
	} else {
		if (budget < unit)
			budget = unit;
		uint64_t c = budget / (min_slots ? min_slots : 1) / unit * unit;
		if (c < unit)
			c = unit;
		if (c < r->slot_size)
			r->slot_size = (size_t)c;
	}
	if (budget < r->budget)
		r->budget = budget < r->slot_size ? r->slot_size : budget;
}

void rc_ring_raise_budget(struct rc_ring *r, uint64_t budget)
{
	if (budget > r->budget)
		r->budget = budget;
}

/* Frees pooled buffers (released chunks' buffers nobody took) until len
 * more bytes fit the budget, or the pool is empty. */
static void free_pool_for(struct rc_ring *r, size_t len)
{
	while (r->npool > 0 && r->held + len > r->budget) {
		r->npool--;
		r->held -= r->pool[r->npool].cap;
		free(r->pool[r->npool].p);
	}
}

/*
 * Takes back the buffers of the chunks the consumer released: they are
 * the fetcher's again (head was loaded after the consumer stopped
 * reading them). A buffer the full pool has no room for is freed.
 * A pooled buffer keeps its pages, so reusing it costs no page faults,
 * and the budget bounds them. Giving them back to the system
 * (madvise) on a far link, to trim RSS, was measured and removed: each
 * page then faulted again as bytes landed, and 1 GiB at 100 ms took
 * 9.54 s and 8.12 s of CPU against 5.72 s and 2.38 s (the link's
 * emulator shares the two cores), for 31 MiB of peak RSS against 32.
 */
static void reclaim(struct rc_ring *r, uint64_t head)
{
	for (; r->reclaimed < head; r->reclaimed++) {
		struct rc_slot *s = &r->slots[r->reclaimed % r->nslots];
		if (s->buf != NULL) {
			r->live -= s->bufcap;
			if (r->npool < r->nslots) {
				r->pool[r->npool++] =
				    (struct rc_buf){s->buf, s->bufcap};
			} else {
				/* The pool is full of shorter ones that the
				 * longer chunks since did not take. */
				r->held -= s->bufcap;
				free(s->buf);
			}
		}
		s->buf = NULL;
		s->bufcap = 0;
	}
}

/*
 * A new buffer for a chunk. On a short path its bytes land within
 * milliseconds, and one fault per page as they do cost the receiving
 * thread more than the copy (100 MiB on loopback as one stream: 1030
 * faults of 4 KiB, 73 ms of CPU; 51-63 ms with the pages taken at
 * once). prefault takes them in one call, and a buffer of 2 MiB or
 * more is aligned for the system's huge pages, where it allows them.
 * Elsewhere, a page is taken when its first byte lands.
 */
static unsigned char *new_buf(const struct rc_ring *r, size_t len)
{
	const size_t huge = 2u << 20;
	void *p = NULL;

	if (!r->prefault || len < huge)
		p = malloc(len);
	else if (posix_memalign(&p, huge, len) != 0)
		p = NULL;
	else
		(void)madvise(p, len & ~(huge - 1), MADV_HUGEPAGE);
	if (p != NULL && r->prefault) {
		uintptr_t page = (uintptr_t)r->page;
		uintptr_t a = ((uintptr_t)p + page - 1) & ~(page - 1);
		uintptr_t b = ((uintptr_t)p + len) & ~(page - 1);
		/* Before Linux 5.14 this fails, and faults take them. */
		if (b > a)
			(void)madvise((void *)a, b - a, MADV_POPULATE_WRITE);
	}
	return p;
}

/* Gives slot s the smallest pooled buffer of at least its length that
 * keeps the live chunks' buffers within most bytes, if one is there. */
static bool take_pooled(struct rc_ring *r, struct rc_slot *s, uint64_t most)
{
	size_t best = r->npool;

	for (size_t i = 0; i < r->npool; i++)
		if (r->pool[i].cap >= s->bufcap &&
		    r->live + r->pool[i].cap <= most &&
		    (best == r->npool || r->pool[i].cap < r->pool[best].cap))
			best = i;
	if (best == r->npool)
		return false;
	s->buf = r->pool[best].p;
	s->bufcap = r->pool[best].cap;
	r->pool[best] = r->pool[--r->npool];
	return true;
}

/* Gives slot s its buffer: a pooled one that keeps the live chunks'
 * buffers within most bytes, else a new one of its length (after the
 * pool gave back what the budget needs). False when memory is short. */
static bool acquire(struct rc_ring *r, struct rc_slot *s, uint64_t most)
{
	if (!take_pooled(r, s, most)) {
		free_pool_for(r, s->bufcap);
		/* At least one byte: malloc(0) may return NULL. */
		s->buf = new_buf(r, s->bufcap ? s->bufcap : 1);
		if (s->buf == NULL)
			return false;
		r->held += s->bufcap;
		if (r->held >
		    atomic_load_explicit(&r->peak, memory_order_relaxed))
			atomic_store(&r->peak, r->held);
	}
	r->live += s->bufcap;
	return true;
}

/* Whether a chunk that is not the head, len bytes long, may take its
 * buffer now: the live chunks other than the head leave the longest
 * chunk's room in the budget free, so that the head chunk, whichever it
 * will be, always finds its buffer within the budget (the head's own
 * buffer counts towards that room: it is freed before the next head
 * needs one). */
static bool fits_beside_head(const struct rc_ring *r, uint64_t head,
			     uint64_t len)
{
	const struct rc_slot *hs = &r->slots[head % r->nslots];
	uint64_t others = r->live - (hs->buf != NULL ? hs->bufcap : 0);

	return others + len + r->slot_size <= r->budget;
}

uint64_t rc_ring_edge(struct rc_ring *r)
{
	uint64_t head = atomic_load(&r->head);

	if (!r->near || head >= atomic_load(&r->claimed))
		return UINT64_MAX;
	uint64_t room = r->budget > 2 * (uint64_t)r->slot_size
			    ? r->budget - r->slot_size
			    : r->slot_size;
	return r->slots[head % r->nslots].off + room;
}

bool rc_ring_may_fill(struct rc_ring *r, uint64_t seq)
{
	struct rc_slot *s = &r->slots[seq % r->nslots];
	uint64_t head = atomic_load(&r->head);

	if (s->buf != NULL || seq == head)
		return true;
	reclaim(r, head);
	if (!fits_beside_head(r, head, s->bufcap))
		return false;
	if (s->off >= rc_ring_edge(r))
		return false;
	/* Take it now, so that a pooled buffer longer than the chunk
	 * counts as what it is. Short of memory, rc_ring_buf says so. */
	const struct rc_slot *hs = &r->slots[head % r->nslots];
	(void)acquire(r, s,
		      r->budget - r->slot_size +
			  (hs->buf != NULL ? hs->bufcap : 0));
	return true;
}

unsigned char *rc_ring_buf(struct rc_ring *r, uint64_t seq)
{
	struct rc_slot *s = &r->slots[seq % r->nslots];

	if (s->buf == NULL) {
		reclaim(r, atomic_load(&r->head));
		if (!acquire(r, s, r->budget))
			return NULL;
	}
	return s->buf;
}

/* The window is full: growing it is worth it only while the output waits
 * on the network, i.e. the head chunk is still incomplete. When the head
 * is complete the consumer is behind, and a bigger buffer would only
 * fill. */
static bool worth_growing(struct rc_ring *r, uint64_t head)
{
	const struct rc_slot *hs = &r->slots[head % r->nslots];

	return r->cap < r->nslots &&
	       atomic_load(&hs->filled) < atomic_load(&hs->len);
}

bool rc_ring_head_waits(struct rc_ring *r)
{
	uint64_t head = atomic_load(&r->head);

	return head < atomic_load(&r->claimed) &&
	       atomic_load(&r->slots[head % r->nslots].filled) <
		   atomic_load(&r->slots[head % r->nslots].len);
}

/* For -v: the window grew by one because a connection waited. */
static void log_growth(const struct rc_ring *r)
{
	rc_log("buffer grows to %zu slots (%" PRIu64 " of %" PRIu64
	       " bytes in use): a connection waited for a free slot",
	       r->cap, r->live, r->budget);
}

/*
 * Wakes the consumer if it announced it is going to sleep. It set
 * sleeping under mu and holds mu until pthread_cond_timedwait releases
 * it, so once the fetcher got mu the consumer waits on cv (or looks
 * again before it would): the signal after the unlock is not lost. Sent
 * under mu, the woken consumer would block on mu at once, held by the
 * fetcher: a futex wait and a wake more for every batch.
 */
static void wake_consumer(struct rc_ring *r)
{
	if (atomic_load(&r->sleeping)) {
		pthread_mutex_lock(&r->mu);
		pthread_mutex_unlock(&r->mu);
		pthread_cond_broadcast(&r->cv);
	}
}

uint64_t rc_ring_free_slots(struct rc_ring *r, uint64_t len)
{
	uint64_t c = atomic_load_explicit(&r->claimed, memory_order_relaxed);
	uint64_t head = atomic_load(&r->head);

	/* A claim is also refused when the live chunks' buffers leave no
	 * room for the next one's (rc_ring_claim): count only the chunks
	 * of len bytes the budget still holds, one after another. */
	reclaim(r, head);
	uint64_t fit = r->live < r->budget ? (r->budget - r->live) / len : 0;
	uint64_t n = head + r->cap > c ? head + r->cap - c : 0;
	return n < fit ? n : fit;
}

uint64_t rc_ring_claim(struct rc_ring *r, uint64_t off, uint64_t len)
{
	uint64_t seq = atomic_load_explicit(&r->claimed, memory_order_relaxed);
	uint64_t head = atomic_load(&r->head);
	bool grow = seq >= head + r->cap;

	if (len > r->slot_size || (grow && !worth_growing(r, head)))
		return UINT64_MAX;
	reclaim(r, head);
	/* seq < head + cap <= head + nslots: the chunk that used this slot
	 * before (seq - nslots) was released and its buffer reclaimed. */
	struct rc_slot *s = &r->slots[seq % r->nslots];
	/* No memory is taken until the first byte (rc_ring_buf): the
	 * claim is refused only when the buffers of live chunks leave no
	 * room for this one at all. */
	if (seq != head && r->live + len > r->budget)
		return UINT64_MAX;
	s->buf = NULL;
	s->bufcap = (size_t)len;
	if (grow) {
		r->cap++;
		log_growth(r);
	}
	s->off = off;
	atomic_store(&s->len, len);
	atomic_store(&s->filled, 0);
	atomic_store(&r->claimed, seq + 1);
	/* Only an empty head chunk gives the consumer something to do
	 * (its end); the others' bytes wake it as they land. */
	if (len == 0 && seq == atomic_load(&r->head))
		wake_consumer(r);
	return seq;
}

uint64_t rc_ring_claim_ahead(struct rc_ring *r, uint64_t off, uint64_t len)
{
	uint64_t seq = atomic_load_explicit(&r->claimed, memory_order_relaxed);
	uint64_t head = atomic_load(&r->head);

	if (len > r->slot_size || seq >= head + r->nslots)
		return UINT64_MAX;
	reclaim(r, head);
	struct rc_slot *s = &r->slots[seq % r->nslots];
	s->buf = NULL;
	s->bufcap = (size_t)len;
	if (seq - head + 1 > r->cap)
		r->cap = (size_t)(seq - head + 1);
	s->off = off;
	atomic_store(&s->len, len);
	atomic_store(&s->filled, 0);
	atomic_store(&r->claimed, seq + 1);
	if (len == 0 && seq == head)
		wake_consumer(r);
	return seq;
}

void rc_ring_trim(struct rc_ring *r, uint64_t seq, uint64_t len)
{
	struct rc_slot *s = &r->slots[seq % r->nslots];

	if (s->buf == NULL && len < s->bufcap)
		s->bufcap = (size_t)len;
	atomic_store(&s->len, len);
}

struct rc_slot *rc_ring_slot(struct rc_ring *r, uint64_t seq)
{
	return &r->slots[seq % r->nslots];
}

void rc_ring_filled(struct rc_ring *r, uint64_t seq, uint64_t filled)
{
	struct rc_slot *s = &r->slots[seq % r->nslots];

	atomic_store(&s->filled, filled);
	/* Only a batch (or the chunk's end) is worth a wake-up; the consumer
	 * looks again on its own within RC_RING_BATCH_MS. */
	if (seq == atomic_load(&r->head) && atomic_load(&r->sleeping) &&
	    (filled >= atomic_load(&r->want) || filled >= atomic_load(&s->len)))
		wake_consumer(r);
}

void rc_ring_end_at(struct rc_ring *r, uint64_t seq, uint64_t len)
{
	atomic_store(&r->slots[seq % r->nslots].len, len);
	atomic_store(&r->nchunks, seq + 1);
	wake_consumer(r);
}

void rc_ring_set_nchunks(struct rc_ring *r, uint64_t nchunks)
{
	atomic_store(&r->nchunks, nchunks);
	wake_consumer(r);
}

static void set_error_locked(struct rc_ring *r, enum rc_err err,
			     const char *msg)
{
	if (r->err != RC_OK)
		return;
	r->err = err;
	snprintf(r->errmsg, sizeof r->errmsg, "%s", msg ? msg : "");
}

void rc_ring_fail(struct rc_ring *r, enum rc_err err, const char *msg)
{
	pthread_mutex_lock(&r->mu);
	set_error_locked(r, err, msg);
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

bool rc_ring_stopped(struct rc_ring *r)
{
	pthread_mutex_lock(&r->mu);
	bool s = r->stopped;
	pthread_mutex_unlock(&r->mu);
	return s;
}

enum rc_err rc_ring_error(struct rc_ring *r, char *msg, size_t msglen)
{
	pthread_mutex_lock(&r->mu);
	enum rc_err e = r->err;
	if (msg)
		snprintf(msg, msglen, "%s", r->errmsg);
	pthread_mutex_unlock(&r->mu);
	return e;
}

/* Looks at the head without blocking; returns TIMEOUT for "nothing yet". */
static enum rc_next peek(struct rc_ring *r, uint64_t pos,
			 const unsigned char **p, size_t *n)
{
	uint64_t head = atomic_load(&r->head);

	if (head < atomic_load(&r->claimed)) {
		struct rc_slot *s = &r->slots[head % r->nslots];
		uint64_t filled = atomic_load(&s->filled);
		uint64_t len = atomic_load(&s->len);
		if (filled > pos) {
			*p = s->buf + pos;
			*n = (size_t)(filled - pos);
			return RC_NEXT_DATA;
		}
		if (pos >= len)
			return RC_NEXT_SLOT_DONE;
	} else if (head >= atomic_load(&r->nchunks)) {
		return RC_NEXT_END;
	}
	return RC_NEXT_TIMEOUT;
}

static void deadline(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static bool before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

enum rc_next rc_ring_next(struct rc_ring *r, uint64_t pos,
			  const unsigned char **p, size_t *n, int timeout_ms)
{
	enum rc_next k = peek(r, pos, p, n);
	struct timespec ts, batch;

	if (k != RC_NEXT_TIMEOUT)
		return k;
	deadline(&ts, timeout_ms);
	/* First wait for a batch, briefly; then for any byte. */
	bool batching = pos > 0 || atomic_load(&r->head) > 0;
	deadline(&batch, RC_RING_BATCH_MS);
	if (!batching || before(&ts, &batch))
		batch = ts;
	pthread_mutex_lock(&r->mu);
	atomic_store(&r->want, batching ? pos + RC_RING_BATCH : pos + 1);
	atomic_store(&r->sleeping, 1);
	for (;;) {
		k = peek(r, pos, p, n);
		if (k != RC_NEXT_TIMEOUT)
			break;
		if (r->err != RC_OK) {
			k = RC_NEXT_ERROR;
			break;
		}
		if (pthread_cond_timedwait(&r->cv, &r->mu, &batch) ==
		    ETIMEDOUT) {
			k = peek(r, pos, p, n);
			if (k == RC_NEXT_TIMEOUT && r->err != RC_OK)
				k = RC_NEXT_ERROR;
			if (k != RC_NEXT_TIMEOUT || !before(&batch, &ts))
				break;
			/* No byte within the batch time: the next one
			 * wakes us. */
			atomic_store(&r->want, pos + 1);
			batch = ts;
		}
	}
	atomic_store(&r->sleeping, 0);
	pthread_mutex_unlock(&r->mu);
	return k;
}

void rc_ring_release(struct rc_ring *r)
{
	atomic_store(&r->head, atomic_load(&r->head) + 1);
	if (r->wake_fetcher)
		r->wake_fetcher(r->wake_arg);
}

void rc_ring_stop(struct rc_ring *r, enum rc_err err, const char *msg)
{
	pthread_mutex_lock(&r->mu);
	r->stopped = true;
	if (err != RC_OK)
		set_error_locked(r, err, msg);
	pthread_mutex_unlock(&r->mu);
	if (r->wake_fetcher)
		r->wake_fetcher(r->wake_arg);
}

void rc_ring_wake(struct rc_ring *r)
{
	if (r->wake_fetcher)
		r->wake_fetcher(r->wake_arg);
}
