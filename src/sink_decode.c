/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The decode sink (-d), and the one decoder every mode reads compressed
 * data through: the compressed stream from the ring, decoded while the
 * download goes on. zstd goes through libzstd's streaming API and gzip
 * through zlib, with their input pointing into the ring; xz, bzip2 and lz4
 * go through libarchive's raw format, whose read callback hands out ring
 * blocks. Either way the compressed bytes are not copied. Consumer (main)
 * thread only.
 *
 * Policy: auto detects by magic bytes; data that is not compressed is an
 * error unless auto,passthrough was asked; every check the format carries
 * (gzip's CRC-32 and length, zstd's and xz's checks, bzip2's block CRCs,
 * lz4's checksums) is verified, and bytes after the end of the compressed
 * stream (trailing garbage) are an error, never output, whether or not
 * the size was known. The decoder reports its end only once all of that
 * holds, so -x, -t and --member get the same guarantees as -d.
 */
#include "sink_decode.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>
#include <zstd.h>

#include "lazyarchive.h"
#include "log.h"
#include "sink_raw.h"

#define OUT_BUF (1u << 20)

static const unsigned char zstd_magic[4] = {0x28, 0xb5, 0x2f, 0xfd};

struct rc_dec {
	struct rc_reader *r;
	enum rc_format fmt;
	const unsigned char *in; /* the reader's current block */
	size_t in_len, in_pos;
	bool any;   /* some input was seen */
	bool more;  /* the last call filled the buffer: output may wait */
	bool ended; /* the verified end was reported */
	unsigned char *buf;
	ZSTD_DCtx *zs;
	size_t zlast; /* 0 once a zstd frame is complete */
	z_stream z;
	bool zinit, in_member;
	struct archive *a; /* xz, bzip2, lz4 */
	bool a_open;
	enum rc_err err;
	char msg[512];
};

static ssize_t fail(struct rc_dec *d, enum rc_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static ssize_t fail(struct rc_dec *d, enum rc_err err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof d->msg, fmt, ap);
	va_end(ap);
	d->err = err;
	return -1;
}

static ssize_t from_reader(struct rc_dec *d)
{
	return fail(d, d->r->err, "%s", d->r->msg);
}

/* The next input block into d->in; 0 at the end of the stream. */
static ssize_t next_in(struct rc_dec *d)
{
	const unsigned char *p;
	ssize_t n = rc_reader_next(d->r, &p);

	if (n < 0)
		return from_reader(d);
	d->in = p;
	d->in_len = (size_t)n;
	d->in_pos = 0;
	if (n > 0)
		d->any = true;
	return n;
}

static ssize_t read_zstd(struct rc_dec *d, const unsigned char **out)
{
	for (;;) {
		if (d->in_pos == d->in_len && !d->more) {
			ssize_t n = next_in(d);
			if (n < 0)
				return -1;
			if (n == 0) {
				if (!d->any || d->zlast != 0)
					return fail(
					    d, RC_E_DECODE,
					    "zstd: the stream is truncated "
					    "(it ends at compressed byte %llu "
					    "inside a frame)",
					    (unsigned long long)d->r->consumed);
				return 0;
			}
		}
		ZSTD_inBuffer in = {d->in, d->in_len, d->in_pos};
		ZSTD_outBuffer o = {d->buf, OUT_BUF, 0};
		size_t rc = ZSTD_decompressStream(d->zs, &o, &in);
		/* Where a frame should start, what is not one is data after
		 * the stream, not a damaged frame. */
		if (ZSTD_isError(rc) && d->zlast == 0 && o.pos == 0)
			return fail(
			    d, RC_E_DECODE,
			    "zstd: trailing data after the compressed "
			    "stream at byte %llu was not decoded (%s)",
			    (unsigned long long)(d->r->consumed + d->in_pos),
			    ZSTD_getErrorName(rc));
		if (ZSTD_isError(rc))
			return fail(
			    d, RC_E_DECODE, "zstd: %s at compressed byte %llu",
			    ZSTD_getErrorName(rc),
			    (unsigned long long)(d->r->consumed + in.pos));
		/* Only a call that did something tells whether a frame is
		 * complete: an idle one after a frame's end already expects
		 * the next frame. */
		if (o.pos > 0 || in.pos > d->in_pos)
			d->zlast = rc;
		d->in_pos = in.pos;
		d->more = o.pos == o.size; /* a full buffer may hide more */
		if (o.pos > 0) {
			*out = d->buf;
			return (ssize_t)o.pos;
		}
	}
}

/*
 * gzip through zlib, which checks every member's CRC-32 and length (the
 * gzip filter of Debian 12's libarchive does not). Concatenated members
 * are decoded in turn; bytes after the last member that do not start
 * another are trailing garbage, refused.
 */
static ssize_t read_gzip(struct rc_dec *d, const unsigned char **out)
{
	for (;;) {
		if (d->in_pos == d->in_len && !d->more) {
			ssize_t n = next_in(d);
			if (n < 0)
				return -1;
			if (n == 0) {
				if (d->in_member)
					return fail(
					    d, RC_E_DECODE,
					    "gzip: the stream is truncated (it "
					    "ends at byte %llu inside a "
					    "member)",
					    (unsigned long long)d->r->consumed);
				return 0;
			}
			continue;
		}
		if (!d->in_member) {
			/* A new member must start with the magic. */
			const unsigned char *q = d->in + d->in_pos;
			if (q[0] != 0x1f ||
			    (d->in_len - d->in_pos > 1 && q[1] != 0x8b))
				return fail(
				    d, RC_E_DECODE,
				    "gzip: trailing data after the "
				    "compressed stream at byte %llu "
				    "was not decoded",
				    (unsigned long long)(d->r->consumed +
							 d->in_pos));
			d->in_member = true;
		}
		d->z.next_in = (unsigned char *)d->in + d->in_pos;
		d->z.avail_in = (uInt)(d->in_len - d->in_pos);
		d->z.next_out = d->buf;
		d->z.avail_out = OUT_BUF;
		int zr = inflate(&d->z, Z_NO_FLUSH);
		size_t used = d->in_len - d->in_pos - d->z.avail_in;
		if (zr != Z_OK && zr != Z_STREAM_END &&
		    !(zr == Z_BUF_ERROR && d->z.avail_in == 0))
			return fail(d, RC_E_DECODE,
				    "gzip: %s at compressed byte %llu",
				    d->z.msg ? d->z.msg : "corrupt data",
				    (unsigned long long)(d->r->consumed +
							 d->in_pos + used));
		d->in_pos += used;
		size_t got = OUT_BUF - d->z.avail_out;
		d->more = got == OUT_BUF;
		if (zr == Z_STREAM_END) {
			d->in_member = false;
			d->more = false;
			inflateReset(&d->z);
		}
		if (got > 0) {
			*out = d->buf;
			return (ssize_t)got;
		}
	}
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

/* xz, bzip2 and lz4 through libarchive's raw format; its filters verify
 * the formats' checks. At their end, any byte left is trailing data. */
static ssize_t read_archive(struct rc_dec *d, const unsigned char **out)
{
	struct rc_reader *r = d->r;

	if (!d->a_open) {
		struct archive_entry *e;
		d->a_open = true;
		int rc = archive_read_next_header(d->a, &e);
		if (rc == ARCHIVE_EOF) /* an empty input: nothing to decode */
			return 0;
		if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
			if (r->err != RC_OK)
				return from_reader(d);
			return fail(d, RC_E_DECODE, "cannot decode: %s",
				    archive_error_string(d->a));
		}
	}
	la_ssize_t n = archive_read_data(d->a, d->buf, OUT_BUF);
	if (n < 0) {
		if (r->err != RC_OK)
			return from_reader(d);
		return fail(d, RC_E_DECODE, "%s: %s at compressed byte %lld",
			    archive_filter_name(d->a, 0),
			    archive_error_string(d->a),
			    (long long)archive_filter_bytes(d->a, -1));
	}
	if (n > 0) {
		*out = d->buf;
		return n;
	}
	/* The filter stopped at the end of its stream. Whatever follows,
	 * in the block it was handed or in the rest of the stream, is
	 * trailing data (gzip's filter would only warn; bzip2's and lz4's
	 * say nothing). */
	uint64_t used = (uint64_t)archive_filter_bytes(d->a, -1);
	uint64_t seen = r->consumed + r->pending;
	if (used >= seen) {
		const unsigned char *p;
		ssize_t m = rc_reader_next(r, &p);
		if (m < 0)
			return from_reader(d);
		if (m == 0)
			return 0;
		used = r->consumed;
	}
	return fail(d, RC_E_DECODE,
		    "%s: trailing data after the compressed stream at byte "
		    "%llu was not decoded",
		    archive_filter_name(d->a, 0), (unsigned long long)used);
}

struct rc_dec *rc_dec_new(struct rc_reader *r, enum rc_format fmt)
{
	struct rc_dec *d = calloc(1, sizeof *d);

	if (d == NULL)
		return NULL;
	d->r = r;
	d->fmt = fmt;
	d->zlast = 1;
	d->err = RC_OK;
	if (fmt == RC_FMT_AUTO)
		return d; /* the bytes as they are, in place */
	d->buf = malloc(OUT_BUF);
	if (d->buf == NULL)
		goto fail;
	switch (fmt) {
	case RC_FMT_ZSTD:
		d->zs = ZSTD_createDCtx();
		if (d->zs == NULL)
			goto fail;
		/* Windows up to 2 GiB: streams made with --long=31 decode. */
		ZSTD_DCtx_setParameter(d->zs, ZSTD_d_windowLogMax, 31);
		break;
	case RC_FMT_GZIP:
		if (inflateInit2(&d->z, 15 + 16) != Z_OK)
			goto fail;
		d->zinit = true;
		break;
	default:
		d->a = rc_decode_open(r, fmt, true);
		if (d->a == NULL)
			goto fail;
		break;
	}
	return d;
fail:
	rc_dec_free(d);
	return NULL;
}

void rc_dec_free(struct rc_dec *d)
{
	if (d == NULL)
		return;
	ZSTD_freeDCtx(d->zs);
	if (d->zinit)
		inflateEnd(&d->z);
	if (d->a)
		archive_read_free(d->a);
	free(d->buf);
	free(d);
}

ssize_t rc_dec_read(struct rc_dec *d, const unsigned char **p)
{
	ssize_t n;

	if (d->err != RC_OK)
		return -1;
	if (d->ended)
		return 0;
	switch (d->fmt) {
	case RC_FMT_AUTO:
		n = rc_reader_next(d->r, p);
		if (n < 0)
			return from_reader(d);
		break;
	case RC_FMT_ZSTD: n = read_zstd(d, p); break;
	case RC_FMT_GZIP: n = read_gzip(d, p); break;
	default: n = read_archive(d, p); break;
	}
	if (n == 0)
		d->ended = true;
	return n;
}

enum rc_err rc_dec_error(const struct rc_dec *d, char *msg, size_t msglen)
{
	if (d->err != RC_OK)
		snprintf(msg, msglen, "%s", d->msg);
	return d->err;
}

enum rc_err rc_dec_finish(struct rc_dec *d, char *msg, size_t msglen)
{
	const unsigned char *p;
	ssize_t n;

	while ((n = rc_dec_read(d, &p)) > 0)
		;
	return n < 0 ? rc_dec_error(d, msg, msglen) : RC_OK;
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

enum rc_err rc_sink_decode_run(struct rc_reader *r, enum rc_format fmt,
			       bool passthrough, uint64_t *delivered, char *msg,
			       size_t msglen)
{
	if (fmt == RC_FMT_AUTO) {
		const unsigned char *p;
		ssize_t n = rc_reader_peek(r, 6, &p);
		if (n < 0) {
			snprintf(msg, msglen, "%s", r->msg);
			return r->err;
		}
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
	if (fmt != RC_FMT_ZSTD && fmt != RC_FMT_GZIP &&
	    !rc_lazyarchive_load(msg, msglen))
		return RC_E_DECODE; /* xz, bzip2, lz4 */
	struct rc_dec *d = rc_dec_new(r, fmt);
	enum rc_err err = RC_OK;
	bool closed = false;

	if (d == NULL) {
		snprintf(msg, msglen, "out of memory for the decoder");
		return RC_E_NOMEM;
	}
	for (;;) {
		const unsigned char *p;
		ssize_t n = rc_dec_read(d, &p);
		if (n < 0) {
			err = rc_dec_error(d, msg, msglen);
			break;
		}
		if (n == 0)
			break;
		err = rc_sink_raw_emit(r, p, (size_t)n, delivered, &closed, msg,
				       msglen);
		if (err != RC_OK || closed)
			break;
	}
	rc_dec_free(d);
	return err;
}
