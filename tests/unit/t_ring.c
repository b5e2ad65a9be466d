/* The ring: partial head, out-of-order fills, wrap-around, end, errors;
 * the window that grows only while the head waits, buffers within the
 * budget, the 5% rule; and producer threads racing the consumer over many
 * wraps, with fixed and with varying chunk lengths. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "ring.h"

static unsigned char pat(uint64_t off)
{
	return (unsigned char)(off * 2654435761u >> 13);
}

static void put(struct rc_ring *r, uint64_t seq, uint64_t from, uint64_t to)
{
	struct rc_slot *s = rc_ring_slot(r, seq);
	unsigned char *b = rc_ring_buf(r, seq);
	for (uint64_t i = from; i < to; i++)
		b[i] = pat(s->off + i);
	rc_ring_filled(r, seq, to);
}

#define SLOT 4096
#define NCHUNK 600

static void *producer(void *arg)
{
	struct rc_ring *r = arg;
	uint64_t next = 0;
	unsigned seed = 7;

	/* Claim up to three chunks, fill them in a scrambled order, in
	 * pieces, like three connections of different speeds. */
	while (next < NCHUNK) {
		uint64_t seqs[3];
		int n = 0;
		while (n < 3 && next < NCHUNK) {
			uint64_t seq = rc_ring_claim(r, next * SLOT, SLOT);
			if (seq == UINT64_MAX)
				break;
			seqs[n++] = seq;
			next++;
		}
		if (n == 0) {
			sched_yield();
			continue;
		}
		uint64_t done[3] = {0, 0, 0};
		for (int left = n; left > 0;) {
			int i = (int)(rand_r(&seed) % (unsigned)n);
			if (done[i] == SLOT)
				continue;
			uint64_t k = 1 + rand_r(&seed) % 1500;
			if (done[i] + k > SLOT)
				k = SLOT - done[i];
			put(r, seqs[i], done[i], done[i] + k);
			done[i] += k;
			left -= done[i] == SLOT;
		}
	}
	rc_ring_set_nchunks(r, NCHUNK);
	return NULL;
}

static void threaded(void)
{
	struct rc_ring *r = rc_ring_new(4, SLOT, 4 * SLOT);
	pthread_t t;
	uint64_t pos = 0, total = 0;
	int bad = 0;

	pthread_create(&t, NULL, producer, r);
	for (;;) {
		const unsigned char *p;
		size_t n;
		enum rc_next k = rc_ring_next(r, pos, &p, &n, 1000);
		if (k == RC_NEXT_DATA) {
			for (size_t i = 0; i < n; i++)
				bad += p[i] != pat(total + i);
			pos += n;
			total += n;
		} else if (k == RC_NEXT_SLOT_DONE) {
			rc_ring_release(r);
			pos = 0;
		} else if (k == RC_NEXT_END) {
			break;
		} else if (k == RC_NEXT_ERROR) {
			bad++;
			break;
		}
	}
	pthread_join(t, NULL);
	CHECK(bad == 0);
	CHECK(total == (uint64_t)NCHUNK * SLOT);
	rc_ring_free(r);
}

/* Consumes whatever landed in order; returns the bytes handed out. */
static uint64_t drain(struct rc_ring *r, uint64_t *pos, uint64_t *total,
		      int *bad)
{
	const unsigned char *p;
	size_t n;
	uint64_t got = 0;

	for (;;) {
		enum rc_next k = rc_ring_next(r, *pos, &p, &n, 0);
		if (k == RC_NEXT_DATA) {
			for (size_t i = 0; i < n; i++)
				*bad += p[i] != pat(*total + i);
			*pos += n;
			*total += n;
			got += n;
		} else if (k == RC_NEXT_SLOT_DONE) {
			rc_ring_release(r);
			*pos = 0;
		} else {
			return got;
		}
	}
}

/* A released chunk's buffer goes to the pool with its pages and bytes
 * kept (no page faults when it is reused), and the chunk that takes it
 * next holds its own bytes. */
