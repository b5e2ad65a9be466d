/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The progress display on stderr: a bar on a terminal, plain lines for
 * logs (a start line, one every few seconds, a last one), JSON objects for
 * orchestrators, or nothing. Consumer (main) thread only.
 */
#ifndef RC_PROGRESS_H
#define RC_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "options.h"

struct rc_progress_state;

/*
 * Chooses the display from the option and whether stderr is a TTY. url is
 * the URL as the user gave it (NULL: none), named on the start line with
 * its credentials redacted and control bytes escaped; it is copied, so
 * argv may be wiped afterwards. Returns NULL when out of memory (then
 * nothing is shown).
 */
struct rc_progress_state *rc_progress_new(enum rc_progress mode,
					  const char *url);
void rc_progress_free(struct rc_progress_state *p);

/*
 * Redraws if enough time has passed. done: bytes read so far; total: bytes
 * the run will read (UINT64_MAX unknown); conns: active connections. The
 * first call that knows the total or has bytes (or comes a second after
 * the start) prints line mode's start line and JSON's first object, which
 * names the URL. final: the run read its last byte; JSON prints its last
 * progress object ("done":true), the other modes only keep the figures.
 */
void rc_progress_update(struct rc_progress_state *p, uint64_t done,
			uint64_t total, unsigned conns, unsigned retries,
			bool final);

/*
 * Line mode's last line, for every run that got past the command line:
 * "rangecat: done: ..." when exit_status is 0, else "failed" or
 * "interrupted" (130, 143) with the bytes read, the time and the status.
 * Nothing in the other modes. p may be NULL.
 */
void rc_progress_finish(struct rc_progress_state *p, int exit_status);

/*
 * --progress=json: the last line of every run that got past the command
 * line, success or not: {"outcome":"ok"|"failed"|"interrupted","ok":B,
 * "exit":N,"error":"..."|null,"bytes":N} on stderr. error is escaped.
 */
void rc_progress_json_end(int exit_status, const char *error, uint64_t bytes);

/* Erases the bar (the terminal is left as it was found). */
void rc_progress_end(struct rc_progress_state *p);

#endif
