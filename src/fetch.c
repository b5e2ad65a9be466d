/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The fetcher thread. It owns every libcurl object; the consumer only sees
 * the ring. One loop: start transfers for free slots, let curl run, judge
 * each response (probe.c), follow redirects itself (so credentials stay
 * on their origin, auth.c), retry failures from their first missing byte,
 * and sleep in curl_multi_poll until a socket, a retry timer or a freed
 * slot (curl_multi_wakeup from the consumer) needs attention. Each attempt
 * gets its own header list from rc_auth_headers: signatures and tokens are
 * per request.
 *
 * A transfer fetches [cur, end). In parallel mode it covers one chunk. A
 * spanning transfer (a server that ignores Range, a file without a
 * validator that tells versions apart, -n 1, a suffix range) walks slot
 * after slot and pauses while the ring is full. Either way bytes are copied
 * once, from curl's buffer into their slot.
 */
#include "fetch.h"

#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <zstd.h>

#include <curl/curl.h>
#include <mbedtls/version.h>

#include "escape.h"
#include "handle.h"
#include "lazyarchive.h"
#include "log.h"
#include "parts.h"
#include "plan.h"
#include "sched.h"

enum mode { MODE_PROBE, MODE_PARALLEL, MODE_STREAM };

/*
 * A chunk can be split between transfers (head-of-line stragglers, see
 * try_split): each piece is a segment [start, end) with its bytes landed
 * up to done. Fetcher-only bookkeeping; the ring sees the contiguous
 * prefix (publish).
 */
struct seg {
	uint64_t start, end, done;
	uint64_t shown; /* ... and up to here the output may have them: a
			 * part of a multipart reply once the framing after
			 * it proved where it ends (part_checked), else done */
};
#define MAX_SEGS 16
#define MIN_SPLIT (64u << 10) /* a segment with less left is not split */

/*
 * Stripes (a server a round trip away, see more_ranges): a transfer asks for up
 * to STRIPE_MAX chunks in one request, and the reply is
 * multipart/byteranges. The chunks are planned in groups of k x
 * STRIPE_MAX (k: the count when the group is planned); the transfer
 * that takes stripe i of a group gets its chunks i, i + k, i + 2k, ...,
 * so two chunks of one request are never adjacent (servers merge those).
 */
#define STRIPE_MAX RC_STRIPE_MAX

/*
 * With one connection a stripe is up to JOIN_MAX adjacent chunks, asked
 * as one range: a request costs a round trip of silence, so the longer
 * the better, up to what the ring may claim ahead (f->join). With 8 (1
 * MiB of 128 KiB chunks), a far server allowing one connection took
 * 2.7 s for 20 MiB at 60 ms, curl 1.0 s.
 */
#define JOIN_MAX 256

/*
 * The least buffer where stripes are on, when --memory leaves it to rangecat
 * (the 5% rule's floor elsewhere is RC_RING_FLOOR). A connection ahead of
 * the window waits with what its receive window lets the server send,
 * and the kernel grows that window only for a reader that keeps up: with
 * 2 MiB over 32 connections each carried about 64 KiB a round trip. At
 * 100 ms, 16 MiB took 1.15 s with 2 MiB, 1.04 s with 4 MiB and 1.06 s
 * with 8 (axel -n 16 1.14 s), at 16.9, 16.3 and 20.2 MiB RSS.
 */
#define FAR_FLOOR (4u << 20)

/* A chunk a transfer asked for after the one it is writing. */
struct part {
	uint64_t seq, off, end;
};

/* Response headers larger than this (all lines, redirects included) are a
 * broken or hostile reply. */
#define RC_MAX_HEADER_BYTES (256u << 10)

struct xfer {
	struct rc_fetch *f;
	CURL *h;
	curl_socket_t sock;	 /* the socket h opened last (sockopt_cb) */
	struct curl_slist *hdrs; /* this attempt's headers, owned */
	char *redir_url;	 /* where a redirect sent this range, owned */
	unsigned redirects;	 /* followed for this range so far */
	unsigned auth_gen;	 /* OAuth token generation sent */
	bool auth_retried;	 /* a 401 already got a fresh token */
	char errbody[2048];	 /* the start of an error reply's body */
	size_t errlen;

	unsigned target_gen; /* f->target_gen when it asked f->url */

	enum rc_xfer_state state; /* changed by xfer_state_set only */
	double retry_at;	  /* RC_XS_WAITING: when it goes again */
	uint64_t pause_need;	  /* RC_XS_PAUSED: room the held write needs */
	bool probe;
	bool spanning;
	bool suffix;  /* asked "bytes=-N" */
	uint64_t seq; /* chunk being written, UINT64_MAX none */
	struct part rest[JOIN_MAX - 1]; /* a stripe's later chunks, in
					 * order, asked in the same request
					 * (launch): adjacent ones as one
					 * range, others as several while
					 * f->stripes, else one after
					 * another (done) */
	unsigned nrest;
	unsigned stride;       /* the count its stripe was cut for */
	bool shortened;	       /* its later parts were given back: the
				* reply ends after the part it is on */
	bool asked_parts;      /* this attempt asked several ranges */
	bool joined;	       /* ... or one over adjacent chunks of its
				* stripe (feed_joined) */
	uint64_t jend;	       /* ... its exclusive end */
	uint64_t jpos;	       /* ... the file offset of its next byte */
	struct rc_parts mp;    /* ... and its reply's framing (v.parts) */
	unsigned parts_in;     /* parts of that reply begun */
	bool parts_end;	       /* ... and its close delimiter came */
	uint64_t epilogue;     /* bytes after it */
	const char *parts_bad; /* why the reply's parts cannot be used, or
				* NULL (done: asked again) */
	char *stash;	       /* bytes read past a part whose chunk waits
				* for buffer room (write_parts), owned */
	size_t stash_len, stash_cap;
	uint64_t att_got;   /* bytes written in this attempt; got counts
			     * those of the current chunk (a part) */
	uint64_t cur;	    /* next file offset to write */
	uint64_t end;	    /* exclusive end wanted, RC_UNKNOWN */
	uint64_t asked_end; /* exclusive end the request asked for */
	unsigned segi;	    /* this transfer's segment of chunk seq */
	uint64_t skip;	    /* body bytes to drop (200 at offset) */
	uint64_t got;	    /* bytes written in this attempt or part */
	unsigned fails;	    /* failures in a row without progress */
	unsigned others;    /* other transfers running at its launch */
	bool at_find;	    /* running when a server's limit was found, no
			     * reply yet: one counts toward the limit */
	bool new_conn;	    /* this attempt opened its connection */
	bool ramp;	    /* ... or its reply starts slow all the same */
	bool room_wait;	    /* this attempt waited for buffer room */
	bool dropped;	    /* restart_hopeless ended this attempt */
	bool hopeless;	    /* ... this range's: once per range */
	bool unstriped;	    /* this attempt turned stripes off */
	double started;
	double first_byte; /* when this attempt's first body byte came, 0 */
	double att_at;	   /* when this attempt's request went */
	double last_byte;  /* when the last body byte came */
	double win_at, prev_at;	    /* recent rate (note_windows): windows */
	uint64_t win_got, prev_got; /* ... begun then, got then */

	bool judged;
	struct rc_resp resp;
	struct rc_verdict v;
	bool at_end;	   /* probe found nothing to send */
	bool restart;	   /* the probe's body is dropped; it goes again */
	double restart_in; /* seconds to wait before it does */
	bool sizing;	   /* asks bytes=0-0 to learn the size after a 416 */
	bool overflow;	   /* the server sent more than asked */
	bool past_crange;  /* ... more than its Content-Range said */
	uint64_t body;	   /* body bytes of this reply taken so far */
	bool enough;	   /* a 200 stream reached the wanted end */
	size_t hdr_bytes;  /* header bytes of this attempt */
	char errbuf[CURL_ERROR_SIZE];
};

struct rc_fetch {
	const struct rc_opts *o;
	struct rc_ring *ring;
	struct rc_run *run; /* borrowed */
	CURLM *multi;
	pthread_t thread;
	bool started;

	char *url; /* final URL after the probe, owned */
	enum mode mode;
	uint64_t start;	   /* first byte wanted (not for suffix) */
	uint64_t want_end; /* exclusive, RC_UNKNOWN */
	bool suffix;
	uint64_t suffix_len;
	uint64_t end; /* exclusive end once known */
	uint64_t total;
	uint64_t seen_total; /* total, or the first a later reply named */
	uint64_t plan_off;   /* next byte to plan a chunk for */
	unsigned cap0;	     /* the count's cap at the start (fd_cap) */
	uint64_t plan_prev;  /* length of the last planned chunk */
	bool plan_done;
	const char *pin_etag;	/* the ETag later replies carry ("" none) */
	const char *pin_lm;	/* ... and their Last-Modified */
	const char *pin_coding; /* ... and their Content-Encoding ("" none) */
	bool pinned;	 /* a later request is provably the same version */
	bool reprobed;	 /* the probe went again after a fresh date */
	bool one_stream; /* the probe became the single open-ended stream */
	char pin_line[2 * RC_ETAG_MAX + 64]; /* If-Match or If-Unmodified-Since
					      * after the probe, or "" */
	struct rc_auth *auth;		     /* borrowed */

	/* Expiring redirect targets (target_refused): the URL the user
	 * gave, whether f->url is a redirect target of it, and when that
	 * target's signature expires by its query (wall clock, 0 none). */
	char *origin_url; /* owned */
	bool redirected;
	unsigned target_gen;	/* bumped whenever f->url is replaced */
	double refresh_at;	/* ask the origin again from then on, 0 never */
	struct xfer *refresher; /* the transfer asking it now, or NULL */
	unsigned refreshes;	/* asked again without a usable target */