static void pooled_keeps_pages(void)
{
	const uint64_t len = 256 << 10;
	struct rc_ring *r = rc_ring_new(4, len, 4 * len);
	uint64_t pos = 0, total = 0;
	int bad = 0;

	uint64_t seq = rc_ring_claim(r, total, len);
	CHECK(seq != UINT64_MAX);
	put(r, seq, 0, len);
	unsigned char *b = rc_ring_buf(r, seq);
	CHECK(drain(r, &pos, &total, &bad) == len && bad == 0);
	/* the next claim reclaims the released buffer into the pool; the
	 * middle page shows that its pages stayed */
	uint64_t next = rc_ring_claim(r, total, len);
	CHECK(next == seq + 1 && r->npool == 1 && r->pool[0].p == b);
	size_t mid = len / 2;
	CHECK(b[mid] == pat(total - len + mid));
	put(r, next, 0, len);
	CHECK(rc_ring_buf(r, next) == b);
	CHECK(drain(r, &pos, &total, &bad) == len && bad == 0);
	rc_ring_free(r);
}

/* Pages of [p, p + len) in memory, by mincore. */
static size_t resident(const unsigned char *p, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = ((uintptr_t)p + page - 1) & ~(uintptr_t)(page - 1);
	uintptr_t b = ((uintptr_t)p + len) & ~(uintptr_t)(page - 1);
	size_t n = b > a ? (b - a) / page : 0, in = 0;
	unsigned char *v = calloc(n ? n : 1, 1);

	if (v != NULL && n > 0 && mincore((void *)a, b - a, v) == 0)
		for (size_t i = 0; i < n; i++)
			in += v[i] & 1;
	free(v);
	return in;
}

/* prefault: a new buffer's pages are in memory before its first byte
 * lands, the huge-page-aligned length (2 MiB and more) as well as a
 * short one; without it a new buffer takes none until written (both
 * lengths are beyond malloc's mmap threshold: fresh pages). The bytes
 * still come out as written. */
static void prefault(void)
{
	const uint64_t lens[] = {256 << 10, 3 << 20};
	uint64_t pos = 0, total = 0;
	int bad = 0;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *m = mmap(NULL, page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* MADV_POPULATE_WRITE came with Linux 5.14: before it, faults
	 * take the pages as bytes land, and there is nothing to see. */
	bool can =
	    m != MAP_FAILED && madvise(m, page, MADV_POPULATE_WRITE) == 0;

	if (m != MAP_FAILED)
		munmap(m, page);

	for (int on = 0; on < 2; on++)
		for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
			uint64_t len = lens[i];
			struct rc_ring *r = rc_ring_new(4, len, 4 * len);
			pos = total = 0;
			r->prefault = on;
			uint64_t seq = rc_ring_claim(r, 0, len);
			CHECK(seq == 0);
			unsigned char *b = rc_ring_buf(r, seq);
			size_t pages = (size_t)len / (size_t)r->page - 1;
			size_t in = resident(b, len);
			CHECK(on && can ? in >= pages : in <= 1);
			put(r, seq, 0, len);
			CHECK(drain(r, &pos, &total, &bad) == len && bad == 0);
			rc_ring_free(r);
		}
}

/* The window starts at two slots and grows only while the head chunk is
 * incomplete; buffers are allocated at the first byte, reused after
 * release, and never exceed the budget. */
