/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The progress display on stderr: a bar on a terminal, a plain line every
 * few seconds for logs, or nothing. Consumer (main) thread only.
 */
#ifndef RC_PROGRESS_H
#define RC_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "options.h"

struct rc_progress_state;

/* Chooses the display from the option and whether stderr is a TTY. */
struct rc_progress_state *rc_progress_new(enum rc_progress mode);
void rc_progress_free(struct rc_progress_state *p);

/* Redraws if enough time has passed. done: bytes written; total: bytes the
 * run will write (UINT64_MAX unknown); conns: active connections. final:
 * the run succeeded; line mode prints its summary line. */
void rc_progress_update(struct rc_progress_state *p, uint64_t done,
			uint64_t total, unsigned conns, unsigned retries,
			bool final);

/*
 * --progress=json: the last line of every run that got past the command
 * line, success or not: {"outcome":"ok"|"failed"|"interrupted","ok":B,
 * "exit":N,"error":"..."|null,"bytes":N} on stderr. error is escaped.
 */
void rc_progress_json_end(int exit_status, const char *error, uint64_t bytes);

/* Erases the bar (the terminal is left as it was found). */
void rc_progress_end(struct rc_progress_state *p);

#endif
