/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The raw sink: bytes from the ring to a file descriptor, as they are.
 * Consumer (main) thread only.
 */
#ifndef RC_SINK_RAW_H
#define RC_SINK_RAW_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Prepares fd for streaming: a larger pipe buffer when fd is a pipe. */
void rc_sink_raw_prepare(int fd);

/*
 * Writes all n bytes of p to fd: retries on EINTR and short writes, waits
 * in poll(2) when fd is non-blocking. Stops early when *stop becomes
 * non-zero. Returns 0, or -1 with errno set (EPIPE: the reader is gone;
 * EINTR: *stop was set). *done gets the bytes written either way.
 */
int rc_sink_raw_write(int fd, const void *p, size_t n, size_t *done,
		      volatile sig_atomic_t *stop);

struct rc_reader;

/* Names fd 1 in write errors (default "stdout"); name is borrowed. */
void rc_sink_raw_name(const char *name);

/* fn(arg) runs once, before the first byte is written to fd 1 (-o cuts
 * FILE.part there, not before: a run that writes nothing keeps it as it
 * was); its error ends the write. */
void rc_sink_raw_before_first(enum rc_err (*fn)(void *arg, char *msg,
						size_t msglen),
			      void *arg);

/*
 * Writes n bytes to stdout for a sink reading r, adding them to
 * *delivered. A reader that went away (EPIPE) sets *closed and is not an
 * error; a signal gives RC_E_INTERRUPT/RC_E_TERMINATED; a write error
 * RC_E_OUTPUT with msg set.
 */
enum rc_err rc_sink_raw_emit(struct rc_reader *r, const void *p, size_t n,
			     uint64_t *delivered, bool *closed, char *msg,
			     size_t msglen);

/* The raw sink: r's bytes to stdout as they are. */
enum rc_err rc_sink_raw_run(struct rc_reader *r, uint64_t *delivered, char *msg,
			    size_t msglen);

#endif
