/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The scheduler: every decision about requests that is not libcurl
 * plumbing. Today it holds the one retry policy that the fetcher, the zip
 * reader by ranges and the OAuth token fetch share: the attempt budget,
 * the backoff with jitter from a seeded per-run generator, Retry-After
 * with a cap, and the verdict on a failure (retry now, retry later, give
 * up). It also holds the one interruptible wait every sleep goes through.
 * No libcurl here, so tests drive it with fixed seeds.
 */
#ifndef RC_SCHED_H
#define RC_SCHED_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define RC_SCHED_MAX_DELAY 30.0	     /* cap on the computed backoff, s */
#define RC_SCHED_MAX_RETRY_AFTER 120 /* cap on a server's Retry-After, s */
/* An attempt that delivered less than this made no progress worth the
 * name: a server that resets after every few bytes must not be retried
 * at once forever. */
#define RC_SCHED_MIN_PROGRESS (16u << 10)

/* A small generator (splitmix64) for jitter; one per user, not shared
 * between threads. */
struct rc_sched_rng {
	uint64_t s;
};

/* A seed that differs between processes (pid, clock, an address), so
 * shards started together do not retry in lockstep. */
uint64_t rc_sched_seed(void);

void rc_sched_rng_init(struct rc_sched_rng *g, uint64_t seed);

/* The next number in [0, 1). */
double rc_sched_rng_unit(struct rc_sched_rng *g);

/* The retry policy of one requester (the fetcher, the zip reader, the
 * token fetch): --retries and --retry-delay, and its own generator. */
struct rc_sched_retry {
	unsigned retries; /* failures in a row without progress allowed */
	double base;	  /* first backoff, seconds */
	struct rc_sched_rng rng;
};

void rc_sched_retry_init(struct rc_sched_retry *p, unsigned retries,
			 double base, uint64_t seed);

/*
 * The n-th backoff (n >= 1): base x 2^(n-1), capped at
 * RC_SCHED_MAX_DELAY, then drawn uniformly over the upper half
 * [d/2, d) so that many clients spread out.
 */
double rc_sched_backoff(struct rc_sched_retry *p, unsigned n);

enum rc_sched_action {
	RC_SCHED_NOW,	  /* the attempt made progress: continue at once */
	RC_SCHED_LATER,	  /* retry after *delay seconds */
	RC_SCHED_GIVE_UP, /* fatal, or the budget is spent */
};

/*
 * What to do after a failed attempt. *fails counts the request's
 * failures in a row without progress and is updated; progress is what
 * the attempt delivered (RC_SCHED_MIN_PROGRESS or more resets the count
 * and retries at once; less counts as no progress); fatal failures (a
 * malformed reply, a name that does not resolve) are never retried;
 * retry_after is the server's Retry-After in seconds, or -1. Sets *delay
 * for RC_SCHED_LATER (0 otherwise).
 */
enum rc_sched_action rc_sched_after_failure(struct rc_sched_retry *p,
					    unsigned *fails, uint64_t progress,
					    bool fatal, long retry_after,
					    double *delay);

/*
 * Says on stderr that a request waits before retry n of budget: "rangecat:
 * WHY; retry N/M in D s". Every progress mode shows it; quiet (-q) only
 * logs it for -v.
 */
void rc_sched_announce(bool quiet, const char *why, unsigned n, unsigned budget,
		       double delay);

/*
 * The process's stop flag: main's signal flag (set by the SIGINT,
 * SIGTERM and SIGALRM handlers; SIGALRM is --max-time), registered once
 * before any thread starts. Waits and transfers everywhere check it.
 */
void rc_sched_watch(volatile sig_atomic_t *flag, long max_time);

/* The signal that asked the run to stop, or 0. Any thread. */
int rc_sched_signal(void);

/* The error and message for signal sig: 130 for SIGINT, 143 for SIGTERM,
 * a network error naming --max-time for SIGALRM. */
enum rc_err rc_sched_signal_err(int sig, char *msg, size_t msglen);

/*
 * Sleeps secs seconds in slices of at most 200 ms, checking the stop
 * flag. Returns true after the full sleep, false when a signal ended it
 * early (within 200 ms).
 */
bool rc_sched_sleep(double secs);

/*
 * Memory. A container's memory limit (cgroup v2 memory.max, v1
 * memory.limit_in_bytes, the lowest on the way from the process's cgroup
 * to the root) bounds the default buffer: a quarter of the limit, so the
 * rest of the process and the page cache it writes through still fit.
 */

/* The memory limit of the cgroup of the process whose /proc/PID/cgroup is
 * proc_cgroup, read under sysfs (normally "/proc/self/cgroup" and
 * "/sys/fs/cgroup"), or UINT64_MAX when none is set or none can be read. */
uint64_t rc_sched_cgroup_limit(const char *proc_cgroup, const char *sysfs);

/* The default buffer for a process limited to limit bytes (UINT64_MAX:
 * no limit): a quarter of it in whole 64 KiB units, or UINT64_MAX. */
uint64_t rc_sched_memory_for_limit(uint64_t limit);

#endif
