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
#include <math.h>
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

void rc_sched_conn_init(struct rc_sched_conn *c, unsigned n, unsigned cap,
			bool pinned, double t)
{
	memset(c, 0, sizeof *c);
	c->cap = cap ? cap : 1;
	c->max_cap = c->cap;
	c->n = n == 0 ? 1 : n > c->cap ? c->cap : n;
	/* -n: never more (a server's limit: fewer, rc_sched_conn_shed) */
	c->top = pinned ? c->n : c->cap;
	c->pinned = pinned;
	c->step_at = t;
	c->last_t = t;
}

/* The count's rate is measured from t on, as a starting count's: no
 * step before it to judge against. */
static void measure_anew(struct rc_sched_conn *c, double t)
{
	c->prev_n = 0;
	c->step_at = t;
	c->win_at = 0;
	c->windows = 0;
	c->last_rate = 0;
}

/* Halves the count from back, whose rate (the best measured) is keep;
 * what follows measures whether the half keeps it. */
static void halve(struct rc_sched_conn *c, double t, unsigned back, double keep)
{
	if (!c->probed_down)
		c->top_n = back;
	c->probed_down = true;
	c->down = true;
	c->prev_n = back;
	c->prev_rate = keep;
	c->n = back / 2;
	c->step_at = t;
	c->win_at = 0;
}

/* Raises the count to next, judged against the count now, whose rate
 * is rate (a climb that does not pay comes back). */
static void climb_to(struct rc_sched_conn *c, double t, unsigned next,
		     double rate)
{
	c->prev_n = c->n;
	c->prev_rate = rate;
	c->n = next;
	c->step_at = t;
	c->win_at = 0;
	c->windows = 0;
	c->last_rate = 0;
}

/* The rate of a halving was measured over its windows: halve again
 * while it keeps the best rate, else undo it. */
static bool judge_halving(struct rc_sched_conn *c, double t, uint64_t rx)
{
	double rate = (double)(rx - c->down_rx) / (t - c->down_at);
	double d = 100 * (rate / c->prev_rate - 1);
	unsigned back = c->prev_n, n = c->n;

	c->last_rate = 0;
	c->windows = 0;
	if (rate >= c->prev_rate * (1 - RC_SCHED_LOSS)) {
		double keep = rate > c->prev_rate ? rate : c->prev_rate;
		if (n <= RC_SCHED_FEWEST) {
			snprintf(c->why, sizeof c->why,
				 "no loss with %u connection%s (%+.0f%%): "
				 "settled at %u",
				 n, n == 1 ? "" : "s", d, n);
			c->down = false;
			c->settled = true;
			return true;
		}
		snprintf(c->why, sizeof c->why,
			 "no loss with %u connections (%+.0f%%): trying %u", n,
			 d, n / 2);
		halve(c, t, n, keep);
		return true;
	}
	c->down = false;
	c->n = back;
	if (c->down_first && back == c->top_n && back < c->cap &&
	    rate < c->prev_rate * (1 - RC_SCHED_CLIMB)) {
		/* The very first halving lost a quarter or more: every
		 * connection counts here (a per-connection cap), so climb
		 * from the start as a long path does, by doubling (a start
		 * under RC_SCHED_CAPPED each never halved; here the loss may
		 * be noise on a busy loopback, and a jump to the cap took a
		 * loopback run to 32). A smaller loss is a link the start
		 * nearly fills (or noise): more would not pay. */
		unsigned next = back * 2 < c->cap ? back * 2 : c->cap;
		snprintf(c->why, sizeof c->why,
			 "lost %.0f%% with %u connections: trying %u", -d, n,
			 next);
		climb_to(c, t, next, c->prev_rate);
		return true;
	}
	snprintf(c->why, sizeof c->why,
		 "lost %.0f%% with %u connection%s: settled at %u", -d, n,
		 n == 1 ? "" : "s", back);
	c->settled = true;
	return true;
}

