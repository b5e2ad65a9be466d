/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The decode sink (-d): decompress the stream to stdout as it arrives.
 * Consumer (main) thread only.
 */
#ifndef RC_SINK_DECODE_H
#define RC_SINK_DECODE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "options.h"
#include "reader.h"

struct archive;

/*
 * Decodes r's stream in format fmt (RC_FMT_AUTO: by magic bytes) to
 * stdout. passthrough lets data without a known compression through as
 * it is; bytes after the compressed stream are refused. *delivered counts
 * decoded bytes written. Returns
 * RC_OK (also when the reader of stdout went away), RC_E_DECODE with msg
 * naming the format and the compressed byte offset, or the reader's or
 * the output's error.
 */
enum rc_err rc_sink_decode_run(struct rc_reader *r, enum rc_format fmt,
			       bool passthrough, uint64_t *delivered, char *msg,
			       size_t msglen);

struct rc_dec;

/*
 * A pull decoder of r's stream in format fmt (RC_FMT_AUTO: the bytes as
 * they are). Returns NULL when out of memory; free with rc_dec_free.
 */
struct rc_dec *rc_dec_new(struct rc_reader *r, enum rc_format fmt);
void rc_dec_free(struct rc_dec *d);

/*
 * The next decoded bytes in *p, valid until the next call. Returns their
 * number; 0 only at the verified end: every check the format carries
 * passed and nothing follows the compressed stream; -1 on an error, which
 * rc_dec_error tells.
 */
ssize_t rc_dec_read(struct rc_dec *d, const unsigned char **p);

/* The error of the last -1 (RC_OK if none), its message copied to msg. */
enum rc_err rc_dec_error(const struct rc_dec *d, char *msg, size_t msglen);

/* Decodes and drops the rest of the stream, to its verified end. Returns
 * RC_OK, or the error with msg set. */
enum rc_err rc_dec_finish(struct rc_dec *d, char *msg, size_t msglen);

/* The compression p starts with (up to n bytes), RC_FMT_AUTO for none. */
enum rc_format rc_decode_sniff(const unsigned char *p, size_t n);

/*
 * Opens a libarchive reader over r with exactly the one filter fmt names
 * (RC_FMT_AUTO: none; there is no bidding, so nested compression cannot
 * stack up), and the raw format when raw_format, else every archive
 * format. Returns NULL when out of memory; free with archive_read_free.
 */
struct archive *rc_decode_open(struct rc_reader *r, enum rc_format fmt,
			       bool raw_format);

#endif
