/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The unpack sink: -x DIR, -t, --member PATH over the streamed archive.
 * Consumer (main) thread only.
 */
#ifndef RC_SINK_UNPACK_H
#define RC_SINK_UNPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <signal.h>

#include "options.h"
#include "reader.h"

/* * Runs o->mode (extract into the current directory, list to stdout, or
 * one member to stdout) over r's archive. With -t or --member on a zip
 * the server can serve ranges of, it returns at once with *want_zip set:
 * the caller stops the fetcher and calls rc_unpack_zip_run. *delivered counts
 * member bytes written to stdout. Returns RC_OK, RC_E_DECODE (corrupt archive,
 * refused entries, missing member) with msg set, or the reader's or output's
 * error.
 */
enum rc_err rc_sink_unpack_run(struct rc_reader *r, const struct rc_opts *o,
			       uint64_t *delivered, bool *want_zip, char *msg,
			       size_t msglen);

struct rc_ranged;

/*
 * -t or --member on a zip read by range requests through z: libarchive's
 * seekable reader takes the central directory from the end of the file
 * and then only the member asked for. Call with the fetcher stopped.
 */
enum rc_err rc_unpack_zip_run(struct rc_ranged *z, const struct rc_opts *o,
			      volatile sig_atomic_t *sig, uint64_t *delivered,
			      char *msg, size_t msglen);

/*
 * Cleans an archive path for extraction: backslashes count as '/', "."
 * and empty components go, strip leading components are dropped. Writes
 * the relative result to out. Returns NULL when safe (with *skip set if
 * nothing is left), else a static reason: absolute path, drive letter,
 * "..", empty, too long.
 */
const char *rc_unpack_clean_path(const char *in, unsigned strip, char *out,
				 size_t outlen, bool *skip);

/* True when a symlink at linkpath (cleaned, relative to DIR) pointing to
 * target stays strictly inside DIR. */
bool rc_unpack_link_inside(const char *linkpath, const char *target);

#endif
