/* The retry policy with fixed seeds: delays, caps, Retry-After, budget. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "sched.h"

static volatile sig_atomic_t flag;

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Writes text to dir/name, making dir (and its parents) first. */
static void put(const char *dir, const char *name, const char *text)
{
	char cmd[8192], path[4096];
	snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
	CHECK(system(cmd) == 0);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Fake /proc/self/cgroup files and cgroup trees, v1 and v2. */
static void cgroup_checks(void)
{
	char root[] = "/tmp/t_sched_cg.XXXXXX", d[4096], pc[4096], cmd[4200];
	const uint64_t M = 1u << 20;

	CHECK(mkdtemp(root) != NULL);
	snprintf(pc, sizeof pc, "%s/cgroup", root);
	/* v2: the lowest limit on the way up wins; "max" is none. */
	snprintf(d, sizeof d, "%s/sys/a/b", root);
	put(d, "memory.max", "max\n");
	snprintf(d, sizeof d, "%s/sys/a", root);
	put(d, "memory.max", "100663296\n");
	snprintf(d, sizeof d, "%s/sys", root);
	put(d, "memory.max", "max\n");
	put(root, "cgroup", "0::/a/b\n");
	snprintf(d, sizeof d, "%s/sys", root);
	CHECK(rc_sched_cgroup_limit(pc, d) == 96 * M);
	CHECK(rc_sched_memory_for_limit(96 * M) == 24 * M);
	/* The root of a container's namespace: "/" reads the top file. */
	put(root, "cgroup", "0::/\n");
	CHECK(rc_sched_cgroup_limit(pc, d) == UINT64_MAX);
	snprintf(d, sizeof d, "%s/sys", root);
	put(d, "memory.max", "50331648\n");
	CHECK(rc_sched_cgroup_limit(pc, d) == 48 * M);
	/* v1, memory among other controllers; its "no limit" is ~2^63. */
	snprintf(d, sizeof d, "%s/v1/memory/x", root);
	put(d, "memory.limit_in_bytes", "9223372036854771712\n");
	put(root, "cgroup", "5:cpu,cpuacct:/y\n4:pids,memory:/x\n0::/\n");
	snprintf(d, sizeof d, "%s/v1", root);
	CHECK(rc_sched_cgroup_limit(pc, d) == UINT64_MAX);
	snprintf(d, sizeof d, "%s/v1/memory/x", root);
	put(d, "memory.limit_in_bytes", "67108864\n");
	snprintf(d, sizeof d, "%s/v1", root);
	CHECK(rc_sched_cgroup_limit(pc, d) == 64 * M);
	/* Junk, a missing file, a missing /proc file: no limit. */
	snprintf(d, sizeof d, "%s/v1/memory/x", root);
	put(d, "memory.limit_in_bytes", "lots\n");
	snprintf(d, sizeof d, "%s/v1", root);
	CHECK(rc_sched_cgroup_limit(pc, d) == UINT64_MAX);
	CHECK(rc_sched_cgroup_limit("/nonexistent/cgroup", d) == UINT64_MAX);
	CHECK(rc_sched_memory_for_limit(UINT64_MAX) == UINT64_MAX);
	CHECK(rc_sched_memory_for_limit(1000) == 0);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	CHECK(system(cmd) == 0);
}

int main(void)
{
	struct rc_sched_retry p, q;
	struct rc_sched_rng g, h;
	unsigned fails = 0;
	double d, first[8];

	/* The generator: deterministic per seed, different across seeds,
	 * always in [0, 1). */
	rc_sched_rng_init(&g, 42);
	rc_sched_rng_init(&h, 42);
	bool same = true, in_range = true;
	for (int i = 0; i < 1000; i++) {
		double a = rc_sched_rng_unit(&g), b = rc_sched_rng_unit(&h);
		same = same && a == b;
		in_range = in_range && a >= 0 && a < 1;
	}
	CHECK(same);
	CHECK(in_range);
	rc_sched_rng_init(&g, 42);
	rc_sched_rng_init(&h, 43);
	CHECK(rc_sched_rng_unit(&g) != rc_sched_rng_unit(&h));
	CHECK(rc_sched_seed() != 0);

	/* Backoff: base x 2^(n-1) in its upper half, capped at 30 s. */
	rc_sched_retry_init(&p, 5, 2.0, 7);
	for (unsigned n = 1; n <= 8; n++) {
		double full = fmin(2.0 * pow(2, n - 1), RC_SCHED_MAX_DELAY);
		first[n - 1] = rc_sched_backoff(&p, n);
		CHECK(first[n - 1] >= full / 2 && first[n - 1] < full);
	}
	CHECK(first[7] < RC_SCHED_MAX_DELAY);
	CHECK(first[7] >= RC_SCHED_MAX_DELAY / 2);
	/* The same seed gives the same delays. */
	rc_sched_retry_init(&q, 5, 2.0, 7);
	bool again = true;
	for (unsigned n = 1; n <= 8; n++)
		again = again && rc_sched_backoff(&q, n) == first[n - 1];
	CHECK(again);
	/* A huge attempt number does not overflow the cap. */
	CHECK(rc_sched_backoff(&p, 4000000000u) < RC_SCHED_MAX_DELAY);
	/* Jitter spreads: 100 draws of the first delay are not all equal. */
	double lo = 1e9, hi = 0;
	for (int i = 0; i < 100; i++) {
		d = rc_sched_backoff(&p, 1);
		lo = fmin(lo, d);
		hi = fmax(hi, d);
	}
	CHECK(lo >= 1.0 && hi < 2.0 && hi - lo > 0.5);

	/* The verdict: progress continues at once and resets the count. */
	rc_sched_retry_init(&p, 2, 1.0, 1);
	CHECK(rc_sched_after_failure(&p, &fails, 0, false, -1, &d) ==
	      RC_SCHED_LATER);
	CHECK(fails == 1 && d >= 0.5 && d < 1.0);
	CHECK(rc_sched_after_failure(&p, &fails, 0, false, -1, &d) ==
	      RC_SCHED_LATER);
	CHECK(fails == 2 && d >= 1.0 && d < 2.0);
	CHECK(rc_sched_after_failure(&p, &fails, RC_SCHED_MIN_PROGRESS, false,
				     -1, &d) == RC_SCHED_NOW);
	CHECK(fails == 0 && d == 0);
	/* A few bytes are no progress: a server that resets after each
	 * byte spends the budget instead of looping at once forever. */
	CHECK(rc_sched_after_failure(&p, &fails, 1, false, -1, &d) ==
	      RC_SCHED_LATER);
	CHECK(rc_sched_after_failure(&p, &fails, RC_SCHED_MIN_PROGRESS - 1,
				     false, -1, &d) == RC_SCHED_LATER);
	CHECK(rc_sched_after_failure(&p, &fails, 1, false, -1, &d) ==
	      RC_SCHED_GIVE_UP);
	fails = 0;
	/* The budget: --retries 2 allows two retries, the third failure
	 * gives up. */
	CHECK(rc_sched_after_failure(&p, &fails, 0, false, -1, &d) ==
	      RC_SCHED_LATER);
	CHECK(rc_sched_after_failure(&p, &fails, 0, false, -1, &d) ==
	      RC_SCHED_LATER);
	CHECK(rc_sched_after_failure(&p, &fails, 0, false, -1, &d) ==
	      RC_SCHED_GIVE_UP);
	/* --retries 0: the first failure without progress is final. */
	rc_sched_retry_init(&q, 0, 1.0, 1);
	fails = 0;
	CHECK(rc_sched_after_failure(&q, &fails, 0, false, -1, &d) ==
	      RC_SCHED_GIVE_UP);
	/* A fatal failure gives up even with progress and budget left. */
	fails = 0;
	CHECK(rc_sched_after_failure(&p, &fails, 1u << 20, true, -1, &d) ==
	      RC_SCHED_GIVE_UP);

	/* Retry-After is taken as given, without jitter, up to its cap. */
	fails = 0;
	CHECK(rc_sched_after_failure(&p, &fails, 0, false, 7, &d) ==
	      RC_SCHED_LATER);
	CHECK(d == 7.0);
	CHECK(rc_sched_after_failure(&p, &fails, 0, false, 0, &d) ==
	      RC_SCHED_LATER);
	CHECK(d == 0.0);
	fails = 0;
	rc_sched_after_failure(&p, &fails, 0, false, 86400, &d);
	CHECK(d == RC_SCHED_MAX_RETRY_AFTER);

	/* Signals map to their exit statuses; SIGALRM is --max-time. */
	char msg[128];
	rc_sched_watch(&flag, 9);
	CHECK(rc_sched_signal_err(SIGINT, msg, sizeof msg) == RC_E_INTERRUPT);
	CHECK(rc_sched_signal_err(SIGTERM, msg, sizeof msg) == RC_E_TERMINATED);
	CHECK(rc_sched_signal_err(SIGALRM, msg, sizeof msg) == RC_E_NETWORK);
	CHECK(strstr(msg, "--max-time 9 s") != NULL);

	/* The wait: full length without a signal, at once with one. */
	double t = mono();
	CHECK(rc_sched_sleep(0.3));
	CHECK(mono() - t >= 0.3);
	flag = SIGTERM;
	t = mono();
	CHECK(!rc_sched_sleep(10));
	CHECK(mono() - t < 0.1);
	CHECK(rc_sched_signal() == SIGTERM);
	flag = 0;

	cgroup_checks();
	return DONE();
}