/* A 429/503's hold on growth (RC_SCHED_CALM) has not passed yet. */
static bool calming(const struct rc_sched_conn *c, double t)
{
	return c->calm_at != 0 && t < c->calm_at;
}

/* No 429/503 for RC_SCHED_CALM s, and a server's limit was found: the
 * count goes back to it and stays settled there (rc_sched_conn_limit_up
 * tries it higher; the rate's measure would undo a try unseen). */
static bool back_to_limit(struct rc_sched_conn *c)
{
	c->calm_at = 0;
	if (c->cap >= c->max_cap && c->n >= c->max_cap)
		return false;
	c->cap = c->max_cap;
	c->n = c->cap;
	snprintf(c->why, sizeof c->why,
		 "no 429/503 for %.0f s: back to the server's limit of %u",
		 RC_SCHED_CALM, c->cap);
	return true;
}

/* Started at the cap after a first reply of RC_SCHED_FAR_WAIT or more
 * (a far server), not only for stripes a few ms away. */
static bool far_wait(const struct rc_sched_conn *c)
{
	return c->far && c->first_wait >= RC_SCHED_FAR_WAIT;
}

bool rc_sched_conn_tick(struct rc_sched_conn *c, double t, uint64_t rx,
			unsigned running, double rtt)
{
	double dt = t - c->last_t;

	c->last_t = t;
	if (c->pinned || c->one)
		return false;
	if (c->settled) {
		if (c->calm_at == 0 || t < c->calm_at)
			return false;
		if (c->limited)
			return back_to_limit(c);
		/* No 429/503 for a while: measure from here, and grow
		 * again if it pays. */
		c->settled = false;
		c->calm_at = 0;
		c->cap = c->max_cap;
		measure_anew(c, t);
	}
	if (c->down && c->prev_n <= c->n) {
		/* The buffer lowered the cap under the count a halving
		 * would return to (rc_sched_conn_feed): start over. */
		c->down = false;
		c->prev_n = 0;
	}
	/* New connections need a handshake and a request before their
	 * first byte, then slow start: the rate is taken once it stops
	 * rising from one window of two round trips to the next, but not
	 * before five windows, the time slow start takes to reach a few
	 * MiB in flight (the old connections carry most of the rate, so
	 * the new ones' first doublings hardly show). A gain
	 * over the settled rate of the count before is taken after three: a
	 * long path then ramps in a few round trips per step. The
	 * starting count's rate is always a settled one, so that every
	 * later step is judged against a true baseline. A halving needs
	 * no slow start (the connections it keeps are warm): its rate is
	 * the mean over RC_SCHED_DOWN_WINDOWS windows. */
	bool near = rtt > 0 && rtt < RC_SCHED_NEAR && !c->slow;
	bool mean = c->down || (c->prev_n == 0 && !c->probed_down && near);
	double span = rtt > 0 ? 2 * rtt : 0.25;
	double floor = mean ? RC_SCHED_WINDOW : 0.1;
	if (span < floor)
		span = floor;
	/* The probe was capped too (rc_sched_conn_probe): the starting
	 * count's first window begins at once and lasts two round trips,
	 * where slow start is over within it (a round trip of a quarter
	 * of RC_SCHED_UP). Further away it would measure the ramp, and a
	 * climb would be judged against that: at 10 ms, a 1 Gbit/s link
	 * "gained" 16% with 32 and stayed there. */
	bool early =
	    c->early && mean && !c->down && rtt > 0 && rtt <= RC_SCHED_UP / 4;
	double need = span;
	if (early) {
		need = 2 * rtt > RC_SCHED_UP ? 2 * rtt : RC_SCHED_UP;
		if (need > span)
			need = span;
	}
	if (c->win_at == 0) {
		/* A halving is measured once the transfers over the new
		 * count have ended: on a slow link their ranges take
		 * seconds and would carry the rate meanwhile. */
		if ((!early && t - c->step_at < span) ||
		    (c->down && running > c->n))
			return false;
		c->win_at = t;
		c->win_rx = rx;
		c->win_busy = 0;
		c->down_at = t;
		c->down_rx = rx;
		return false;
	}
	c->win_busy += (double)running * dt;
	double el = t - c->win_at;
	if (el < need || (mean && (double)(rx - c->win_rx) <
				      (double)c->n * RC_SCHED_WINDOW_BYTES))
		return false;
	double rate = (double)(rx - c->win_rx) / el;
	double busy = c->win_busy / el;
	c->win_at = t;
	c->win_rx = rx;
	c->win_busy = 0;
	c->early = false; /* one early window: later ones are whole */
	/* A halving, or the starting count on a short path before its
	 * first halving, is judged by its mean rate alone: a buffer that
	 * keeps some transfers waiting only shows that fewer do as well. */
	if (mean && !c->down && el > 2 * span) {
		/* Slow connections on a short path: judging a halving would
		 * take seconds, so the count climbs first, as on a long
		 * path (and halves only if that does not pay). */
		c->slow = true;
		c->windows = 0;
		c->last_rate = 0;
		return false;
	}
	if (mean) {
		++c->windows;
		/* One window is enough where the answer is clear: a far
		 * start's halving that already lost a quarter of the rate
		 * is undone (waiting for the others costs a far link
		 * seconds at a fraction of its rate; under RC_SCHED_FAR_WAIT,
		 * started at the cap or not, one window of 50 ms is too
		 * noisy to undo on, and three cost little), and starting
		 * connections that carry under RC_SCHED_CAPPED each climb (the
		 * others cost a capped link a tenth of a second at a quarter of
		 * its rate). */
		double so_far = (double)(rx - c->down_rx) / (t - c->down_at);
		/* (Only while they all run: a full buffer, a slow reader,
		 * holds them back, not a cap.) */
		/* An early window (the first milliseconds) must be clearly
		 * under: uncapped loopback has measured 240 MiB/s for 8
		 * there, and 20 MiB/s per request is 160. */
		double bound = (double)c->n * RC_SCHED_CAPPED *
			       (early ? RC_SCHED_EARLY_SHARE : 1);
		bool capped = !c->down && c->n < c->cap &&
			      busy >= 0.75 * c->n && so_far < bound;
		if (c->windows < RC_SCHED_DOWN_WINDOWS && !capped &&
		    !(c->down && far_wait(c) &&
		      so_far < c->prev_rate * (1 - RC_SCHED_CLIMB)))
			return false;
		if (c->down)
			return judge_halving(c, t, rx);
		rate = so_far;
		c->windows = 0;
		c->last_rate = 0;
		if (capped) {
			/* Each connection carries little on a short path:
			 * a per-connection cap, or a slow link. Climb
			 * straight to the cap; if that does not pay, the
			 * count comes back and halves from here. */
			snprintf(c->why, sizeof c->why,
				 "%.1f MiB/s with %u connections, %.1f ms "
				 "round trip, under %u MiB/s each%s: trying %u",
				 rate / 1048576, c->n, rtt * 1000,
				 RC_SCHED_CAPPED >> 20,
				 early ? " as the first reply" : "", c->cap);
			climb_to(c, t, c->cap, rate);
			return true;
		}
		if (c->n <= RC_SCHED_FEWEST) {
			c->probed_down = true;
			return false;
		}
		snprintf(c->why, sizeof c->why,
			 "%.1f MiB/s with %u connections, %.1f ms round "
			 "trip: trying %u",
			 rate / 1048576, c->n, rtt * 1000, c->n / 2);
		c->down_first = true;
		halve(c, t, c->n, rate);
		return true;
	}
	if (busy < 0.75 * c->n && c->far && c->n >= c->cap && !c->probed_down) {
		/* Started at the cap (a far server, or stripes) and the
		 * buffer keeps transfers waiting: their requests in flight
		 * are what hides the round trip from it (a halving measured
		 * 70% slower at 200 ms), so fewer would not carry it all. */
		snprintf(c->why, sizeof c->why,
			 "%.1f MiB/s with %u connections, the buffer full: "
			 "settled at the cap",
			 rate / 1048576, c->n);
		c->settled = true;
		return true;
	}
	if (busy < 0.75 * c->n) {
		/* The buffer or the file limits, not n: measure again. */
		c->last_rate = 0;
		c->windows = 0;
		c->down_at = t;
		c->down_rx = rx;
		return false;
	}
	++c->windows;
	bool gain = c->windows >= RC_SCHED_MIN_WINDOWS && c->prev_n &&
		    rate >= c->prev_rate * (1 + RC_SCHED_GAIN);
	if (!gain && c->windows < RC_SCHED_MAX_WINDOWS &&
	    (c->windows < RC_SCHED_SETTLE_WINDOWS ||
	     rate > c->last_rate * 1.05)) {
		c->last_rate = rate; /* still rising */
		return false;
	}
	if (c->last_rate > rate)
		rate = c->last_rate;
	c->last_rate = 0;
	c->windows = 0;
	if (c->prev_n && rate < c->prev_rate * (1 + RC_SCHED_GAIN)) {
		if (!c->rose && !c->probed_down &&
		    c->prev_n > RC_SCHED_FEWEST) {
			/* The first doubling did not pay: maybe fewer than
			 * the start carry it all. */
			unsigned back = c->prev_n;
			snprintf(c->why, sizeof c->why,
				 "no gain past %u connections (%+.0f%% with "
				 "%u): trying %u",
				 back, 100 * (rate / c->prev_rate - 1), c->n,
				 back / 2);
			halve(c, t, back,
			      rate > c->prev_rate ? rate : c->prev_rate);
			return true;
		}
		snprintf(c->why, sizeof c->why,
			 "no gain past %u connections (%+.0f%% with %u): "
			 "settled at %u",
			 c->prev_n, 100 * (rate / c->prev_rate - 1), c->n,
			 c->prev_n);
		c->n = c->prev_n;
		c->settled = true;
		return true;
	}
	if (c->n >= c->cap) {
		if (c->far && !c->probed_down && c->n > RC_SCHED_FEWEST) {
			/* Started at the cap (a far server, or stripes): the
			 * doubling that would show more do not pay cannot be
			 * tried, so see whether fewer carry it all. */
			snprintf(c->why, sizeof c->why,
				 "%.1f MiB/s with %u connections, the most "
				 "the buffer feeds: trying %u",
				 rate / 1048576, c->n, c->n / 2);
			halve(c, t, c->n, rate);
			return true;
		}
		snprintf(c->why, sizeof c->why,
			 "%.1f MiB/s with %u connections: settled at the cap",
			 rate / 1048576, c->n);
		c->settled = true;
		return true;
	}
	unsigned next = c->n + (c->n > 2 ? c->n : 2);
	if (next > c->cap)
		next = c->cap;
	if (c->prev_n) {
		c->rose = true;
		snprintf(c->why, sizeof c->why,
			 "rate rose %.0f%% with %u connections: trying %u",
			 100 * (rate / c->prev_rate - 1), c->n, next);
	} else {
		snprintf(c->why, sizeof c->why,
			 "%.1f MiB/s with %u connections: trying %u",
			 rate / 1048576, c->n, next);
	}
	c->prev_n = c->n;
	c->prev_rate = rate;
	c->n = next;
	c->step_at = t;
	c->win_at = 0;
	return true;
}

