/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The run's state that both threads see, apart from the ring: the figures
 * the progress display and --stats read, and the two flags that pass
 * between the fetcher and the sinks around the probe. main owns it (on
 * its stack) and hands it to the fetcher, the reader and the sinks; the
 * ring keeps only slots and their order. Every field is atomic:
 *   first, end      fetcher stores once the probe answered; consumer loads
 *   active, retries fetcher counts; consumer loads
 *   hold            main sets before the fetcher starts; the consumer
 *                   clears it (then rc_ring_wake); the fetcher loads
 *   seekable        fetcher stores before the first byte lands; the
 *                   consumer loads it with that byte
 */
#ifndef RC_RUN_H
#define RC_RUN_H

#include <stdatomic.h>
#include <stdint.h>

struct rc_run {
	_Atomic uint64_t first;	  /* absolute offset of the first byte */
	_Atomic uint64_t end;	  /* absolute end offset, UINT64_MAX */
	_Atomic unsigned active;  /* transfers in flight */
	_Atomic unsigned retries; /* retries so far */

	/* Consumer to fetcher: fetch nothing past the probe until the
	 * consumer has seen the first bytes. Fetcher to consumer: the probe
	 * found ranges, a size and a validator, so random access works. */
	_Atomic int hold;
	_Atomic int seekable;
};

/* A run with nothing known yet. */
static inline void rc_run_init(struct rc_run *run)
{
	atomic_init(&run->first, 0);
	atomic_init(&run->end, UINT64_MAX);
	atomic_init(&run->active, 0);
	atomic_init(&run->retries, 0);
	atomic_init(&run->hold, 0);
	atomic_init(&run->seekable, 0);
}

#endif
