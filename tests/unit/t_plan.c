/* Chunk planning: every byte planned once, in order, small first. */
#include "harness.h"
#include "http.h"
#include "plan.h"

/* Plans [off, end) like the fetcher and checks the cover is exact. */
static int cover(uint64_t off, uint64_t end, uint64_t chunk)
{
	uint64_t len = rc_plan_first(off, end, chunk);
	uint64_t at = off + len, prev = len, n = 1;

	if (len > chunk || (end > off && len == 0))
		return 0;
	while (at < end) {
		len = rc_plan_next(prev, at, end, chunk);
		/* never empty, never over a slot, never shrinking but
		 * for the last chunk, which ends exactly at end */
		if (len == 0 || len > chunk || at + len > end ||
		    (at + len < end && len < prev))
			return 0;
		at += len;
		prev = len;
		n++;
	}
	return at == end && rc_plan_next(prev, at, end, chunk) == 0 ? (int)n
								    : 0;
}

int main(void)
{
	const uint64_t C = 4u << 20;

	CHECK(rc_plan_first(0, 0, C) == 0);
	CHECK(rc_plan_first(0, 1, C) == 1);
	CHECK(rc_plan_first(0, RC_UNKNOWN, C) == RC_FIRST_CHUNK);
	CHECK(rc_plan_first(0, RC_UNKNOWN, 65536) == 65536);
	CHECK(rc_plan_next(RC_FIRST_CHUNK, 0, RC_UNKNOWN, C) ==
	      2 * RC_FIRST_CHUNK);
	CHECK(rc_plan_next(C, 0, RC_UNKNOWN, C) == C);
	CHECK(rc_plan_next(3u << 20, 0, RC_UNKNOWN, C) == C);
	CHECK(rc_plan_next(C, 10, 10, C) == 0);
	CHECK(cover(0, 1, C) == 1);
	CHECK(cover(0, RC_FIRST_CHUNK, C) == 1);
	CHECK(cover(0, RC_FIRST_CHUNK + 1, C) == 2);
	CHECK(cover(0, C - 1, C) > 1);
	CHECK(cover(0, C, C) > 1);
	CHECK(cover(0, C + 1, C) > 1);
	CHECK(cover(12345, 12345 + 100 * C + 7, C) > 100);
	CHECK(cover(C - 1, 3 * C, C) > 1);
	CHECK(cover(0, 10 * 65536 + 1, 65536) == 11);
	return DONE();
}