static void growth(void)
{
	struct rc_ring *r = rc_ring_new(8, 100, 350);
	uint64_t pos = 0, total = 0;
	int bad = 0;

	CHECK(r->cap == 2 && atomic_load(&r->peak) == 0);
	CHECK(rc_ring_claim(r, 0, 100) == 0 && rc_ring_claim(r, 100, 100) == 1);
	CHECK(atomic_load(&r->peak) == 0); /* reserved, not allocated */
	/* the head complete but unwritten: the consumer is behind, so a
	 * waiting connection does not grow the ring */
	put(r, 0, 0, 100);
	CHECK(rc_ring_free_slots(r, 100) == 0);
	CHECK(rc_ring_claim(r, 200, 100) == UINT64_MAX && r->cap == 2);
	CHECK(drain(r, &pos, &total, &bad) == 100 && bad == 0);
	/* the head (chunk 1) still waits on the network: grow */
	CHECK(rc_ring_claim(r, 200, 100) == 2 && r->cap == 2);
	CHECK(rc_ring_claim(r, 300, 100) == 3 && r->cap == 3);
	/* a claim takes no memory: chunk 0's buffer is pooled, none live */
	CHECK(r->held == 100 && r->live == 0);
	CHECK(rc_ring_claim(r, 400, 100) == 4 && r->cap == 4);
	/* the budget holds when bytes land, and keeps the longest chunk's
	 * room for the head: chunk 3 takes chunk 0's buffer, chunk 2 a
	 * new one (200 live, 100 of room left for the head), chunk 4 may
	 * not; the head always may */
	CHECK(rc_ring_may_fill(r, 3) && rc_ring_buf(r, 3) != NULL &&
	      r->live == 100 && r->held == 100);
	CHECK(rc_ring_may_fill(r, 2) && rc_ring_buf(r, 2) != NULL &&
	      r->live == 200 && r->held == 200);
	CHECK(!rc_ring_may_fill(r, 4));
	CHECK(rc_ring_may_fill(r, 1) && rc_ring_buf(r, 1) != NULL &&
	      r->held == 300);
	CHECK(!rc_ring_may_fill(r, 4));
	/* live chunks sit in distinct slots with distinct buffers */
	for (uint64_t a = 1; a <= 3; a++)
		for (uint64_t b = a + 1; b <= 3; b++)
			CHECK(rc_ring_slot(r, a) != rc_ring_slot(r, b) &&
			      rc_ring_buf(r, a) != rc_ring_buf(r, b));
	for (uint64_t q = 1; q <= 3; q++)
		put(r, q, 0, 100);
	CHECK(drain(r, &pos, &total, &bad) == 300 && bad == 0);
	/* the output took chunks 1-3: chunk 4, now the head, takes a
	 * buffer they gave back */
	CHECK(rc_ring_may_fill(r, 4));
	put(r, 4, 0, 100);
	CHECK(r->held == 300 && r->live == 100);
	rc_ring_set_nchunks(r, 5);
	CHECK(drain(r, &pos, &total, &bad) == 100 && bad == 0);
	CHECK(total == 500);
	CHECK(atomic_load(&r->peak) == 300);
	CHECK(rc_ring_next(r, pos, &(const unsigned char *){NULL}, &(size_t){0},
			   0) == RC_NEXT_END);
	rc_ring_free(r);

	/* a probe's chunk that shrinks before its first byte (a small file)
	 * allocates only what it holds */
	r = rc_ring_new(4, 1000, 4000);
	CHECK(rc_ring_claim(r, 0, 1000) == 0);
	rc_ring_trim(r, 0, 10);
	put(r, 0, 0, 10);
	CHECK(atomic_load(&r->peak) == 10 && r->held == 10 && r->live == 10);
	rc_ring_free(r);

	/* a chunk cut while it fills (a stream that gives way, fetch.c's
	 * stream_cut): the consumer read part of it, the chunk ends sooner,
	 * the next one starts there and lands first; the bytes come out in
	 * order and end where the cut says, and its buffer keeps its size */
	r = rc_ring_new(4, 1000, 4000);
	pos = total = 0;
	bad = 0;
	CHECK(rc_ring_claim(r, 0, 1000) == 0);
	put(r, 0, 0, 300);
	CHECK(drain(r, &pos, &total, &bad) == 300 && bad == 0);
	rc_ring_trim(r, 0, 384);
	CHECK(rc_ring_claim(r, 384, 616) == 1);
	put(r, 1, 0, 616);
	CHECK(drain(r, &pos, &total, &bad) == 0);
	CHECK(r->live == 1616);
	put(r, 0, 300, 384);
	CHECK(drain(r, &pos, &total, &bad) == 700 && bad == 0 && total == 1000);
	rc_ring_free(r);

	/* chunks that get longer each time: no released buffer fits the
	 * next chunk, and the pool (room for nslots) must not overflow */
	r = rc_ring_new(2, 100, 10000);
	pos = total = 0;
	for (uint64_t q = 0, off = 0; q < 40; off += q + 1, q++) {
		CHECK(rc_ring_claim(r, off, q + 1) == q);
		put(r, q, 0, q + 1);
		drain(r, &pos, &total, &bad);
	}
	CHECK(bad == 0 && total == 40 * 41 / 2 && r->npool <= 2);
	CHECK(r->held <= r->budget && r->live <= r->held);
	rc_ring_free(r);

	/* a ring of one slot never grows, and still works */
	r = rc_ring_new(1, 10, 10);
	CHECK(r->cap == 1 && rc_ring_claim(r, 0, 10) == 0 &&
	      rc_ring_claim(r, 10, 10) == UINT64_MAX);
	rc_ring_free(r);
}