	struct xfer *x;	      /* nx transfers, owned */
	struct seg *segs;     /* MAX_SEGS per slot, owned */
	double typical_rate;  /* bytes/s of a finished range from its first
			       * body byte (EWMA), 0 = none */
	bool rate_rough;      /* ... so far only from short ranges (learn) */
	double typical_wait;  /* s from request to first byte (EWMA) */
	unsigned pace_left;   /* launches still spread out (pace) */
	double pace_next;     /* ... the next one not before */
	double pace_gap;      /* ... s between them */
	unsigned char *nsegs; /* segments in use per slot, owned */
	unsigned nx;
	unsigned in_flight; /* transfers in the multi handle (xfer_state_set) */
	unsigned most_in_flight; /* ... the most at once */
	unsigned find_ok;	 /* transfers running when a server's limit was
				  * found that it answered: it held them at once */
	struct rc_sched_conn conn; /* how many transfers run (sched.c) */
	double cpu_next; /* the receiving thread's time read again then */
	size_t par_slot; /* the count's chunk length, kept while one stream
			  * has longer ones (one_stream_judged) */
	struct rc_fetch_info info;
	bool stripes;	    /* multi-range requests (STRIPE_MAX) */
	unsigned join;	    /* chunks of a stripe cut for one connection
			     * (JOIN_MAX at most) */
	bool far;	    /* stripes went on (more_ranges) */
	bool stripes_may;   /* ... where the server may answer them */
	double handshake;   /* s of the probe's round trip (round_trip), its
			     * last new connection's */
	uint64_t *grp_seq;  /* the stripes' group: its chunks (seq, rising), */
	uint64_t *grp_tmp;  /* ... room to cut it again (regroup), */
	uint64_t *grp_back; /* ... chunks given back, not yet asked, */
	unsigned grp_nback; /* ... how many, */
	bool grp_recut;	    /* ... and whether one was cut again this run */
	unsigned grp_len;   /* ... how many, */
	unsigned grp_k;	    /* ... the stride (stripes a block), */
	unsigned grp_next;  /* ... and the next stripe to hand out */
	bool failed;
	double busy_until; /* a 429/503: no request before then */
	uint64_t head_seq; /* the output's next chunk (unstick_head), */
	double head_at;	   /* ... since when */
	double stuck_at;   /* nothing could bring the head since (stuck) */
	double began;	   /* when the fetcher started */
	struct rc_sched_retry policy; /* attempts, backoff, jitter */
	uint64_t rx;		      /* body bytes received, all attempts */
	double slow_since;	      /* --speed-limit: window start */
	uint64_t slow_rx;	      /* rx at slow_since */
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Records the run's first error and stops scheduling. */
static void fail(struct rc_fetch *f, enum rc_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(struct rc_fetch *f, enum rc_err e, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!f->failed)
		rc_log("fatal: %s", msg);
	f->failed = true;
	rc_ring_fail(f->ring, e, msg);
}

/* The start offset lies beyond the file: exit 2, naming the size. */
static void fail_past_end(struct rc_fetch *f, uint64_t off, uint64_t total)
{
	if (total == RC_UNKNOWN)
		fail(f, RC_E_REMOTE,
		     "offset %" PRIu64 ": the server refused the range (416)",
		     off);
	else
		fail(f, RC_E_REMOTE,
		     "offset %" PRIu64 " is past the end of the file "
		     "(size %" PRIu64 " bytes)",
		     off, total);
}

/*
 * Whether -r A-B names no byte of a file of total bytes: A is not in it
 * (curl gets a 416). -C N at the end is a finished download instead, and
 * a resumed -o FILE's start lies past A, so only A counts.
 */
static bool range_outside(const struct rc_fetch *f, uint64_t total)
{
	/* An empty file's "0-" is no error: servers send it whole (200,
	 * no body), and curl exits 0. */
	return f->o->has_range && !f->o->range_suffix &&
	       f->o->range_first > 0 && f->o->range_first >= total;
}

/*
 * Where a transfer is in its life (enum rc_xfer_state), and the only
 * ways it moves on. The table in docs/ARCHITECTURE.md ("The fetcher")
 * says which code takes each step:
 *
 *   IDLE       -> CONNECTING       launched with new work or the probe
 *   CONNECTING -> RUNNING          the request went out (prereq_cb)
 *   RUNNING    -> PAUSED           a spanning transfer found the ring full,
 *                                  or a reply's first bytes the buffer spent
 *   PAUSED     -> RUNNING          the ring has room again (rc_ring_may_fill)
 *   CONNECTING, RUNNING, PAUSED
 *              -> DONE             curl ended it, it stalled, the run ended
 *   DONE       -> CONNECTING       asked again at once (a redirect, the
 *                                  origin, a fresh token, the size)
 *   DONE       -> WAITING          a retry, or the probe again, later
 *   DONE       -> PARKED           refused by a redirect target while
 *                                  another transfer fetches a fresh one
 *   DONE       -> IDLE             its range is complete, or the file ends
 *   WAITING    -> CONNECTING       its retry time came
 *   PARKED     -> WAITING          the fresh target came (adopt_target)
 *
 * A transfer stays DONE when the run failed. Facts about one attempt
 * (judged, restart, sizing, at_end, enough, overflow, new_conn) and its
 * role (probe, spanning, suffix, f->refresher) are fields beside it.
 */
static const unsigned char state_next[RC_XS__COUNT] = {
    [RC_XS_IDLE] = 1u << RC_XS_CONNECTING,
    [RC_XS_CONNECTING] = 1u << RC_XS_RUNNING | 1u << RC_XS_DONE,
    [RC_XS_RUNNING] = 1u << RC_XS_PAUSED | 1u << RC_XS_DONE,
    [RC_XS_PAUSED] = 1u << RC_XS_RUNNING | 1u << RC_XS_DONE,
    [RC_XS_DONE] = 1u << RC_XS_CONNECTING | 1u << RC_XS_WAITING |
		   1u << RC_XS_PARKED | 1u << RC_XS_IDLE,
    [RC_XS_WAITING] = 1u << RC_XS_CONNECTING,
    [RC_XS_PARKED] = 1u << RC_XS_WAITING,
};

bool rc_fetch_state_ok(enum rc_xfer_state a, enum rc_xfer_state b)
{
	return (unsigned)a < RC_XS__COUNT && (unsigned)b < RC_XS__COUNT &&
	       (state_next[a] >> b & 1u);
}

const char *rc_fetch_state_name(enum rc_xfer_state s)
{
	static const char *const name[RC_XS__COUNT] = {
	    [RC_XS_IDLE] = "idle",	 [RC_XS_CONNECTING] = "connecting",
	    [RC_XS_RUNNING] = "running", [RC_XS_PAUSED] = "paused",
	    [RC_XS_DONE] = "done",	 [RC_XS_WAITING] = "waiting",
	    [RC_XS_PARKED] = "parked",
	};

	return (unsigned)s < RC_XS__COUNT ? name[s] : "?";
}

/* In the multi handle: curl drives it, and it counts as in flight. */
static bool in_multi(enum rc_xfer_state s)
{
	return s == RC_XS_CONNECTING || s == RC_XS_RUNNING || s == RC_XS_PAUSED;
}

/* Owns a range (and its segment): in the multi handle, or waiting to
 * go again. */
static bool holds_range(enum rc_xfer_state s)
{
	return in_multi(s) || s == RC_XS_WAITING || s == RC_XS_PARKED;
}

/*
 * The one place a transfer's state changes (curl's mstate). A step the
 * table does not allow is a bug in the fetcher: it aborts where assert()
 * is on (NDEBUG unset, as in every build of the Makefile), else it fails
 * the run (exit 3) without taking the step. Keeps the count of
 * transfers in flight (f->in_flight, run->active for the progress
 * display) and logs the step at -vv.
 */
static void xfer_state_set(struct xfer *x, enum rc_xfer_state to)
{
	struct rc_fetch *f = x->f;
	enum rc_xfer_state from = x->state;
	unsigned i = (unsigned)(x - f->x);

	if (!rc_fetch_state_ok(from, to)) {
#ifndef NDEBUG
		rc_log_error(
		    "internal error: transfer %u may not go from %s to %s", i,
		    rc_fetch_state_name(from), rc_fetch_state_name(to));
		abort();
#else
		fail(f, RC_E_NETWORK,
		     "internal error: transfer %u may not go from %s to %s", i,
		     rc_fetch_state_name(from), rc_fetch_state_name(to));
		return;
#endif
	}
	if (!in_multi(from) && in_multi(to)) {
		if (++f->in_flight > f->most_in_flight)
			f->most_in_flight = f->in_flight;
		atomic_fetch_add(&f->run->active, 1);
	} else if (in_multi(from) && !in_multi(to)) {
		f->in_flight--;
		atomic_fetch_sub(&f->run->active, 1);
	}
	x->state = to;
	if (rc_log_debug())
		rc_log("xfer %u: %s -> %s", i, rc_fetch_state_name(from),
		       rc_fetch_state_name(to));
}

static void wake_cb(void *arg)
{
	curl_multi_wakeup(arg);
}

static size_t header_cb(char *p, size_t sz, size_t nm, void *ud)
{
	struct xfer *x = ud;
	size_t n = sz * nm;
	char line[256];

	/* Endless headers would otherwise keep a transfer "alive" forever. */
	x->hdr_bytes += n;
	if (x->hdr_bytes > RC_MAX_HEADER_BYTES)
		return 0;
	/* Header lines do not count as progress for the stall clock: a
	 * reply must start its body within --stall-timeout. */
	rc_resp_header(&x->resp, p, n, time(NULL));
	if (rc_log_verbose() && n > 2) {
		/* Response header lines carry no credentials worth hiding
		 * except Set-Cookie; redact that and any lookalike. */
		size_t l = n < sizeof line ? n : sizeof line - 1;
		memcpy(line, p, l);
		while (l && (line[l - 1] == '\r' || line[l - 1] == '\n'))
			l--;
		line[l] = '\0';
		char red[300], esc[1200];
		rc_log_redact_header(line, red, sizeof red);
		if (rc_log_verbose() && strncmp(red, "HTTP/", 5) == 0)
			rc_log("< %s", rc_escape(red, esc, sizeof esc));
	}
	return n;
}

/* The connection is ready and the request goes out now: from here on,
 * silence is a stall (before it, --connect-timeout governs). */
static int prereq_cb(void *ud, char *conn_primary_ip, char *conn_local_ip,
		     int conn_primary_port, int conn_local_port)
{
	struct xfer *x = ud;

	(void)conn_primary_ip;
	(void)conn_local_ip;
	(void)conn_primary_port;
	(void)conn_local_port;
	/* Again while RUNNING when curl sends the request once more on a
	 * fresh connection (a reused one had died): the clock restarts. */
	if (x->state == RC_XS_CONNECTING)
		xfer_state_set(x, RC_XS_RUNNING);
	x->last_byte = now_s();
	return CURL_PREREQFUNC_OK;
}

/* The longest chunk a spanning transfer claims: half the budget at most.
 * A write (CURL_MAX_WRITE_SIZE, 16 KiB, at most) that runs past the end of
 * the chunk being written needs the next chunk's buffer beside it; with
 * chunks the budget holds only one of, it would wait for a release that
 * waits on it (--memory equal to --chunk-size, a server ignoring Range). */
static uint64_t span_len(const struct rc_fetch *f)
{
	uint64_t half = f->ring->budget / 2;

	return f->ring->slot_size < half ? f->ring->slot_size : half;
}

/* The chunk being written is full or there is none: claim the next one. */
static bool next_slot(struct xfer *x)
{
	struct rc_fetch *f = x->f;
	uint64_t len = span_len(f);

	if (x->end != RC_UNKNOWN && x->end - x->cur < len)
		len = x->end - x->cur;
	uint64_t seq = rc_ring_claim(f->ring, x->cur, len);
	if (seq == UINT64_MAX)
		return false;
	x->seq = seq;
	return true;
}

/* Bytes a spanning transfer can take now without blocking. */
static uint64_t span_room(struct xfer *x)
{
	struct rc_ring *r = x->f->ring;
	uint64_t room = 0;

	if (x->seq != UINT64_MAX) {
		struct rc_slot *s = rc_ring_slot(r, x->seq);
		room = atomic_load(&s->len) - (x->cur - s->off);
	}
	return room + rc_ring_free_slots(r, span_len(x->f)) * span_len(x->f);
}

static void decide_after_probe(struct xfer *x);
static void fit_stripes(struct rc_fetch *f, bool keep_asked);
static bool held_for_one(const struct rc_fetch *f);
static unsigned asked_parts(const struct xfer *x);
static void stripes_off(struct rc_fetch *f, const char *why);
static unsigned rest_back_from(struct rc_fetch *f, struct xfer *x, unsigned i);
static unsigned rest_back(struct rc_fetch *f, struct xfer *x);
static void more_ranges(struct rc_fetch *f, double wait);

/* Room in the group's lists: grp_seq and grp_tmp hold two groups' worth
 * of chunks for each transfer, grp_back one (rc_fetch_new allocates
 * them so; regroup, rest_back_from and give_back keep within it). */
static unsigned grp_room(const struct rc_fetch *f)
{
	return f->nx * STRIPE_MAX * 2;
}

static unsigned back_room(const struct rc_fetch *f)
{
	return f->nx * STRIPE_MAX;
}

/* The most transfers the count may reach: -n, or the controller's cap. */
static unsigned reach(const struct rc_fetch *f)
{
	return f->conn.pinned ? f->conn.n : f->conn.max_cap;
}

/* The chunks one connection asks as one range (JOIN_MAX): 8 for each
 * transfer the count may reach, as the ring claims two groups of 8 a
 * transfer ahead (main.c sizes its slots so). Raised when a far server
 * widens the reach, never lowered: a reach the buffer lowers (--memory
 * 1M feeds 2) made each range 16 chunks, a round trip each (20 MiB at
 * a limit of one: 3.2 s, 1.6-2.0 s with 64). */
static void set_join(struct rc_fetch *f)
{
	unsigned most = STRIPE_MAX * reach(f);

	if (most > JOIN_MAX)
		most = JOIN_MAX;
	if (most > f->join)
		f->join = most;
}

static bool all_idle(struct rc_fetch *f);
static void pace(struct rc_fetch *f, double wait);

/* Transfers in the multi handle. */
static unsigned running(const struct rc_fetch *f)
{
	return f->in_flight;
}

/* Transfers whose range replies are coming now: the server holds their
 * connections (rc_sched_conn_served, rc_sched_conn_shed). */
static unsigned answered(const struct rc_fetch *f)
{
	unsigned n = 0;

	for (unsigned i = 0; i < f->nx; i++)
		n += in_multi(f->x[i].state) && f->x[i].judged &&
		     f->x[i].v.kind == RC_V_RANGE;
	return n;
}

/* The server said 429/503 and when to come back (or the backoff did):
 * no request goes to it before then, from any transfer. Each waiting
 * transfer kept its own time, so with the count at 1 a 503 storm drew
 * a request a round trip: 147 in 5.7 s. */
static bool server_busy(const struct rc_fetch *f)
{
	return f->busy_until > 0 && now_s() < f->busy_until;
}

/* x's reply was a 429 or 503. */
static bool server_said_busy(const struct xfer *x)
{
	return x->resp.status == 429 || x->resp.status == 503;
}

/* Transfers receiving now: in the multi handle and not paused for
 * buffer room (a window in which memory, not the count, limits proves
 * nothing about the count). */
static unsigned receiving(const struct rc_fetch *f)
{
	unsigned k = 0;

	for (unsigned i = 0; i < f->nx; i++)
		k += f->x[i].state == RC_XS_CONNECTING ||
		     f->x[i].state == RC_XS_RUNNING;
	return k;
}

/* The most transfers that may run at once: the controller's count. */
static unsigned run_cap(const struct rc_fetch *f)
{
	return f->conn.n;
}

static struct seg *segs_of(struct rc_fetch *f, uint64_t seq)
{
	return &f->segs[(seq % f->ring->nslots) * MAX_SEGS];
}

/* Chunk seq was claimed for [off, off + len): one segment covers it. */
static void segs_init(struct rc_fetch *f, uint64_t seq, uint64_t off,
		      uint64_t len)
{
	struct seg *g = segs_of(f, seq);

	g[0] = (struct seg){off, off + len, off, off};
	f->nsegs[seq % f->ring->nslots] = 1;
}

/* Publishes chunk seq's contiguous prefix, across its segments. */
static void publish(struct rc_fetch *f, uint64_t seq)
{
	struct rc_slot *s = rc_ring_slot(f->ring, seq);
	const struct seg *g = segs_of(f, seq);
	unsigned n = f->nsegs[seq % f->ring->nslots];
	uint64_t p = s->off;

	for (;;) {
		unsigned i = 0;
		while (i < n && g[i].start != p)
			i++;
		if (i == n)
			break;
		p = g[i].shown;
		if (g[i].shown < g[i].end)
			break;
	}
	rc_ring_filled(f->ring, seq, p - s->off);
}

/*
 * Expiring redirect targets. Model hubs, release pages and CDNs redirect
 * to signed URLs that expire in minutes, often before a download ends.
 * When a range to such a target is refused (401, 403, 410, or S3's 400
 * ExpiredToken), or the expiry its query names is near, one transfer goes
 * back to the URL the user gave, with the credentials that origin gets,
 * for a fresh target. Its reply is judged like every later range (the
 * same ETag or Last-Modified, the same size), and from then on every
 * transfer asks the new target; transfers refused meanwhile wait for it.
 * A target that keeps refusing ends the run after MAX_REFRESHES.
 */
#define MAX_REFRESHES 3 /* origin asked again in a row without a target */

static double wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The value of query parameter key (any case) in url, its length in *len,
 * or NULL. */
static const char *query_value(const char *url, const char *key, size_t *len)
{
	const char *p = url + strcspn(url, "?#");
	size_t kl = strlen(key);

	if (*p != '?')
		return NULL;
	for (p++; *p && *p != '#';) {
		size_t n = strcspn(p, "&#");
		if (n > kl && p[kl] == '=' && strncasecmp(p, key, kl) == 0) {
			*len = n - kl - 1;
			return p + kl + 1;
		}
		p += n;
		if (*p == '&')
			p++;
	}
	return NULL;
}

/* Digits only, 1 to 12 of them. */
static bool query_number(const char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;

	if (v == NULL || n == 0 || n > 12)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return true;
}

/* "YYYYMMDDTHHMMSSZ" (SigV4's X-Amz-Date) as seconds since the epoch. */
static bool amz_date(const char *v, size_t n, uint64_t *out)
{
	uint64_t d, t;
	struct tm tm = {0};

	if (v == NULL || n != 16 || v[8] != 'T' || v[15] != 'Z' ||
	    !query_number(v, 8, &d) || !query_number(v + 9, 6, &t))
		return false;
	tm.tm_year = (int)(d / 10000) - 1900;
	tm.tm_mon = (int)(d / 100 % 100) - 1;
	tm.tm_mday = (int)(d % 100);
	tm.tm_hour = (int)(t / 10000);
	tm.tm_min = (int)(t / 100 % 100);
	tm.tm_sec = (int)(t % 100);
	if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mon > 11 ||
	    tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return false;
	time_t e = timegm(&tm);
	if (e == (time_t)-1)
		return false;
	*out = (uint64_t)e;
	return true;
}

uint64_t rc_fetch_url_expiry(const char *url)
{
	static const char *const vendor[] = {"X-Amz-", "X-Goog-"};
	char key[32];
	const char *v;
	size_t n;
	uint64_t date, secs;

	for (size_t i = 0; i < sizeof vendor / sizeof *vendor; i++) {
		snprintf(key, sizeof key, "%sDate", vendor[i]);
		v = query_value(url, key, &n);
		if (!amz_date(v, n, &date))
			continue;
		snprintf(key, sizeof key, "%sExpires", vendor[i]);
		v = query_value(url, key, &n);
		if (query_number(v, n, &secs))
			return date + secs;
	}
	v = query_value(url, "Expires", &n);
	if (query_number(v, n, &secs))
		return secs;
	return 0;
}

/* url for a message: no userinfo, no query (signed URLs carry their
 * secrets there). */
static void url_plain(const char *url, char *out, size_t outlen)
{
	rc_log_redact_url(url, out, outlen);
	out[strcspn(out, "?#")] = '\0';
}

double rc_fetch_refresh_margin(double life)
{
	double m = life / 4 > 30 ? 30 : life / 4;
	double least = life / 2 > 2 ? 2 : life / 2;

	return m > least ? m : least;
}

/* f->url was replaced: by where the origin redirected (redirected), or by
 * the origin itself. A target whose query names its expiry is asked for
 * again rc_fetch_refresh_margin before it. */
static void note_target(struct rc_fetch *f, bool redirected)
{
	double now = wall_s();
	double exp = redirected ? (double)rc_fetch_url_expiry(f->url) : 0;

	f->redirected = redirected;
	f->target_gen++;
	f->refresh_at = 0;
	if (exp == 0)
		return;
	if (exp <= now) {
		/* Another clock: trust the refusal, not the arithmetic. */
		rc_log("the redirect target's expiry has passed by this clock: "
		       "the origin is asked again when it refuses");
		return;
	}
	double margin = rc_fetch_refresh_margin(exp - now);
	f->refresh_at = exp - margin;
	rc_log("the redirect target expires in %.1f s: the origin is asked "
	       "again %.1f s before",
	       exp - now, margin);
}

/* x goes back to the origin for a fresh target. Returns false when the
 * origin was asked MAX_REFRESHES times in a row without one. */
static bool begin_refresh(struct rc_fetch *f, struct xfer *x, const char *why)
{
	char o[1024];
	char *copy;

	if (++f->refreshes > MAX_REFRESHES)
		return false;
	if ((copy = strdup(f->origin_url)) == NULL) {
		fail(f, RC_E_NOMEM, "out of memory");
		return false;
	}
	free(x->redir_url);
	x->redir_url = copy;
	x->redirects = 0;
	x->auth_retried = false;
	f->refresher = x;
	url_plain(f->origin_url, o, sizeof o);
	rc_log("%s: asking %s again", why, o);
	return true;
}

/* The URL x asks now: where its redirects led, else the run's. A target
 * near its expiry first sends one transfer back to the origin. */
static const char *target_url(struct rc_fetch *f, struct xfer *x)
{
	if (f->refresher == x && x->redir_url == NULL) {
		/* The refresh failed on the way (a reset, a 5xx): again. */
		x->redir_url = strdup(f->origin_url);
		x->redirects = 0;
		if (x->redir_url == NULL)
			fail(f, RC_E_NOMEM, "out of memory");
	} else if (x->redir_url == NULL && !x->probe && f->refresher == NULL &&
		   f->refresh_at > 0 && wall_s() >= f->refresh_at) {
		begin_refresh(f, x, "the redirect target expires soon");
	}
	if (x->redir_url == NULL)
		x->target_gen = f->target_gen;
	return x->redir_url ? x->redir_url : f->url;
}

/* The refreshing transfer's reply is a range of the same version: its
 * URL is the target of every range from now on. */
static void adopt_target(struct rc_fetch *f, struct xfer *x)
{
	char red[1024];

	if (x->redir_url != NULL) {
		free(f->url);
		f->url = x->redir_url;
		x->redir_url = NULL;
	}
	note_target(f, x->redirects > 0);
	x->target_gen = f->target_gen;
	x->redirects = 0;
	f->refresher = NULL;
	f->refreshes = 0;
	url_plain(f->url, red, sizeof red);
	rc_log("fresh redirect target %s: every range goes there", red);
	for (unsigned i = 0; i < f->nx; i++)
		if (f->x[i].state == RC_XS_PARKED) {
			xfer_state_set(&f->x[i], RC_XS_WAITING);
			f->x[i].retry_at = 0;
		}
}

/* Notes the socket of each connection a handle opens (round_trip). */
static int sockopt_cb(void *p, curl_socket_t fd, curlsocktype purpose)
{
	if (purpose == CURLSOCKTYPE_IPCXN)
		((struct xfer *)p)->sock = fd;
	return CURL_SOCKOPT_OK;
}

/* Whether socket fd is the connection x's transfer is on: the last one
 * its handle opened may have lost a race of addresses (IPv6 and IPv4)
 * and be closed, its number taken since by another job's socket. */
static bool sock_is_xfers(struct xfer *x, curl_socket_t fd)
{
	struct sockaddr_storage peer, local;
	socklen_t plen = sizeof peer, llen = sizeof local;
	char *ip = NULL, addr[INET6_ADDRSTRLEN];
	long port = 0, lport = 0;

	if (getpeername(fd, (struct sockaddr *)&peer, &plen) != 0 ||
	    getsockname(fd, (struct sockaddr *)&local, &llen) != 0 ||
	    curl_easy_getinfo(x->h, CURLINFO_PRIMARY_IP, &ip) != CURLE_OK ||
	    ip == NULL ||
	    curl_easy_getinfo(x->h, CURLINFO_PRIMARY_PORT, &port) != CURLE_OK ||
	    curl_easy_getinfo(x->h, CURLINFO_LOCAL_PORT, &lport) != CURLE_OK)
		return false;
	const void *a = NULL;
	unsigned pport = 0, myport = 0;
	if (peer.ss_family == AF_INET && local.ss_family == AF_INET) {
		a = &((struct sockaddr_in *)&peer)->sin_addr;
		pport = ntohs(((struct sockaddr_in *)&peer)->sin_port);
		myport = ntohs(((struct sockaddr_in *)&local)->sin_port);
	} else if (peer.ss_family == AF_INET6 && local.ss_family == AF_INET6) {
		a = &((struct sockaddr_in6 *)&peer)->sin6_addr;
		pport = ntohs(((struct sockaddr_in6 *)&peer)->sin6_port);
		myport = ntohs(((struct sockaddr_in6 *)&local)->sin6_port);
	}
	return a != NULL &&
	       inet_ntop(peer.ss_family, a, addr, sizeof addr) != NULL &&
	       strcmp(addr, ip) == 0 && (long)pport == port &&
	       (long)myport == lport;
}

/*
 * The round trip to the server, apart from its thought: a new
 * connection's TCP handshake as curl timed it, or the kernel's smoothed
 * round trip on its socket where that is less. The kernel times packets
 * as they come, so a loaded client's wait for a CPU is not in it (a
 * loopback handshake took 4.5 ms as curl saw it, the kernel's 0.04 ms,
 * with the client sharing a CPU with a busy loop). 0 on a reused
 * connection: it had no handshake, and x->sock is not its socket; curl's
 * figure where x->sock is not the connection's (sock_is_xfers).
 */
static double round_trip(struct xfer *x)
{
	curl_off_t dns = 0, conn = 0;
	long made = 0;

	curl_easy_getinfo(x->h, CURLINFO_NAMELOOKUP_TIME_T, &dns);
	curl_easy_getinfo(x->h, CURLINFO_CONNECT_TIME_T, &conn);
	curl_easy_getinfo(x->h, CURLINFO_NUM_CONNECTS, &made);
	double hs = conn > dns ? (double)(conn - dns) / 1e6 : 0;
	struct tcp_info ti;
	socklen_t len = sizeof ti;
	memset(&ti, 0, sizeof ti);
	if (hs > 0 && made > 0 && x->sock != CURL_SOCKET_BAD &&
	    sock_is_xfers(x, x->sock) &&
	    getsockopt(x->sock, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
	    ti.tcpi_state == TCP_ESTABLISHED && ti.tcpi_rtt > 0 &&
	    ti.tcpi_rtt / 1e6 < hs)
		hs = ti.tcpi_rtt / 1e6;
	return hs;
}

/* Judges the response once, at its first body byte or at its end. */
static bool judge(struct xfer *x)
{
	struct rc_fetch *f = x->f;
	uint64_t asked = x->joined ? x->jend : x->asked_end;
	struct rc_want w = {
	    .first = x->cur,
	    .last = asked == RC_UNKNOWN ? RC_UNKNOWN : asked - 1,
	    .suffix = x->suffix,
	    .total = x->probe ? RC_UNKNOWN : f->seen_total,
	    .etag = x->probe ? f->o->if_match : f->pin_etag,
	    .lm = x->probe ? NULL : f->pin_lm,
	    .coding = x->probe ? NULL : f->pin_coding,
	    .later = !x->probe,
	    .parts = x->asked_parts,
	};

	if (x->suffix)
		w.last = f->suffix_len;
	if (x->sizing)
		w = (struct rc_want){
		    .first = 0, .last = 0, .total = RC_UNKNOWN};
	x->judged = true;
	rc_judge(&x->resp, &w, &x->v);
	if (x->probe) {
		/* The last new connection's: after a redirect to another
		 * host, the round trip to where the bytes come from, not to
		 * the redirector (a reused connection has none: 0). */
		double hs = round_trip(x);
		if (hs > 0) {
			rc_log("round trip %.2f ms", hs * 1000);
			f->handshake = hs;
		}
	}
	if (x->v.parts) {
		rc_parts_init(&x->mp, x->resp.boundary);
	} else if (x->asked_parts &&
		   (x->resp.status == 200 || x->resp.status == 206 ||
		    x->resp.status == 416)) {
		/* Not the parts asked: one range per request from now on.
		 * A plain 206 for the first range still delivers it. */
		stripes_off(f, x->v.kind == RC_V_RANGE ? "a reply of one range"
			       : x->v.why	       ? x->v.why
						       : "another reply");
		x->unstriped = true;
		/* Its later chunks go to be asked as one range (its reply
		 * carries none of them): a chunk a request, a lie to every
		 * request took 190 requests for 20 MiB. */
		rest_back(f, x);
		if (x->resp.status == 416)
			/* For a range inside the file: asked alone, its
			 * answer tells whether the file got shorter. */
			x->v =
			    (struct rc_verdict){.kind = RC_V_RETRY,
						.total = RC_UNKNOWN,
						.why = "416 to several ranges"};
	}
	if (x->sizing)
		return false; /* its body is not the file's: dropped */
	if (f->refresher == x && x->v.kind == RC_V_RANGE)
		adopt_target(f, x);
	/* A file of unknown total ("bytes A-B/\*" first) whose later reply
	 * names a total has that size: every reply after it must agree, or
	 * one saying the file is shorter would end it early. */
	if (!x->probe && x->v.kind == RC_V_RANGE &&
	    f->seen_total == RC_UNKNOWN && x->v.total != RC_UNKNOWN)
		f->seen_total = x->v.total;
	if (x->at_find) {
		x->at_find = false;
		f->find_ok += x->v.kind == RC_V_RANGE;
	}
	if (x->v.kind == RC_V_RANGE && f->mode == MODE_PARALLEL &&
	    f->conn.limited) {
		unsigned now = answered(f);
		if (rc_sched_conn_served(&f->conn,
					 now > f->find_ok ? now : f->find_ok,
					 now_s())) {
			rc_log("connections: %s", f->conn.why);
			fit_stripes(f, false);
		} else if (!f->conn.by_503 && f->conn.n > 1 &&
			   now >= f->conn.n && held_for_one(f)) {
			/* A try borne out: the server answers the count at
			 * once, so a stripe cut for one that the try left
			 * whole is cut for the count now. Left so, a guess
			 * of one held 14 MiB in one reply at 2 MiB/s while
			 * each try got through (8.8 s, 4.3-7.0 s before).
			 * Not for a limit found by 503s: replies come at
			 * once past it (rc_sched_conn_served). */
			fit_stripes(f, false);
		}
	}
	if (x->v.kind == RC_V_RANGE || x->v.kind == RC_V_FULL) {
		if (x->probe)
			decide_after_probe(x);
		else if (x->v.kind == RC_V_RANGE && x->v.last + 1 < asked)
			rc_log("short reply: bytes %" PRIu64 "-%" PRIu64
			       " of %" PRIu64 "-%" PRIu64,
			       x->v.first, x->v.last, x->cur, asked - 1);
	} else if (x->v.kind == RC_V_AT_END && x->probe) {
		x->at_end = true;
	}
	return !f->failed && !x->restart &&
	       (x->v.kind == RC_V_RANGE || x->v.kind == RC_V_FULL);
}

/* One more request-to-first-byte time for the typical wait (EWMA). */
static void note_wait(struct rc_fetch *f, double w)
{
	f->typical_wait =
	    f->typical_wait > 0 ? 0.7 * f->typical_wait + 0.3 * w : w;
}

/* The attempt's first body bytes are about to land: the wait until
 * them, and whether the connection is new (rc_sched_is_slow). */
static void first_bytes(struct xfer *x)
{
	struct rc_fetch *f = x->f;

	if (x->got == 0 && x->first_byte == 0) {
		x->first_byte = x->last_byte;
		if (!x->room_wait)
			note_wait(f, x->first_byte - x->started);
	}
	if (x->att_got == 0) {
		/* Slow start (rc_sched_is_slow); for bench/timeline.py,
		 * waiting time and connection reuse. */
		long conns = 0;
		curl_easy_getinfo(x->h, CURLINFO_NUM_CONNECTS, &conns);
		x->new_conn = conns > 0;
		/* A stripe's connection waited for the group, or for room,
		 * usually past the server's retransmission timeout: Linux
		 * (tcp_slow_start_after_idle) starts its window over. Its
		 * first part, judged as a new connection's, is not split
		 * at 100 ms while it ramps (3 splits a 256 MiB run, one at
		 * each group's start, every one a cold connection). */
		x->ramp = x->new_conn || f->stripes || x->joined;
		rc_log("xfer %u: first byte at %" PRIu64 " after %.3f s (%s "
		       "connection)",
		       (unsigned)(x - f->x), x->cur, x->last_byte - x->started,
		       conns > 0 ? "new" : "reused");
	}
}

/* Copies n body bytes for [cur, ...) into their chunk (a spanning
 * transfer: chunks, claimed as it goes). False after failing the run or
 * the attempt. */
static bool put(struct xfer *x, const char *p, size_t n)
{
	struct rc_fetch *f = x->f;

	while (n > 0) {
		struct rc_slot *s =
		    x->seq == UINT64_MAX ? NULL : rc_ring_slot(f->ring, x->seq);
		if (s == NULL || x->cur - s->off == atomic_load(&s->len)) {
			if (!x->spanning || !next_slot(x)) {
				x->overflow = true; /* cannot happen: room */
				return false;
			}
			continue;
		}
		uint64_t at = x->cur - s->off;
		uint64_t k = atomic_load(&s->len) - at;
		unsigned char *buf = rc_ring_buf(f->ring, x->seq);
		if (buf == NULL) {
			fail(f, RC_E_NOMEM,
			     "out of memory for a %zu-byte chunk", s->bufcap);
			return false;
		}
		if (k > n)
			k = n;
		memcpy(buf + at, p, (size_t)k);
		x->cur += k;
		x->got += k;
		x->att_got += k;
		f->rx += k;
		p += k;
		n -= k;
		if (x->spanning) {
			rc_ring_filled(f->ring, x->seq, at + k);
		} else {
			struct seg *g = &segs_of(f, x->seq)[x->segi];
			g->done = x->cur;
			if (!x->v.parts) {
				g->shown = x->cur;
				publish(f, x->seq);
			}
		}
	}
	return true;
}

static void learn_rate(struct rc_fetch *f, const struct xfer *x, double took);

/* The framing after x's current part came as it must (the next part's
 * delimiter, or the close delimiter): the part ended where its
 * Content-Range said, and its bytes go to the output. Until then a part
 * that was shorter than it said would have framing taken for its last
 * bytes. */
static void part_checked(struct xfer *x)
{
	if (x->seq == UINT64_MAX || x->spanning)
		return;
	struct seg *g = &segs_of(x->f, x->seq)[x->segi];
	g->shown = g->done;
	publish(x->f, x->seq);
}

/* A multipart reply ended before the framing after its current part
 * came: that part's bytes are unproven, and asked again. */
static void unchecked_back(struct xfer *x)
{
	if (!x->judged || !x->v.parts || x->seq == UINT64_MAX || x->spanning)
		return;
	struct seg *g = &segs_of(x->f, x->seq)[x->segi];
	if (g->done > g->shown) {
		rc_log("xfer %u: bytes %" PRIu64 "-%" PRIu64 " of a part "
		       "whose end was not proven are asked again",
		       (unsigned)(x - x->f->x), g->shown, g->done - 1);
		x->cur = g->shown;
		g->done = g->shown;
	}
}

/* Chunk k of x's stripe becomes the one it writes. */
static void next_part(struct xfer *x)
{
	struct part q = x->rest[0];

	memmove(x->rest, x->rest + 1, --x->nrest * sizeof *x->rest);
	x->seq = q.seq;
	x->segi = 0;
	x->cur = q.off;
	x->end = q.end;
	x->fails = 0;
	x->hopeless = false;
}

/* x's reply goes on to its stripe's next chunk: a range of its own to
 * the policies, whose bytes follow the last one's without a wait. */
static void next_in_reply(struct xfer *x)
{
	double t = now_s();

	next_part(x);
	x->asked_end = x->end;
	x->got = 0;
	x->first_byte = t;
	x->started = t;
	x->win_at = 0;
	x->prev_at = 0;
	x->new_conn = false;
	x->ramp = false;
}

/* A part of a multipart reply begins: it must be the chunk asked next,
 * whole, of the file's size. False when it is not (x->parts_bad). */
static bool part_begins(struct xfer *x)
{
	struct rc_fetch *f = x->f;
	const struct rc_crange *c = &x->mp.cr;
	uint64_t first = x->cur, end = x->asked_end;

	if (x->parts_in > 0) {
		if (x->shortened && x->cur >= x->end && x->nrest == 0) {
			/* Its later parts went back (fit_stripes): the
			 * delimiter proved this one, and the reply ends. */
			part_checked(x);
			x->enough = true;
			return false;
		}
		if (x->cur < x->end || x->nrest == 0) {
			x->parts_bad = x->nrest == 0
					   ? "a multipart reply has more parts "
					     "than asked"
					   : "a multipart reply's part ended "
					     "early";
			return false;
		}
		first = x->rest[0].off;
		end = x->rest[0].end;
	}
	if (c->first != first || c->last + 1 != end) {
		x->parts_bad = "a part is not the range asked";
		return false;
	}
	if (c->total != f->seen_total) {
		x->parts_bad = "a part names another size of the file";
		return false;
	}
	if (x->parts_in > 0) {
		part_checked(x);
		next_in_reply(x);
	}
	x->parts_in++;
	return true;
}

enum feed { FEED_OK, FEED_STOP, FEED_ROOM };

/* Whether x's next byte, a part's, may land now: the head chunk's
 * always; another's within the window (rc_ring_may_fill and its edge). */
static bool may_land(struct xfer *x)
{
	struct rc_ring *r = x->f->ring;

	return x->seq == atomic_load(&r->head) ||
	       (rc_ring_may_fill(r, x->seq) && x->cur < rc_ring_edge(r));
}

/*
 * Reads a multipart reply's body at p[0, n): framing to the parser,
 * each part's bytes to its chunk. *used: the bytes consumed. ROOM: the
 * next bytes are the first of a chunk the buffer has no room for yet
 * (rc_ring_may_fill). STOP: the attempt ends (x->parts_bad, x->enough,
 * or a failure).
 */
static enum feed feed_parts(struct xfer *x, const char *p, size_t n,
			    size_t *used)
{
	struct rc_fetch *f = x->f;
	size_t i = 0, k;

	*used = 0;
	for (;;) {
		switch (rc_parts_next(&x->mp, p + i, n - i, &k)) {
		case RC_PARTS_MORE: *used = n; return FEED_OK;
		case RC_PARTS_END:
			*used = n;
			if (!x->parts_end) {
				x->parts_end = true;
				if (x->parts_in > 0 && x->cur >= x->end)
					part_checked(x);
				if (x->nrest > 0 || x->cur < x->end)
					stripes_off(f, "the server sent fewer "
						       "parts than ranges "
						       "asked");
			}
			/* An epilogue is ignored, but not forever. */
			x->epilogue += n - i - k;
			if (x->epilogue > RC_PARTS_HEADER_MAX) {
				x->enough = true;
				return FEED_STOP;
			}
			return FEED_OK;
		case RC_PARTS_ERROR: x->parts_bad = x->mp.err; return FEED_STOP;
		case RC_PARTS_PART:
			i += k;
			*used = i;
			if (!part_begins(x))
				return FEED_STOP;
			continue;
		case RC_PARTS_BODY: break;
		}
		i += k;
		*used = i;
		if (i == n)
			return FEED_OK;
		uint64_t take = n - i < x->mp.left ? n - i : x->mp.left;
		bool keeps = x->cur < x->end; /* else drops (a split) */
		if (keeps && !may_land(x))
			return FEED_ROOM;
		/* Byte by byte up to the window's edge (rc_ring_edge): a
		 * connection that is ahead waits there, its bytes held back
		 * by TCP. */
		uint64_t edge = rc_ring_edge(f->ring);
		if (keeps && x->seq != atomic_load(&f->ring->head) &&
		    take > edge - x->cur)
			take = edge - x->cur;
		/* A split gave the rest of this chunk to another transfer:
		 * this one reads the rest of the part and drops it, so that
		 * the framing after it proves the part (part_checked). */
		uint64_t keep = x->cur + take > x->end ? x->end - x->cur : take;
		if (x->got == 0 && keep > 0)
			first_bytes(x);
		if (!put(x, p + i, (size_t)keep))
			return FEED_STOP;
		rc_parts_took(&x->mp, take);
		i += (size_t)take;
		*used = i;
	}
}

/*
 * Reads a joined reply's body (x->joined: one range over adjacent chunks
 * of a stripe) at p[0, n): each chunk's bytes to it, and where one ends
 * the next begins. Bytes of a chunk that a split gave to another transfer
 * are dropped; bytes of a chunk given back (rest_back) end the attempt
 * (x->enough). *used and the results as feed_parts's.
 */
static enum feed feed_joined(struct xfer *x, const char *p, size_t n,
			     size_t *used)
{
	struct rc_fetch *f = x->f;
	size_t i = 0;

	*used = 0;
	while (i < n) {
		uint64_t take;
		if (x->jpos >= x->end) {
			if (x->nrest == 0) {
				x->enough = true;
				return FEED_STOP;
			}
			if (x->jpos == x->rest[0].off) {
				next_in_reply(x);
				continue;
			}
			take = x->rest[0].off - x->jpos;
			if (take > n - i)
				take = n - i;
			x->jpos += take; /* a split's: dropped */
			i += (size_t)take;
			*used = i;
			continue;
		}
		if (!may_land(x))
			return FEED_ROOM;
		take = x->end - x->jpos;
		if (take > n - i)
			take = n - i;
		/* Up to the window's edge, as a part's (feed_parts). */
		uint64_t edge = rc_ring_edge(f->ring);
		if (x->seq != atomic_load(&f->ring->head) &&
		    take > edge - x->cur)
			take = edge - x->cur;
		if (x->got == 0)
			first_bytes(x);
		if (!put(x, p + i, (size_t)take))
			return FEED_STOP;
		x->jpos += take;
		i += (size_t)take;
		*used = i;
	}
	return FEED_OK;
}

/* Whether x's reply is read by feed (write_fed). */
static bool fed_reply(const struct xfer *x)
{
	return x->v.parts || (x->joined && x->v.kind == RC_V_RANGE);
}

/* The body's bytes at p[0, n) to feed_parts or feed_joined. */
static enum feed feed(struct xfer *x, const char *p, size_t n, size_t *used)
{
	return x->v.parts ? feed_parts(x, p, n, used)
			  : feed_joined(x, p, n, used);
}

/* Keeps p[0, n) for later (the reply's bytes past a part that waits for
 * room). False when memory is short. */
static bool stash(struct xfer *x, const char *p, size_t n)
{
	if (x->stash_cap < n) {
		char *b = realloc(x->stash, n);
		if (b == NULL) {
			fail(x->f, RC_E_NOMEM, "out of memory");
			return false;
		}
		x->stash = b;
		x->stash_cap = n;
	}
	memmove(x->stash, p, n);
	x->stash_len = n;
	return true;
}

/* Feeds the stash first. FEED_ROOM when it still waits for room. */
static enum feed drain(struct xfer *x)
{
	size_t used;
	enum feed e;

	if (x->stash_len == 0)
		return FEED_OK;
	e = feed(x, x->stash, x->stash_len, &used);
	if (e == FEED_ROOM) {
		memmove(x->stash, x->stash + used, x->stash_len - used);
		x->stash_len -= used;
		return FEED_ROOM;
	}
	x->stash_len = 0;
	return e;
}

/*
 * The body of a multipart reply (v.parts) or a joined one. Bytes come
 * as curl reads them, a part's end anywhere in a piece: when the next
 * part's chunk finds no room, the rest of the piece is stashed and the
 * transfer pauses at its next piece (CURL_WRITEFUNC_PAUSE hands back a
 * whole piece, and this one's start is already in the ring).
 */
static size_t write_fed(struct xfer *x, char *p, size_t n)
{
	struct rc_fetch *f = x->f;
	size_t used;
	enum feed e = drain(x);

	if (e == FEED_OK &&
	    (x->v.parts ? rc_parts_in_body(&x->mp) && x->cur < x->end
			: x->jpos < x->end) &&
	    !may_land(x))
		e = FEED_ROOM;
	if (e == FEED_ROOM) {
		if (rc_log_debug())
			rc_log("xfer %u: waits for room: chunk %" PRIu64
			       " at %" PRIu64 ", head %" PRIu64
			       " live %" PRIu64,
			       (unsigned)(x - f->x), x->seq, x->cur,
			       (uint64_t)atomic_load(&f->ring->head),
			       f->ring->live);
		if (!x->room_wait && x->att_got == 0 && x->first_byte == 0)
			note_wait(f, now_s() - x->started);
		x->room_wait = true;
		xfer_state_set(x, RC_XS_PAUSED);
		return CURL_WRITEFUNC_PAUSE;
	}
	if (e == FEED_STOP)
		return 0;
	/* Only a part's bytes are progress for the stall clock, as header
	 * lines are not (header_cb): a reply that trickled its framing a
	 * byte at a time kept its transfer alive forever, every part
	 * still to come. */
	double was = x->last_byte;
	uint64_t had = x->att_got;
	x->last_byte = now_s();
	e = feed(x, p, n, &used);
	if (x->att_got == had)
		x->last_byte = was;
	if (e == FEED_ROOM && !stash(x, p + used, n - used))
		return 0;
	if (e == FEED_STOP)
		return 0;
	x->body += n;
	return n;
}

static size_t write_cb(char *p, size_t sz, size_t nm, void *ud)
{
	struct xfer *x = ud;
	struct rc_fetch *f = x->f;
	size_t n = sz * nm;
	size_t taken = n;

	if (!x->judged)
		judge(x);
	if (x->v.kind == RC_V_REFUSED && !f->failed) {
		/* Keep the start of the error reply: S3 names its error
		 * there. */
		size_t k = sizeof x->errbody - 1 - x->errlen;
		if (k > n)
			k = n;
		memcpy(x->errbody + x->errlen, p, k);
		x->errlen += k;
		x->errbody[x->errlen] = '\0';
		return k == n ? n : 0;
	}
	if (f->failed || x->restart || x->sizing ||
	    (x->v.kind != RC_V_RANGE && x->v.kind != RC_V_FULL))
		return 0;
	if (x->v.parts)
		return write_fed(x, p, n);
	/* A 206 body is as long as its Content-Range says, whatever the
	 * end we asked for: without a Content-Length (read to the close, or
	 * chunked) a longer one cannot be placed, as the bytes past the
	 * range it names are no promise of the bytes that follow. */
	if (x->v.kind == RC_V_RANGE &&
	    n > x->v.last - x->v.first + 1 - x->body) {
		x->overflow = true;
		x->past_crange = true;
		return 0;
	}
	if (fed_reply(x)) /* a joined one: a multipart one went above */
		return write_fed(x, p, n);
	x->last_byte = now_s();
	uint64_t skip = x->skip < n ? x->skip : n;
	if (x->end != RC_UNKNOWN && x->cur + (n - skip) > x->end) {
		if (x->v.kind != RC_V_FULL && x->end == x->asked_end) {
			x->overflow = true;
			return 0;
		}
		/* A whole-file reply runs past a -r end, or a split gave the
		 * rest of this range to another transfer: keep what is
		 * wanted, then stop the transfer as complete. */
		n = skip + (size_t)(x->end - x->cur);
		x->enough = true;
	}
	if (x->spanning && span_room(x) < n - skip) {
		x->pause_need = n - skip;
		xfer_state_set(x, RC_XS_PAUSED);
		return CURL_WRITEFUNC_PAUSE;
	}
	/* The budget is spent on chunks the output has not reached: this
	 * reply waits (resume_paused) until the consumer frees a buffer. */
	if (!x->spanning && x->seq != UINT64_MAX && n > skip &&
	    !rc_ring_may_fill(f->ring, x->seq)) {
		/* The round trip ends here, whatever the wait that follows:
		 * a typical wait that counted the pause would stretch the
		 * controller's windows and hide stragglers. */
		if (!x->room_wait && x->att_got == 0 && x->first_byte == 0)
			note_wait(f, x->last_byte - x->started);
		x->room_wait = true;
		xfer_state_set(x, RC_XS_PAUSED);
		return CURL_WRITEFUNC_PAUSE;
	}
	x->body += n;
	x->skip -= skip;
	p += skip;
	n -= skip;
	if (n > 0)
		first_bytes(x);
	if (!put(x, p, n))
		return 0;
	return x->enough ? 0 : taken;
}

/*
 * "If-Match: TAG" into out. Apache's mod_deflate appends "-gzip" to the
 * ETag of what it compresses, and a tag copied from such a reply would
 * fail If-Match on the identity bytes rangecat asks for: a tag with that
 * suffix is sent in both forms.
 */
static void if_match_line(char *out, size_t outlen, const char *tag)
{
	size_t n = strlen(tag);

	if (rc_http_etag_gzip(tag))
		snprintf(out, outlen, "If-Match: %s, %.*s\"", tag, (int)(n - 6),
			 tag);
	else
		snprintf(out, outlen, "If-Match: %s", tag);
}

/* The header that pins requests after the probe to its version. */
static void set_pin_line(struct rc_fetch *f)
{
	f->pin_line[0] = '\0';
	if (f->info.validator == RC_VAL_ETAG)
		if_match_line(f->pin_line, sizeof f->pin_line, f->info.etag);
	else if (f->info.validator == RC_VAL_DATE)
		snprintf(f->pin_line, sizeof f->pin_line,
			 "If-Unmodified-Since: %s", f->info.last_modified);
}

static void setup_handle(struct rc_fetch *f, struct xfer *x)
{
	CURL *h = x->h;

	rc_handle_setup_easy(h, f->o);
	rc_auth_setup_easy(f->auth, h);
	curl_easy_setopt(h, CURLOPT_PRIVATE, x);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, prereq_cb);
	curl_easy_setopt(h, CURLOPT_PREREQDATA, x);
	x->sock = CURL_SOCKET_BAD;
	curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, sockopt_cb);
	curl_easy_setopt(h, CURLOPT_SOCKOPTDATA, x);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
}

