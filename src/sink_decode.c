/*
 * The decode sink (-d): the compressed stream from the ring, decoded to
 * stdout while the download goes on. zstd goes through libzstd's streaming
 * API with its input buffer pointing into the ring; gzip, xz, bzip2 and
 * lz4 go through libarchive's raw format, whose read callback hands out
 * ring blocks. Either way the compressed bytes are not copied. Consumer
 * (main) thread only.
 *
 * Policy: auto detects by magic bytes; data that is not compressed is an
 * error unless auto,passthrough was asked; bytes after the end of the
 * compressed stream (trailing garbage) are an error, never output.
 */
#include "sink_decode.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>
#include <zstd.h>

#include "log.h"
#include "sink_raw.h"

#define OUT_BUF (1u << 20)

static const unsigned char zstd_magic[4] = {0x28, 0xb5, 0x2f, 0xfd};

static enum rc_err from_reader(struct rc_reader *r, char *msg, size_t msglen)
{
	snprintf(msg, msglen, "%s", r->msg);
	return r->err;
}

static enum rc_err decode_zstd(struct rc_reader *r, uint64_t *delivered,
			       char *msg, size_t msglen)
{
	ZSTD_DCtx *dc = ZSTD_createDCtx();
	unsigned char *buf = malloc(OUT_BUF);
	enum rc_err err = RC_OK;
	size_t last = 1; /* 0 once a frame is complete */
	bool closed = false, any = false;

	if (dc == NULL || buf == NULL) {
		snprintf(msg, msglen, "out of memory for the zstd decoder");
		err = RC_E_NOMEM;
		goto done;
	}
	/* Windows up to 2 GiB: streams made with --long=31 decode. */
	ZSTD_DCtx_setParameter(dc, ZSTD_d_windowLogMax, 31);
	for (;;) {
		const unsigned char *p;
		ssize_t n = rc_reader_next(r, &p);
		if (n < 0) {
			err = from_reader(r, msg, msglen);
			goto done;
		}
		if (n == 0)
			break;
		any = true;
		ZSTD_inBuffer in = {p, (size_t)n, 0};
		/* Until the block is used up and the decoder holds nothing
		 * back (a full output buffer may hide more). */
		for (;;) {
			ZSTD_outBuffer o = {buf, OUT_BUF, 0};
			size_t before = in.pos;
			size_t rc = ZSTD_decompressStream(dc, &o, &in);
			/* Only a call that did something tells whether a
			 * frame is complete: an idle one after a frame's end
			 * already expects the next frame. */
			if (!ZSTD_isError(rc) && (o.pos > 0 || in.pos > before))
				last = rc;
			if (ZSTD_isError(rc)) {
				last = rc;
				snprintf(
				    msg, msglen,
				    "zstd: %s at compressed byte %llu",
				    ZSTD_getErrorName(last),
				    (unsigned long long)(r->consumed + in.pos));
				err = RC_E_DECODE;
				goto done;
			}
			err = rc_sink_raw_emit(r, buf, o.pos, delivered,
					       &closed, msg, msglen);
			if (err != RC_OK || closed)
				goto done;
			if (in.pos == in.size && o.pos < o.size)
				break;
		}
	}
	if (!any || last != 0) {
		snprintf(msg, msglen,
			 "zstd: the stream is truncated (it ends at compressed "
			 "byte %llu inside a frame)",
			 (unsigned long long)r->consumed);
		err = RC_E_DECODE;
	}
done:
	ZSTD_freeDCtx(dc);
	free(buf);
	return err;
}

/*
 * gzip through zlib, which checks every member's CRC-32 and length (the
 * gzip filter of Debian 12's libarchive does not). Concatenated members
 * are decoded in turn; bytes after the last member that do not start
 * another are trailing garbage, refused.
 */