/* The 5% rule and what lowering the budget does to the chunk length. */
static void budget_rule(void)
{
	const uint64_t M = 1u << 20;

	CHECK(rc_ring_budget_for(64 * M, 1024) == RC_RING_FLOOR);
	CHECK(rc_ring_budget_for(64 * M, M) == RC_RING_FLOOR);
	CHECK(rc_ring_budget_for(64 * M, 20 * M) == RC_RING_FLOOR);
	CHECK(rc_ring_budget_for(64 * M, 100000000) == 5000000);
	CHECK(rc_ring_budget_for(64 * M, 1ull << 40) == 64 * M);
	CHECK(rc_ring_budget_for(64 * M, UINT64_MAX) == 64 * M);
	CHECK(rc_ring_budget_for(M, 100000000) == M);

	struct rc_ring *r = rc_ring_new(256, 4 * M, 64 * M);
	/* 2 MiB for 9 chunks: 227 KiB, in 64 KiB steps */
	rc_ring_lower_budget(r, 2 * M, 9, false);
	CHECK(r->budget == 2 * M && r->slot_size == 192u << 10);
	CHECK(rc_ring_claim(r, 0, 256u << 10) == UINT64_MAX);
	rc_ring_lower_budget(r, 32 * M, 9, false); /* never rises */
	CHECK(r->budget == 2 * M);
	/* ... unless raised, which keeps the chunk length and never lowers */
	rc_ring_raise_budget(r, 4 * M);
	CHECK(r->budget == 4 * M && r->slot_size == 192u << 10);
	rc_ring_raise_budget(r, 3 * M);
	CHECK(r->budget == 4 * M);
	rc_ring_free(r);
	/* a --chunk-size given stays; the budget keeps two chunks */
	r = rc_ring_new(64, 16 * M, 64 * M);
	rc_ring_lower_budget(r, 2 * M, 9, true);
	CHECK(r->budget == 32 * M && r->slot_size == 16 * M);
	rc_ring_free(r);
	/* ... but not more than it had */
	r = rc_ring_new(64, 16 * M, 16 * M);
	rc_ring_lower_budget(r, 2 * M, 9, true);
	CHECK(r->budget == 16 * M);
	rc_ring_free(r);
}

/*
 * A model check, one thread: random claims of random lengths, random
 * fills, random consumption. After every step the window invariant
 * holds (claimed - head <= cap <= nslots), live chunks occupy distinct
 * slots and disjoint buffers, the bytes in buffers stay in the budget,
 * and every byte read is the right one.
 */