bool rc_sched_conn_shed(struct rc_sched_conn *c, double t,
			enum rc_sched_shed what, unsigned others,
			double launched, unsigned answered)
{
	if (what == RC_SCHED_SHED_BUSY) {
		/* -n is not halved: its requests wait out the 429/503
		 * all the same (fetch.c). A server's limit below lowers
		 * even -n's count: no retry gets past it. */
		if (c->pinned || c->n <= 1 ||
		    (c->shed_at > 0 && t - c->shed_at < 1.0))
			return false;
		unsigned from = c->n;
		c->n /= 2;
		c->cap = c->n;
		c->shed_at = t;
		c->calm_at = t + RC_SCHED_CALM;
		c->settled = true;
		snprintf(c->why, sizeof c->why,
			 "the server is busy (429/503): shedding from %u to "
			 "%u connections",
			 from, c->n);
		return true;
	}
	const char *how = what == RC_SCHED_SHED_REFUSED ? "was refused"
			  : what == RC_SCHED_SHED_503	? "was answered 503"
							: "was reset";
	/* max_cap: the limit, or the cap a 429/503 did not lower. (Not
	 * limited: a transfer over it is one beyond the count; under it,
	 * one launched before a 429/503 halved the count, whose reset is
	 * the server's limit all the same.) */
	unsigned from = c->max_cap;
	if (others == 0 || (others >= from && !c->limited))
		return false;
	if (c->limited && launched < c->found_at) {
		/* Launched before the limit was found: 32 at once reach the
		 * server in any order. */
		snprintf(c->why, sizeof c->why,
			 "a connection opened before the server's limit (%u) "
			 "was found %s",
			 from, how);
		return true;
	}
	if (c->limited && others >= from) {
		snprintf(c->why, sizeof c->why,
			 "a connection opened with %u others, over the "
			 "server's limit (%u), %s",
			 others, from, how);
		return true;
	}
	/* Replies coming now: the server holds their connections, so its
	 * limit is at least that. The others open at this one's launch
	 * bound it from above, but may have been doomed too (a burst, or a
	 * guess too high). The lower figure is taken: one too few costs a
	 * try one higher (or less: rc_sched_conn_served), one too many a
	 * reset a round trip. */
	unsigned seen = answered > 0 && answered < others ? answered : others;
	unsigned lim = seen;
	if (!c->limited) {
		c->up_gap = c->up_first > 0 ? c->up_first : RC_SCHED_LIMIT_UP;
		c->found_at = t;
		c->by_503 = what == RC_SCHED_SHED_503;
		snprintf(c->why, sizeof c->why,
			 "a connection %s%s while %u delivered: the server's "
			 "limit, %u connection%s",
			 how,
			 what == RC_SCHED_SHED_RESET ? " before its reply" : "",
			 seen, seen, seen == 1 ? "" : "s");
	} else {
		/* A limit that held (a try one higher came after it, or the
		 * server was seen to answer that many) goes down one at a
		 * time: replies coming undercount the connections the
		 * server holds (a reused one between two replies, one just
		 * closed), and a try launched in a lull has fewer open. A
		 * guess not yet borne out is simply lowered. A try's reset
		 * doubles the wait for the next. */
		bool tried = c->tried_at > c->limit_at;
		if ((tried || c->confirmed) && lim < from - 1)
			lim = from - 1;
		if (tried)
			c->up_gap = 2 * c->up_gap < RC_SCHED_LIMIT_UP_MAX
					? 2 * c->up_gap
					: RC_SCHED_LIMIT_UP_MAX;
		snprintf(c->why, sizeof c->why,
			 "a connection %s while %u delivered: the server's "
			 "limit is %u, not %u",
			 how, seen, lim, from);
	}
	c->limited = true;
	c->confirmed = false;
	c->limit_at = t;
	c->up_at = t + c->up_gap;
	c->max_cap = lim;
	if (c->cap > lim || !calming(c, t))
		c->cap = lim; /* (within a 429/503's calm, its halving) */
	if (c->n > c->cap)
		c->n = c->cap;
	c->settled = true;
	if (lim < c->top && !calming(c, t)) {
		size_t len = strlen(c->why);
		snprintf(c->why + len, sizeof c->why - len,
			 "; %u may be tried in %u ms", lim + 1,
			 (unsigned)(c->up_gap * 1000));
	}
	return true;
}