static enum rc_err decode_gzip(struct rc_reader *r, uint64_t *delivered,
			       char *msg, size_t msglen)
{
	z_stream z;
	unsigned char *buf = malloc(OUT_BUF);
	enum rc_err err = RC_OK;
	bool closed = false, in_member = false;

	memset(&z, 0, sizeof z);
	if (buf == NULL || inflateInit2(&z, 15 + 16) != Z_OK) {
		free(buf);
		snprintf(msg, msglen, "out of memory for the gzip decoder");
		return RC_E_NOMEM;
	}
	for (;;) {
		const unsigned char *p;
		ssize_t n = rc_reader_next(r, &p);
		if (n < 0) {
			err = from_reader(r, msg, msglen);
			goto done;
		}
		if (n == 0)
			break;
		z.next_in = (unsigned char *)p;
		z.avail_in = (uInt)n;
		while (z.avail_in > 0) {
			if (!in_member) {
				/* A new member must start with the magic. */
				if (z.next_in[0] != 0x1f ||
				    (z.avail_in > 1 && z.next_in[1] != 0x8b)) {
					uint64_t at = r->consumed +
						      (uint64_t)(z.next_in - p);
					snprintf(
					    msg, msglen,
					    "gzip: trailing data after the "
					    "compressed stream at byte "
					    "%llu was not decoded",
					    (unsigned long long)at);
					err = RC_E_DECODE;
					goto done;
				}
				in_member = true;
			}
			z.next_out = buf;
			z.avail_out = OUT_BUF;
			int zr = inflate(&z, Z_NO_FLUSH);
			if (zr != Z_OK && zr != Z_STREAM_END &&
			    !(zr == Z_BUF_ERROR && z.avail_in == 0)) {
				snprintf(
				    msg, msglen,
				    "gzip: %s at compressed byte %llu",
				    z.msg ? z.msg : "corrupt data",
				    (unsigned long long)(r->consumed +
							 (uint64_t)(z.next_in -
								    p)));
				err = RC_E_DECODE;
				goto done;
			}
			err = rc_sink_raw_emit(r, buf, OUT_BUF - z.avail_out,
					       delivered, &closed, msg, msglen);
			if (err != RC_OK || closed)
				goto done;
			if (zr == Z_STREAM_END) {
				in_member = false;
				inflateReset(&z);
			}
		}
	}
	if (in_member) {
		snprintf(msg, msglen,
			 "gzip: the stream is truncated (it ends at byte %llu "
			 "inside a member)",
			 (unsigned long long)r->consumed);
		err = RC_E_DECODE;
	}
done:
	inflateEnd(&z);
	free(buf);
	return err;
}

/* libarchive's read callback: the next ring block, in place. */
static la_ssize_t read_cb(struct archive *a, void *ud, const void **buf)
{
	struct rc_reader *r = ud;
	const unsigned char *p;
	ssize_t n = rc_reader_next(r, &p);

	if (n < 0) {
		archive_set_error(a, EIO, "%s", r->msg);
		return -1;
	}
	*buf = p;
	return n;
}

enum rc_format rc_decode_sniff(const unsigned char *p, size_t n)
{
	if (n >= 4 && (memcmp(p, zstd_magic, 4) == 0 ||
		       ((p[0] & 0xf0) == 0x50 && p[1] == 0x2a && p[2] == 0x4d &&
			p[3] == 0x18)))
		return RC_FMT_ZSTD; /* a frame, or a skippable frame first */
	if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return RC_FMT_GZIP;
	if (n >= 6 && memcmp(p,
			     "\xfd"
			     "7zXZ\0",
			     6) == 0)
		return RC_FMT_XZ;
	if (n >= 3 && memcmp(p, "BZh", 3) == 0)
		return RC_FMT_BZIP2;
	if (n >= 4 && p[0] == 0x04 && p[1] == 0x22 && p[2] == 0x4d &&
	    p[3] == 0x18)
		return RC_FMT_LZ4;
	return RC_FMT_AUTO; /* none of these */
}

struct archive *rc_decode_open(struct rc_reader *r, enum rc_format fmt,
			       bool raw_format)
{
	struct archive *a = archive_read_new();
	int code = ARCHIVE_FILTER_NONE;

	if (a == NULL)
		return NULL;
	/* Exactly one layer, named, never bid for: libarchive's bidding
	 * stacks gzip on gzip for as long as the data says so, and a
	 * 293-byte nest of them took minutes and 16 GB. */
	switch (fmt) {
	case RC_FMT_GZIP: code = ARCHIVE_FILTER_GZIP; break;
	case RC_FMT_XZ: code = ARCHIVE_FILTER_XZ; break;
	case RC_FMT_BZIP2: code = ARCHIVE_FILTER_BZIP2; break;
	case RC_FMT_LZ4: code = ARCHIVE_FILTER_LZ4; break;
	case RC_FMT_ZSTD: code = ARCHIVE_FILTER_ZSTD; break;
	default: break;
	}
	archive_read_append_filter(a, code);
	if (raw_format)
		archive_read_support_format_raw(a);
	else
		archive_read_support_format_all(a);
	/* Errors surface at the first archive_read_next_header. */
	(void)archive_read_open(a, r, NULL, read_cb, NULL);
	return a;
}

