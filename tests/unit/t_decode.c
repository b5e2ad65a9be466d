/* The pull decoder (rc_dec) over a ring that holds a whole stream, cut into
 * blocks of many sizes: gzip and zstd checks, concatenated members and
 * frames, trailing data, cut streams, output over the decoder's buffer. */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>

#include "harness.h"
#include "reader.h"
#include "ring.h"
#include "sink_decode.h"

static volatile sig_atomic_t sig;

struct buf {
	unsigned char *p;
	size_t n;
};

/* Decodes in, landed in chunks of `chunk` bytes, as fmt. out gets the
 * decoded bytes and msg the error's message. */
static enum rc_err decode(struct buf in, size_t chunk, enum rc_format fmt,
			  struct buf *out, char *msg)
{
	size_t nch = (in.n + chunk - 1) / chunk;
	struct rc_ring *ring = rc_ring_new(nch + 1, chunk, (nch + 1) * chunk);
	struct rc_reader r;
	enum rc_err err = RC_OK;

	/* Every chunk is claimed before any lands: the ring grows to hold
	 * them all while the head waits. */
	for (size_t i = 0; i < nch; i++) {
		size_t len =
		    in.n - i * chunk < chunk ? in.n - i * chunk : chunk;
		rc_ring_claim(ring, i * chunk, len);
	}
	for (size_t i = 0; i < nch; i++) {
		size_t len =
		    in.n - i * chunk < chunk ? in.n - i * chunk : chunk;
		memcpy(rc_ring_buf(ring, i), in.p + i * chunk, len);
		rc_ring_filled(ring, i, len);
	}
	rc_ring_set_nchunks(ring, nch);
	rc_reader_init(&r, ring, NULL, &sig, NULL);
	struct rc_dec *d = rc_dec_new(&r, fmt);
	out->p = NULL;
	out->n = 0;
	msg[0] = '\0';
	for (;;) {
		const unsigned char *p;
		ssize_t n = rc_dec_read(d, &p);
		if (n < 0)
			err = rc_dec_error(d, msg, 512);
		if (n <= 0)
			break;
		out->p = realloc(out->p, out->n + (size_t)n);
		memcpy(out->p + out->n, p, (size_t)n);
		out->n += (size_t)n;
	}
	/* After the end, the end again: never more bytes. */
	const unsigned char *p;
	if (err == RC_OK && rc_dec_read(d, &p) != 0)
		err = RC_E__COUNT; /* not a verdict any caller knows */
	rc_dec_free(d);
	rc_ring_free(ring);
	return err;
}

static struct buf gzip_of(const unsigned char *p, size_t n)
{
	z_stream z;
	struct buf b = {malloc(n + 1024), 0};

	memset(&z, 0, sizeof z);
	deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (unsigned char *)p;
	z.avail_in = (uInt)n;
	z.next_out = b.p;
	z.avail_out = (uInt)(n + 1024);
	deflate(&z, Z_FINISH);
	b.n = z.total_out;
	deflateEnd(&z);
	return b;
}

static struct buf zstd_of(const unsigned char *p, size_t n)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	struct buf b = {malloc(ZSTD_compressBound(n)), 0};

	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	b.n = ZSTD_compress2(c, b.p, ZSTD_compressBound(n), p, n);
	ZSTD_freeCCtx(c);
	return b;
}

static struct buf cat(struct buf a, const void *p, size_t n)
{
	struct buf b = {malloc(a.n + n + 1), a.n + n};
	memcpy(b.p, a.p, a.n);
	if (n > 0)
		memcpy(b.p + a.n, p, n);
	return b;
}

static bool same(struct buf b, const unsigned char *p, size_t n)
{
	return b.n == n && (n == 0 || memcmp(b.p, p, n) == 0);
}