bool rc_sched_conn_limit_up(struct rc_sched_conn *c, double t)
{
	if (!c->limited)
		return false;
	if (c->calm_at != 0 && !calming(c, t) && back_to_limit(c))
		return true;
	if (c->up_at == 0 || t < c->up_at)
		return false;
	double since = c->tried_at > c->limit_at ? c->tried_at : c->limit_at;
	c->up_at = t + c->up_gap;
	if (calming(c, t) || c->n < c->cap || c->cap >= c->top)
		return false;
	snprintf(c->why, sizeof c->why,
		 "the server's limit of %u held for %u ms: trying %u", c->cap,
		 (unsigned)((t - since) * 1000), c->cap + 1);
	c->cap++;
	c->max_cap = c->cap;
	c->n = c->cap;
	c->tried_at = t;
	c->confirmed = false; /* until the server answers that many */
	return true;
}

void rc_sched_conn_first_try(struct rc_sched_conn *c, double gap)
{
	double was = c->up_first > 0 ? c->up_first : RC_SCHED_LIMIT_UP;

	c->up_first = gap;
	if (c->limited && c->up_gap == was) {
		c->up_at += gap - was;
		c->up_gap = gap;
	}
}

bool rc_sched_conn_served(struct rc_sched_conn *c, unsigned served, double t)
{
	if (!c->limited || calming(c, t))
		return false;
	bool back = c->calm_at != 0 && back_to_limit(c);
	if (served > c->top)
		served = c->top; /* (-n's, or what the buffer feeds) */
	/* A limit on requests at once (nginx's limit_conn, by 503s) lets
	 * more replies come at once than it processes: a reply's bytes are
	 * in flight after the server is done with it. */
	if (served < c->cap || c->by_503)
		return back;
	if (served == c->cap) {
		/* The limit (or a try one higher) borne out. */
		if (!c->confirmed) {
			c->confirmed = true;
			c->limit_at = t;
			c->up_at = t + c->up_gap;
		}
		return back;
	}
	snprintf(c->why, sizeof c->why,
		 "the server answered %u connections at once: its limit is "
		 "%u, not %u",
		 served, served, c->cap);
	c->cap = served;
	c->max_cap = served;
	if (c->n < served)
		c->n = served;
	/* Borne out: a reset lowers it one at a time from here, and the
	 * next try one higher waits a gap from here. */
	c->confirmed = true;
	c->limit_at = t;
	c->up_at = t + c->up_gap;
	return true;
}