static void model(void)
{
	enum { NS = 6, SZ = 64, BUDGET = 4 * SZ, N = 3000 };
	struct rc_ring *r = rc_ring_new(NS, SZ, BUDGET);
	uint64_t off = 0, pos = 0, total = 0, fill[NS];
	unsigned seed = 11;
	int bad = 0, broken = 0;
	uint64_t nclaimed = 0;

	while (total < (uint64_t)N * SZ / 2) {
		unsigned op = (unsigned)rand_r(&seed) % 3;
		uint64_t head = atomic_load(&r->head);
		uint64_t claimed = atomic_load(&r->claimed);
		if (op == 0) {
			uint64_t len = 1 + (unsigned)rand_r(&seed) % SZ;
			uint64_t seq = rc_ring_claim(r, off, len);
			if (seq != UINT64_MAX) {
				broken += seq != claimed;
				fill[seq % NS] = 0;
				off += len;
				nclaimed++;
			}
		} else if (op == 1 && claimed > head) {
			uint64_t seq =
			    head + (unsigned)rand_r(&seed) % (claimed - head);
			struct rc_slot *s = rc_ring_slot(r, seq);
			uint64_t len = atomic_load(&s->len);
			uint64_t k = (unsigned)rand_r(&seed) % (SZ / 2 + 1);
			uint64_t *f = &fill[seq % NS];
			if (*f + k > len)
				k = len - *f;
			/* the fetcher pauses a reply that may not fill */
			if (k > 0 && rc_ring_may_fill(r, seq))
				put(r, seq, *f, *f + k);
			else
				k = 0;
			*f += k;
		} else {
			drain(r, &pos, &total, &bad);
		}
		head = atomic_load(&r->head);
		claimed = atomic_load(&r->claimed);
		broken += claimed - head > r->cap || r->cap > NS;
		broken += r->held > BUDGET || atomic_load(&r->peak) > BUDGET;
		for (uint64_t a = head; a < claimed; a++) {
			struct rc_slot *sa = rc_ring_slot(r, a);
			for (uint64_t b = a + 1; b < claimed; b++) {
				struct rc_slot *sb = rc_ring_slot(r, b);
				broken += sa == sb;
				broken += sa->buf && sb->buf &&
					  sa->buf < sb->buf + sb->bufcap &&
					  sb->buf < sa->buf + sa->bufcap;
			}
			broken += sa->bufcap < atomic_load(&sa->len);
		}
	}
	CHECK(bad == 0 && broken == 0);
	CHECK(r->cap > 2 && nclaimed > 1000); /* it did grow, and wrap */
	rc_ring_free(r);
}

/* Two threads, chunks of varying length (as adaptive chunk sizes make
 * them), a window that starts at two and a budget below nslots chunks:
 * the consumer gets every byte once, in order. */
#define VNCHUNK 3000
static void *producer_varying(void *arg)
{
	struct rc_ring *r = arg;
	uint64_t next = 0, off = 0;
	unsigned seed = 5;

	while (next < VNCHUNK) {
		uint64_t seqs[4], lens[4], done[4] = {0, 0, 0, 0};
		int n = 0;
		while (n < 4 && next < VNCHUNK) {
			uint64_t len = 1 + (unsigned)rand_r(&seed) % SLOT;
			uint64_t seq = rc_ring_claim(r, off, len);
			if (seq == UINT64_MAX)
				break;
			seqs[n] = seq;
			lens[n++] = len;
			off += len;
			next++;
		}
		if (n == 0) {
			sched_yield();
			continue;
		}
		/* the later chunks first, in scrambled pieces, the first of
		 * the batch last: the ring grows while it waits */
		for (int left = n; left > 0;) {
			int i = left == 1 && done[0] < lens[0]
				    ? 0
				    : 1 + (int)((unsigned)rand_r(&seed) %
						(unsigned)(n > 1 ? n - 1 : 1));
			if (i >= n || done[i] == lens[i])
				continue;
			uint64_t k = 1 + (unsigned)rand_r(&seed) % 1500;
			if (done[i] + k > lens[i])
				k = lens[i] - done[i];
			put(r, seqs[i], done[i], done[i] + k);
			done[i] += k;
			left -= done[i] == lens[i];
		}
	}
	rc_ring_set_nchunks(r, VNCHUNK);
	return NULL;
}

static void threaded_varying(void)
{
	struct rc_ring *r = rc_ring_new(16, SLOT, 6 * SLOT);
	pthread_t t;
	uint64_t pos = 0, total = 0;
	int bad = 0;

	pthread_create(&t, NULL, producer_varying, r);
	for (;;) {
		const unsigned char *p;
		size_t n;
		enum rc_next k = rc_ring_next(r, pos, &p, &n, 1000);
		if (k == RC_NEXT_DATA) {
			for (size_t i = 0; i < n; i++)
				bad += p[i] != pat(total + i);
			pos += n;
			total += n;
		} else if (k == RC_NEXT_SLOT_DONE) {
			rc_ring_release(r);
			pos = 0;
		} else if (k == RC_NEXT_END) {
			break;
		} else if (k == RC_NEXT_ERROR) {
			bad++;
			break;
		}
	}
	pthread_join(t, NULL);
	CHECK(bad == 0);
	CHECK(atomic_load(&r->claimed) == VNCHUNK);
	CHECK(atomic_load(&r->peak) <= 6 * SLOT && r->cap <= 16);
	rc_ring_free(r);
}