/* Starts (or restarts) x's request for [cur, end) on the current URL. */
static void launch(struct rc_fetch *f, struct xfer *x)
{
	char range[STRIPE_MAX * 44], extra[2 * RC_ETAG_MAX + 64], why[512];
	const char *url = target_url(f, x);
	enum rc_err err;

	curl_easy_setopt(x->h, CURLOPT_URL, url);
	if (x->suffix)
		snprintf(range, sizeof range, "-%" PRIu64, f->suffix_len);
	else if (x->end == RC_UNKNOWN)
		snprintf(range, sizeof range, "%" PRIu64 "-", x->cur);
	else
		snprintf(range, sizeof range, "%" PRIu64 "-%" PRIu64, x->cur,
			 x->end - 1);
	/* A stripe's later chunks in the same request (the split point of
	 * a chunk split since is where this one ends). Adjacent ones (a
	 * stripe cut for one connection, join_more's) as one range, with
	 * stripes on or off, never as several: a server may merge adjacent
	 * ranges into one part (Apache does), which would turn stripes
	 * off. Where the current chunk is not adjacent to them (a split),
	 * it goes alone, and they together next. */
	bool several = x->nrest > 0 && !x->spanning && !x->suffix &&
		       !x->sizing && x->end != RC_UNKNOWN;
	bool adjacent = false;
	for (unsigned i = 0; several && i < x->nrest; i++)
		adjacent |= x->rest[i].off == (i ? x->rest[i - 1].end : x->end);
	x->joined = several && x->rest[0].off == x->end;
	/* A stripe cut for one connection, its chunks not adjacent (a
	 * group cut again with gaps), asks STRIPE_MAX of them at most: the
	 * others go back, or it asks its chunk alone. */
	if (several && f->stripes && !adjacent && x->nrest > STRIPE_MAX - 1)
		rest_back_from(f, x, STRIPE_MAX - 1);
	x->asked_parts =
	    several && f->stripes && !adjacent && x->nrest <= STRIPE_MAX - 1;
	if (x->joined) {
		x->jend = x->end;
		for (unsigned i = 0; i < x->nrest && x->rest[i].off == x->jend;
		     i++)
			x->jend = x->rest[i].end;
		x->jpos = x->cur;
		snprintf(range, sizeof range, "%" PRIu64 "-%" PRIu64, x->cur,
			 x->jend - 1);
	}
	for (unsigned i = 0; x->asked_parts && i < x->nrest; i++) {
		size_t l = strlen(range);
		snprintf(range + l, sizeof range - l, ",%" PRIu64 "-%" PRIu64,
			 x->rest[i].off, x->rest[i].end - 1);
	}
	if (x->sizing)
		snprintf(range, sizeof range, "0-0");
	curl_easy_setopt(x->h, CURLOPT_RANGE, range);
	/* libcurl holds a receive buffer per transfer from its request to
	 * its end: 256 KiB (fewer calls per byte: 64 KiB cost 16% more CPU
	 * for 256 MiB on loopback) while few connections carry the link,
	 * 32 KiB where many share it, most of them waiting for replies, or
	 * where 256 KiB each would pass a quarter of the buffer's budget (a
	 * 20 MiB file's 2 MiB feeds 8 connections). 32 of 256 KiB were 6
	 * MiB more RSS at 100 ms; 32 of 64 KiB still 2.4 MiB more than 32
	 * KiB (1 GiB at 100 ms, 7 interleaved runs: 32.5 against 30.1 MiB
	 * peak, 4.33 s against 4.02 s), for 5% more CPU capped on loopback
	 * (1 GiB: 0.90 against 0.94 s; 16 KiB 1.01 s). */
	bool small = f->conn.n > RC_SCHED_CONN_START ||
		     (uint64_t)f->conn.n * (256u << 10) > f->ring->budget / 4;
	curl_easy_setopt(x->h, CURLOPT_BUFFERSIZE,
			 small ? 32L << 10 : 256L << 10);
	extra[0] = '\0';
	if (x->probe && f->o->if_match)
		if_match_line(extra, sizeof extra, f->o->if_match);
	else if (!x->probe)
		snprintf(extra, sizeof extra, "%s", f->pin_line);
	/* An OAuth refresh may block here: the other transfers' stall
	 * clocks do not run meanwhile. */
	double t0 = now_s();
	struct curl_slist *l =
	    rc_auth_headers(f->auth, url, range, extra[0] ? extra : NULL,
			    &x->auth_gen, &err, why, sizeof why);
	double blocked = now_s() - t0;
	if (blocked > 0.1)
		for (unsigned i = 0; i < f->nx; i++)
			f->x[i].last_byte += blocked;
	if (err != RC_OK) {
		fail(f, err, "%s", why);
		return;
	}
	if (x->probe && rc_log_verbose())
		for (struct curl_slist *p = l; p; p = p->next) {
			char red[512];
			rc_log_redact_header(p->data, red, sizeof red);
			rc_log("> %s", red);
		}
	rc_auth_free_list(x->hdrs);
	x->hdrs = l;
	curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->hdrs);
	x->errlen = 0;
	x->asked_end = x->end;
	x->parts_in = 0;
	x->parts_end = false;
	x->epilogue = 0;
	x->parts_bad = NULL;
	x->stash_len = 0;
	x->att_got = 0;
	x->unstriped = false;
	rc_resp_reset(&x->resp);
	x->judged = false;
	x->overflow = false;
	x->past_crange = false;
	x->body = 0;
	x->enough = false;
	x->shortened = false;
	x->hdr_bytes = 0;
	x->got = 0;
	x->errbuf[0] = '\0';
	x->others = running(f);
	x->at_find = false;
	x->started = now_s();
	x->first_byte = 0;
	x->att_at = x->started;
	x->win_at = 0;
	x->prev_at = 0;
	x->last_byte = x->started;
	x->new_conn = false;
	x->ramp = false;
	x->room_wait = false;
	x->dropped = false;
	if (x->asked_parts)
		rc_log("GET bytes=%" PRIu64 "-%" PRIu64 " and %u more ranges",
		       x->cur, x->end - 1, x->nrest);
	else
		rc_log("GET bytes=%s%s", range, x->probe ? " (probe)" : "");
	curl_multi_add_handle(f->multi, x->h);
	xfer_state_set(x, RC_XS_CONNECTING);
}

