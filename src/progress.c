/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * Progress display. The bar is redrawn at most four times a second and
 * erased at the end; the line mode prints every five seconds, which suits
 * container logs. The rate is an average over the run so far.
 */
#include "progress.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

struct rc_progress_state {
	enum rc_progress mode;
	double start, last;
	bool shown;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct rc_progress_state *rc_progress_new(enum rc_progress mode)
{
	struct rc_progress_state *p = calloc(1, sizeof *p);

	if (p == NULL)
		return NULL;
	if (mode == RC_PROGRESS_AUTO)
		mode = isatty(2) ? RC_PROGRESS_BAR : RC_PROGRESS_NONE;
	p->mode = mode;
	p->start = p->last = now_s();
	return p;
}

void rc_progress_free(struct rc_progress_state *p)
{
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

void rc_progress_update(struct rc_progress_state *p, uint64_t done,
			uint64_t total, unsigned conns, unsigned retries,
			bool final)
{
	double t = now_s();
	double every = p->mode == RC_PROGRESS_LINE   ? 5.0
		       : p->mode == RC_PROGRESS_JSON ? 1.0
						     : 0.25;
	char d[32], tot[32], rate[32], line[256];

	if (p->mode == RC_PROGRESS_NONE || (!final && t - p->last < every))
		return;
	p->last = t;
	double el = t - p->start;
	double bps = el > 0 ? (double)done / el : 0;
	human(done, d, sizeof d);
	human((uint64_t)bps, rate, sizeof rate);
	if (p->mode == RC_PROGRESS_JSON) {
		/* One object per line, for orchestrators; total is null
		 * while unknown. */
		char tot_s[32] = "null";
		if (total != UINT64_MAX)
			snprintf(tot_s, sizeof tot_s, "%" PRIu64, total);
		snprintf(line, sizeof line,
			 "{\"bytes\":%" PRIu64 ",\"total\":%s,\"rate\":%.0f,"
			 "\"connections\":%u,\"retries\":%u,"
			 "\"elapsed\":%.3f,\"done\":%s}\n",
			 done, tot_s, bps, conns, retries, el,
			 final ? "true" : "false");
		ssize_t w = write(2, line, strlen(line));
		(void)w;
		return;
	}
	if (final) {
		/* The end: a log gets its summary, a terminal its bar erased.
		 */
		if (p->mode == RC_PROGRESS_LINE) {
			snprintf(line, sizeof line,
				 "rangecat: done: %s in %.1f s (%s/s)\n", d, el,
				 rate);
			ssize_t w = write(2, line, strlen(line));
			(void)w;
		}
		return;
	}
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
	ssize_t w = write(2, line, strlen(line));
	(void)w;
	if (p->mode == RC_PROGRESS_BAR) {
		p->shown = true;
		rc_log_set_bar(true);
	}
}

void rc_progress_json_end(int exit_status, const char *error, uint64_t bytes)
{
	char line[1400], esc[1100] = "null";
	size_t o = 0;

	if (exit_status != 0 && error) {
		/* Control characters, quotes and backslashes escaped; bytes
		 * past ASCII become '?' so the line is valid UTF-8. */
		esc[o++] = '"';
		for (const char *c = error; *c && o + 8 < sizeof esc; c++) {
			unsigned char u = (unsigned char)*c;
			if (u == '"' || u == '\\') {
				esc[o++] = '\\';
				esc[o++] = (char)u;
			} else if (u < 0x20) {
				o += (size_t)snprintf(esc + o, sizeof esc - o,
						      "\\u%04x", u);
			} else {
				esc[o++] = u < 0x7f ? (char)u : '?';
			}
		}
		esc[o++] = '"';
		esc[o] = '\0';
	}
	snprintf(line, sizeof line,
		 "{\"outcome\":\"%s\",\"ok\":%s,\"exit\":%d,\"error\":%s,"
		 "\"bytes\":%" PRIu64 "}\n",
		 exit_status == 0			    ? "ok"
		 : exit_status == 130 || exit_status == 143 ? "interrupted"
							    : "failed",
		 exit_status == 0 ? "true" : "false", exit_status, esc, bytes);
	ssize_t w = write(2, line, strlen(line));
	(void)w;
}

void rc_progress_end(struct rc_progress_state *p)
{
	if (p && p->shown) {
		ssize_t w = write(2, "\r\033[K", 4);
		(void)w;
		p->shown = false;
		rc_log_set_bar(false);
	}
}