/* Every chunk size decodes src to want, or fails with pattern in msg. */
static void each_chunk(struct buf src, enum rc_format fmt,
		       const unsigned char *want, size_t wantn,
		       const char *pattern)
{
	static const size_t chunks[] = {1, 2, 7, 4096, 1 << 20};
	for (size_t i = 0; i < sizeof chunks / sizeof *chunks; i++) {
		if (chunks[i] < 7 && src.n > 100000)
			continue; /* slow, and covered by the small cases */
		struct buf out;
		char msg[512];
		enum rc_err err = decode(src, chunks[i], fmt, &out, msg);
		if (pattern == NULL) {
			CHECK(err == RC_OK && same(out, want, wantn));
		} else {
			CHECK(err == RC_E_DECODE && strstr(msg, pattern));
			if (!strstr(msg, pattern))
				fprintf(stderr, "  chunk %zu: %s\n", chunks[i],
					msg);
		}
		free(out.p);
	}
}

int main(void)
{
	size_t n = 3u << 20; /* over the decoder's 1 MiB buffer */
	unsigned char *data = malloc(n);
	for (size_t i = 0; i < n; i++)
		data[i] = (unsigned char)(i % 251 < 200 ? 'a' + i % 7 : i * 31);
	unsigned char small[] = "a small member\n";
	size_t sn = sizeof small - 1;

	/* gzip */
	struct buf g = gzip_of(data, n), gs = gzip_of(small, sn);
	each_chunk(g, RC_FMT_GZIP, data, n, NULL);
	each_chunk(gs, RC_FMT_GZIP, small, sn, NULL);
	struct buf g2 = cat(gs, gs.p, gs.n);
	unsigned char twice[64];
	memcpy(twice, small, sn);
	memcpy(twice + sn, small, sn);
	each_chunk(g2, RC_FMT_GZIP, twice, 2 * sn, NULL);
	struct buf bad = cat(gs, NULL, 0);
	bad.p[bad.n - 8] ^= 1; /* the CRC-32 */
	each_chunk(bad, RC_FMT_GZIP, NULL, 0, "incorrect data check");
	bad.p[bad.n - 8] ^= 1;
	bad.p[bad.n - 3] ^= 0x40; /* ISIZE */
	each_chunk(bad, RC_FMT_GZIP, NULL, 0, "incorrect length check");
	free(bad.p);
	struct buf junk = cat(gs, "junk", 4);
	each_chunk(junk, RC_FMT_GZIP, NULL, 0, "trailing data");
	free(junk.p);
	struct buf cut = {gs.p, gs.n - 3};
	each_chunk(cut, RC_FMT_GZIP, NULL, 0, "truncated");

	/* zstd, with its checksum */
	struct buf z = zstd_of(data, n), zs = zstd_of(small, sn);
	each_chunk(z, RC_FMT_ZSTD, data, n, NULL);
	struct buf z2 = cat(zs, zs.p, zs.n);
	each_chunk(z2, RC_FMT_ZSTD, twice, 2 * sn, NULL);
	bad = cat(zs, NULL, 0);
	bad.p[bad.n - 1] ^= 1; /* the checksum */
	each_chunk(bad, RC_FMT_ZSTD, NULL, 0, "checksum");
	free(bad.p);
	junk = cat(zs, "junk", 4);
	each_chunk(junk, RC_FMT_ZSTD, NULL, 0, "trailing data");
	free(junk.p);
	cut.p = zs.p;
	cut.n = zs.n - 2;
	each_chunk(cut, RC_FMT_ZSTD, NULL, 0, "truncated");
	struct buf none = {zs.p, 0};
	each_chunk(none, RC_FMT_ZSTD, NULL, 0, "truncated");

	/* no compression: the bytes as they are */
	struct buf raw = {small, sn};
	each_chunk(raw, RC_FMT_AUTO, small, sn, NULL);

	free(g.p);
	free(gs.p);
	free(g2.p);
	free(z.p);
	free(zs.p);
	free(z2.p);
	free(data);
	return DONE();
}