/*
 * --shard K/N: with the size known, the wanted bytes become the K-th of N
 * equal parts (the last takes the remainder), and -C counts inside it.
 * The probe asked for byte 0 only; a 206 drops that byte, a 200 becomes
 * the stream and skips to the shard. Returns false after failing the run.
 */
static bool shard_bounds(struct xfer *x)
{
	struct rc_fetch *f = x->f;
	uint64_t k = f->o->shard_k, n = f->o->shard_n;

	if (f->total == RC_UNKNOWN) {
		fail(f, RC_E_REMOTE,
		     "--shard needs the file size, which the server did not "
		     "send");
		return false;
	}
	uint64_t part = f->total / n;
	uint64_t first = (k - 1) * part;
	uint64_t end = k == n ? f->total : k * part;
	f->info.shard_first = first;
	if (f->start > end - first) {
		fail(f, RC_E_REMOTE,
		     "offset %" PRIu64 " is past the end of shard %" PRIu64
		     "/%" PRIu64 " (size %" PRIu64 " bytes)",
		     f->start, k, n, end - first);
		return false;
	}
	f->start += first;
	f->want_end = end;
	if (x->v.kind == RC_V_RANGE) {
		x->skip = x->v.last - x->v.first + 1;
		x->cur = x->end = 0;
	} else {
		x->cur = f->start;
	}
	return true;
}

/* The probe's 206 already reaches the end wanted: nothing else to ask. */
static bool probe_covers(const struct rc_fetch *f, const struct xfer *x)
{
	uint64_t end = x->v.last + 1;

	return (f->want_end != RC_UNKNOWN && end >= f->want_end) ||
	       (x->v.total != RC_UNKNOWN && end == x->v.total);
}

/*
 * The probe's 206 cannot be pinned to the requests that would follow it.
 * Its verdict is taken before its first body byte is copied, so the body
 * is dropped and the same transfer goes again: after a Last-Modified too
 * close to Date, once, when that second is over (the file may have
 * settled, and the validators then tell versions apart); otherwise as the
 * single open-ended stream from the start offset, in the slot the probe
 * claimed. One response is one version.
 */
static void probe_again(struct rc_fetch *f, struct xfer *x, bool fresh)
{
	const struct rc_resp *r = &x->resp;

	x->restart = true;
	x->restart_in = 0;
	if (fresh && !f->reprobed) {
		time_t now = r->date != -1 ? r->date : time(NULL);
		double wait = (double)(r->lm_time + 1 - now);
		x->restart_in = (wait < 0 ? 0 : wait > 2 ? 2 : wait) + 0.1;
		f->reprobed = true;
		rc_log("Last-Modified %s is within a second of the reply's "
		       "date: the probe goes again in %.1f s",
		       r->last_modified, x->restart_in);
		return;
	}
	f->one_stream = true;
	x->spanning = true;
	x->end = f->want_end;
	rc_log("%s: the probe goes again as one stream",
	       fresh ? "the file is still within a second of its "
		       "modification"
		     : "no validator");
}

/* The probe's verdict was RANGE or FULL: learn the file and pick a mode. */
static void decide_after_probe(struct xfer *x)
{
	struct rc_fetch *f = x->f;
	const struct rc_resp *r = &x->resp;

	if (x->redir_url) {
		/* Later ranges go straight to where the probe ended. */
		char red[1024];
		rc_log_redact_url(x->redir_url, red, sizeof red);
		rc_log("final URL %s", red);
		free(f->url);
		f->url = x->redir_url;
		x->redir_url = NULL;
		note_target(f, true);
	}
	snprintf(f->info.etag, sizeof f->info.etag, "%s", r->etag);
	snprintf(f->info.last_modified, sizeof f->info.last_modified, "%s",
		 r->last_modified);
	snprintf(f->info.coding, sizeof f->info.coding, "%s", r->coding);
	f->info.validator = rc_probe_validator(r);
	f->info.no_store = r->no_store;
	if (f->o->if_match &&
	    !(r->etag[0] && rc_http_etag_matches(r->etag, f->o->if_match))) {
		char e1[1024], e2[1024];
		fail(f, RC_E_CHANGED,
		     "the remote ETag is %s, not %s as --if-match asked",
		     r->etag[0] ? rc_escape(r->etag, e1, sizeof e1) : "missing",
		     rc_escape(f->o->if_match, e2, sizeof e2));
		return;
	}
	/* The stream that replaced a probe (no validator) and names no
	 * length keeps the size the probe named: its end must come there,
	 * not wherever its connection closes. */
	if (!(f->one_stream && x->v.total == RC_UNKNOWN))
		f->total = x->v.total;
	f->seen_total = f->total;
	f->info.total = f->total;
	bool fresh = f->info.validator != RC_VAL_NONE &&
		     rc_probe_too_fresh(r, time(NULL));
	if (fresh)
		f->info.validator = RC_VAL_NONE;
	if (x->v.kind == RC_V_RANGE && !x->suffix && !f->o->shard_n &&
	    !f->one_stream && !probe_covers(f, x) &&
	    (fresh || f->info.validator == RC_VAL_NONE)) {
		probe_again(f, x, fresh);
		return;
	}
	if (f->o->shard_n && !shard_bounds(x))
		return;

	if (x->v.kind == RC_V_FULL) {
		/* The server ignored Range: this one stream is the download. */
		f->info.ranges = false;
		f->mode = MODE_STREAM;
		x->spanning = true;
		if (x->suffix) {
			/* -r -N: the last N bytes of what the length says. */
			if (f->total == RC_UNKNOWN) {
				fail(f, RC_E_REMOTE,
				     "-r -%" PRIu64 ": the server ignores "
				     "ranges and sends no length, so the last "
				     "bytes cannot be found",
				     f->suffix_len);
				return;
			}
			f->start = f->total > f->suffix_len
				       ? f->total - f->suffix_len
				       : 0;
			x->cur = f->start;
		}
		x->skip = f->start;
		f->end = f->want_end;
		if (f->total != RC_UNKNOWN) {
			if (f->start > f->total) {
				fail_past_end(f, f->start, f->total);
				return;
			}
			if (range_outside(f, f->total)) {
				fail_past_end(f, f->o->range_first, f->total);
				return;
			}
			if (f->end == RC_UNKNOWN || f->end > f->total)
				f->end = f->total;
		}
		x->end = f->end;
		rc_log("server ignores Range: one stream%s",
		       f->start ? ", skipping to the offset" : "");
	} else {
		f->info.ranges = !r->accept_ranges_none;
		if (x->suffix) {
			f->start = x->v.first;
			x->cur = x->v.first;
			f->want_end = x->v.last + 1;
		}
		f->end = f->want_end;
		if (f->total != RC_UNKNOWN &&
		    (f->end == RC_UNKNOWN || f->end > f->total))
			f->end = f->total;
		if (x->suffix)
			x->end = f->end;
		bool strong = f->info.validator != RC_VAL_NONE;
		if (f->o->connections > 1 && strong && !f->one_stream &&
		    f->total != RC_UNKNOWN)
			f->mode = MODE_PARALLEL;
		else
			f->mode = MODE_STREAM;
		char e1[1024];
		if (!strong)
			rc_log("no validator that tells versions apart (ETag "
			       "%s%s): one stream",
			       r->etag[0] ? rc_escape(r->etag, e1, sizeof e1)
					  : "none",
			       fresh ? ", Last-Modified within a second of "
				       "Date"
				     : "");
	}
	/* The default buffer is at most 5% of the download (beyond a
	 * floor); a --memory given is the user's call. */
	if (!f->o->memory_set && f->end != RC_UNKNOWN) {
		uint64_t b =
		    rc_ring_budget_for(f->o->memory, f->end - f->start);
		rc_ring_lower_budget(f->ring, b,
				     f->mode == MODE_PARALLEL
					 ? rc_sched_feed_slots(b, reach(f))
					 : 2,
				     f->o->chunk_set);
		rc_log("buffer up to %" PRIu64 " bytes for %" PRIu64
		       " bytes (5%%, at least 2 MiB), chunks up to %zu bytes",
		       f->ring->budget, f->end - f->start, f->ring->slot_size);
		if (f->mode == MODE_PARALLEL &&
		    rc_sched_conn_feed(&f->conn, f->ring->budget,
				       f->ring->slot_size))
			rc_log("connections: %s", f->conn.why);
	}
	/* Stripes (STRIPE_MAX), where the server may answer several
	 * ranges at once: not S3's (Amazon S3 serves one range a request,
	 * Ceph RGW the first only), nor a coded representation's (its parts
	 * would carry the coding unchecked). On once the server proves far
	 * (more_ranges). */
	f->stripes_may = f->mode == MODE_PARALLEL && reach(f) > 1 &&
			 rc_auth_kind(f->auth) != RC_AUTH_S3 &&
			 !f->info.coding[0] &&
			 f->ring->nslots >= 2 * STRIPE_MAX * (size_t)reach(f);
	set_join(f);
	more_ranges(f, now_s() - x->started);
	/* A far server, or one a round trip away where requests ask
	 * several ranges (whose window holds the buffer): start at what the
	 * buffer feeds (sched.h), the requests spread over the probe's
	 * wait: two round trips, about one range's request and reply. */
	if (f->mode == MODE_PARALLEL &&
	    rc_sched_conn_start(&f->conn, now_s() - x->started,
				f->stripes ? f->handshake : 0, now_s())) {
		rc_log("connections: %s", f->conn.why);
		pace(f, now_s() - x->started);
	}
	/* A short path: one stream first (rc_sched_conn_one judges it).
	 * The round trip is the probe's (round_trip); a reused connection
	 * has none, and its first reply's wait stands for it. */
	if (f->mode == MODE_PARALLEL &&
	    rc_sched_conn_near(&f->conn,
			       f->handshake > 0 ? f->handshake
						: now_s() - x->started,
			       rc_sched_thread_busy() >= 0) != 0)
		rc_log("connections: %s", f->conn.why);
	/* The probe claimed a chunk; the file may end before it does. */
	if (x->seq != UINT64_MAX && f->end != RC_UNKNOWN) {
		struct rc_slot *s = rc_ring_slot(f->ring, x->seq);
		if (s->off + atomic_load(&s->len) > f->end)
			rc_ring_trim(f->ring, x->seq, f->end - s->off);
		if (!x->spanning && segs_of(f, x->seq)[0].end > f->end)
			segs_of(f, x->seq)[0].end = f->end;
		if (x->end == RC_UNKNOWN || x->end > f->end)
			x->end = f->end;
	}
	f->info.first = f->start;
	f->info.end = f->end;
	f->pin_etag = f->info.etag;
	f->pin_lm = f->info.last_modified;
	f->pin_coding = f->info.coding;
	f->pinned = f->info.validator != RC_VAL_NONE;
	set_pin_line(f);
	atomic_store(&f->run->first, f->start);
	atomic_store(&f->run->end, f->end);
	/* Published before the first byte lands (the probe is judged before
	 * its body is copied), so the consumer sees it with that byte. */
	atomic_store(&f->run->seekable, f->mode == MODE_PARALLEL);
	if (x->seq != UINT64_MAX) {
		struct rc_slot *s = rc_ring_slot(f->ring, x->seq);
		f->plan_off = s->off + atomic_load(&s->len);
		f->plan_prev = atomic_load(&s->len);
	} else if (f->o->shard_n) {
		f->plan_off = f->start;
		f->plan_prev = 0;
	}
	if (x->spanning)
		f->plan_done = true;
	char etag[1024];
	rc_escape(f->info.etag, etag, sizeof etag);
	rc_log("size %s%" PRIu64 ", validator %s%s%s, %s",
	       f->total == RC_UNKNOWN ? "unknown " : "",
	       f->total == RC_UNKNOWN ? 0 : f->total,
	       f->info.validator == RC_VAL_ETAG	  ? "ETag "
	       : f->info.validator == RC_VAL_DATE ? "Last-Modified "
						  : "none",
	       f->info.validator == RC_VAL_ETAG ? etag : "",
	       f->info.validator == RC_VAL_DATE ? f->info.last_modified : "",
	       f->mode == MODE_PARALLEL ? "parallel" : "one stream");
	if (f->info.coding[0]) {
		char coding[4 * RC_CODING_MAX];
		rc_log("Content-Encoding %s: written as stored, and every "
		       "reply must carry it",
		       rc_escape(f->info.coding, coding, sizeof coding));
	}
}

/* x's range at time t as the policies in sched.c see it, left counted
 * to end; its recent rate over the window before the current one and
 * that one so far (note_windows). */
static struct rc_sched_range range_of(const struct xfer *x, uint64_t end,
				      double t)
{
	bool recent = x->prev_at > 0 && t > x->prev_at;

	return (struct rc_sched_range){
	    .started = x->started,
	    .first_byte = x->first_byte,
	    .got = x->got,
	    .left = end > x->cur ? end - x->cur : 0,
	    .new_conn = x->ramp,
	    .recent_known = recent,
	    .recent_rate =
		recent ? (double)(x->got - x->prev_got) / (t - x->prev_at) : 0,
	};
}

/* Starts a new rate window for every receiving transfer whose current
 * one is RC_SCHED_RECENT s old (or five typical waits, if longer): the
 * recent rate spans one to two windows. */
static void note_windows(struct rc_fetch *f, double t)
{
	double w = 5 * f->typical_wait > RC_SCHED_RECENT ? 5 * f->typical_wait
							 : RC_SCHED_RECENT;

	for (unsigned i = 0; i < f->nx; i++) {
		struct xfer *x = &f->x[i];
		if (x->state != RC_XS_RUNNING || x->first_byte == 0)
			continue;
		if (x->win_at == 0) {
			x->win_at = x->first_byte;
			x->win_got = 0;
		} else if (t - x->win_at >= w) {
			x->prev_at = x->win_at;
			x->prev_got = x->win_got;
			x->win_at = t;
			x->win_got = x->got;
		}
	}
}

/* A straggler (rc_sched_is_slow), judged against the range it asked. */
static bool is_slow(const struct rc_fetch *f, const struct xfer *x, double t)
{
	struct rc_sched_range r = range_of(x, x->asked_end, t);

	return (x->state == RC_XS_CONNECTING || x->state == RC_XS_RUNNING) &&
	       rc_sched_is_slow(&r, t, f->typical_rate, f->typical_wait);
}

/* Whether halving o's left bytes pays (rc_sched_split_pays). */
static bool split_pays(const struct rc_fetch *f, const struct xfer *o,
		       uint64_t left, double t)
{
	struct rc_sched_range r = range_of(o, o->end, t);

	return rc_sched_split_pays(&r, left, t, f->typical_wait);
}

/* The transfer that owns segment i of chunk seq, or NULL. */
static struct xfer *owner_of(struct rc_fetch *f, uint64_t seq, unsigned i)
{
	for (unsigned k = 0; k < f->nx; k++) {
		struct xfer *x = &f->x[k];
		if (holds_range(x->state) && !x->spanning && x->seq == seq &&
		    x->segi == i)
			return x;
	}
	return NULL;
}

/*
 * Head-of-line stragglers. Transfer idle has nothing to claim (the ring is
 * full, or every chunk is planned) while the output waits on the network:
 * it takes the back half of the largest unfinished segment of the earliest
 * chunk that has one, and that segment's owner stops at the middle. A slow
 * connection's share halves with each split, so it cannot hold the other
 * N-1 idle; at the end of a file the same rule trims the tail. Returns
 * true when idle was given work.
 */
static bool try_split(struct rc_fetch *f, struct xfer *idle, bool only_slow)
{
	struct rc_ring *r = f->ring;
	uint64_t head = atomic_load(&r->head);
	uint64_t claimed = atomic_load(&r->claimed);
	double t = now_s();

	if (f->mode != MODE_PARALLEL || head >= claimed)
		return false;
	struct rc_slot *hs = rc_ring_slot(r, head);
	if (!only_slow && atomic_load(&hs->filled) >= atomic_load(&hs->len))
		return false; /* the output is not waiting on the network */
	for (uint64_t seq = head; seq < claimed; seq++) {
		struct seg *g = segs_of(f, seq);
		unsigned n = f->nsegs[seq % r->nslots];
		unsigned best = MAX_SEGS;
		uint64_t most = MIN_SPLIT - 1;
		if (n >= MAX_SEGS)
			continue;
		for (unsigned i = 0; i < n; i++) {
			struct xfer *o = owner_of(f, seq, i);
			uint64_t left = g[i].end - g[i].done;
			if (left > most && o != NULL &&
			    (only_slow ? is_slow(f, o, t) &&
					     (o->first_byte == 0 ||
					      split_pays(f, o, left, t))
				       : split_pays(f, o, left, t))) {
				most = left;
				best = i;
			}
		}
		if (best == MAX_SEGS)
			continue;
		struct xfer *owner = owner_of(f, seq, best);
		uint64_t mid = g[best].done + most / 2;
		g[n] = (struct seg){mid, g[best].end, mid, mid};
		f->nsegs[seq % r->nslots] = (unsigned char)(n + 1);
		g[best].end = mid;
		owner->end = mid;
		idle->probe = false;
		idle->spanning = false;
		idle->suffix = false;
		idle->seq = seq;
		idle->segi = n;
		idle->cur = mid;
		idle->end = g[n].end;
		idle->fails = 0;
		idle->hopeless = false;
		rc_log("split: bytes %" PRIu64 "-%" PRIu64
		       " of a %s go to another connection",
		       mid, g[n].end - 1,
		       only_slow ? "slow range" : "range at the file's end");
		launch(f, idle);
		return true;
	}
	return false;
}

/* Transfers that hold a range: running, or waiting to retry it. */
static unsigned active(const struct rc_fetch *f)
{
	unsigned k = 0;

	for (unsigned i = 0; i < f->nx; i++)
		k += holds_range(f->x[i].state);
	return k;
}

/*
 * The length a new range aims at: a slot. The bandwidth-delay target
 * (rc_sched_chunk) is bounded below by the slot too, as long as slots
 * have one fixed size: a range shorter than its slot leaves the rest of
 * the slot unused, so the ring holds less and (measured on loopback,
 * where the product is tiny) the run is slower. It caps the length at
 * the buffer's share of each of the n transfers.
 */
static uint64_t chunk_target(const struct rc_fetch *f)
{
	uint64_t slot = f->ring->slot_size;
	uint64_t share = (uint64_t)f->ring->nslots * slot / f->conn.n;

	if (f->o->chunk_set)
		return slot;
	return rc_sched_chunk(f->typical_rate, f->typical_wait, slot,
			      share < slot ? share : slot);
}

/*
 * The count just rose by many: their requests go out spread over wait
 * s (about a range's request and reply), not all at once. Launched
 * together, transfers keep in step, each range's request and reply as
 * long as the others': their replies land together, and at the crest
 * of each wave every chunk's buffer is being filled at once. Spread
 * out, chunks land and leave one after another: at 100 ms, 66 -> 52
 * MiB RSS for 1 GiB, measured together with a change since removed
 * (pooled pages given back; ring.c, reclaim), and neither alone moved
 * it by more than 4 MiB. Over PACE_MOST at most: a probe's wait also
 * holds name lookups, handshakes and a server's first thought (a cold
 * object's 10 s spread 24 launches over 10 s: 17 s, not 10 s).
 */
#define PACE_MOST 0.5
static void pace(struct rc_fetch *f, double wait)
{
	unsigned act = active(f);
	unsigned add = f->conn.n > act ? f->conn.n - act : 0;

	/* Stripes need no spreading: a chunk takes its buffer only inside
	 * the window (rc_ring_edge), whenever its reply comes (256 MiB at
	 * 200 ms: 3.36 s unpaced, 3.74 s paced). */
	if (add < 2 || wait < RC_SCHED_FAR_WAIT / 2 || f->stripes)
		return;
	if (wait > PACE_MOST)
		wait = PACE_MOST;
	f->pace_left = add;
	f->pace_gap = wait / add;
	f->pace_next = now_s();
}

/* The server does not answer several ranges as asked (why): one range
 * per request from now on. A transfer's stripe is then asked chunk by
 * chunk (done). */
