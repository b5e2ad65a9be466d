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

/*
 * Connections. Unless -n pins the count, the fetcher starts 8 transfers
 * (the old fixed default: 4 ramped too slowly at 100 ms, measured) and
 * doubles them while the rate of all of them together
 * still rises by RC_SCHED_GAIN per step. The rate of a count is taken
 * once it stops rising between windows of two round trips (new
 * connections need a handshake and slow start); the first step that
 * does not pay is undone and the count settles there. 429 and 503 halve
 * the count (growth resumes after RC_SCHED_CALM quiet seconds), and a
 * connection refused, or reset before its first byte, while others are
 * open, is a server's connection limit: the count drops to the
 * connections that work, and is tried one higher now and then
 * (rc_sched_conn_shed). Never more than
 * RC_SCHED_CONN_CAP per host. Pure: time is an argument, so the
 * simulator (tests/unit/t_sim.c) drives the same code.
 */
#define RC_SCHED_CONN_START 8	   /* transfers at first */
#define RC_SCHED_CONN_CAP 32	   /* transfers per host, at most */
#define RC_SCHED_GAIN 0.10	   /* a step must raise the rate by this */
#define RC_SCHED_MIN_WINDOWS 3	   /* take the rate after at least */
#define RC_SCHED_SETTLE_WINDOWS 5  /* "no gain" after at least */
#define RC_SCHED_MAX_WINDOWS 12	   /* take the rate after this many */
#define RC_SCHED_CALM 10.0	   /* s after a 429/503 before growing again */
#define RC_SCHED_LIMIT_UP 0.25	   /* s before a limit found is tried + 1 */
#define RC_SCHED_LIMIT_UP_FAR 2.0  /* ... with stripes (fetch.c) */
#define RC_SCHED_LIMIT_UP_MAX 30.0 /* ... the longest gap between tries */
/*
 * Fewer connections. Where one or two connections already carry
 * everything (loopback, a fat pipe), every extra one costs CPU and
 * memory for nothing. When the first doubling from the starting count
 * gives no gain, the count is halved instead, and halved again while
 * the rate stays within RC_SCHED_LOSS of the best rate measured; the
 * first halving that loses more is undone and the count settles there.
 * On a short path (round trip under RC_SCHED_NEAR) the halving is tried
 * first, before any doubling: its windows last 50 ms, so a halving
 * that loses costs little, and a loopback download is over before a
 * doubling could be judged. A halving is measured once the transfers
 * over its count have ended; a far start's halving is undone after one
 * window when it lost a quarter of the rate already. When that first
 * halving loses a quarter or more (a per-connection cap: 35-50%), the
 * count climbs from the start by doubling; after a smaller loss it
 * settles at the start. Where
 * a per-connection cap makes every connection count at a distance
 * (100 ms, 20 MiB/s per request), the doubling pays, so the count
 * never goes down.
 */
#define RC_SCHED_LOSS 0.05 /* a halving may lose this much rate */
/* Halving stops here: one connection may carry a fast link alone, but
 * a second is what a straggler's range is split to (the count bounds
 * the transfers, so with one a slow range holds the output). */
#define RC_SCHED_FEWEST 2
#define RC_SCHED_NEAR 0.02   /* s: a round trip this short halves first */
#define RC_SCHED_WINDOW 0.05 /* s: the shortest window judging a halving */
/* ... and it holds this much per connection, so that a slow server's
 * bursts (nginx sends 64 KiB at a time under limit_rate) average out;
 * when the first such window takes over twice its time, the
 * connections are too slow for a quick halving and the count climbs
 * first. Windows judging a doubling last 100 ms at least. */
#define RC_SCHED_WINDOW_BYTES (256u << 10)
#define RC_SCHED_DOWN_WINDOWS 3 /* windows that judge a halving */
#define RC_SCHED_CLIMB 0.25	/* a first halving losing this climbs */
/* On a short path, connections that carry under this each at the start
 * are held back by a per-connection cap (a store's per-request limit)
 * or a slow link: the count climbs to the cap at once instead of
 * halving first (a slow link shows no gain, and the count comes back).
 * Loopback and a LAN carry far more per connection. */