bool rc_sched_conn_feed(struct rc_sched_conn *c, uint64_t budget,
			uint64_t chunk)
{
	uint64_t feed = chunk ? 2 * budget / chunk : 1;

	if (feed < 1)
		feed = 1;
	if (!c->pinned && feed < c->top)
		c->top = (unsigned)feed;
	if (c->pinned || feed >= c->max_cap)
		return false;
	c->max_cap = (unsigned)feed;
	if (c->cap > c->max_cap)
		c->cap = c->max_cap;
	if (c->n > c->cap)
		c->n = c->cap;
	if (c->prev_n >= c->n)
		c->prev_n = 0; /* the step it would undo to is gone */
	snprintf(c->why, sizeof c->why,
		 "a %" PRIu64 "-byte buffer of chunks up to %" PRIu64
		 " bytes feeds %u at most",
		 budget, chunk, c->max_cap);
	return true;
}

bool rc_sched_conn_widen(struct rc_sched_conn *c, unsigned cap)
{
	if (!c->pinned && cap > c->top)
		c->top = cap;
	if (c->pinned || c->limited || c->shed_at > 0 || cap <= c->max_cap)
		return false;
	c->max_cap = cap;
	c->cap = cap;
	c->settled = false;
	snprintf(c->why, sizeof c->why,
		 "with several ranges a request, connections wait in the "
		 "kernel, not in the buffer: %u at most",
		 cap);
	return true;
}