static void stripes_off(struct rc_fetch *f, const char *why)
{
	char esc[256];

	f->stripes_may = false;
	if (!f->stripes)
		return;
	/* What is not handed out yet is cut again for one connection
	 * (take_stripe): STRIPE_MAX adjacent chunks a stripe, one range a
	 * request, to whichever transfer is free. A stripe's chunks that
	 * no reply asks go back to be cut so too: a count apart, each was
	 * a request of its own (a limit of 4 and a lie took about 5 s for
	 * 20 MiB at 60 ms). f->join of them, held by one transfer, took
	 * 8.3-9.1 s. A group cut for one connection has f->join chunks a
	 * stripe, STRIPE_MAX from now on (f->join is a multiple of it). */
	if (f->grp_k == 1)
		f->grp_next = f->grp_next * (f->join / STRIPE_MAX);
	for (unsigned i = 0; i < f->nx; i++) {
		struct xfer *x = &f->x[i];
		rest_back_from(f, x, in_multi(x->state) ? asked_parts(x) : 0);
	}
	f->stripes = false;
	rc_sched_conn_first_try(&f->conn, RC_SCHED_LIMIT_UP);
	rc_log("stripes off (%s): one range per request from now on",
	       rc_escape(why, esc, sizeof esc));
}

/*
 * Stripes go on wherever a round trip per range costs time: on a server a
 * round trip (round_trip) away, past a short path (rc_sched_away; wait:
 * s to the first reply). A near server that is slow to answer (under
 * load, say) is no distance: its round trip takes microseconds. Not only
 * far servers (RC_SCHED_FAR_WAIT): between the two, one range a request
 * took the buffer's share per connection (1 GiB at 32 x 20 MiB/s over an
 * emulated round trip, 3 interleaved runs: at 3 ms 2.36 s in 66 MiB of
 * RSS, at 10 ms 2.56 s in 65 MiB), stripes the window's (2.31 s in 32.5
 * MiB; 2.38 s in 32 MiB).
 */
static void more_ranges(struct rc_fetch *f, double wait)
{
	if (!f->stripes_may || f->stripes || !rc_sched_away(f->handshake, wait))
		return;
	f->stripes = true;
	f->far = true;
	f->ring->near = true;
	/* A try of a server's limit one higher takes a stripe, whose first
	 * chunk lies at the group's start: its reset held the output until
	 * a busy transfer was free (20 MiB, limit 4: 1.46 s without tries,
	 * 2.25 s with one after 0.25 s). Later and fewer tries there. */
	rc_sched_conn_first_try(&f->conn, RC_SCHED_LIMIT_UP_FAR);
	rc_log("a server a round trip away (a %.1f ms round trip, %.0f ms "
	       "to the first byte): up to %d ranges a request (stripes)",
	       f->handshake * 1000, wait * 1000, STRIPE_MAX);
	/* The window (rc_ring_edge) holds a chunk of each connection:
	 * chunks of RC_SCHED_FEED_FLOOR or more (--chunk-size's, when
	 * longer), so that a request for STRIPE_MAX of them outlasts its
	 * round trip (at 200 ms, 12.8 MiB: 24 connections of 512 KiB chunks
	 * 3.45 s for 256 MiB, 32 of 384 KiB 4.8 s). And no more buffer than
	 * a chunk for each connection the count may reach: what the window
	 * holds back waits in the kernel's receive queues, not idle (1 GiB
	 * at 100 ms: 4.52 s in 31.6 MiB RSS with 16 MiB, 4.00 s in 65.5 MiB
	 * with the 5% rule's 51 MiB), unless --memory says otherwise. The
	 * count is what that most would feed, not the budget when the file
	 * makes it less (256 MiB at 100 ms with 0.1% loss: 4.02 s with 32
	 * connections, 4.69 s with the 25 its 13 MiB feed): connections
	 * ahead of the window wait in the kernel, not in the buffer. */
	uint64_t most = (uint64_t)RC_SCHED_CONN_CAP * RC_SCHED_FEED_FLOOR;
	if (!f->o->memory_set && f->end != RC_UNKNOWN) {
		/* Not past the download's size: a buffer that holds all of
		 * it already has no window to widen, and its chunks should
		 * stay short (1 MiB: 0.68 s in 64 KiB chunks, 0.77 s in 128
		 * KiB ones). */
		uint64_t far =
		    FAR_FLOOR < f->o->memory ? FAR_FLOOR : f->o->memory;
		uint64_t size = f->end - f->start;
		rc_ring_raise_budget(f->ring, far < size ? far : size);
	}
	uint64_t budget =
	    f->o->memory_set || f->ring->budget < most ? f->ring->budget : most;
	uint64_t chunk =
	    f->o->chunk_set && f->ring->slot_size > RC_SCHED_FEED_FLOOR
		? f->ring->slot_size
		: RC_SCHED_FEED_FLOOR;
	if (!f->o->memory_set && rc_sched_conn_widen(&f->conn, f->cap0))
		rc_log("connections: %s", f->conn.why);
	if (rc_sched_conn_feed(&f->conn, (f->o->memory_set ? budget : most) / 2,
			       chunk))
		rc_log("connections: %s", f->conn.why);
	rc_ring_lower_budget(f->ring, budget, reach(f), f->o->chunk_set);
	rc_log("buffer up to %" PRIu64 " bytes, chunks up to %zu bytes",
	       f->ring->budget, f->ring->slot_size);
	set_join(f); /* the reach widened */
}

/* Plans the next chunk and claims it (ahead: rc_ring_claim_ahead, for
 * stripes). Returns its seq, or UINT64_MAX when the ring has no slot for
 * it or the file is all planned (plan_done then). */
static uint64_t plan_chunk(struct rc_fetch *f, bool ahead)
{
	uint64_t len =
	    rc_plan_next(f->plan_prev, f->plan_off, f->end, chunk_target(f));

	if (len == 0) {
		f->plan_done = true;
		rc_ring_set_nchunks(f->ring, atomic_load(&f->ring->claimed));
		return UINT64_MAX;
	}
	uint64_t seq = ahead ? rc_ring_claim_ahead(f->ring, f->plan_off, len)
			     : rc_ring_claim(f->ring, f->plan_off, len);
	if (seq == UINT64_MAX)
		return seq;
	segs_init(f, seq, f->plan_off, len);
	f->plan_off += len;
	f->plan_prev = len;
	if (f->plan_off == f->end) {
		f->plan_done = true;
		rc_ring_set_nchunks(f->ring, seq + 1);
	}
	return seq;
}

/*
 * A group is cut into blocks of k x parts of its chunks, and stripe i is
 * column i % k of block i / k: entries c, c + k, ... of it. With k of 2
 * or more, parts is STRIPE_MAX, and a stripe's chunks are never
 * adjacent. With 1 they are, and launch asks them as one range: f->join
 * of them while stripes are on (one connection), STRIPE_MAX once they
 * are off (any count: chunks a count apart gained nothing then, each
 * asked alone). A fresh group is one block.
 */
static unsigned grp_parts(const struct rc_fetch *f)
{
	return f->grp_k == 1 && f->stripes ? f->join : STRIPE_MAX;
}

static unsigned grp_stripes(const struct rc_fetch *f)
{
	unsigned block = f->grp_k * grp_parts(f);

	return f->grp_len == 0 ? 0
			       : (f->grp_len + block - 1) / block * f->grp_k;
}

/* Entry j (0 first) of stripe i of the group: its index, or grp_len when
 * the stripe has no such entry. */
static unsigned grp_entry(const struct rc_fetch *f, unsigned i, unsigned j)
{
	unsigned block = f->grp_k * grp_parts(f);
	unsigned base = i / f->grp_k * block, idx = base + i % f->grp_k;
	unsigned lim = base + block < f->grp_len ? base + block : f->grp_len;

	if (j >= grp_parts(f))
		return f->grp_len;
	idx += j * f->grp_k;
	return idx < lim ? idx : f->grp_len;
}

static int seq_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The count fell under the group's stride (a server's limit, 429/503):
 * its stripes not handed out yet are cut again for k. With 32 stripes
 * over 4 connections, each reply's later parts lay past the window
 * while the chunks the output needed next waited for a free transfer,
 * so replies were cut to free one: 20 MiB at 60 ms with a limit of 4
 * took 21 s, not 1. */
static void regroup(struct rc_fetch *f, unsigned k)
{
	unsigned m = 0, n = grp_stripes(f), back = 0;

	for (unsigned i = f->grp_next; i < n; i++)
		for (unsigned j = 0;; j++) {
			unsigned e = grp_entry(f, i, j);
			if (e >= f->grp_len)
				break;
			f->grp_tmp[m++] = f->grp_seq[e];
		}
	/* The chunks given back, lowest first, as many as the group holds:
	 * the rest wait for the next cut (take_stripe). */
	qsort(f->grp_back, f->grp_nback, sizeof *f->grp_back, seq_cmp);
	while (back < f->grp_nback && m < grp_room(f))
		f->grp_tmp[m++] = f->grp_back[back++];
	f->grp_nback -= back;
	memmove(f->grp_back, f->grp_back + back,
		f->grp_nback * sizeof *f->grp_back);
	qsort(f->grp_tmp, m, sizeof *f->grp_tmp, seq_cmp);
	memcpy(f->grp_seq, f->grp_tmp, m * sizeof *f->grp_seq);
	if (k == f->grp_k)
		rc_log("stripes: %u chunks not yet asked, %u of them given "
		       "back, are cut again for %u connections",
		       m, back, k);
	else
		rc_log("stripes: %u chunks not yet asked are cut again for "
		       "%u connections, not %u",
		       m, k, f->grp_k);
	f->grp_len = m;
	f->grp_k = k < m ? k : (m ? m : 1);
	f->grp_next = 0;
	f->grp_recut = true;
}

/* Claims the next group of chunks for stripes: k x STRIPE_MAX of them,
 * k the count now, or f->join with one connection (asked one chunk a
 * request, a far server allowing one connection took 14.7 s for 20 MiB
 * at 60 ms, curl 1.0 s). Waits (false) until the ring has slots for the
 * whole group, unless the file ends first. */
static bool plan_group(struct rc_fetch *f)
{
	unsigned k = f->stripes && f->conn.n > 1 ? f->conn.n : 1;
	unsigned want = k == 1 && f->stripes ? f->join : k * STRIPE_MAX, n = 0;
	uint64_t first = atomic_load(&f->ring->claimed);
	uint64_t head = atomic_load(&f->ring->head);

	if (f->plan_done)
		return false;
	if (first + want > head + f->ring->nslots &&
	    f->end - f->plan_off > (uint64_t)want * f->ring->slot_size)
		return false;
	while (n < want && !f->plan_done && plan_chunk(f, true) != UINT64_MAX)
		n++;
	if (n == 0)
		return false;
	for (unsigned i = 0; i < n; i++)
		f->grp_seq[i] = first + i;
	f->grp_len = n;
	f->grp_k = n < k ? n : k;
	f->grp_next = 0;
	return true;
}

/* Ranges not yet handed to a transfer: chunks not planned, stripes not
 * taken, chunks given back. A count raised at the end (a server's limit
 * tried one higher) would launch nothing, or split a range onto a
 * connection the server resets. */
static bool work_left(const struct rc_fetch *f)
{
	return !f->plan_done || f->grp_nback > 0 ||
	       f->grp_next < grp_stripes(f);
}

/* Gives idle transfer x the group's next stripe (chunks i, i + k, ...),
 * planning a group first when every stripe is handed out. */
static bool take_stripe(struct rc_fetch *f, struct xfer *x)
{
	unsigned k = f->stripes && f->conn.n > 1 ? f->conn.n : 1;

	/* Cut again for fewer, or for more than one: a group cut for one
	 * connection is a stripe of up to f->join chunks, which one
	 * transfer would ask while the others wait (fit_stripes). */
	if (f->grp_nback > 0 || (f->grp_next < grp_stripes(f) &&
				 (k < f->grp_k || (f->grp_k == 1 && k > 1))))
		regroup(f, k);
	while (f->grp_next < grp_stripes(f) &&
	       grp_entry(f, f->grp_next, 0) >= f->grp_len)
		f->grp_next++; /* an empty column of the last block */
	if (f->grp_next >= grp_stripes(f) && !plan_group(f))
		return false;
	unsigned i = f->grp_next++;
	x->nrest = 0;
	for (unsigned c = 0;; c++) {
		unsigned e = grp_entry(f, i, c);
		if (e >= f->grp_len)
			break;
		uint64_t seq = f->grp_seq[e];
		struct rc_slot *s = rc_ring_slot(f->ring, seq);
		uint64_t end = s->off + atomic_load(&s->len);
		if (c == 0) {
			x->seq = seq;
			x->segi = 0;
			x->cur = s->off;
			x->end = end;
		} else {
			x->rest[x->nrest++] = (struct part){seq, s->off, end};
		}
	}
	x->stride = f->grp_k;
	x->probe = false;
	x->spanning = false;
	x->suffix = false;
	x->fails = 0;
	x->hopeless = false;
	return true;
}

/* Where stripes are off, x's chunk takes the chunks planned after it,
 * as many as the ring lets it claim now, to go as one range (launch):
 * with one connection up to f->join of them; on a far server, whose
 * lie turned stripes off, STRIPE_MAX, as a stripe would ask (a limit of
 * 4 and such a lie: 20 MiB at 60 ms in 4.8-5.4 s, a chunk a request). */
static void join_more(struct rc_fetch *f, struct xfer *x)
{
	unsigned most = f->conn.n == 1 ? f->join : f->far ? STRIPE_MAX : 1;
	/* Not more than its share of the buffer: with 1 MiB chunks, 8 of
	 * them took the whole window to one connection. */
	uint64_t share =
	    f->ring->budget / ((uint64_t)f->ring->slot_size * f->conn.n);
	if (f->conn.n > 1 && most > share)
		most = share > 0 ? (unsigned)share : 1;

	x->nrest = 0;
	x->stride = 1;
	while (x->nrest + 1 < most && !f->plan_done) {
		uint64_t seq = plan_chunk(f, false);
		if (seq == UINT64_MAX)
			break;
		struct rc_slot *s = rc_ring_slot(f->ring, seq);
		x->rest[x->nrest++] =
		    (struct part){seq, s->off, s->off + atomic_load(&s->len)};
	}
}

/* The launch pace (pace) lets the next one go now. */
static bool paced(struct rc_fetch *f)
{
	if (f->pace_left > 0) {
		double t = now_s();
		if (t < f->pace_next)
			return false;
		f->pace_left--;
		f->pace_next = t + f->pace_gap;
	}
	return true;
}

/* Plans and starts work for idle transfers while slots are free, as many
 * as the connection controller allows. Until the whole file is planned,
 * only a clear straggler is split: a split closes its owner's connection
 * (the owner stops by failing its write), and the new one starts slow,
 * so splitting a range merely because the buffer is full made a storm
 * of cold connections at 100 ms (152 splits and 72 connections for 256
 * MiB against none and 24 without). At the end of the file an idle
 * transfer may split any range that pays, to trim the tail. */
/* x asks the rest of the file, from the plan's offset, as one spanning
 * transfer; the plan is then done. */
static void launch_stream(struct rc_fetch *f, struct xfer *x)
{
	x->spanning = true;
	x->probe = false;
	x->suffix = false;
	x->seq = UINT64_MAX;
	x->cur = f->plan_off;
	x->end = f->end;
	x->fails = 0;
	x->hopeless = false;
	f->plan_done = true;
	if (x->end != RC_UNKNOWN && x->cur >= x->end) {
		rc_ring_set_nchunks(f->ring, atomic_load(&f->ring->claimed));
		return;
	}
	launch(f, x);
}

static void schedule(struct rc_fetch *f)
{
	if (f->failed || f->mode == MODE_PROBE || atomic_load(&f->run->hold) ||
	    server_busy(f))
		return;
	unsigned act = active(f), run = running(f);
	for (unsigned i = 0; i < f->nx; i++) {
		struct xfer *x = &f->x[i];
		if (x->state != RC_XS_IDLE)
			continue;
		/* A group's stripes go out to transfers that ended (their
		 * connections are warm) before a new group is planned, up
		 * to the count: under the group's stride, take_stripe cuts
		 * them again for the count first (regroup). Up to the
		 * stride, a try's stripe turned away by a limit of one
		 * went out at once on a second connection, beside the one
		 * reply the server allows. */
		if (f->mode == MODE_PARALLEL &&
		    (f->grp_next < grp_stripes(f) || f->grp_nback > 0) &&
		    act < f->conn.n) {
			/* None left (the last block's empty columns) and no
			 * group to plan: x has nothing to ask (it asked its
			 * old, finished range again: an empty one, and the
			 * 416 to it ended the run with exit 4). */
			if (!paced(f) || !take_stripe(f, x))
				return;
			launch(f, x);
			act++;
			run++;
			continue;
		}
		if (f->mode == MODE_PARALLEL && f->conn.one && !f->plan_done) {
			/* The one stream a short path starts with
			 * (rc_sched_conn_near) goes out beside the probe's
			 * chunk, not after it: a probe that drips would hold
			 * it, with nothing beside it to teach the rate the
			 * probe is judged too slow by. */
			launch_stream(f, x);
			return;
		}
		if (act >= f->conn.n || run >= run_cap(f)) {
			/* Every transfer busy, some perhaps paused for room
			 * behind a straggler at the head: without -n, and
			 * below a server's limit, one more transfer may take
			 * half of a clear straggler's range. */
			if (f->mode == MODE_PARALLEL && !f->conn.pinned &&
			    !f->conn.limited && run <= run_cap(f) &&
			    try_split(f, x, true)) {
				act++;
				run++;
			}
			return;
		}
		if (f->plan_done) {
			if (f->mode == MODE_PARALLEL && run < f->conn.n &&
			    (try_split(f, x, true) || try_split(f, x, false))) {
				act++;
				run++;
				continue;
			}
			return;
		}
		if (f->mode == MODE_STREAM) {
			/* The rest of the file as one spanning transfer, once
			 * the probe's chunk is complete: without a size, only
			 * the reply before it tells where the file ends. */
			if (all_idle(f))
				launch_stream(f, x);
			return;
		}
		/* A clear straggler is split before new work is claimed:
		 * it would hold the output long before the ring fills. */
		if (try_split(f, x, true)) {
			act++;
			run++;
			continue;
		}
		if (!paced(f))
			return;
		if (f->stripes) {
			if (!take_stripe(f, x))
				return;
			launch(f, x);
			act++;
			run++;
			continue;
		}
		uint64_t seq = plan_chunk(f, false);
		if (seq == UINT64_MAX) {
			if (f->plan_done)
				return;
			if (run < f->conn.n && try_split(f, x, true)) {
				act++;
				run++;
				continue;
			}
			return;
		}
		x->probe = false;
		x->spanning = false;
		x->suffix = false;
		x->seq = seq;
		x->segi = 0;
		x->cur = rc_ring_slot(f->ring, seq)->off;
		x->end = x->cur + atomic_load(&rc_ring_slot(f->ring, seq)->len);
		x->fails = 0;
		x->hopeless = false;
		join_more(f, x);
		launch(f, x);
		act++;
		run++;
	}
}

/*
 * Schedules x's retry after a failure, or fails the run: the policy
 * (sched.c) says whether to go on at once (the attempt made progress),
 * after a delay (announced on stderr), or to give up.
 */
/* x is the one stream, cut for more connections (stream_cut). */
static bool was_cut(const struct rc_fetch *f, const struct xfer *x)
{
	return f->mode == MODE_PARALLEL && x->spanning && x->end != f->end;
}

static void retry(struct rc_fetch *f, struct xfer *x, const char *why,
		  long retry_after)
{
	char msg[CURL_ERROR_SIZE + 128];
	double delay;

	/* A range complete before its reply broke off (or went silent):
	 * nothing of it to ask again; a stripe goes on from its next
	 * chunk. */
	unchecked_back(x);
	if (was_cut(f, x) && x->cur >= x->end) {
		/* The one stream, cut (stream_cut) where it stood: the
		 * ranges after it carry on (asked again, it asked an empty
		 * range, and the 416 ended the run with exit 4). */
		rc_log(
		    "xfer %u: the one stream's part is complete; %s after it",
		    (unsigned)(x - f->x), why);
		x->spanning = false;
		xfer_state_set(x, RC_XS_IDLE);
		return;
	}
	if (f->mode == MODE_PARALLEL && !x->spanning && !x->probe &&
	    x->seq != UINT64_MAX && x->end != RC_UNKNOWN && x->cur >= x->end) {
		if (x->nrest == 0) {
			rc_log("xfer %u: its range is complete; %s after it",
			       (unsigned)(x - f->x), why);
			xfer_state_set(x, RC_XS_IDLE);
			return;
		}
		next_part(x);
	}
	if (f->mode != MODE_PROBE) {
		if (x->spanning && !f->info.ranges) {
			fail(f, RC_E_NETWORK,
			     "%s at byte %" PRIu64
			     "; the server does not support ranges, so the "
			     "transfer cannot continue",
			     why, x->cur);
			return;
		}
		if (!f->pinned && x->cur > f->start) {
			fail(f, RC_E_NETWORK,
			     "%s at byte %" PRIu64
			     "; the file has no validator that proves a "
			     "second reply is the same version, so the "
			     "transfer cannot continue",
			     why, x->cur);
			return;
		}
		/* The probe was judged: from now on x is a pinned range. */
		x->probe = false;
		x->suffix = false;
	}
	/* An attempt rangecat held paused for buffer room (while the head
	 * chunk waited, perhaps on a retry of its own) may lose its
	 * connection to the server's send timeout, and one it ended as too
	 * slow (restart_hopeless) failed at nothing: not the server's
	 * fault, so it goes again at once, like an attempt that made
	 * progress. */
	uint64_t progress = (x->room_wait || x->dropped || x->unstriped) &&
				    x->att_got < RC_SCHED_MIN_PROGRESS
				? RC_SCHED_MIN_PROGRESS
				: x->att_got;
	/* A 429/503 holds every request to the server (server_busy); one
	 * storm answers every transfer at once, and the wait the first
	 * announced covers the others (-v logs each). */
	bool busy = server_said_busy(x);
	double t = now_s();
	switch (rc_sched_after_failure(&f->policy, &x->fails, progress, false,
				       retry_after, &delay)) {
	case RC_SCHED_GIVE_UP:
		fail(f, RC_E_NETWORK,
		     "at byte %" PRIu64 ": %s (gave up after %u retries)",
		     x->cur, why, f->o->retries);
		return;
	case RC_SCHED_LATER:
		snprintf(msg, sizeof msg, "at byte %" PRIu64 ": %s", x->cur,
			 why);
		rc_sched_announce(f->o->quiet ||
				      (busy && t + delay < f->busy_until + 0.5),
				  msg, x->fails, f->o->retries, delay);
		break;
	case RC_SCHED_NOW:
		rc_log("at byte %" PRIu64 ": %s; retry at once", x->cur, why);
		break;
	}
	atomic_fetch_add(&f->run->retries, 1);
	f->info.retries++;
	xfer_state_set(x, RC_XS_WAITING);
	x->retry_at = t + delay;
	if (busy && x->retry_at > f->busy_until)
		f->busy_until = x->retry_at;
}