/* Stripes: chunks claimed far ahead take no memory, and with near a
 * chunk takes its buffer only before the edge (the head chunk's start,
 * and the budget but the longest chunk), however much the budget has. */
static void ahead(void)
{
	const unsigned char *p;
	size_t n;
	struct rc_ring *r = rc_ring_new(40, 100, 1000);

	CHECK(r != NULL);
	/* 40 slots: claims run to head + 40, the window grown to hold
	 * them, whatever the budget of 10 chunks says. */
	for (uint64_t i = 0; i < 40; i++)
		CHECK(rc_ring_claim_ahead(r, i * 100, 100) == i);
	CHECK(rc_ring_claim_ahead(r, 4000, 100) == UINT64_MAX);
	CHECK(r->cap == 40 && r->held == 0);
	CHECK(rc_ring_claim_ahead(r, 4000, 101) == UINT64_MAX);
	CHECK(rc_ring_free_slots(r, 100) == 0); /* no underflow */
	/* Without near: the budget alone (9 beside the head's room). */
	CHECK(rc_ring_edge(r) == UINT64_MAX);
	CHECK(rc_ring_may_fill(r, 30));
	/* With near: only chunks starting before 0 + 1000 - 100. */
	r->near = true;
	CHECK(rc_ring_edge(r) == 900);
	CHECK(rc_ring_may_fill(r, 30)); /* has its buffer already */
	CHECK(rc_ring_may_fill(r, 8) && !rc_ring_may_fill(r, 9) &&
	      !rc_ring_may_fill(r, 20));
	CHECK(rc_ring_may_fill(r, 0)); /* the head always may */
	/* The head moves on: the edge with it. */
	put(r, 0, 0, 100);
	CHECK(rc_ring_next(r, 0, &p, &n, 10) == RC_NEXT_DATA && n == 100);
	CHECK(rc_ring_next(r, 100, &p, &n, 10) == RC_NEXT_SLOT_DONE);
	rc_ring_release(r);
	CHECK(rc_ring_edge(r) == 1000);
	CHECK(rc_ring_may_fill(r, 9) && !rc_ring_may_fill(r, 10));
	rc_ring_free(r);
}