bool rc_sched_away(double rtt, double wait)
{
	return rtt >= RC_SCHED_ONE_RTT && wait >= 2 * RC_SCHED_ONE_RTT;
}

bool rc_sched_conn_start(struct rc_sched_conn *c, double wait, double rtt,
			 double t)
{
	c->first_wait = wait;
	if (c->pinned ||
	    (wait < RC_SCHED_FAR_WAIT && !rc_sched_away(rtt, wait)) ||
	    c->n >= c->cap)
		return false;
	snprintf(c->why, sizeof c->why,
		 "the first reply took %.0f ms (a %.1f ms round trip): "
		 "starting at %u, not %u",
		 wait * 1000, rtt * 1000, c->cap, c->n);
	c->n = c->cap;
	c->prev_n = 0;
	c->step_at = t;
	c->far = true;
	return true;
}

int rc_sched_conn_near(struct rc_sched_conn *c, double rtt, bool timed)
{
	if (c->one || c->one_done)
		return 0;
	if (c->pinned || !timed || c->n <= 1) {
		c->one_done = true;
		return 0;
	}
	if (!(c->first_wait > 0 && c->first_wait < RC_SCHED_NEAR) ||
	    !(rtt >= 0 && rtt < RC_SCHED_ONE_RTT)) {
		c->one_done = true;
		snprintf(c->why, sizeof c->why,
			 "a %.2f ms round trip, %.1f ms to the first reply: "
			 "no one stream first",
			 rtt * 1000, c->first_wait * 1000);
		return -1;
	}
	snprintf(c->why, sizeof c->why,
		 "a short path (a %.2f ms round trip, %.1f ms to the first "
		 "reply): one stream first",
		 rtt * 1000, c->first_wait * 1000);
	c->one = true;
	c->one_n = c->n;
	c->n = 1;
	c->cpu_at = 0;
	return 1;
}