/*
 * The reply was a redirect: the same range again at the Location, with
 * credentials only if it is on their origin (rc_auth_headers decides per
 * URL). Not counted as a failure; ten in a row end the run.
 */
static void follow_redirect(struct rc_fetch *f, struct xfer *x)
{
	const char *from = x->redir_url ? x->redir_url : f->url;
	char why[512], red[1024];
	CURLU *u = curl_url();
	char *to = NULL;

	if (++x->redirects > 10) {
		fail(f, RC_E_REMOTE, "too many redirects (more than 10)");
		goto done;
	}
	if (u == NULL ||
	    curl_url_set(u, CURLUPART_URL, from, CURLU_PATH_AS_IS) !=
		CURLUE_OK ||
	    curl_url_set(u, CURLUPART_URL, x->resp.location,
			 CURLU_NON_SUPPORT_SCHEME | CURLU_URLENCODE) !=
		CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &to, 0) != CURLUE_OK) {
		fail(f, RC_E_REMOTE, "the server redirected to a bad URL");
		goto done;
	}
	enum rc_err err =
	    rc_auth_redirect_ok(f->auth, from, to, why, sizeof why);
	if (err != RC_OK) {
		fail(f, err, "%s", why);
		goto done;
	}
	char *copy = strdup(to);
	if (copy == NULL) {
		fail(f, RC_E_NOMEM, "out of memory");
		goto done;
	}
	free(x->redir_url);
	x->redir_url = copy;
	rc_log_redact_url(to, red, sizeof red);
	rc_log("HTTP %ld: redirected to %s%s", x->resp.status, red,
	       rc_auth_same_origin(f->auth, to)
		   ? ""
		   : " (another origin: no credentials sent there)");
	launch(f, x);
done:
	curl_free(to);
	curl_url_cleanup(u);
}

/* A proxy refused the request (a 407, or a 401 that only a proxy asked
 * for, or a CONNECT that failed): the message names the proxy. */
static void refused_by_proxy(struct rc_fetch *f, const char *url, long status)
{
	char proxy[1100];

	rc_auth_proxy_name(url, proxy, sizeof proxy);
	fail(f, RC_E_REMOTE, "HTTP %ld from the proxy %s: %s", status, proxy,
	     status == 407 || status == 401
		 ? "it wants credentials (give them in the proxy URL)"
		 : "it refused to connect to the server");
}

/*
 * A later range was refused by a redirect target (see MAX_REFRESHES): it
 * goes to the target that already replaced it, waits for the one being
 * fetched, or asks the origin again. Returns false when this refusal is
 * final (the origin itself refused, or the status says nothing of expiry).
 */
static bool target_refused(struct rc_fetch *f, struct xfer *x)
{
	long st = x->resp.status;
	char code[64], why[64], t[1024], o[1024];

	if (x->probe || f->mode == MODE_PROBE || !f->pinned)
		return false;
	rc_auth_s3_code(x->errbody, code, sizeof code);
	if (st != 401 && st != 403 && st != 410 &&
	    !(st == 400 && (strcmp(code, "ExpiredToken") == 0 ||
			    strcmp(code, "RequestExpired") == 0)))
		return false;
	if (f->refresher == x ? x->redirects == 0
			      : x->redir_url == NULL && !f->redirected)
		return false; /* the origin itself refused */
	url_plain(x->redir_url ? x->redir_url : f->url, t, sizeof t);
	free(x->redir_url);
	x->redir_url = NULL;
	x->redirects = 0;
	if (f->refresher != x && x->target_gen != f->target_gen) {
		rc_log("an old redirect target refused (%ld): the fresh one is "
		       "asked",
		       st);
		launch(f, x);
		return true;
	}
	if (f->refresher != NULL && f->refresher != x) {
		rc_log("redirect target refused (%ld): waiting for a fresh one",
		       st);
		xfer_state_set(x, RC_XS_PARKED);
		return true;
	}
	snprintf(why, sizeof why, "redirect target refused (%ld)", st);
	if (!begin_refresh(f, x, why)) {
		url_plain(f->origin_url, o, sizeof o);
		fail(f, RC_E_REMOTE,
		     "HTTP %ld from the redirect target %s, also after asking "
		     "%s again %u times",
		     st, t, o, MAX_REFRESHES);
		return true;
	}
	launch(f, x);
	return true;
}

/* A final refusal (4xx): one line with the status, the URL, and for 401
 * and 403 which credentials were involved; a 401 under OAuth first gets
 * one fresh token. */
static void refused(struct rc_fetch *f, struct xfer *x)
{
	const char *url = x->redir_url ? x->redir_url : f->url;
	char red[1024], code[64], hint[256], why[512];
	enum rc_err err;

	if (target_refused(f, x))
		return;
	if (x->resp.status == 401 && !x->auth_retried &&
	    rc_auth_kind(f->auth) == RC_AUTH_OAUTH) {
		x->auth_retried = true;
		if (rc_auth_refresh(f->auth, x->auth_gen, &err, why,
				    sizeof why)) {
			launch(f, x);
			return;
		}
		if (err != RC_OK) {
			fail(f, err, "%s", why);
			return;
		}
	}
	if (x->resp.status == 407 ||
	    (x->resp.status == 401 && x->resp.proxy_auth &&
	     !x->resp.www_auth)) {
		/* The proxy, not the origin, wants credentials. */
		refused_by_proxy(f, url, x->resp.status);
		return;
	}
	rc_auth_s3_code(x->errbody, code, sizeof code);
	rc_auth_hint(f->auth, x->resp.status, code, hint, sizeof hint);
	rc_log_redact_url(url, red, sizeof red);
	fail(f, RC_E_REMOTE, "HTTP %ld from %s%s%s", x->resp.status, red,
	     hint[0] ? ": " : "", hint);
}

/* A stream of unknown length ended at x->cur: that is the file's end. */
static void stream_ends(struct rc_fetch *f, struct xfer *x)
{
	if (x->seq == UINT64_MAX)
		rc_ring_set_nchunks(f->ring, atomic_load(&f->ring->claimed));
	else
		rc_ring_end_at(f->ring, x->seq,
			       x->cur - rc_ring_slot(f->ring, x->seq)->off);
	f->info.end = x->cur;
	f->plan_done = true;
	xfer_state_set(x, RC_XS_IDLE);
	rc_log("end of stream at byte %" PRIu64, x->cur);
}

/* The probe found nothing to send: the claimed chunk becomes empty and
 * last. */
static void nothing_to_send(struct rc_fetch *f, struct xfer *x)
{
	if (x->v.total != RC_UNKNOWN && range_outside(f, x->v.total)) {
		fail_past_end(f, f->o->range_first, x->v.total);
		return;
	}
	if (x->seq != UINT64_MAX)
		rc_ring_end_at(f->ring, x->seq, 0);
	else
		rc_ring_set_nchunks(f->ring, 0);
	f->info.first = f->start;
	f->info.total = x->v.total;
	f->plan_done = true;
	f->mode = MODE_STREAM;
	xfer_state_set(x, RC_XS_IDLE);
}

/*
 * A pinned stream of unknown total asked for the bytes after the last
 * reply's end and got 416: the file ends there, unless the 416 names
 * another size, or comes for the start offset, where the probe found
 * bytes.
 */
static void continued_416(struct rc_fetch *f, struct xfer *x)
{
	const struct rc_crange *c = &x->resp.crange;

	if (x->cur <= f->start) {
		fail(f, RC_E_CHANGED,
		     "416 at byte %" PRIu64 ", where the first reply had "
		     "bytes: the file changed",
		     x->cur);
		return;
	}
	if (x->resp.has_crange && !x->resp.bad_crange && c->unsatisfied &&
	    c->total != x->cur) {
		fail(f, RC_E_CHANGED,
		     "416 names a size of %" PRIu64 " bytes after %" PRIu64
		     " were sent: the file changed",
		     c->total, x->cur);
		return;
	}
	stream_ends(f, x);
}

/*
 * The probe's transfer goes again (probe_again), now or after a wait, or
 * the bytes=0-0 request after a 416 without Content-Range has answered:
 * a size equal to the start offset means there is nothing to send.
 */
static void probe_next(struct rc_fetch *f, struct xfer *x)
{
	if (x->restart) {
		x->restart = false;
		if (x->restart_in > 0) {
			xfer_state_set(x, RC_XS_WAITING);
			x->retry_at = now_s() + x->restart_in;
		} else {
			launch(f, x);
		}
		return;
	}
	if (x->judged && x->v.kind == RC_V_REDIRECT) {
		follow_redirect(f, x); /* still sizing */
		return;
	}
	x->sizing = false;
	uint64_t total = RC_UNKNOWN;
	if (x->judged && x->v.kind == RC_V_RANGE)
		total = x->v.total;
	else if (x->judged && x->v.kind == RC_V_FULL)
		total = x->resp.clen;
	else if (x->judged &&
		 (x->v.kind == RC_V_AT_END || x->v.kind == RC_V_PAST_END))
		/* Not even byte 0: the file is empty. */
		total = x->v.total == RC_UNKNOWN ? 0 : x->v.total;
	if (total == f->start) {
		x->v.total = total;
		nothing_to_send(f, x);
	} else if (total != RC_UNKNOWN && total > f->start) {
		fail(f, RC_E_REMOTE,
		     "offset %" PRIu64 ": the server refused the range (416) "
		     "of a %" PRIu64 "-byte file",
		     f->start, total);
	} else {
		fail_past_end(f, f->start, total);
	}
}

/*
 * The typical rate (EWMA) after x's range ended whole, took s after its
 * request. A range of 64 KiB or more counts from its first body byte.
 * A shorter one may land in a burst, so it counts over its whole time,
 * wait included (a rate too low, so a straggler must be slower still),
 * and only until a longer range has counted: with chunks under 64 KiB
 * (-n 4 --memory 64K) nothing else would, and a range dripping a byte
 * at a time would never be judged slow.
 */
static void learn_rate(struct rc_fetch *f, const struct xfer *x, double took)
{
	/* A multipart reply, or one that waited for room, is learnt whole,
	 * from its request, its pauses included: bytes that waited in the
	 * kernel's receive queue meanwhile come at memory speed, and parts
	 * learnt alone made the typical rate 100 MB/s a connection on a
	 * link giving each 2 (0.1% loss, 100 ms), so that every part on
	 * the wire looked slow and was split. */
	bool whole = x->parts_in > 0 || x->joined || x->room_wait;
	uint64_t got = whole ? x->att_got : x->got;
	double xfer_s = now_s() - (whole ? x->att_at : x->first_byte), rate;
	bool rough;

	if (whole)
		took = xfer_s;
	if (got >= MIN_SPLIT && xfer_s > 0) {
		rate = (double)got / xfer_s;
		rough = false;
	} else if (got > 0 && took > 0 &&
		   (f->typical_rate == 0 || f->rate_rough)) {
		rate = (double)got / took;
		rough = true;
	} else {
		return;
	}
	/* The first long range replaces what short ones taught. */
	f->typical_rate = f->typical_rate > 0 && f->rate_rough == rough
			      ? 0.7 * f->typical_rate + 0.3 * rate
			      : rate;
	f->rate_rough = rough;
	if (rc_log_debug())
		rc_log("xfer %u: %" PRIu64 " bytes at %.0f bytes/s%s: typical "
		       "rate %.0f bytes/s",
		       (unsigned)(x - f->x), got, rate,
		       whole ? " (a reply)" : "", f->typical_rate);
}

/* x's stripe's later chunks from its i-th on (none of them begun) go
 * back to the group; a reply that asked for them ends after the part it
 * is on (x->shortened). Returns how many went (0 when grp_back is
 * full). */
static unsigned rest_back_from(struct rc_fetch *f, struct xfer *x, unsigned i)
{
	unsigned n = i < x->nrest ? x->nrest - i : 0;

	if (f->grp_nback + n > back_room(f))
		return 0;
	for (unsigned k = i; k < x->nrest; k++)
		f->grp_back[f->grp_nback++] = x->rest[k].seq;
	x->nrest = i < x->nrest ? i : x->nrest;
	x->shortened = n > 0 && i == 0 && in_multi(x->state);
	return n;
}

static unsigned rest_back(struct rc_fetch *f, struct xfer *x)
{
	return rest_back_from(f, x, 0);
}

/* How many of x's later parts its request in flight asked: those
 * within a joined range, or every one of a multipart request. */
static unsigned asked_parts(const struct xfer *x)
{
	unsigned n = 0;

	if (x->joined)
		while (n < x->nrest && x->rest[n].end <= x->jend)
			n++;
	else if (x->asked_parts && (!x->judged || x->v.parts))
		n = x->nrest;
	return n;
}

/* x holds a stripe cut for one connection: 8 chunks or more (up to
 * f->join), longer than any cut for more. */
static bool cut_for_one(const struct rc_fetch *f, const struct xfer *x)
{
	return f->grp_k != 0 && x->stride == 1 && x->nrest >= STRIPE_MAX;
}

/* Such a stripe is held: what a count above one would ask (limit tries
 * are made for it, as for work not handed out yet: work_left). */
static bool held_for_one(const struct rc_fetch *f)
{
	for (unsigned i = 0; i < f->nx; i++)
		if (cut_for_one(f, &f->x[i]))
			return true;
	return false;
}

/*
 * A stripe's transfer hit the server's limit before its reply: the
 * chunks after the one it writes go back to the group, to be cut again
 * for the count the limit left (regroup), rather than asked again 32
 * apart by the few transfers that may run (their later parts past the
 * window, the chunks the output needed next waiting for a free
 * transfer). The one it writes too when nothing of it came; else that
 * is asked again from its first missing byte, in its turn. Returns true
 * when the transfer holds nothing any more.
 */
static bool give_back(struct rc_fetch *f, struct xfer *x)
{
	/* Only into a group that was cut (stripes on now, or once: after
	 * they went off its chunks are still handed out, one a request). */
	if (f->grp_k == 0 || x->spanning || x->seq == UINT64_MAX ||
	    f->grp_nback + x->nrest + 1 > back_room(f))
		return false;
	rest_back(f, x);
	struct seg *g = segs_of(f, x->seq);
	if (x->segi != 0 || f->nsegs[x->seq % f->ring->nslots] != 1 ||
	    g->done != g->start)
		return false;
	f->grp_back[f->grp_nback++] = x->seq;
	x->seq = UINT64_MAX;
	return true;
}

/* The lowest chunk that waits in the group for a transfer (given back,
 * or in a stripe not handed out yet), UINT64_MAX none. */
static uint64_t grp_lowest(const struct rc_fetch *f)
{
	uint64_t low = UINT64_MAX;

	for (unsigned i = 0; i < f->grp_nback; i++)
		if (f->grp_back[i] < low)
			low = f->grp_back[i];
	for (unsigned i = f->grp_next, n = grp_stripes(f); i < n; i++) {
		unsigned e = grp_entry(f, i, 0);
		if (e < f->grp_len && f->grp_seq[e] < low)
			low = f->grp_seq[e];
	}
	return low;
}

/* Whether chunk seq waits in the group for a transfer (given back, or
 * in a stripe not handed out yet). */
static bool grp_pending(const struct rc_fetch *f, uint64_t seq)
{
	for (unsigned i = 0; i < f->grp_nback; i++)
		if (f->grp_back[i] == seq)
			return true;
	for (unsigned i = f->grp_next, n = grp_stripes(f); i < n; i++)
		for (unsigned j = 0;; j++) {
			unsigned e = grp_entry(f, i, j);
			if (e >= f->grp_len)
				break;
			if (f->grp_seq[e] == seq)
				return true;
		}
	return false;
}

/*
 * The count is not the one the stripes were cut for: every transfer
 * gives back the later parts of such a stripe, to be cut again for the
 * count (regroup; take_stripe does so for those not handed out yet),
 * and a reply already asked for them ends after the part it is on.
 * - A count under the stride (a server's limit, 429/503). With a limit
 *   of 4 found among 32, two of the four kept stripes 32 chunks apart
 *   over the whole file: each part landed only when the window reached
 *   it, so they held half the connections for the whole run (20 MiB at
 *   60 ms: 4.5 s).
 * - A count above one, and a stripe cut for one (cut_for_one): the
 *   server answered more at once than the limit guessed, or a try one
 *   higher, or the limit again after a 429/503's calm. One reset before
 *   its reply, early, is guessed a limit of one (the probe's the only
 *   reply coming), and the stripe cut for one was the rest of the file:
 *   a far -n 8 run at 2 MiB/s a request held to one reply of 16 MiB
 *   (9.4-9.8 s; 3.25 s before -n heeded limits), the count back at 8
 *   within 0.4 s with nothing left to ask.
 */
static void fit_stripes(struct rc_fetch *f, bool keep_asked)
{
	unsigned chunks = 0, replies = 0, ones = 0;

	for (unsigned i = 0; i < f->nx; i++) {
		struct xfer *x = &f->x[i];
		bool one = f->conn.n > 1 && cut_for_one(f, x);
		if (x->nrest == 0 || (x->stride <= f->conn.n && !one))
			continue;
		unsigned keep = 0;
		if (keep_asked && in_multi(x->state))
			keep = asked_parts(x);
		unsigned n = rest_back_from(f, x, keep);
		chunks += n;
		replies += n > 0;
		ones += one && n > 0;
	}
	if (chunks > 0)
		rc_log("stripes: %u later chunks of %u stripes go back, to be "
		       "cut again for %u connections%s",
		       chunks, replies, f->conn.n,
		       ones > 0 ? " (cut for one)" : "");
}

static bool limit_found(struct rc_fetch *f, struct xfer *x,
			enum rc_sched_shed what, const char *why);

/*
 * A connection refused, or reset before any reply, while others were
 * open: the server's connection limit (rc_sched_conn_shed lowers the
 * count and its cap). The range goes again once a transfer is free,
 * without counting against --retries, and no successor starts early any
 * more (that would open one connection too many). Returns true when
 * that is what happened.
 */
static bool limit_hit(struct rc_fetch *f, struct xfer *x, CURLcode res,
		      const char *why)
{
	bool refused = res == CURLE_COULDNT_CONNECT;

	if (f->mode != MODE_PARALLEL || x->att_got > 0 || x->resp.status != 0 ||
	    !(refused || res == CURLE_RECV_ERROR || res == CURLE_SEND_ERROR ||
	      res == CURLE_GOT_NOTHING))
		return false;
	return limit_found(
	    f, x, refused ? RC_SCHED_SHED_REFUSED : RC_SCHED_SHED_RESET, why);
}

/*
 * A 503 without Retry-After while the server answers other requests:
 * its limit on requests at once (nginx's limit_conn answers so), not a
 * wait it asks for, and found as a connection limit is (limit_found).
 * Taken for a busy server, each storm halved the count and held every
 * request for the backoff, 1-4 s: 20 MiB at 60 ms from nginx with
 * limit_conn 1 took 0.7-13 s (curl 1.0 s, aria2c and axel 1.1 s).
 * Where nothing else is answered (one connection) it is a busy server's,
 * unless such 503s already showed the limit: between two waves of
 * requests none is answered for a round trip, and 503s then halved a
 * found limit of 15 to 7 (1 run in 12 of 20 MiB at 60 ms, limit_conn
 * 1). S3's are a busy server's (SlowDown, a request rate: AWS asks for
 * a backoff).
 */
static bool busy_limit(struct rc_fetch *f, struct xfer *x, const char *why)
{
	if (f->mode != MODE_PARALLEL || x->resp.status != 503 ||
	    x->resp.retry_after >= 0 ||
	    (answered(f) == 0 && !(f->conn.limited && f->conn.by_503)) ||
	    rc_auth_kind(f->auth) == RC_AUTH_S3)
		return false;
	return limit_found(f, x, RC_SCHED_SHED_503, why);
}

/* The server's limit (what) turned x away: the count is lowered
 * (rc_sched_conn_shed), and x's range goes again once a transfer is
 * free. False when that says nothing of a limit. */
static bool limit_found(struct rc_fetch *f, struct xfer *x,
			enum rc_sched_shed what, const char *why)
{
	bool first = !f->conn.limited;
	unsigned was = f->conn.max_cap;

