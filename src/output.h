/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * -o FILE: the bytes go to FILE.part in the same directory, which is
 * fsync'd and renamed to FILE only once the run succeeded, so FILE never
 * exists incomplete. What the partial file holds (the remote's strong
 * ETag, the length it will have, a hash of the URL and range) is kept
 * beside it, in the xattr user.rangecat.resume or, where the file system
 * has none, in the sidecar FILE.part.rangecat, so the same command run
 * again continues where it stopped, and only against the same version.
 * Main thread only.
 */
#ifndef RC_OUTPUT_H
#define RC_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "digest.h"
#include "err.h"
#include "fetch.h"
#include "options.h"

struct rc_output;

/*
 * Opens (creating, mode 0666 & ~umask) and locks o->output's FILE.part,
 * decides how much of it the run keeps (see rc_output_prefix), cuts it
 * there and makes it the process's stdout (fd 1). Says on stderr (unless
 * -q) when an earlier partial file is not trusted and is started over.
 * A FILE that is a device, FIFO or socket, or the file stdout is, is
 * written in place instead (no FILE.part, nothing to resume or rename).
 * Returns RC_OK with *out set (free it with rc_output_free), RC_E_USAGE
 * when -C N does not match FILE.part's size, or RC_E_OUTPUT; why is set
 * on error.
 */
enum rc_err rc_output_open(const struct rc_opts *o, struct rc_output **out,
			   char *why, size_t whylen);

/* The bytes of FILE.part kept from an earlier run: the run starts that
 * many bytes after the start of the file (or of the range or shard). */
uint64_t rc_output_prefix(const struct rc_output *out);

/* The ETag the kept bytes belong to, for the probe's If-Match; NULL
 * when nothing is kept or nothing pins it (-C without metadata). */
const char *rc_output_pin(const struct rc_output *out);

/* Adds the kept bytes to d (--sha256 over the whole file). */
enum rc_err rc_output_hash_prefix(struct rc_output *out, struct rc_digest *d,
				  char *msg, size_t msglen);

/*
 * Whether the probe's reply (in) can be the version the kept bytes belong
 * to: a server that keeps an ETag for another size (a version number not
 * bumped) is not trusted to have kept the bytes either. True when nothing
 * pins the kept bytes or a size is unknown.
 */
bool rc_output_fits(const struct rc_output *out,
		    const struct rc_fetch_info *in);

/*
 * Cuts FILE.part to the bytes kept (if the run has not yet), then records
 * what it now holds, once the probe has been judged and before its first
 * byte is written: in's etag, validator, first, end and total are
 * published before the first byte lands in the ring. Records nothing
 * when the kept bytes were already described or for decoded output
 * (which cannot resume). Fails only when the cut does.
 */
enum rc_err rc_output_began(struct rc_output *out,
			    const struct rc_fetch_info *in, char *why,
			    size_t whylen);

/*
 * The probe said the remote is no longer the version the kept bytes
 * belong to: empties FILE.part, forgets its metadata and says so.
 */
enum rc_err rc_output_restart(struct rc_output *out, char *why, size_t whylen);

/*
 * The run succeeded with delivered bytes written this time: FILE.part is
 * fsync'd, checked to hold the kept plus the delivered bytes, renamed to
 * FILE (replacing it), and the directory fsync'd. RC_E_OUTPUT with msg
 * set on failure, FILE.part then kept.
 */
enum rc_err rc_output_commit(struct rc_output *out, uint64_t delivered,
			     char *msg, size_t msglen);

/*
 * The run failed with err after delivered bytes this time: FILE.part is
 * removed (--remove-on-error, or when it is empty) or kept, and one line
 * says which and whether the same command continues it.
 */
void rc_output_fail(struct rc_output *out, enum rc_err err, uint64_t delivered);

/* Whether FILE is written in place (a device, FIFO or stdout itself):
 * a failed run's hint is then stdout's, -C N. */
bool rc_output_direct(const struct rc_output *out);

void rc_output_free(struct rc_output *out);

#endif