#define RC_SCHED_CAPPED (32u << 20)
/* s: when the probe's own reply also carried under RC_SCHED_CAPPED
 * (rc_sched_conn_probe), the starting count's first window begins at
 * the probe's end and lasts two round trips, but this long at least,
 * instead of 50 ms each: a capped link carries a quarter of its rate
 * until the climb. One early window alone is not trusted: on a loaded
 * machine the first milliseconds of an uncapped loopback run are slow
 * too. */
#define RC_SCHED_UP 0.010
/* ... and there the starting connections count as capped under this
 * share of RC_SCHED_CAPPED each (24 MiB/s); between it and the whole
 * bound, the first whole window decides, as without the early one. */
#define RC_SCHED_EARLY_SHARE 0.75
/* A probe reply shorter than this says nothing of its connection. */
#define RC_SCHED_PROBE_BYTES (128u << 10)

struct rc_sched_conn {
	unsigned n;	  /* transfers to run now */
	unsigned cap;	  /* never more than this */
	bool pinned;	  /* -n: n never rises, and falls only to a limit */
	bool settled;	  /* no gain past n, or shed: stop adding */
	unsigned prev_n;  /* count before the last step, 0 none */
	double prev_rate; /* bytes/s measured with prev_n */
	double step_at;	  /* when n last changed */
	double win_at;	  /* start of the measuring window, 0 settling */
	uint64_t win_rx;  /* bytes received when it started */
	double win_busy;  /* transfer-seconds running within it */
	double last_t;	  /* time of the last tick */
	double shed_at;	  /* when a 429/503 last shed, 0 never */
	double calm_at;	  /* grow again from then on, 0 never */
	unsigned max_cap; /* the cap without 429/503 */
	double last_rate; /* the last window's rate while rising */
	unsigned windows; /* windows measured since the step */
	bool limited;	  /* a server's connection limit set cap */
	double found_at;  /* when the limit was first found */
	double limit_at;  /* when it was last found or lowered */
	double up_at;	  /* when the limit is tried one higher, 0 never */
	double up_gap;	  /* s between such tries: doubles at each reset */
	double up_first;  /* the first gap (RC_SCHED_LIMIT_UP unless set) */
	double tried_at;  /* when it was last tried one higher, 0 never */
	bool confirmed;	  /* the server answered that many at once */
	bool by_503;	  /* the limit was found by a 503: replies that
			   * come at once say nothing of it (served) */
	unsigned top;	  /* the most the buffer feeds (feed, widen), -n */
	bool down;	  /* n is a halving being measured */
	bool probed_down; /* halving was tried (once per run) */
	bool far;	  /* started at the cap (rc_sched_conn_start) */
	bool down_first;  /* ... before any doubling (a short path) */
	bool rose;	  /* a doubling paid */
	bool slow;	  /* too slow per connection to halve first */
	bool early;	  /* the probe was capped: a short first window */
	unsigned top_n;	  /* the count the halving started from */
	double down_at;	  /* start of the halving's first window */
	uint64_t down_rx; /* bytes received then */
	/* One stream (rc_sched_conn_near, rc_sched_conn_one). */
	double cpu_at;	   /* start of the window it is judged on, 0 none */
	double cpu_busy;   /* the receiving thread's busy seconds then */
	uint64_t cpu_rx;   /* bytes received then */
	double cpu_run;	   /* s the one stream received within it */
	double cpu_t;	   /* ... measured up to then */
	bool one;	   /* one stream now: first, then the client's limit */
	bool one_done;	   /* judged for the run */
	unsigned one_n;	   /* the count it replaced */
	double first_wait; /* s to the first reply (rc_sched_conn_start) */
	char why[160];	   /* the last decision, for -v */
};

/* n transfers at time t, at most cap; pinned keeps n (-n), but for a
 * server's limit (rc_sched_conn_shed). */
void rc_sched_conn_init(struct rc_sched_conn *c, unsigned n, unsigned cap,
			bool pinned, double t);

/*
 * One look at the run at time t: rx is every body byte received so far,
 * running the transfers receiving now, rtt the round trip (request to
 * first byte, 0 unknown). Returns true when it decided something (n
 * changed, or the count settled); c->why says what and why. A window in
 * which fewer than three quarters of n transfers ran (the buffer is
 * full, the file nearly done) proves nothing and is measured again.
 */
bool rc_sched_conn_tick(struct rc_sched_conn *c, double t, uint64_t rx,
			unsigned running, double rtt);