int main(void)
{
	struct rc_ring *r = rc_ring_new(3, 100, 300);
	const unsigned char *p;
	size_t n;

	CHECK(r != NULL);
	CHECK(rc_ring_next(r, 0, &p, &n, 10) == RC_NEXT_TIMEOUT);
	uint64_t a = rc_ring_claim(r, 0, 100);
	uint64_t b = rc_ring_claim(r, 100, 100);
	uint64_t c = rc_ring_claim(r, 200, 50);
	CHECK(a == 0 && b == 1 && c == 2);
	CHECK(rc_ring_free_slots(r, 100) == 0 &&
	      rc_ring_claim(r, 250, 10) == UINT64_MAX);
	CHECK(rc_ring_claim(r, 250, 101) == UINT64_MAX);

	/* later chunks land first: nothing for the consumer yet */
	put(r, 2, 0, 50);
	put(r, 1, 0, 100);
	CHECK(rc_ring_next(r, 0, &p, &n, 10) == RC_NEXT_TIMEOUT);
	/* a partial head is handed out at once */
	put(r, 0, 0, 30);
	CHECK(rc_ring_next(r, 0, &p, &n, 10) == RC_NEXT_DATA && n == 30 &&
	      p[0] == pat(0) && p[29] == pat(29));
	CHECK(rc_ring_next(r, 30, &p, &n, 10) == RC_NEXT_TIMEOUT);
	put(r, 0, 30, 100);
	CHECK(rc_ring_next(r, 30, &p, &n, 10) == RC_NEXT_DATA && n == 70 &&
	      p[0] == pat(30));
	CHECK(rc_ring_next(r, 100, &p, &n, 10) == RC_NEXT_SLOT_DONE);
	rc_ring_release(r);
	/* wrap-around: chunk 3 reuses slot 0 */
	unsigned char *b0 = rc_ring_slot(r, 0)->buf;
	CHECK(rc_ring_free_slots(r, 100) == 1);
	uint64_t d = rc_ring_claim(r, 250, 60);
	CHECK(d == 3 && rc_ring_slot(r, 3) == rc_ring_slot(r, 0));
	/* the released chunk's buffer serves the next one: no allocation */
	CHECK(rc_ring_buf(r, 3) == b0 && atomic_load(&r->peak) == 250);
	CHECK(rc_ring_next(r, 0, &p, &n, 10) == RC_NEXT_DATA && n == 100 &&
	      p[0] == pat(100));
	CHECK(rc_ring_next(r, 100, &p, &n, 10) == RC_NEXT_SLOT_DONE);
	rc_ring_release(r);
	CHECK(rc_ring_next(r, 0, &p, &n, 10) == RC_NEXT_DATA && n == 50);
	rc_ring_release(r);
	/* a stream that ends early shrinks its last chunk */
	put(r, 3, 0, 20);
	rc_ring_end_at(r, 3, 20);
	CHECK(rc_ring_next(r, 0, &p, &n, 10) == RC_NEXT_DATA && n == 20 &&
	      p[0] == pat(250));
	CHECK(rc_ring_next(r, 20, &p, &n, 10) == RC_NEXT_SLOT_DONE);
	rc_ring_release(r);
	CHECK(rc_ring_next(r, 0, &p, &n, 10) == RC_NEXT_END);
	rc_ring_free(r);

	/* an error still lets the landed prefix out, then reports */
	r = rc_ring_new(2, 10, 20);
	rc_ring_claim(r, 0, 10);
	put(r, 0, 0, 4);
	rc_ring_fail(r, RC_E_NETWORK, "boom");
	rc_ring_fail(r, RC_E_CHANGED, "second");
	CHECK(rc_ring_next(r, 0, &p, &n, 10) == RC_NEXT_DATA && n == 4);
	CHECK(rc_ring_next(r, 4, &p, &n, 10) == RC_NEXT_ERROR);
	char msg[32];
	CHECK(rc_ring_error(r, msg, sizeof msg) == RC_E_NETWORK &&
	      strcmp(msg, "boom") == 0);
	CHECK(!rc_ring_stopped(r));
	rc_ring_stop(r, RC_OK, NULL);
	CHECK(rc_ring_stopped(r));
	rc_ring_free(r);
	rc_ring_free(NULL);

	/* a stream (a server that ignores Range) writes on into the next
	 * chunk only when free_slots says it may: a free slot the budget has
	 * no room for is not room (a budget of one chunk, the probe's short
	 * chunk live) */
	r = rc_ring_new(4, 100, 100);
	CHECK(rc_ring_claim(r, 0, 50) == 0 && rc_ring_buf(r, 0) != NULL);
	CHECK(rc_ring_free_slots(r, 100) == 0 &&
	      rc_ring_claim(r, 50, 100) == UINT64_MAX);
	put(r, 0, 0, 50);
	CHECK(rc_ring_next(r, 0, &p, &n, 10) == RC_NEXT_DATA && n == 50);
	CHECK(rc_ring_next(r, 50, &p, &n, 10) == RC_NEXT_SLOT_DONE);
	rc_ring_release(r);
	CHECK(rc_ring_free_slots(r, 100) == 1 &&
	      rc_ring_claim(r, 50, 100) == 1);
	rc_ring_free(r);

	CHECK(rc_ring_new(0, 10, 10) == NULL);
	threaded();
	growth();
	pooled_keeps_pages();
	prefault();
	budget_rule();
	model();
	threaded_varying();
	ahead();
	return DONE();
}
