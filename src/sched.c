/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The retry policy and the interruptible wait (see sched.h). Pure but for
 * rc_sched_seed, rc_sched_sleep and rc_sched_announce; any thread. The
 * one piece of process state is the stop flag main registers: a signal
 * handler can only set a volatile sig_atomic_t, and every wait in every
 * module must see it, so it is read here through rc_sched_signal rather
 * than passed down each call chain.
 */
#include "sched.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static volatile sig_atomic_t *stop_flag;
static long stop_max_time;

uint64_t rc_sched_seed(void)
{
	struct timespec ts;
	static int here;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
	       ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)&here;
}

void rc_sched_rng_init(struct rc_sched_rng *g, uint64_t seed)
{
	g->s = seed;
}

double rc_sched_rng_unit(struct rc_sched_rng *g)
{
	/* splitmix64 (Steele, Lea, Flood): good enough for jitter. */
	uint64_t z = (g->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (double)(z >> 11) / 9007199254740992.0; /* 2^53 */
}

void rc_sched_retry_init(struct rc_sched_retry *p, unsigned retries,
			 double base, uint64_t seed)
{
	p->retries = retries;
	p->base = base;
	rc_sched_rng_init(&p->rng, seed);
}

double rc_sched_backoff(struct rc_sched_retry *p, unsigned n)
{
	double d = p->base;

	for (unsigned i = 1; i < n && d < RC_SCHED_MAX_DELAY; i++)
		d *= 2;
	if (d > RC_SCHED_MAX_DELAY)
		d = RC_SCHED_MAX_DELAY;
	/* Jitter over the upper half keeps retries apart. */
	return d * (0.5 + 0.5 * rc_sched_rng_unit(&p->rng));
}

enum rc_sched_action rc_sched_after_failure(struct rc_sched_retry *p,
					    unsigned *fails, uint64_t progress,
					    bool fatal, long retry_after,
					    double *delay)
{
	*delay = 0;
	if (fatal)
		return RC_SCHED_GIVE_UP;
	if (progress >= RC_SCHED_MIN_PROGRESS) {
		*fails = 0;
		return RC_SCHED_NOW;
	}
	if (++*fails > p->retries)
		return RC_SCHED_GIVE_UP;
	if (retry_after >= 0)
		*delay = retry_after > RC_SCHED_MAX_RETRY_AFTER
			     ? RC_SCHED_MAX_RETRY_AFTER
			     : (double)retry_after;
	else
		*delay = rc_sched_backoff(p, *fails);
	return RC_SCHED_LATER;
}

void rc_sched_announce(bool quiet, const char *why, unsigned n, unsigned budget,
		       double delay)
{
	if (quiet)
		rc_log("%s; retry %u/%u in %.1f s", why, n, budget, delay);
	else
		rc_log_error("%s; retry %u/%u in %.1f s", why, n, budget,
			     delay);
}

void rc_sched_watch(volatile sig_atomic_t *flag, long max_time)
{
	stop_flag = flag;
	stop_max_time = max_time;
}

int rc_sched_signal(void)
{
	return stop_flag ? *stop_flag : 0;
}

enum rc_err rc_sched_signal_err(int sig, char *msg, size_t msglen)
{
	switch (sig) {
	case SIGINT:
		snprintf(msg, msglen, "interrupted");
		return RC_E_INTERRUPT;
	case SIGTERM:
		snprintf(msg, msglen, "terminated");
		return RC_E_TERMINATED;
	default:
		snprintf(msg, msglen,
			 "the run took longer than --max-time %ld s",
			 stop_max_time);
		return RC_E_NETWORK;
	}
}

bool rc_sched_sleep(double secs)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (rc_sched_signal())
			return false;
		clock_gettime(CLOCK_MONOTONIC, &t);
		double left = secs - ((double)(t.tv_sec - t0.tv_sec) +
				      (double)(t.tv_nsec - t0.tv_nsec) / 1e9);
		if (left <= 0)
			return true;
		double slice = left < 0.2 ? left : 0.2;
		struct timespec ts = {
		    .tv_sec = 0,
		    .tv_nsec = (long)(slice * 1e9),
		};
		nanosleep(&ts, NULL); /* EINTR: the loop checks the flag */
	}
}

/* The limit in file dir/name: a number, or "max" (none). */
static uint64_t limit_file(const char *dir, const char *name)
{
	char path[4096], buf[64];
	uint64_t v = UINT64_MAX;

	if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
		return UINT64_MAX;
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return UINT64_MAX;
	if (fgets(buf, sizeof buf, f) != NULL && buf[0] >= '0' &&
	    buf[0] <= '9') {
		char *end;
		unsigned long long n = strtoull(buf, &end, 10);
		if ((*end == '\n' || *end == '\0') && n > 0)
			v = (uint64_t)n;
	}
	fclose(f);
	return v;
}

/* The lowest limit in name from base/rel up to base. */
static uint64_t lowest_on_path(const char *base, const char *rel,
			       const char *name)
{
	char dir[4096];
	uint64_t low = UINT64_MAX;

	if (snprintf(dir, sizeof dir, "%s%s", base, rel) >= (int)sizeof dir)
		return UINT64_MAX;
	size_t keep = strlen(base);
	for (;;) {
		uint64_t v = limit_file(dir, name);
		if (v < low)
			low = v;
		char *slash = strrchr(dir, '/');
		if (slash == NULL || (size_t)(slash - dir) < keep)
			break;
		*slash = '\0';
	}
	return low;
}

uint64_t rc_sched_cgroup_limit(const char *proc_cgroup, const char *sysfs)
{
	char line[4096], base[4096];
	uint64_t low = UINT64_MAX;
	FILE *f = fopen(proc_cgroup, "re");

	if (f == NULL)
		return UINT64_MAX;
	while (fgets(line, sizeof line, f) != NULL) {
		/* "ID:CONTROLLERS:PATH"; v2 is "0::PATH". */
		line[strcspn(line, "\n")] = '\0';
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2 == NULL || c2[1] != '/')
			continue;
		*c2 = '\0';
		const char *ctl = c1 + 1, *rel = c2 + 1;
		if (strcmp(rel, "/") == 0)
			rel = "";
		uint64_t v = UINT64_MAX;
		if (ctl[0] == '\0') {
			snprintf(base, sizeof base, "%s", sysfs);
			v = lowest_on_path(base, rel, "memory.max");
		} else {
			/* v1: "memory", alone or among other controllers. */
			bool mem = false;
			for (const char *p = ctl; *p;) {
				size_t l = strcspn(p, ",");
				mem = mem ||
				      (l == 6 && strncmp(p, "memory", 6) == 0);
				p += l + (p[l] == ',');
			}
			if (!mem)
				continue;
			snprintf(base, sizeof base, "%s/memory", sysfs);
			v = lowest_on_path(base, rel, "memory.limit_in_bytes");
		}
		if (v < low)
			low = v;
	}
	fclose(f);
	/* cgroup v1 says "no limit" with a number near 2^63. */
	return low >= (UINT64_C(1) << 60) ? UINT64_MAX : low;
}

uint64_t rc_sched_memory_for_limit(uint64_t limit)
{
	if (limit == UINT64_MAX)
		return UINT64_MAX;
	return limit / 4 / (64u << 10) * (64u << 10);
}