enum rc_sched_shed {
	RC_SCHED_SHED_BUSY,    /* 429 or 503 */
	RC_SCHED_SHED_REFUSED, /* connect refused */
	RC_SCHED_SHED_RESET,   /* reset before the first byte */
	RC_SCHED_SHED_503,     /* 503 without Retry-After while the server
				* answers others: its limit on requests at
				* once (nginx's limit_conn) */
};

/*
 * What the buffer can feed. A transfer writes into one chunk at a time,
 * but takes its buffer only at the reply's first byte (ring.h): for a
 * round trip per range it holds none. Budget bytes in chunks of up to
 * chunk bytes so feed 2 * budget / chunk transfers (one at least): the
 * half waiting for replies keeps the other half's next requests
 * answered, and a reply that finds no room waits in its socket until
 * the output frees a buffer. Measured at 200 ms with 12.8 MiB in
 * 512 KiB chunks: 32 transfers 7.7 s for 256 MiB, 25 (budget / chunk)
 * 8.6 s. Lowers c's cap, and the cap a 429/503 returns to, to that
 * (never raises them); n follows. -n (pinned) is the user's call and
 * stays. Returns true when the cap dropped (c->why says so).
 */
/*
 * Stripes (a server a round trip away): connections ahead of the
 * buffer's window wait in the kernel, not in the buffer, so the count may
 * reach cap again however little the buffer a small file gets fed (16 MiB
 * at 100 ms: 1.19 s with 32, 1.47 s with the 8 its 2 MiB fed). Not past a
 * limit found since (shed), nor for -n. Returns true when the cap rose.
 */
bool rc_sched_conn_widen(struct rc_sched_conn *c, unsigned cap);

bool rc_sched_conn_feed(struct rc_sched_conn *c, uint64_t budget,
			uint64_t chunk);

/*
 * Where the count starts. Each step of the controller waits for several
 * windows of two round trips, so from RC_SCHED_CONN_START to the cap
 * takes about a second per doubling at 100 ms, most of a 1 GiB run on a
 * fast link. When the first reply (wait: a new connection's handshake
 * and request, two round trips or more) took RC_SCHED_FAR_WAIT or
 * longer, or the server is a round trip away (rc_sched_away; rtt: the
 * probe's round trip where requests ask several ranges, fetch.c's
 * more_ranges, whose window holds the buffer; 0 elsewhere), the count
 * starts at the cap the buffer feeds instead, and once its rate is taken
 * it is halved as long as that loses nothing (a shared bottleneck), as
 * when a first doubling does not pay. Even at 10 ms the climb cost (1 GiB
 * at 32 x 20 MiB/s on the emulated link: 2.27 s from 8, 2.12 s from 32,
 * -n 32 2.07 s). Only on a short path, where the ramp costs a few
 * milliseconds, does the count start small. Returns true when it changed
 * n (c->why says why); pinned counts stay.
 */
#define RC_SCHED_FAR_WAIT 0.040
bool rc_sched_conn_start(struct rc_sched_conn *c, double wait, double rtt,
			 double t);

/*
 * One stream first. Where the client itself is the limit (loopback, a
 * fast LAN, TLS on a slow core), connections beyond one cost CPU and bring
 * nothing: the fetcher's one thread receives them all, and range after
 * range costs requests, polls and hand-offs that one open-ended request
 * does not (1 GiB on loopback: 8 connections took 1.15-1.46x curl's time,
 * one stream 0.97-1.10x). So on a short path (a first reply within
 * RC_SCHED_NEAR: c->first_wait, rc_sched_conn_start) whose round trip rtt
 * (the TCP handshake's, or the kernel's estimate where less: a loaded
 * client's wait for a CPU is no distance) is under RC_SCHED_ONE_RTT, the
 * rest of the file goes first as one stream (c->one, n 1), which
 * rc_sched_conn_one then judges. A longer round trip would still be in slow
 * start when judged (at 10 ms, 15 ms are two round trips), and loses the start
 * of the count for nothing: the client is the limit only where one connection
 * brings hundreds of MiB/s. Not with -n, nor where Linux gives no schedstat
 * (timed false). Returns 1 when it decided so, -1 when the path is not
 * short (c->why says why, either way: "no one stream first" names the
 * round trip and the first reply's wait), 0 otherwise. Asks once. Where
 * the round trip is RC_SCHED_ONE_RTT or more, requests ask several ranges
 * instead (fetch.c's more_ranges).
 */