	x->at_find = false;
	if (!rc_sched_conn_shed(&f->conn, now_s(), what, x->others, x->started,
				answered(f)))
		return false;
	rc_log("connections: %s", f->conn.why);
	if (first && f->conn.pinned && !f->o->quiet)
		/* -n asked for more: said once, -v tells the rest. */
		rc_log_error("-n %u: the server seems to allow %u "
			     "connection%s at once; fewer are used until it "
			     "answers more",
			     was, f->conn.n, f->conn.n == 1 ? "" : "s");
	if (!first && f->conn.max_cap < was)
		/* Lowered: what the server held at the first reset would
		 * raise it again at the next reply, and a server now
		 * allowing fewer would reset one connection a reply. */
		f->find_ok = 0;
	if (first && f->conn.limited) {
		/* The guess counts the replies coming now; those running
		 * that the server answers later count too (a burst of 32
		 * guessed 1 for a limit of 4, and the count, at 1, showed
		 * no more). */
		f->find_ok = answered(f);
		for (unsigned i = 0; i < f->nx; i++)
			f->x[i].at_find = &f->x[i] != x &&
					  in_multi(f->x[i].state) &&
					  !f->x[i].judged;
	}
	rc_log("at byte %" PRIu64 ": %s; again when a connection is free",
	       x->cur, why);
	fit_stripes(f, false);
	x->probe = false;
	x->suffix = false;
	if (give_back(f, x)) {
		xfer_state_set(x, RC_XS_IDLE);
		return true;
	}
	xfer_state_set(x, RC_XS_WAITING);
	x->retry_at = now_s() + (f->typical_wait > 0 ? f->typical_wait : 0.1);
	return true;
}

/* A transfer ended (well or not): decide what comes next for it. */
static void done(struct rc_fetch *f, struct xfer *x, CURLcode res)
{
	char why[CURL_ERROR_SIZE + 64];

	curl_multi_remove_handle(f->multi, x->h);
	xfer_state_set(x, RC_XS_DONE);
	rc_log("xfer %u: ended at byte %" PRIu64 ", %" PRIu64
	       " bytes in %.3f s",
	       (unsigned)(x - f->x), x->cur, x->att_got, now_s() - x->att_at);
	if (f->failed)
		return;
	if (x->hdr_bytes > RC_MAX_HEADER_BYTES) {
		retry(f, x, "response headers over 256 KiB", -1);
		return;
	}
	if (!x->judged && (res == CURLE_OK || x->resp.status != 0))
		judge(x);
	if (f->failed)
		return;
	if (x->restart || x->sizing) {
		probe_next(f, x);
		return;
	}
	if (x->judged && x->v.kind == RC_V_REDIRECT) {
		follow_redirect(f, x);
		return;
	}
	if (x->judged && x->v.kind == RC_V_REFUSED) {
		refused(f, x);
		return;
	}
	/* Anything else starts the next attempt from the URL planned, and a
	 * later 401 may get a fresh token again. */
	free(x->redir_url);
	x->redir_url = NULL;
	x->redirects = 0;
	x->auth_retried = false;
	if (x->at_end) {
		nothing_to_send(f, x);
		return;
	}
	if (x->judged) {
		switch (x->v.kind) {
		case RC_V_RANGE:
		case RC_V_FULL: break;
		case RC_V_PAST_END:
		case RC_V_AT_END:
			if (!x->probe && f->total == RC_UNKNOWN) {
				continued_416(f, x);
				return;
			}
			if (x->v.kind == RC_V_AT_END) {
				fail(f, RC_E_CHANGED,
				     "unexpected 416: the file changed");
				return;
			}
			if (x->probe && x->v.total == RC_UNKNOWN &&
			    f->start > 0 && !x->suffix && !f->o->shard_n) {
				/* A 416 without Content-Range (Apache,
				 * lighttpd): is the start the end? */
				x->sizing = true;
				launch(f, x);
				return;
			}
			fail_past_end(f, x->cur, x->v.total);
			return;
		case RC_V_CHANGED:
			fail(f, RC_E_CHANGED, "%s", x->v.why);
			return;
		case RC_V_REDIRECT:
		case RC_V_REFUSED: return; /* handled above */
		case RC_V_RETRY:
			if (x->resp.malformed) {
				/* Framing that cannot be trusted is not
				 * transient: asking again gets the same. */
				fail(f, RC_E_NETWORK,
				     "at byte %" PRIu64 ": malformed reply "
				     "(HTTP %ld): %s",
				     x->cur, x->resp.status, x->resp.malformed);
				return;
			}
			snprintf(why, sizeof why, "HTTP %ld: %s",
				 x->resp.status, x->v.why);
			if (busy_limit(f, x, why))
				return;
			if (server_said_busy(x) && f->mode == MODE_PARALLEL &&
			    rc_sched_conn_shed(&f->conn, now_s(),
					       RC_SCHED_SHED_BUSY, x->others,
					       x->started, 0)) {
				rc_log("connections: %s", f->conn.why);
				fit_stripes(f, false);
			}
			retry(f, x, why, x->resp.retry_after);
			return;
		}
	}
	if (x->enough)
		res = CURLE_OK;
	if (x->stash_len > 0 && drain(x) == FEED_ROOM) {
		/* The reply ended while its last bytes waited for room:
		 * they are asked again. */
		x->stash_len = 0;
		x->room_wait = true;
		retry(f, x, "a part waited for buffer room", -1);
		return;
	}
	unchecked_back(x);
	if (x->parts_bad) {
		stripes_off(f, x->parts_bad);
		x->unstriped = true;
		if (x->cur >= x->end && x->nrest > 0)
			next_part(x);
		if (x->cur < x->end) {
			retry(f, x, x->parts_bad, -1);
			return;
		}
		res = CURLE_OK; /* every chunk asked came whole */
	}
	/* Every byte of the range landed, whatever broke after it (a reply
	 * cut between two parts, or running past its range): the range is
	 * complete, and a stripe goes on from its next chunk. */
	if (x->judged && x->v.kind == RC_V_RANGE && !x->spanning &&
	    x->end != RC_UNKNOWN && x->cur >= x->end &&
	    (res != CURLE_OK || x->overflow)) {
		if (x->nrest > 0) {
			next_part(x);
		} else {
			rc_log("xfer %u: its range is complete; %s after it",
			       (unsigned)(x - f->x),
			       x->overflow ? "more bytes came"
					   : "the reply broke off");
			res = CURLE_OK;
			x->overflow = false;
		}
	}
	if (x->overflow) {
		retry(f, x,
		      x->past_crange
			  ? "the body runs past the end its Content-Range "
			    "names"
			  : "the server sent more bytes than asked",
		      -1);
		return;
	}
	if (res != CURLE_OK) {
		long connect = 0;
		curl_easy_getinfo(x->h, CURLINFO_HTTP_CONNECTCODE, &connect);
		if (connect >= 400) {
			refused_by_proxy(
			    f, x->redir_url ? x->redir_url : f->url, connect);
			return;
		}
		switch (res) {
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
			/* A name that does not resolve will not resolve in
			 * two seconds either: curl's words, at once. */
			fail(f, RC_E_NETWORK, "%s",
			     x->errbuf[0] ? x->errbuf
					  : curl_easy_strerror(res));
			return;
		case CURLE_WEIRD_SERVER_REPLY:
			fail(f, RC_E_NETWORK,
			     "at byte %" PRIu64 ": malformed reply: %s", x->cur,
			     x->errbuf[0] ? x->errbuf
					  : curl_easy_strerror(res));
			return;
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CONNECT_ERROR:
			fail(f, RC_E_NETWORK, "TLS: %s",
			     x->errbuf[0]
				 ? rc_escape(x->errbuf, why, sizeof why)
				 : curl_easy_strerror(res));
			return;
		default:
			rc_escape(x->errbuf[0] ? x->errbuf
					       : curl_easy_strerror(res),
				  why, sizeof why);
			if (limit_hit(f, x, res, why))
				return;
			retry(f, x, why, -1);
			return;
		}
	}
	/* A whole file of unknown length (chunked) ended before the start
	 * or -r's first byte: the offset was past its end. */
	if (x->judged && x->v.kind == RC_V_FULL &&
	    (x->skip > 0 || range_outside(f, x->body))) {
		fail_past_end(f, x->skip > 0 ? f->start : f->o->range_first,
			      x->body);
		return;
	}
	/* A clean end: complete, short (ask for the rest) or end of file.
	 * A 206 ends where its Content-Range says, which is the end of the
	 * file only when its total says so: "bytes A-B/\*" may be capped. */
	if (x->end == RC_UNKNOWN && x->judged && x->v.kind == RC_V_RANGE &&
	    (x->v.total == RC_UNKNOWN || x->cur < x->v.total)) {
		retry(f, x,
		      x->v.total == RC_UNKNOWN
			  ? "a reply of unknown total ended"
			  : "short reply",
		      -1);
		return;
	}
	if (x->end == RC_UNKNOWN) {
		stream_ends(f, x);
		return;
	}
	if (x->cur < x->end) {
		retry(f, x, "short reply", -1);
		return;
	}
	/* A stream's end is the file's (whatever -r asked), but for one
	 * cut for more connections: chunks follow it. */
	if (was_cut(f, x))
		x->spanning = false;
	else if (x->spanning)
		rc_ring_set_nchunks(f->ring, atomic_load(&f->ring->claimed));
	double took = now_s() - x->started;
	/* One connection, whose stripe goes on past chunks that wait in the
	 * group (transfers the server's limit turned away gave them back
	 * while this reply ran): the output needs those first, so the
	 * stripe goes back to be cut again from the lowest (take_stripe).
	 * Asked on, the output waited for them behind a 24 MiB reply until
	 * the reply was cut to make way (nginx's limit_conn 1 at 100 ms). */
	if (x->nrest > 0 && f->conn.n == 1 && x->stride == 1 &&
	    grp_lowest(f) < x->rest[0].seq && rest_back(f, x) > 0)
		rc_log("xfer %u: earlier chunks wait: its stripe goes back, "
		       "to be asked in order",
		       (unsigned)(x - f->x));
	if (x->nrest > 0) {
		/* A stripe's later chunks: asked again together, or one by
		 * one once stripes are off. */
		if (x->first_byte > 0)
			learn_rate(f, x, took);
		next_part(x);
		if (server_busy(f)) {
			xfer_state_set(x, RC_XS_WAITING);
			x->retry_at = f->busy_until;
			return;
		}
		launch(f, x);
		return;
	}
	/* The one stream a short path starts with teaches the rate too: a
	 * small file's may end before its verdict, beside a probe that
	 * drips, which is then judged by it (restart_hopeless). */
	if ((!x->spanning || f->mode == MODE_PARALLEL) && x->first_byte > 0) {
		learn_rate(f, x, took);
		double xfer_s = now_s() - x->first_byte;
		if (x->probe && f->mode == MODE_PARALLEL && xfer_s > 0)
			rc_sched_conn_probe(&f->conn, x->got,
					    (double)x->got / xfer_s);
	}
	rc_log("bytes up to %" PRIu64 " done in %.3f s", x->end, took);
	x->probe = false;
	x->suffix = false;
	xfer_state_set(x, RC_XS_IDLE);
}

/*
 * Drops transfers that received nothing for --stall-timeout seconds and
 * retries their ranges. curl's own low-speed check averages over about
 * five seconds, so it would stretch a 1-second timeout to 6; this one is
 * exact. A transfer we paused ourselves (the ring is full) is not stalled.
 */
static void drop_stalled(struct rc_fetch *f, double t)
{
	char why[64];

	for (unsigned i = 0; i < f->nx && !f->failed; i++) {
		struct xfer *x = &f->x[i];
		if (x->state != RC_XS_RUNNING ||
		    t - x->last_byte < (double)f->o->stall_timeout)
			continue;
		curl_multi_remove_handle(f->multi, x->h);
		xfer_state_set(x, RC_XS_DONE);
		snprintf(why, sizeof why, "no data for %ld s",
			 f->o->stall_timeout);
		retry(f, x, why, -1);
	}
}

/*
 * Stripes: the output has waited on one reply's part for four round
 * trips (0.2 s at least), while other replies hold parts paused for
 * room behind it, and that part comes at under an eighth of the run's
 * mean rate (a reply alone on a shared link gets most of it). Each
 * of that reply's later parts would hold the output again (its stripe
 * spans the group), so they go back, to be cut again for the others
 * (regroup), and the reply ends after the part it is on. One reply of
 * a 20 MiB run's 32 at 256 KiB/s (slow@20) took the run from 0.8 s to
 * 2.5 s: the typical rate, learnt from replies that had all waited on
 * it, never showed it slow.
 */
#define HEAD_WAIT_MIN 0.2

/* Four round trips (round_trip's), HEAD_WAIT_MIN at least: how long
 * a reply is watched before it is judged stuck or slow. */
static double head_wait(const struct rc_fetch *f)
{
	return 4 * f->handshake > HEAD_WAIT_MIN ? 4 * f->handshake
						: HEAD_WAIT_MIN;
}

static void unstick_head(struct rc_fetch *f, double t)
{
	uint64_t head = atomic_load(&f->ring->head);
	struct xfer *owner = NULL;
	unsigned paused = 0;

	if (head != f->head_seq) {
		f->head_seq = head;
		f->head_at = t;
		return;
	}
	double wait = head_wait(f);
	if (!f->stripes || f->mode != MODE_PARALLEL || t <= f->began ||
	    t - f->head_at < wait)
		return;
	for (unsigned i = 0; i < f->nx; i++) {
		struct xfer *x = &f->x[i];
		paused += x->state == RC_XS_PAUSED && x->room_wait;
		if (x->state == RC_XS_RUNNING && x->seq == head && !x->spanning)
			owner = x;
	}
	if (owner == NULL || owner->nrest == 0 || paused == 0)
		return;
	/* Its part's rate over four round trips at least, past slow start
	 * (a reply on a new connection, or one that waited for the group,
	 * ramps: over HTTPS every head's owner looked stuck at first, and
	 * each closed connection cost a new handshake, 2.5 s to 4.2). */
	double for_s = owner->first_byte > 0 ? t - owner->first_byte : 0;
	if (owner->ramp || owner->new_conn || for_s < wait)
		return;
	double mean = (double)f->rx / (t - f->began);
	double rate = (double)owner->got / for_s;
	if (rate * 8 >= mean)
		return;
	unsigned n = rest_back(f, owner);
	if (n > 0)
		rc_log("stripes: the output waited %.3f s on xfer %u (%.0f "
		       "bytes/s, the run %.0f): its %u later chunks go back, "
		       "to be cut again",
		       t - f->head_at, (unsigned)(owner - f->x), rate, mean, n);
}

/*
 * A slow range too short to split (rc_sched_restart_pays): its transfer
 * ends, its connection with it, and the range goes again at once from
 * its first byte not received, as after a stall. Once per range: where
 * the new request is as slow, the server is slow for every request
 * (the typical rate, taken from whole ranges, may be from before it
 * slowed down), and the range finishes at its own rate. In parallel
 * mode only, where the version is pinned; the probe's range counts too.
 */
static void restart_hopeless(struct rc_fetch *f, double t)
{
	char why[96];

	if (f->mode != MODE_PARALLEL)
		return; /* one stream, or no version pinned yet */
	for (unsigned i = 0; i < f->nx && !f->failed; i++) {
		struct xfer *x = &f->x[i];
		/* The one stream (settled, or cut with 64 KiB at most to go)
		 * is never split: it goes again however much it has left,
		 * unless it waited for room (a slow reader makes any rate
		 * low). */
		if (x->state != RC_XS_RUNNING || x->hopeless ||
		    x->first_byte == 0 || x->end == RC_UNKNOWN ||
		    (x->spanning ? x->room_wait
				 : x->end - x->cur >= MIN_SPLIT) ||
		    !is_slow(f, x, t))
			continue;
		struct rc_sched_range r = range_of(x, x->end, t);
		if (!rc_sched_restart_pays(&r, x->end - x->cur, t,
					   f->typical_rate, f->typical_wait))
			continue;
		curl_multi_remove_handle(f->multi, x->h);
		xfer_state_set(x, RC_XS_DONE);
		x->dropped = true;
		x->hopeless = true;
		snprintf(why, sizeof why,
			 "%.0f bytes/s with %" PRIu64 " bytes left, too slow",
			 (double)x->got / (t - x->first_byte), x->end - x->cur);
		retry(f, x, why, -1);
	}
}

/*
 * A joined reply (x->joined) whose chunk is slow: its later chunks go
 * back to the group, and the reply ends with that chunk. Judged chunk
 * by chunk (next_in_reply), a straggler held all of them: at 256 KiB/s,
 * 8 MiB for 32 s where it held 128 KiB before, and with a split of each
 * chunk, the reply went on through every chunk's front half (66 s for
 * 16 MiB). Asked again, they may come fast; a split or a restart
 * (restart_hopeless) takes care of the chunk itself.
 */
static void unjoin_slow(struct rc_fetch *f, double t)
{
	/* Its chunk's rate over four round trips at least, past slow start,
	 * as unstick_head judges: judged 50 ms into a reply on a reused
	 * connection that had idled a round trip, healthy replies were cut
	 * (up to 12 a run once a lie turned stripes off). */
	double wait = head_wait(f);

	for (unsigned i = 0; i < f->nx; i++) {
		struct xfer *x = &f->x[i];
		if (x->state != RC_XS_RUNNING || !x->joined || x->nrest == 0 ||
		    x->first_byte == 0 || x->ramp || t - x->first_byte < wait ||
		    !is_slow(f, x, t))
			continue;
		unsigned n = rest_back(f, x);
		if (n > 0)
			rc_log("xfer %u: a slow reply (%.0f bytes/s): its %u "
			       "later chunks go back, to be asked again",
			       i, (double)x->got / (t - x->first_byte), n);
	}
}

/*
 * --speed-limit B --speed-time S: the run fails when, for S seconds in
 * which it waited on the network, it received under B bytes/s in all.
 * The window restarts whenever no transfer is running (retry waits, a
 * full ring): a slow reader is not a slow server. Unlike curl's check it
 * counts every connection together, so a drip on one of eight is fine
 * while the others carry the run.
 */
static void check_speed(struct rc_fetch *f, double t)
{
	bool net = false;

	if (f->o->speed_limit == 0 || f->failed)
		return;
	for (unsigned i = 0; i < f->nx && !net; i++)
		net = f->x[i].state == RC_XS_CONNECTING ||
		      f->x[i].state == RC_XS_RUNNING;
	if (!net || f->slow_since == 0) {
		f->slow_since = t;
		f->slow_rx = f->rx;
		return;
	}
	double el = t - f->slow_since;
	if (el < (double)f->o->speed_time)
		return;
	double rate = (double)(f->rx - f->slow_rx) / el;
	if (rate < (double)f->o->speed_limit) {
		fail(f, RC_E_NETWORK,
		     "%.0f bytes/s over the last %ld s, under --speed-limit "
		     "%" PRIu64,
		     rate, f->o->speed_time, f->o->speed_limit);
		return;
	}
	f->slow_since = t;
	f->slow_rx = f->rx;
}

/* Whether a waiting transfer may go again now: in parallel mode, only
 * while fewer than run_cap transfers run (a server's connection limit
 * may have lowered it). */
static bool may_resume(const struct rc_fetch *f)
{
	return f->mode != MODE_PARALLEL || running(f) < run_cap(f);
}

/* Replies paused for want of buffer room go on, earliest chunk first,
 * while the budget has room for their chunks. */
static void resume_paused(struct rc_fetch *f, double t)
{
	for (;;) {
		struct xfer *first = NULL;
		for (unsigned i = 0; i < f->nx; i++) {
			struct xfer *x = &f->x[i];
			if (x->state == RC_XS_PAUSED && !x->spanning &&
			    x->seq != UINT64_MAX &&
			    (first == NULL || x->seq < first->seq))
				first = x;
		}
		bool fed = first != NULL && fed_reply(first);
		if (first == NULL || f->failed ||
		    !(fed ? may_land(first)
			  : rc_ring_may_fill(f->ring, first->seq)))
			return;
		xfer_state_set(first, RC_XS_RUNNING);
		first->last_byte = t;
		if (fed && first->first_byte > 0) {
			/* Held back on purpose: its rate counts from now. */
			first->got = 0;
			first->first_byte = t;
			first->win_at = 0;
			first->prev_at = 0;
		}
		curl_easy_pause(first->h, CURLPAUSE_CONT);
	}
}

/* The one stream (rc_sched_conn_near), or NULL. */
static struct xfer *the_stream(struct rc_fetch *f)
{
	for (unsigned i = 0; i < f->nx; i++)
		if (f->x[i].spanning && in_multi(f->x[i].state))
			return &f->x[i];
	return NULL;
}

/*
 * A transfer due to retry the range the output needs next may find every
 * slot taken (a 429/503 or a server's limit lowered the count) by replies
 * paused for room behind it: they wait on it, it waits on them. The
 * latest of them gives its slot back (it received nothing) and waits its
 * turn, and the range at the head goes now. So does the head's stripe
 * when no transfer would take it: the count fell under the transfers
 * holding ranges (a halving keeps their stripes), or none is receiving.
 * A far start trying 16 of 32 while a group cut for 32 was handed out
 * left the head's stripe to wait for a transfer to be free, every reply
 * paused behind the head, and the run stopped for good (4 of 7 such
 * runs at 60 ms and 1 MiB/s a connection; t_stripes_halved). The one
 * stream, cut with 64 KiB at most to go, is such a retry too: asked
 * again at once when it dripped while the count and its splits ran
 * every slot, it waited on the replies paused behind it for good (1
 * run in 5 of t_cpu_one_drip with 256 KiB chunks).
 */
