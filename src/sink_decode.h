/*
 * The decode sink (-d): decompress the stream to stdout as it arrives.
 * Consumer (main) thread only.
 */
#ifndef RC_SINK_DECODE_H
#define RC_SINK_DECODE_H

#include <stdbool.h>
#include <stdint.h>

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