static enum rc_err decode_archive(struct rc_reader *r, enum rc_format fmt,
				  uint64_t *delivered, char *msg, size_t msglen)
{
	struct archive *a = rc_decode_open(r, fmt, true);
	struct archive_entry *e;
	unsigned char *buf = malloc(OUT_BUF);
	enum rc_err err = RC_OK;
	bool closed = false;

	if (a == NULL || buf == NULL) {
		snprintf(msg, msglen, "out of memory for the decoder");
		err = RC_E_NOMEM;
		goto done;
	}
	int rc = archive_read_next_header(a, &e);
	if (rc == ARCHIVE_EOF) /* an empty input: nothing to decode */
		goto check;
	if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
		if (r->err != RC_OK) {
			err = from_reader(r, msg, msglen);
			goto done;
		}
		snprintf(msg, msglen, "cannot decode: %s",
			 archive_error_string(a));
		err = RC_E_DECODE;
		goto done;
	}
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, OUT_BUF);
		if (n == 0)
			break;
		if (n < 0) {
			if (r->err != RC_OK) {
				err = from_reader(r, msg, msglen);
				goto done;
			}
			snprintf(msg, msglen, "%s: %s at compressed byte %lld",
				 archive_filter_name(a, 0),
				 archive_error_string(a),
				 (long long)archive_filter_bytes(a, -1));
			err = RC_E_DECODE;
			goto done;
		}
		err = rc_sink_raw_emit(r, buf, (size_t)n, delivered, &closed,
				       msg, msglen);
		if (err != RC_OK || closed)
			goto done;
	}
check:;
	/* The filters stop at the end of their stream; anything after it is
	 * trailing garbage, which gzip only warns about. Refuse it. The size
	 * is read now: the probe may not have told it when decoding began. */
	uint64_t end = atomic_load(&r->ring->stat_end);
	uint64_t total = end == UINT64_MAX
			     ? UINT64_MAX
			     : end - atomic_load(&r->ring->stat_first);
	if (total != UINT64_MAX &&
	    (uint64_t)archive_filter_bytes(a, -1) < total) {
		snprintf(
		    msg, msglen,
		    "%s: %llu bytes of trailing data after the compressed "
		    "stream (at byte %lld) were not decoded",
		    archive_filter_name(a, 0),
		    (unsigned long long)(total -
					 (uint64_t)archive_filter_bytes(a, -1)),
		    (long long)archive_filter_bytes(a, -1));
		err = RC_E_DECODE;
	}
done:
	if (a)
		archive_read_free(a);
	free(buf);
	return err;
}

enum rc_err rc_sink_decode_run(struct rc_reader *r, enum rc_format fmt,
			       bool passthrough, uint64_t *delivered, char *msg,
			       size_t msglen)
{
	if (fmt == RC_FMT_AUTO) {
		const unsigned char *p;
		ssize_t n = rc_reader_peek(r, 6, &p);
		if (n < 0)
			return from_reader(r, msg, msglen);
		fmt = rc_decode_sniff(p, (size_t)n);
		if (fmt == RC_FMT_AUTO && passthrough)
			return rc_sink_raw_run(r, delivered, msg, msglen);
		if (fmt == RC_FMT_AUTO && n > 0) {
			snprintf(msg, msglen,
				 "the data is not compressed in a known format "
				 "(use --decompress=auto,passthrough to let "
				 "plain data through)");
			return RC_E_DECODE;
		}
	}
	if (fmt == RC_FMT_ZSTD)
		return decode_zstd(r, delivered, msg, msglen);
	if (fmt == RC_FMT_GZIP)
		return decode_gzip(r, delivered, msg, msglen);
	return decode_archive(r, fmt, delivered, msg, msglen);
}