static void make_way(struct rc_fetch *f, double t)
{
	uint64_t head = atomic_load(&f->ring->head);
	struct xfer *due = NULL, *last = NULL;

	if (f->mode != MODE_PARALLEL || may_resume(f))
		return;
	for (unsigned i = 0; i < f->nx; i++) {
		struct xfer *x = &f->x[i];
		if (x->state == RC_XS_WAITING && t >= x->retry_at &&
		    x->seq == head)
			due = x;
		else if (x->state == RC_XS_PAUSED && !x->spanning &&
			 x->seq != UINT64_MAX &&
			 (last == NULL || x->seq > last->seq))
			last = x;
	}
	if (due == NULL && last != NULL &&
	    (f->grp_recut || f->grp_nback > 0 || active(f) > f->conn.n ||
	     receiving(f) == 0) &&
	    grp_pending(f, head)) {
		/* The output's next chunk was given back (give_back), or
		 * its stripe cut again for fewer transfers than it was cut
		 * for: an idle transfer takes the stripe that starts with it
		 * (the group is cut again, in order). Not while a running
		 * reply, ending, would take it: at a group's start. */
		for (unsigned i = 0; i < f->nx && due == NULL; i++)
			if (f->x[i].state == RC_XS_IDLE)
				due = &f->x[i];
		if (due == NULL || !take_stripe(f, due))
			return;
		if (due->seq != head) {
			/* Not the head after all (the group drained into
			 * this stripe): back, all of it (none of it begun),
			 * for schedule() to place. */
			give_back(f, due);
			return;
		}
	}
	if (due == NULL || last == NULL)
		return;
	curl_multi_remove_handle(f->multi, last->h);
	xfer_state_set(last, RC_XS_DONE);
	xfer_state_set(last, RC_XS_WAITING);
	last->retry_at = t;
	rc_log("xfer %u: bytes from %" PRIu64 " wait: the range the output "
	       "needs next goes first",
	       (unsigned)(last - f->x), last->cur);
	launch(f, due);
}

static void resume_waiting(struct rc_fetch *f, double t)
{
	/* Retries due go earliest range first, while slots are free and
	 * the server has not asked to wait. */
	if (!server_busy(f))
		make_way(f, t);
	while (!f->failed && !server_busy(f)) {
		struct xfer *first = NULL;
		for (unsigned i = 0; i < f->nx; i++) {
			struct xfer *x = &f->x[i];
			if (x->state == RC_XS_WAITING && t >= x->retry_at &&
			    (first == NULL || x->cur < first->cur))
				first = x;
		}
		if (first == NULL || !may_resume(f))
			break;
		launch(f, first);
	}
	for (unsigned i = 0; i < f->nx && !f->failed; i++) {
		struct xfer *x = &f->x[i];
		if (x->state == RC_XS_PAUSED && x->spanning &&
		    span_room(x) >= x->pause_need) {
			xfer_state_set(x, RC_XS_RUNNING);
			x->last_byte = t;
			curl_easy_pause(x->h, CURLPAUSE_CONT);
		}
	}
	resume_paused(f, t);
}

/* x will move without a byte arriving first: it is connecting or
 * receiving, its retry is to come or may go now (resume_waiting, or
 * make_way for the head's), or a fresh target is being asked for it. */
static bool will_move(const struct rc_fetch *f, const struct xfer *x, double t,
		      uint64_t head)
{
	switch (x->state) {
	case RC_XS_CONNECTING:
	case RC_XS_RUNNING: return true;
	case RC_XS_WAITING:
		return x->retry_at > t || may_resume(f) || x->seq == head;
	case RC_XS_PARKED: return f->refresher != NULL;
	default: return false;
	}
}

/*
 * The output waits on its next chunk and nothing can bring it: no
 * transfer connecting or receiving, no retry to come or able to go,
 * every reply in flight paused for buffer room, no launch due. No
 * callback comes then, and drop_stalled times out running transfers
 * only, so the run would wait for ever. make_way keeps this from
 * lasting; should it last the stall timeout all the same (a bug), the
 * run fails, and says what was delivered and how to resume.
 */
static void stuck(struct rc_fetch *f, double t)
{
	uint64_t head = atomic_load(&f->ring->head);
	bool moving = f->failed || f->mode != MODE_PARALLEL ||
		      atomic_load(&f->run->hold) || server_busy(f) ||
		      (f->pace_left > 0 && f->pace_next > t) ||
		      !rc_ring_head_waits(f->ring);

	for (unsigned i = 0; i < f->nx && !moving; i++)
		moving = will_move(f, &f->x[i], t, head);
	if (moving) {
		f->stuck_at = 0;
		return;
	}
	if (f->stuck_at == 0)
		f->stuck_at = t;
	if (t - f->stuck_at < (double)f->o->stall_timeout)
		return;
	const struct rc_slot *s = rc_ring_slot(f->ring, head);
	fail(f, RC_E_NETWORK,
	     "no data for %ld s: the output waits for byte %" PRIu64
	     ", and no request could bring it (an internal error)",
	     f->o->stall_timeout, s->off + atomic_load(&s->filled));
}

static bool all_idle(struct rc_fetch *f)
{
	for (unsigned i = 0; i < f->nx; i++)
		if (holds_range(f->x[i].state))
			return false;
	return true;
}

static int poll_ms(struct rc_fetch *f, double t)
{
	double wait = 1.0;
	bool resumable = may_resume(f); /* else a transfer's end wakes us */
	uint64_t head = atomic_load(&f->ring->head);

	for (unsigned i = 0; i < f->nx; i++) {
		const struct xfer *x = &f->x[i];
		/* (The head's retry goes when due either way: make_way.) */
		if (x->state == RC_XS_WAITING &&
		    (resumable || x->seq == head) && x->retry_at - t < wait)
			wait = x->retry_at - t;
		double stall = x->last_byte + (double)f->o->stall_timeout - t;
		if (x->state == RC_XS_RUNNING && stall < wait)
			wait = stall;
	}
	if (f->busy_until > t && f->busy_until - t < wait)
		wait = f->busy_until - t;
	/* A launch held back by pace (one due, with every transfer busy,
	 * waits for a transfer's end instead: no wake-up for it). */
	if (f->pace_left > 0 && f->pace_next > t && f->pace_next - t < wait)
		wait = f->pace_next - t;
	/* The one stream is being judged or watched (rc_sched_conn_one): a
	 * stream gone silent is judged too, not only at its next byte (one
	 * held for room is judged again once it runs: no wake-up for it). */
	const struct xfer *one = f->conn.one ? the_stream(f) : NULL;
	double look =
	    (f->conn.one_done ? RC_SCHED_ONE_AGAIN : RC_SCHED_CPU_WINDOW) / 5;
	if (one != NULL && one->state == RC_XS_RUNNING && wait > look)
		wait = look;
	return wait <= 0 ? 0 : (int)(wait * 1000) + 1;
}

/*
 * The one stream gives way to the count it replaced: it ends within the
 * chunk it is writing, at most 64 KiB on, and the ranges after it are
 * planned from there. Its connection closes (its write stops there), as
 * a split's owner's.
 */
static void stream_cut(struct rc_fetch *f, struct xfer *x)
{
	uint64_t end = x->cur;

	if (x->seq != UINT64_MAX) {
		struct rc_slot *s = rc_ring_slot(f->ring, x->seq);
		uint64_t len = atomic_load(&s->len);
		f->plan_prev = len;
		/* Its chunk ends at the first 64 KiB boundary (from the
		 * chunk's start) past what it wrote: the rest of a long chunk
		 * would hold the output while the count's ranges pile up behind
		 * it (1.6 MiB at 20 MiB/s is 80 ms). The consumer reads no
		 * further than len says, and the chunk's buffer stays as it
		 * was. */
		uint64_t keep =
		    (x->cur - s->off) / RC_MIN_CHUNK * RC_MIN_CHUNK +
		    RC_MIN_CHUNK;
		if (keep < len) {
			rc_ring_trim(f->ring, x->seq, keep);
			len = keep;
		}
		end = s->off + len;
	}
	x->end = end;
	/* A write held for room is cut at the end too: it needs no chunk
	 * past this one (which the ranges may take first). */
	if (x->state == RC_XS_PAUSED && x->pause_need > end - x->cur)
		x->pause_need = end - x->cur;
	f->plan_off = end;
	f->plan_done = false;
	rc_log("xfer %u: the one stream stops before byte %" PRIu64
	       "; ranges from there",
	       (unsigned)(x - f->x), end);
}

/*
 * The one stream a short path starts with (rc_sched_conn_near) is timed
 * against the receiving thread (rc_sched_conn_one), read at most every
 * fifth of a window (a read of schedstat costs a few microseconds, and
 * the loop turns thousands of times a second on loopback): it stays, its
 * later chunks as long as -n 1's, or it is cut, and the count it replaced
 * takes the rest.
 */
static void one_stream_judged(struct rc_fetch *f, double t)
{
	bool watch = f->conn.one_done && f->conn.settled;

	if (f->mode != MODE_PARALLEL || !f->conn.one ||
	    (f->conn.one_done && !watch) || t < f->cpu_next)
		return;
	struct xfer *x = the_stream(f);
	if (x == NULL || x->first_byte == 0)
		return;
	f->cpu_next =
	    t + (watch ? RC_SCHED_ONE_AGAIN : RC_SCHED_CPU_WINDOW) / 5;
	/* Held for room behind an incomplete head (the probe's chunk, slow)
	 * it waits on the network, not on the reader. */
	bool receiving =
	    x->state == RC_XS_RUNNING ||
	    (x->state == RC_XS_PAUSED && rc_ring_head_waits(f->ring));
	/* Its own bytes (its offset): the probe's chunk may still land
	 * beside it. */
	if (!rc_sched_conn_one(&f->conn, t, rc_sched_thread_busy(), x->cur,
			       receiving))
		return;
	rc_log("connections: %s", f->conn.why);
	if (!f->conn.one) {
		/* The ranges from the cut take the count's chunks again: on
		 * this short path, as long as the bandwidth-delay rule asks
		 * at the stream's rate over its life (a window's may miss a
		 * burst: nginx sends a capped reply 64 KiB at a time), but
		 * the first chunk's length at least. Each connection holds
		 * about one in the buffer, so chunks of the buffer's share
		 * per connection make the buffer as large as it may be (1
		 * GiB at 32 x 20 MiB/s on loopback: 1.6 MiB chunks, 66 MiB
		 * of RSS; 256 KiB, 26 MiB and faster). */
		if (f->par_slot > 0)
			f->ring->slot_size = f->par_slot;
		if (!f->o->chunk_set) {
			double rate =
			    t > x->first_byte
				? (double)x->att_got / (t - x->first_byte)
				: 0;
			uint64_t hi = f->ring->slot_size;
			uint64_t lo = hi < RC_FIRST_CHUNK ? hi : RC_FIRST_CHUNK;
			f->ring->slot_size =
			    (size_t)(rate > 0
					 ? rc_sched_chunk(rate, f->typical_wait,
							  lo, hi)
					 : lo);
			rc_log("chunks of %zu bytes (%.0f bytes/s, a %.3f ms "
			       "wait for a reply)",
			       f->ring->slot_size, rate,
			       f->typical_wait * 1000);
		}
		stream_cut(f, x);
		return;
	}
	/* Settled: chunks of half the buffer, as -n 1's (span_len), so
	 * that the output wakes and frees a slot less often. */
	f->par_slot = f->ring->slot_size;
	if (!f->o->chunk_set) {
		uint64_t half =
		    f->ring->budget / 2 / RC_MIN_CHUNK * RC_MIN_CHUNK;
		if (half > f->o->chunk_size)
			half = f->o->chunk_size;
		if (half > f->ring->slot_size)
			f->ring->slot_size = (size_t)half;
	}
}

static void *run(void *arg)
{
	struct rc_fetch *f = arg;
	struct xfer *p = &f->x[0];
	int still;

	f->head_seq = UINT64_MAX;
	f->began = now_s();
	/* The probe: the first chunk, which also teaches the file. */
	p->probe = true;
	p->seq = UINT64_MAX;
	if (f->suffix) {
		p->suffix = true;
		p->spanning = true;
		p->cur = 0;
		p->end = RC_UNKNOWN;
	} else if (f->o->shard_n) {
		/* A shard's bounds need the size first: ask for byte 0 only,
		 * and drop it (see shard_bounds). */
		p->cur = 0;
		p->end = 1;
	} else {
		/* No longer than a stream's chunks: the probe may become
		 * one (a server ignoring Range), or go before one, and its
		 * buffer, pooled, serves the stream's chunks. */
		uint64_t len =
		    rc_plan_first(f->start, f->want_end, span_len(f));
		p->cur = f->start;
		p->end = f->start + len;
		p->seq = rc_ring_claim(f->ring, f->start, len);
		p->segi = 0;
		segs_init(f, p->seq, f->start, len);
	}
	launch(f, p);

	while (!f->failed) {
		if (rc_ring_stopped(f->ring))
			break;
		if (f->mode != MODE_PROBE && f->plan_done && all_idle(f))
			break;
		CURLMcode mc = curl_multi_perform(f->multi, &still);
		if (mc != CURLM_OK) {
			fail(f, RC_E_NETWORK, "curl: %s",
			     curl_multi_strerror(mc));
			break;
		}
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(f->multi, &left)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			char *priv = NULL;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
					  &priv);
			done(f, (struct xfer *)priv, m->data.result);
		}
		double t = now_s();
		note_windows(f, t);
		drop_stalled(f, t);
		restart_hopeless(f, t);
		unjoin_slow(f, t);
		unstick_head(f, t);
		check_speed(f, t);
		one_stream_judged(f, t);
		if (f->mode == MODE_PARALLEL && !f->plan_done &&
		    rc_sched_conn_tick(&f->conn, t, f->rx, receiving(f),
				       f->typical_wait)) {
			rc_log("connections: %s", f->conn.why);
			pace(f, 2 * f->typical_wait);
		}
		if (f->mode == MODE_PARALLEL &&
		    (work_left(f) || held_for_one(f)) &&
		    rc_sched_conn_limit_up(&f->conn, t)) {
			rc_log("connections: %s", f->conn.why);
			/* A try is a guess the server may turn away: a reply
			 * in flight keeps what it asked while other work
			 * remains for the try, as cutting it closes its warm
			 * connection (nginx's limit_conn 1 at 100 ms: each
			 * try cost 0.5-1 s of 256 MiB). */
			fit_stripes(f, true);
			if (!work_left(f))
				fit_stripes(f, false);
		}
		resume_waiting(f, t);
		/* A short path fills a buffer in milliseconds: its pages are
		 * taken at once (ring.c, new_buf). */
		f->ring->prefault =
		    f->typical_wait > 0 && f->typical_wait < RC_SCHED_NEAR;
		schedule(f);
		stuck(f, now_s());
		if (f->mode == MODE_PROBE && all_idle(f) && !f->failed) {
			/* The probe failed before it could be judged. */
			fail(f, RC_E_NETWORK, "no usable response");
		}
		curl_multi_poll(f->multi, NULL, 0, poll_ms(f, now_s()), NULL);
	}
	for (unsigned i = 0; i < f->nx; i++)
		if (in_multi(f->x[i].state)) {
			curl_multi_remove_handle(f->multi, f->x[i].h);
			xfer_state_set(&f->x[i], RC_XS_DONE);
			rc_log("xfer %u: stopped at byte %" PRIu64
			       ": the run is over",
			       i, f->x[i].cur);
		}
	/* The count, but not more than ever ran at once: a 1-byte file on a
	 * far server ended with the count at 32 and one transfer. */
	f->info.connections = f->mode != MODE_PARALLEL ? 1
			      : f->conn.n < f->most_in_flight
				  ? f->conn.n
				  : f->most_in_flight;
	f->info.per_request = f->stripes ? STRIPE_MAX : 1;
	return NULL;
}

/*
 * The adaptive count's cap, fitted to the open-file limit: each of its
 * transfers, and the half again that may start while others end, needs
 * a socket. The soft limit is raised toward the hard one first.
 */
static unsigned fd_cap(unsigned cap)
{
	struct rlimit rl;
	const rlim_t spare = 32;
	rlim_t need = cap + cap / 2 + spare;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
		return cap;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need
			  ? need
			  : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur >= need)
		return cap;
	rlim_t fit =
	    rl.rlim_cur > spare + 3 ? (rl.rlim_cur - spare) * 2 / 3 : 1;
	return fit < cap ? (unsigned)fit : cap;
}

struct rc_fetch *rc_fetch_new(const struct rc_opts *o, struct rc_auth *auth,
			      struct rc_ring *ring, struct rc_run *run,
			      uint64_t start, uint64_t last, bool suffix,
			      uint64_t suffix_len)
{
	struct rc_fetch *f = calloc(1, sizeof *f);

	if (f == NULL)
		return NULL;
	f->o = o;
	f->auth = auth;
	f->ring = ring;
	f->run = run;
	f->start = start;
	f->want_end = last == RC_UNKNOWN ? RC_UNKNOWN : last + 1;
	f->end = RC_UNKNOWN;
	f->total = RC_UNKNOWN;
	f->suffix = suffix;
	f->suffix_len = suffix_len;
	f->info.first = start;
	f->info.end = RC_UNKNOWN;
	f->info.total = RC_UNKNOWN;
	f->url = strdup(rc_auth_url(auth));
	f->origin_url = strdup(rc_auth_url(auth));
	rc_sched_retry_init(&f->policy, o->retries, o->retry_delay,
			    rc_sched_seed());
	/* -n pins the count; otherwise the controller (sched.c) finds it,
	 * up to RC_SCHED_CONN_CAP and what the buffer feeds
	 * (rc_sched_conn_feed). */
	bool adapt = !o->connections_set;
	unsigned cap = adapt ? fd_cap(RC_SCHED_CONN_CAP) : o->connections;
	f->cap0 = cap;
	f->nx = adapt ? cap + 1 : cap; /* the spare: schedule() */
	rc_sched_conn_init(&f->conn, adapt ? RC_SCHED_CONN_START : cap, cap,
			   !adapt, now_s());
	/* Chunks short enough that the budget gives each transfer the
	 * count may reach one (unless --chunk-size was given), and
	 * no more transfers than that feeds. The probe's size lowers both
	 * again (decide_after_probe). */
	if (adapt && !o->chunk_set)
		rc_ring_lower_budget(ring, ring->budget,
				     rc_sched_feed_slots(ring->budget, cap),
				     false);
	if (rc_sched_conn_feed(&f->conn, ring->budget, ring->slot_size))
		rc_log("connections: %s", f->conn.why);
	f->x = calloc(f->nx, sizeof *f->x);
	f->segs = calloc(ring->nslots * MAX_SEGS, sizeof *f->segs);
	f->nsegs = calloc(ring->nslots, 1);
	/* A group and what was given back from earlier ones: twice a
	 * group at most. */
	f->grp_seq = calloc(grp_room(f), sizeof *f->grp_seq);
	f->grp_tmp = calloc(grp_room(f), sizeof *f->grp_tmp);
	f->grp_back = calloc(back_room(f), sizeof *f->grp_back);
	f->multi = curl_multi_init();
	if (f->url == NULL || f->origin_url == NULL || f->x == NULL ||
	    f->multi == NULL || f->segs == NULL || f->nsegs == NULL ||
	    f->grp_seq == NULL || f->grp_tmp == NULL || f->grp_back == NULL)
		goto fail;
	curl_multi_setopt(f->multi, CURLMOPT_PIPELINING,
			  (long)CURLPIPE_NOTHING);
	curl_multi_setopt(f->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)f->nx);
	curl_multi_setopt(f->multi, CURLMOPT_MAXCONNECTS, (long)f->nx + 4);
	for (unsigned i = 0; i < f->nx; i++) {
		struct xfer *x = &f->x[i];
		x->f = f;
		x->seq = UINT64_MAX;
		x->h = curl_easy_init();
		if (x->h == NULL)
			goto fail;
		setup_handle(f, x);
	}
	ring->wake_fetcher = wake_cb;
	ring->wake_arg = f->multi;
	return f;
fail:
	rc_fetch_free(f);
	return NULL;
}

/*
 * libcurl frees a transfer's receive buffer (CURLOPT_BUFFERSIZE, 256 KiB)
 * when the transfer ends and allocates it again for the next one, a
 * range every few hundred KiB. With glibc's sliding thresholds that
 * buffer was mapped and unmapped, or trimmed from the top of the heap,
 * and its pages faulted in again by the next recv: 30-50 thousand page
 * faults per GiB on loopback in some runs, 5-8 thousand with these
 * fixed thresholds (ring buffers of 1 MiB and more are still mapped,
 * and given back when freed). Process-wide, set before the fetcher
 * thread starts.
 */
static void keep_transfer_buffers(void)
{
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	mallopt(M_TRIM_THRESHOLD, 4 << 20);
}

enum rc_err rc_fetch_start(struct rc_fetch *f)
{
	keep_transfer_buffers();
	if (pthread_create(&f->thread, NULL, run, f) != 0)
		return RC_E_NOMEM;
	f->started = true;
	return RC_OK;
}

void rc_fetch_join(struct rc_fetch *f)
{
	if (f->started) {
		pthread_join(f->thread, NULL);
		f->started = false;
	}
}

const struct rc_fetch_info *rc_fetch_info(const struct rc_fetch *f)
{
	return &f->info;
}

const char *rc_fetch_url(const struct rc_fetch *f)
{
	return f->url;
}

const char *rc_fetch_pin_line(const struct rc_fetch *f)
{
	return f->pin_line[0] ? f->pin_line : NULL;
}

void rc_fetch_free(struct rc_fetch *f)
{
	if (f == NULL)
		return;
	rc_fetch_join(f);
	if (f->ring) {
		f->ring->wake_fetcher = NULL;
		f->ring->wake_arg = NULL;
	}
	for (unsigned i = 0; f->x && i < f->nx; i++) {
		if (f->x[i].h)
			curl_easy_cleanup(f->x[i].h);
		rc_auth_free_list(f->x[i].hdrs);
		free(f->x[i].redir_url);
		free(f->x[i].stash);
	}
	if (f->multi)
		curl_multi_cleanup(f->multi);
	free(f->x);
	free(f->segs);
	free(f->nsegs);
	free(f->grp_seq);
	free(f->grp_tmp);
	free(f->grp_back);
	free(f->url);
	free(f->origin_url);
	free(f);
}

void rc_fetch_versions(char *out, size_t outlen)
{
	char mbed[32];

	mbedtls_version_get_string(mbed);
	snprintf(out, outlen, "%s, %s, zstd %s, mbedTLS %s", curl_version(),
		 rc_lazyarchive_version(), ZSTD_versionString(), mbed);
}