#define RC_SCHED_ONE_RTT 0.002 /* s */
int rc_sched_conn_near(struct rc_sched_conn *c, double rtt, bool timed);

/* Whether a server is a round trip away, past a short path: a round trip
 * (rtt) of RC_SCHED_ONE_RTT or more, and a first reply (wait) of two.
 * There requests ask several ranges (fetch.c's more_ranges) and the count
 * starts at the cap (rc_sched_conn_start). */
bool rc_sched_away(double rtt, double wait);

/*
 * The one stream at time t: busy is the receiving thread's seconds
 * running or waiting to run (rc_sched_thread_busy; on a loaded machine
 * the wait is the limit too), rx its bytes so far, receiving 1 when the
 * stream received since the last call (0: it waited for buffer room). Over
 * RC_SCHED_CPU_WINDOW from the first call (its first byte), in which it
 * received three quarters of the time (else it is measured again: a slow
 * reader is the limit, and one stream feeds it), the thread busy
 * RC_SCHED_CPU_BOUND of it or more, at RC_SCHED_CAPPED or more, says the
 * client is the limit: the count settles at one (on loopback 35-100%
 * busy, at 240 MiB/s to 2.5 GiB/s). Less says the network is (a
 * per-connection cap of 20 MiB/s: 1-3% busy, 17% on a loaded machine):
 * the count goes back to the one the stream replaced (c->one false),
 * which then grows or halves as usual. A settled stream is watched over
 * windows of RC_SCHED_ONE_AGAIN: a server that sends its first bytes
 * fast and then holds each request to a rate (nginx's limit_rate lets
 * a second's worth through at once) makes the network the limit later,
 * and the count goes back then. Returns true on a verdict (c->why says
 * which). While the stream is judged or watched, rc_sched_conn_tick
 * waits.
 */
#define RC_SCHED_CPU_BOUND 0.25
#define RC_SCHED_CPU_WINDOW 0.015 /* s */
#define RC_SCHED_ONE_AGAIN 0.1	  /* s */
bool rc_sched_conn_one(struct rc_sched_conn *c, double t, double busy,
		       uint64_t rx, unsigned receiving);

/* The calling thread's seconds running or waiting to run, from Linux's
 * /proc/thread-self/schedstat; -1 when it cannot be read. */
double rc_sched_thread_busy(void);

/*
 * The probe's reply ended: got bytes at rate bytes/s from its
 * first body byte. On a short path, before the starting count's first
 * window was judged, a reply of RC_SCHED_PROBE_BYTES or more under
 * RC_SCHED_CAPPED makes that window an early one (RC_SCHED_UP): when
 * the starting connections agree, the count climbs to the cap then.
 */
void rc_sched_conn_probe(struct rc_sched_conn *c, uint64_t got, double rate);

/*
 * The chunks a budget is cut into so that each of the reach transfers
 * the count may reach has one: reach, but no more than budget /
 * RC_SCHED_FEED_FLOOR (and at least 1), since chunks shorter than the
 * floor cost a request each for little data (a round trip per 512 KiB is
 * a fifth of a 20 MiB/s transfer's time at 100 ms). The ring's longest
 * chunk becomes budget / this (rc_ring_lower_budget's min_slots).
 */
#define RC_SCHED_FEED_FLOOR (512u << 10)
size_t rc_sched_feed_slots(uint64_t budget, unsigned reach);

