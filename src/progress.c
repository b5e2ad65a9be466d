/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * Progress display. The bar is redrawn at most four times a second and
 * erased at the end. Line mode, for container logs, prints a start line as
 * soon as the size is known (within a second in any case), a line every
 * five seconds, and a last line that says how the run ended (done, failed,
 * interrupted), so a log always shows that a transfer began and how it
 * finished. JSON prints an object a second. The rate on the bar and the
 * periodic lines is over the last eight seconds or so (as curl's is): a
 * whole-run average would still look healthy long after a stall. Consumer
 * (main) thread only; every line is one write(2), as log.c's are.
 */
#include "progress.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "escape.h"
#include "log.h"

#define WINDOW 16	   /* samples of (time, bytes) for the rate */
#define SAMPLE_EVERY 0.5   /* seconds between samples */
#define START_AT_LATEST 1. /* seconds: start line even without a size */

struct sample {
	double t;
	uint64_t done;
};

struct rc_progress_state {
	enum rc_progress mode;
	double start, last, last_sample;
	bool shown;   /* the bar is on the screen */
	bool started; /* the start line or object was printed */
	char *url;    /* redacted and escaped; owned */
	/* the figures of the last update, for the last line */
	uint64_t done, total;
	unsigned retries;
	struct sample win[WINDOW];
	unsigned nwin, head; /* head: the oldest sample once full */
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void say(const char *line)
{
	ssize_t w = write(2, line, strlen(line));
	(void)w;
}

struct rc_progress_state *rc_progress_new(enum rc_progress mode,
					  const char *url)
{
	struct rc_progress_state *p = calloc(1, sizeof *p);
	char red[2048], esc[4096];

	if (p == NULL)
		return NULL;
	/* No setting: a bar for a person at a terminal, and a script's
	 * stderr left clean. auto: the bar, or lines for a log. */
	if (mode == RC_PROGRESS_DEFAULT)
		mode = isatty(2) ? RC_PROGRESS_BAR : RC_PROGRESS_NONE;
	else if (mode == RC_PROGRESS_AUTO)
		mode = isatty(2) ? RC_PROGRESS_BAR : RC_PROGRESS_LINE;
	p->mode = mode;
	p->start = p->last = p->last_sample = now_s();
	p->total = UINT64_MAX;
	if (url && (mode == RC_PROGRESS_LINE || mode == RC_PROGRESS_JSON)) {
		rc_log_redact_url(url, red, sizeof red);
		p->url = strdup(rc_escape(red, esc, sizeof esc));
		if (p->url == NULL) {
			free(p);
			return NULL;
		}
	}
	return p;
}

void rc_progress_free(struct rc_progress_state *p)
{
	if (p)
		free(p->url);
	free(p);
}

/* Formats n bytes as "12.3 MiB" into buf. */
static void human(uint64_t n, char *buf, size_t len)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

/*
 * Writes s to out as a JSON string, quotes included: quotes, backslashes
 * and control characters escaped, valid UTF-8 as it is, any other byte
 * past ASCII as '?', so the line stays valid UTF-8. Cut short to fit.
 */
static void json_str(const char *s, char *out, size_t outlen)
{
	size_t o = 0;

	out[o++] = '"';
	for (const char *c = s; *c && o + 8 < outlen;) {
		unsigned char u = (unsigned char)*c;
		size_t n = u >= 0x80 ? rc_escape_utf8_len(
					   (const unsigned char *)c, strlen(c))
				     : 0;
		if (n > 1 && o + n + 2 < outlen) {
			memcpy(out + o, c, n);
			o += n;
			c += n;
			continue;
		}
		if (u == '"' || u == '\\') {
			out[o++] = '\\';
			out[o++] = (char)u;
		} else if (u < 0x20 || u == 0x7f) {
			o +=
			    (size_t)snprintf(out + o, outlen - o, "\\u%04x", u);
		} else {
			out[o++] = u < 0x7f ? (char)u : '?';
		}
		c++;
	}
	out[o++] = '"';
	out[o] = '\0';
}

/* Keeps a sample at most every SAMPLE_EVERY seconds; returns the rate
 * over the window (the run's average until the window spans a second). */
static double window_rate(struct rc_progress_state *p, double t, uint64_t done)
{
	if (p->nwin == 0 || t - p->last_sample >= SAMPLE_EVERY) {
		unsigned at = p->nwin < WINDOW ? p->nwin++ : p->head;
		if (p->nwin == WINDOW && at == p->head)
			p->head = (p->head + 1) % WINDOW;
		p->win[at] = (struct sample){t, done};
		p->last_sample = t;
	}
	const struct sample *old = &p->win[p->nwin < WINDOW ? 0 : p->head];
	if (t - old->t >= 1.0 && done >= old->done)
		return (double)(done - old->done) / (t - old->t);
	double el = t - p->start;
	return el > 0 ? (double)done / el : 0;
}

/* Line mode's start line, or JSON's first object (which names the URL). */
static void start_line(struct rc_progress_state *p, double el, uint64_t done,
		       uint64_t total, unsigned conns, unsigned retries)
{
	char line[6144], tot[32], url[4200] = "\"\"";

	p->started = true;
	if (p->mode == RC_PROGRESS_JSON) {
		char tot_s[32] = "null";
		if (total != UINT64_MAX)
			snprintf(tot_s, sizeof tot_s, "%" PRIu64, total);
		if (p->url)
			json_str(p->url, url, sizeof url);
		snprintf(line, sizeof line,
			 "{\"url\":%s,\"bytes\":%" PRIu64
			 ",\"total\":%s,\"rate\":0,"
			 "\"connections\":%u,\"retries\":%u,"
			 "\"elapsed\":%.3f,\"done\":false}\n",
			 url, done, tot_s, conns, retries, el);
		say(line);
		return;
	}
	if (p->mode != RC_PROGRESS_LINE)
		return;
	if (total != UINT64_MAX) {
		human(total, tot, sizeof tot);
		snprintf(line, sizeof line,
			 "rangecat: start: %s (%s, %" PRIu64 " bytes)\n",
			 p->url ? p->url : "", tot, total);
	} else {
		snprintf(line, sizeof line,
			 "rangecat: start: %s (size unknown)\n",
			 p->url ? p->url : "");
	}
	say(line);
}

void rc_progress_update(struct rc_progress_state *p, uint64_t done,
			uint64_t total, unsigned conns, unsigned retries,
			bool final)
{
	if (p == NULL || p->mode == RC_PROGRESS_NONE)
		return;
	double t = now_s();
	double el = t - p->start;
	double every = p->mode == RC_PROGRESS_LINE   ? 5.0
		       : p->mode == RC_PROGRESS_JSON ? 1.0
						     : 0.25;
	char d[32], tot[32], rate[32], line[256];

	p->done = done;
	p->total = total;
	p->retries = retries;
	double bps = window_rate(p, t, done);
	if (!p->started && (total != UINT64_MAX || done > 0 || final ||
			    el >= START_AT_LATEST)) {
		start_line(p, el, done, total, conns, retries);
		p->last = t; /* the next line comes a period later */
		if (!final)
			return;
	}
	if (!final && t - p->last < every)
		return;
	p->last = t;
	human(done, d, sizeof d);
	human((uint64_t)bps, rate, sizeof rate);
	if (p->mode == RC_PROGRESS_JSON) {
		/* One object per line, for orchestrators; total is null
		 * while unknown; the last one's rate is the run's. */
		char tot_s[32] = "null";
		if (total != UINT64_MAX)
			snprintf(tot_s, sizeof tot_s, "%" PRIu64, total);
		snprintf(line, sizeof line,
			 "{\"bytes\":%" PRIu64 ",\"total\":%s,\"rate\":%.0f,"
			 "\"connections\":%u,\"retries\":%u,"
			 "\"elapsed\":%.3f,\"done\":%s}\n",
			 done, tot_s, final && el > 0 ? (double)done / el : bps,
			 conns, retries, el, final ? "true" : "false");
		say(line);
		return;
	}
	if (final)
		return; /* rc_progress_finish has the last word */
	if (total != UINT64_MAX && total > 0) {
		double frac = (double)done / (double)total;
		long eta = bps > 0 ? (long)((double)(total - done) / bps) : -1;
		human(total, tot, sizeof tot);
		if (p->mode == RC_PROGRESS_BAR) {
			char bar[21];
			int fill = (int)(frac * 20);
			for (int i = 0; i < 20; i++)
				bar[i] = i < fill ? '#' : '.';
			bar[20] = '\0';
			snprintf(
			    line, sizeof line,
			    "\r\033[K[%s] %3d%% %s / %s  %s/s  ETA %ld:%02ld"
			    "  %u conn",
			    bar, (int)(frac * 100), d, tot, rate,
			    eta < 0 ? 0 : eta / 60, eta < 0 ? 0 : eta % 60,
			    conns);
		} else if (eta >= 0) {
			snprintf(line, sizeof line,
				 "rangecat: %s of %s (%d%%) at %s/s, %u "
				 "connections, ETA %ld:%02ld\n",
				 d, tot, (int)(frac * 100), rate, conns,
				 eta / 60, eta % 60);
		} else {
			snprintf(line, sizeof line,
				 "rangecat: %s of %s (%d%%) at %s/s, %u "
				 "connections\n",
				 d, tot, (int)(frac * 100), rate, conns);
		}
	} else {
		snprintf(line, sizeof line,
			 p->mode == RC_PROGRESS_BAR
			     ? "\r\033[K%s  %s/s  %u conn"
			     : "rangecat: %s at %s/s, %u connections\n",
			 d, rate, conns);
	}
	say(line);
	if (p->mode == RC_PROGRESS_BAR) {
		p->shown = true;
		rc_log_set_bar(true);
	}
}

void rc_progress_finish(struct rc_progress_state *p, int exit_status)
{
	char d[32], tot[32], rate[32], line[256];

	if (p == NULL || p->mode != RC_PROGRESS_LINE)
		return;
	double el = now_s() - p->start;
	human(p->done, d, sizeof d);
	human(el > 0 ? (uint64_t)((double)p->done / el) : 0, rate, sizeof rate);
	if (exit_status == 0) {
		snprintf(line, sizeof line,
			 "rangecat: done: %s in %.1f s (%s/s)\n", d, el, rate);
		say(line);
		return;
	}
	/* A run that failed before its start line names its URL here, so
	 * that every log says what was asked for. */
	const char *how =
	    exit_status == 130 || exit_status == 143 ? "interrupted" : "failed";
	const char *url = !p->started && p->url ? p->url : "";
	char of[40] = "";
	if (p->total != UINT64_MAX) {
		human(p->total, tot, sizeof tot);
		snprintf(of, sizeof of, " of %s", tot);
	}
	char *big = NULL;
	if (asprintf(&big, "rangecat: %s: %s%s%s%s in %.1f s (%s/s), exit %d\n",
		     how, url, *url ? ": " : "", d, of, el, rate,
		     exit_status) < 0)
		return;
	say(big);
	free(big);
}

void rc_progress_json_end(int exit_status, const char *error, uint64_t bytes)
{
	char line[1400], esc[1100] = "null";

	if (exit_status != 0 && error)
		json_str(error, esc, sizeof esc);
	snprintf(line, sizeof line,
		 "{\"outcome\":\"%s\",\"ok\":%s,\"exit\":%d,\"error\":%s,"
		 "\"bytes\":%" PRIu64 "}\n",
		 exit_status == 0			    ? "ok"
		 : exit_status == 130 || exit_status == 143 ? "interrupted"
							    : "failed",
		 exit_status == 0 ? "true" : "false", exit_status, esc, bytes);
	say(line);
}

void rc_progress_end(struct rc_progress_state *p)
{
	if (p && p->shown) {
		say("\r\033[K");
		p->shown = false;
		rc_log_set_bar(false);
	}
}