bool rc_sched_conn_one(struct rc_sched_conn *c, double t, double busy,
		       uint64_t rx, unsigned receiving)
{
	bool watch = c->one && c->one_done && c->settled;

	if (!c->one || (c->one_done && !watch) || busy < 0)
		return false;
	if (c->cpu_at == 0) {
		c->cpu_at = t;
		c->cpu_t = t;
		c->cpu_busy = busy;
		c->cpu_rx = rx;
		c->cpu_run = 0;
		return false;
	}
	c->cpu_run += (receiving ? 1.0 : 0.0) * (t - c->cpu_t);
	c->cpu_t = t;
	double el = t - c->cpu_at;
	if (el < (watch ? RC_SCHED_ONE_AGAIN : RC_SCHED_CPU_WINDOW))
		return false;
	c->cpu_at = 0; /* the next window starts at the next call */
	if (c->cpu_run < 0.75 * el)
		return false; /* it waited for room: the reader is the limit */
	double share = (busy - c->cpu_busy) / el;
	double rate = (double)(rx - c->cpu_rx) / el;
	c->one_done = true;
	/* (A stream under RC_SCHED_CAPPED is a capped one on a busy
	 * machine, whose wait to run counts: more connections pay.) */
	if (share >= RC_SCHED_CPU_BOUND && rate >= RC_SCHED_CAPPED) {
		if (watch)
			return false;
		snprintf(c->why, sizeof c->why,
			 "one stream: %.1f MiB/s, the receiving thread busy "
			 "%.0f%% of %.0f ms: settled at 1",
			 rate / 1048576, 100 * share, el * 1000);
		c->settled = true;
		return true;
	}
	snprintf(c->why, sizeof c->why,
		 "one stream: %.1f MiB/s, the receiving thread busy %.0f%% of "
		 "%.0f ms: the network is the limit%s, back to %u",
		 rate / 1048576, 100 * share, el * 1000, watch ? " now" : "",
		 c->one_n);
	c->one = false;
	c->settled = false;
	c->n = c->one_n;
	measure_anew(c, t);
	return true;
}

double rc_sched_thread_busy(void)
{
	unsigned long long run, wait;
	double v = -1;
	FILE *f = fopen("/proc/thread-self/schedstat", "re");

	if (f == NULL)
		return -1;
	if (fscanf(f, "%llu %llu", &run, &wait) == 2)
		v = (double)(run + wait) / 1e9;
	fclose(f);
	return v;
}