/*
 * A transfer launched at time launched, with others other transfers
 * running then, failed with what at time t, while answered others had
 * their replies coming. Returns true when that was a server's limit or
 * a 429/503 the count heeds (c->why says why), including a transfer
 * launched before a limit found since or with more open than it. For a refused
 * or reset connection that means the failure was the server's connection limit,
 * not the range's, and its retry need not count against --retries.
 *
 * The limit is a guess: answered (the server holds those connections),
 * or others when none is answered yet or fewer were open. Neither is
 * sure: 32 transfers launched together reach the server in any order,
 * and from others alone a limit of 4 came out 2 to 21 (a loaded CI run
 * kept 2 for good, as no more then ran to show it wrong). So the limit
 * rises to what the server answers at once (rc_sched_conn_served) and
 * is tried one higher after RC_SCHED_LIMIT_UP quiet seconds (or
 * c->up_first: RC_SCHED_LIMIT_UP_FAR with stripes) (rc_sched_conn_limit_up),
 * again after as long while that holds. A
 * reset of a transfer launched after the limit was found lowers it the
 * same way, but one that held (a try came after it, or the server
 * answered that many) by one only; a try's reset doubles the gap (up to
 * RC_SCHED_LIMIT_UP_MAX): a handful of resets a run. Transfers launched
 * before it was found, or with more open than it since, change nothing,
 * so there are finitely many such retries. The limit is max_cap: within
 * a 429/503's calm, cap is the halving. A limit lowers -n's count too
 * (its retries would never get past it: -n 2 against a server allowing
 * one gave up after 50 s), and tries bring it back up to -n, never past.
 * A 429/503 halves the count (not -n's) at
 * most once a second (one storm hits every transfer at once) and its
 * retry counts as usual; the limit is neither tried higher nor raised
 * until RC_SCHED_CALM quiet seconds have passed, and then n goes back to
 * it.
 */
bool rc_sched_conn_shed(struct rc_sched_conn *c, double t,
			enum rc_sched_shed what, unsigned others,
			double launched, unsigned answered);

/*
 * A limit found (rc_sched_conn_shed) that held RC_SCHED_LIMIT_UP quiet
 * seconds, or the gap since the last try, is tried one higher at time t:
 * n and the cap rise by one, not past what the buffer feeds, not within
 * RC_SCHED_CALM s of a 429/503, nor past -n, nor while the count keeps
 * under the limit. Returns true when they rose (c->why says so).
 * fetch.c tries only while ranges remain to be planned: at the end, a
 * count raised by a try launched nothing, or split a range onto a
 * connection the server reset.
 */
bool rc_sched_conn_limit_up(struct rc_sched_conn *c, double t);

/* The wait before the first try one higher: gap from now on, and now
 * too if no try failed yet (stripes on: RC_SCHED_LIMIT_UP_FAR; off
 * again: RC_SCHED_LIMIT_UP). */
void rc_sched_conn_first_try(struct rc_sched_conn *c, double gap);

/*
 * A server whose limit was found (c->limited) answered served
 * connections at once (time t): its limit is at least that. Raises the
 * cap, and n, to served, and the next try one higher waits a gap from
 * t; served as many as the cap bears it out (a reset then lowers it by
 * one only); not within RC_SCHED_CALM s of a 429/503 (its cap is the server's
 * word), nor past -n. Returns true when the cap rose (c->why says so).
 */
bool rc_sched_conn_served(struct rc_sched_conn *c, unsigned served, double t);

/*
 * Chunks. The length of a range request from the bandwidth-delay
 * product: RC_SCHED_BDP_FACTOR x rate x rtt makes the round trip before
 * each range an eighth of its time or less. Clamped to [lo, hi] (hi: the
 * buffer's share per connection, or a slot); hi when nothing was
 * measured yet (rate or rtt 0), where the plan's doubling from a small
 * first chunk (plan.c) governs. Rounded down to 64 KiB.
 */
#define RC_SCHED_BDP_FACTOR 8.0
uint64_t rc_sched_chunk(double rate, double rtt, uint64_t lo, uint64_t hi);

/*
 * A range's progress as the policies below see it: when it was asked
 * (started), its first body byte (0: not yet), the bytes it delivered
 * (got) and the bytes it still has to fetch (left).
 */
struct rc_sched_range {
	double started, first_byte;
	uint64_t got, left;
	bool new_conn;	    /* its connection was opened for it: slow start */
	bool recent_known;  /* recent_rate was measured */
	double recent_rate; /* bytes/s over the last RC_SCHED_RECENT s or
			     * more (fetch.c), where recent_known */
};

/*
 * What a range will do next is judged by the lower of its rate since
 * its first byte and its recent rate: a reply that slows to a trickle
 * after a fast start keeps a high average for a long time (4 MiB at 2
 * MiB/s, then 10 bytes/s: at 200 ms its last 96 KiB paid a split only
 * after 35 s). The window is RC_SCHED_RECENT s, or five typical waits
 * where that is longer: a far reply lands in bursts a round trip apart.
 * A range that only ramps up (slow start, or a window started over after
 * idle) has a recent rate above its average, so nothing changes for it.
 * Used by rc_sched_split_pays and rc_sched_restart_pays; who is a
 * straggler (rc_sched_is_slow) is still judged by the average.
 */
