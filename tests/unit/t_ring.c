/* The ring: partial head, out-of-order fills, wrap-around, end, errors,
 * and a producer thread racing the consumer over many wraps. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ring.h"

static unsigned char pat(uint64_t off)
{
	return (unsigned char)(off * 2654435761u >> 13);
}

static void put(struct rc_ring *r, uint64_t seq, uint64_t from, uint64_t to)
{
	struct rc_slot *s = rc_ring_slot(r, seq);
	for (uint64_t i = from; i < to; i++)
		s->buf[i] = pat(s->off + i);
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
	struct rc_ring *r = rc_ring_new(4, SLOT);
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

int main(void)
{
	struct rc_ring *r = rc_ring_new(3, 100);
	const unsigned char *p;
	size_t n;

	CHECK(r != NULL);
	CHECK(rc_ring_next(r, 0, &p, &n, 10) == RC_NEXT_TIMEOUT);
	uint64_t a = rc_ring_claim(r, 0, 100);
	uint64_t b = rc_ring_claim(r, 100, 100);
	uint64_t c = rc_ring_claim(r, 200, 50);
	CHECK(a == 0 && b == 1 && c == 2);
	CHECK(rc_ring_free_slots(r) == 0 &&
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
	CHECK(rc_ring_free_slots(r) == 1);
	uint64_t d = rc_ring_claim(r, 250, 60);
	CHECK(d == 3 && rc_ring_slot(r, 3) == rc_ring_slot(r, 0));
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
	r = rc_ring_new(2, 10);
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

	CHECK(rc_ring_new(0, 10) == NULL);
	threaded();
	return DONE();
}