void rc_sched_conn_probe(struct rc_sched_conn *c, uint64_t got, double rate)
{
	if (c->pinned || c->far || c->down || c->probed_down || c->rose ||
	    c->prev_n != 0 || c->windows != 0 || got < RC_SCHED_PROBE_BYTES)
		return;
	if (rate > 0 && rate < RC_SCHED_CAPPED)
		c->early = true;
}

size_t rc_sched_feed_slots(uint64_t budget, unsigned reach)
{
	uint64_t most = budget / RC_SCHED_FEED_FLOOR;
	uint64_t want = reach ? reach : 1;

	if (most < 1)
		most = 1;
	return (size_t)(want < most ? want : most);
}

uint64_t rc_sched_chunk(double rate, double rtt, uint64_t lo, uint64_t hi)
{
	if (lo > hi)
		lo = hi;
	if (rate <= 0 || rtt <= 0)
		return hi;
	double want = RC_SCHED_BDP_FACTOR * rate * rtt;
	if (want >= (double)hi)
		return hi;
	uint64_t c = (uint64_t)want & ~(uint64_t)0xffff;
	return c < lo ? lo : c;
}

bool rc_sched_is_slow(const struct rc_sched_range *r, double t,
		      double typical_rate, double typical_wait)
{
	if (typical_rate <= 0)
		return false;
	if (r->first_byte == 0)
		return typical_wait > 0 && t - r->started > 4 * typical_wait;
	double el = t - r->first_byte;
	double normal = (double)(r->left + r->got) / typical_rate;
	if (el < RC_SCHED_SLOW_MIN || el < normal / 2 ||
	    (r->new_conn && el < RC_SCHED_SLOW_START * typical_wait))
		return false;
	return (double)r->got / el < typical_rate / 3;
}

/* r's own rate from its first body byte, 0 before it. */
static double own_rate(const struct rc_sched_range *r, double t)
{
	if (r->first_byte == 0 || t <= r->first_byte)
		return 0;
	return (double)r->got / (t - r->first_byte);
}

/* The rate r goes on at: its own, or its recent one where lower (a
 * byte a second at least, so that a range that went silent has one). */
static double next_rate(const struct rc_sched_range *r, double t)
{
	double rate = own_rate(r, t);

	if (rate > 0 && r->recent_known && r->recent_rate < rate) {
		double floor = r->recent_rate > 1 ? r->recent_rate : 1;
		rate = floor < rate ? floor : rate;
	}
	return rate;
}

double rc_sched_cold_time(uint64_t len, double typical_wait)
{
	return typical_wait *
	       (1 + log2(1 + (double)len / RC_SCHED_INIT_WINDOW));
}

bool rc_sched_split_pays(const struct rc_sched_range *r, uint64_t left,
			 double t, double typical_wait)
{
	double rate = next_rate(r, t);

	/* rc_sched_is_slow's grace, on a far link: a reply on a new
	 * connection in slow start is not split. (Priced as ramping up,
	 * a typical wait per doubling of its window, it never pays: a
	 * cold taker starts lower and has the same doublings to go.) */
	if (r->new_conn && typical_wait >= RC_SCHED_FAR_WAIT &&
	    t - r->first_byte < RC_SCHED_SLOW_START * typical_wait)
		return false;
	/* Split, the later of the halves ends at the taker's cold time
	 * (the owner's half takes half its time): it must save a quarter
	 * of the owner's. */
	return rate > 0 && 0.75 * (double)left / rate >
			       rc_sched_cold_time(left / 2, typical_wait);
}

bool rc_sched_restart_pays(const struct rc_sched_range *r, uint64_t left,
			   double t, double typical_rate, double typical_wait)
{
	double rate = next_rate(r, t);

	if (left == 0 || rate <= 0 || typical_rate <= 0)
		return false;
	double own = (double)left / rate;
	double again = 2 * typical_wait + (double)left / typical_rate;
	return own >= 1.0 && own > RC_SCHED_RESTART * again;
}