#define RC_SCHED_RECENT 1.0

/*
 * A straggler at time t, against ranges that finished at typical_rate
 * (bytes/s from their first body byte) after typical_wait (s to it):
 * under a third of that rate once it ran half the time its range
 * normally takes (RC_SCHED_SLOW_MIN at least), timed from its first body
 * byte; or still without one after four typical waits. A range on a new
 * connection is in slow start for several round trips (to 2 MiB in
 * flight takes seven doublings): it is not judged before
 * RC_SCHED_SLOW_START typical waits after its first byte, or every
 * connection added mid-run would be split, and the split owner's
 * connection closed and opened again, slow once more.
 */
#define RC_SCHED_SLOW_START 10
/* 30 ms, not 50: with 256 KiB chunks at 20 MiB/s (12.5 ms each) every
 * straggler held the output for the floor and then its half; one reply
 * in eight at 2 MiB/s on loopback, 1 GiB, 3 interleaved runs: 2.70 s
 * with 50 ms, 2.28 s with 30 ms, 2.27 s with 20 ms, 1.59 s without
 * stragglers either way. */
#define RC_SCHED_SLOW_MIN 0.03 /* s */
bool rc_sched_is_slow(const struct rc_sched_range *r, double t,
		      double typical_rate, double typical_wait);

/*
 * About how long a connection that starts cold (a new one, or one idle
 * past the server's retransmission timeout on Linux's default cubic)
 * takes to carry len bytes: typical_wait to its first byte, then a
 * typical_wait per doubling of its window from the initial
 * RC_SCHED_INIT_WINDOW (ten segments, RFC 6928) until what it sent
 * reaches len. typical_wait stands for the round trip here, as it does
 * for the count (rc_sched_conn_tick); a server slow to start its replies
 * makes the price too high, and splits rarer.
 */
#define RC_SCHED_INIT_WINDOW 14600.0
double rc_sched_cold_time(uint64_t len, double typical_wait);

/*
 * Whether giving half of the left bytes of r to another connection ends
 * them sooner. The taker is priced as a cold connection: the spare (the
 * transfer beyond the count) has none, and a pooled one may have idled
 * past the timeout; and the split closes the owner's (its write fails
 * at the split point), so its next range starts cold too. The split
 * pays when the taker's time for its half (rc_sched_cold_time) is under
 * three quarters of what r would take for all of it at the rate it goes
 * on at (RC_SCHED_RECENT): a quarter saved at least. On a near server a
 * cold connection costs a few milliseconds. At 200 ms it needs about a
 * second for 256 KiB, no sooner than a cubic connection that restarted
 * its window after idling ramps up again: splitting those, as when the
 * taker's wait alone was counted, made each split a new straggler (256
 * MiB on cubic at 200 ms, six runs: 100 splits and 8.7-21.7 s, against
 * 4 splits and 6.4-8.8 s). On a far link (RC_SCHED_FAR_WAIT) a range
 * on a new connection still in slow start (rc_sched_is_slow's grace) is
 * not split: at its average rate it looked slow from its first round
 * trip, and a 1 MiB file at 100 ms took five splits and eight new
 * connections, each in slow start (1.28 s, curl 0.88 s); near, slow
 * start is over in milliseconds. A range before its first byte has no
 * rate: never.
 */
bool rc_sched_split_pays(const struct rc_sched_range *r, uint64_t left,
			 double t, double typical_wait);

/*
 * Whether a slow range too short to split (a split leaves the owner its
 * front half, and halving stops at 64 KiB) ends sooner asked again on a
 * new connection: a handshake and a request (two typical waits) and its
 * left bytes at the typical rate, against the left bytes at the rate it
 * goes on at (RC_SCHED_RECENT). It pays when its own way takes
 * RC_SCHED_RESTART times as long and a second at least. A server
 * dripping a byte every 0.5 s held the last 64 KiB of a range for nine
 * hours: no stall, no split.
 */
#define RC_SCHED_RESTART 4.0
bool rc_sched_restart_pays(const struct rc_sched_range *r, uint64_t left,
			   double t, double typical_rate, double typical_wait);

#endif
