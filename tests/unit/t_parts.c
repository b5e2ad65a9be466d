/* multipart/byteranges: the boundary parameter and the framing, fed
 * whole and a byte at a time. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "parts.h"

/* What a body yields: parts' ranges and bytes, until END or ERROR. */
struct got {
	int parts;
	uint64_t first[8], last[8];
	char bytes[512];
	size_t nbytes;
	enum rc_parts_event last_ev;
	const char *err;
};

/* Feeds body in pieces of step bytes (0: whole), taking each part's
 * bytes as they come, at most take of them per BODY (0: all). */
static void run(const char *boundary, const char *body, size_t len, size_t step,
		size_t take, struct got *g)
{
	struct rc_parts p;
	size_t off = 0;

	memset(g, 0, sizeof *g);
	rc_parts_init(&p, boundary);
	while (off < len) {
		size_t n = step && len - off > step ? step : len - off;
		size_t used;
		enum rc_parts_event e = rc_parts_next(&p, body + off, n, &used);
		off += used;
		g->last_ev = e;
		if (e == RC_PARTS_PART && g->parts < 8) {
			g->first[g->parts] = p.cr.first;
			g->last[g->parts] = p.cr.last;
			g->parts++;
		} else if (e == RC_PARTS_BODY) {
			size_t k = n - used;
			if (k > p.left)
				k = (size_t)p.left;
			if (take && k > take)
				k = take;
			if (g->nbytes + k <= sizeof g->bytes) {
				memcpy(g->bytes + g->nbytes, body + off, k);
				g->nbytes += k;
			}
			rc_parts_took(&p, k);
			off += k;
		} else if (e == RC_PARTS_ERROR) {
			g->err = p.err;
			return;
		} else if (e == RC_PARTS_END && off == len) {
			return;
		}
	}
	/* What the parser says once the body is over. */
	size_t used;
	g->last_ev = rc_parts_next(&p, "", 0, &used);
	if (g->last_ev == RC_PARTS_ERROR)
		g->err = p.err;
}

#define NGINX                                                                  \
	"\r\n--00000000001\r\n"                                                \
	"Content-Type: application/octet-stream\r\n"                           \
	"Content-Range: bytes 0-3/20\r\n\r\n"                                  \
	"abcd"                                                                 \
	"\r\n--00000000001\r\n"                                                \
	"Content-Type: application/octet-stream\r\n"                           \
	"Content-Range: bytes 10-14/20\r\n\r\n"                                \
	"--000"                                                                \
	"\r\n--00000000001--\r\n"

static void body_ok(const char *b, size_t step, size_t take)
{
	struct got g;

	run("00000000001", b, strlen(b), step, take, &g);
	CHECK(g.err == NULL && g.last_ev == RC_PARTS_END);
	CHECK(g.parts == 2 && g.first[0] == 0 && g.last[0] == 3 &&
	      g.first[1] == 10 && g.last[1] == 14);
	CHECK(g.nbytes == 9 && memcmp(g.bytes, "abcd--000", 9) == 0);
}

static const char *broken(const char *b)
{
	struct got g;

	run("00000000001", b, strlen(b), 0, 0, &g);
	return g.last_ev == RC_PARTS_ERROR ? g.err : NULL;
}

int main(void)
{
	char b[128];
	struct got g;

	/* the boundary parameter */
	CHECK(rc_parts_boundary("multipart/byteranges; boundary=00000000001", b,
				sizeof b) &&
	      strcmp(b, "00000000001") == 0);
	CHECK(rc_parts_boundary("multipart/byteranges;charset=x;BOUNDARY=a_b",
				b, sizeof b) &&
	      strcmp(b, "a_b") == 0);
	CHECK(rc_parts_boundary("multipart/byteranges; boundary=\"a b:c\"", b,
				sizeof b) &&
	      strcmp(b, "a b:c") == 0);
	CHECK(rc_parts_boundary("multipart/byteranges; boundary=ab ; x=y", b,
				sizeof b) &&
	      strcmp(b, "ab") == 0);
	CHECK(!rc_parts_boundary("multipart/byteranges", b, sizeof b));
	CHECK(
	    !rc_parts_boundary("multipart/byteranges; boundary=", b, sizeof b));
	CHECK(!rc_parts_boundary("multipart/byteranges; boundary=\"ab", b,
				 sizeof b));
	CHECK(!rc_parts_boundary("multipart/byteranges; boundary=\"ab \"", b,
				 sizeof b));
	CHECK(!rc_parts_boundary("multipart/byteranges; boundary=a\033b", b,
				 sizeof b));
	CHECK(!rc_parts_boundary("multipart/byteranges; boundary=a\"b", b,
				 sizeof b));
	memset(b, 'x', 71);
	char ct[128];
	snprintf(ct, sizeof ct, "multipart/byteranges; boundary=%.71s", b);
	CHECK(!rc_parts_boundary(ct, b, sizeof b));
	snprintf(
	    ct, sizeof ct, "multipart/byteranges; boundary=%.70s",
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxx");
	CHECK(rc_parts_boundary(ct, b, sizeof b) && strlen(b) == 70);

	/* nginx's framing, whole, in pieces, a part's bytes a few at a
	 * time; bytes that look like the boundary are a part's */
	body_ok(NGINX, 0, 0);
	for (size_t step = 1; step < 12; step++)
		body_ok(NGINX, step, 0);
	body_ok(NGINX, 0, 1);
	body_ok(NGINX, 3, 2);
	/* a preamble, padding after delimiters, bare LF, an epilogue */
	body_ok("preamble\r\n--00000000001 \t\r\n"
		"Content-Range: bytes 0-3/20\r\n\r\nabcd"
		"\r\n--00000000001\n"
		"content-range:bytes 10-14/20\n\n--000"
		"\r\n--00000000001-- \r\nepilogue",
		0, 0);
	/* a part the reply ends in: not END */
	run("00000000001", NGINX, 60, 0, 0, &g);
	CHECK(g.last_ev == RC_PARTS_BODY || g.last_ev == RC_PARTS_MORE);

	/* broken framing */
	CHECK(broken("\r\n--00000000001--\r\n") != NULL); /* no part */
	CHECK(broken("\r\n--00000000001\r\nContent-Type: x\r\n\r\nabcd") !=
	      NULL); /* no Content-Range */
	CHECK(broken("\r\n--00000000001\r\nContent-Range: bytes 0-3/20\r\n"
		     "Content-Range: bytes 0-3/20\r\n\r\nabcd") != NULL);
	CHECK(broken("\r\n--00000000001\r\nContent-Range: bytes */20\r\n\r\n"
		     "abcd") != NULL);
	CHECK(broken("\r\n--00000000001\r\nContent-Range: bytes 3-0/20\r\n\r\n"
		     "abcd") != NULL);
	/* bytes past the range named, or no delimiter after them */
	CHECK(broken("\r\n--00000000001\r\nContent-Range: bytes 0-3/20\r\n\r\n"
		     "abcde\r\n--00000000001--\r\n") != NULL);
	CHECK(broken("\r\n--00000000001\r\nContent-Range: bytes 0-3/20\r\n\r\n"
		     "abcd\r\n--00000000002--\r\n") != NULL);
	CHECK(broken("\r\n--00000000001\r\nContent-Range: bytes 0-3/20\r\n\r\n"
		     "abcd\r\n--00000000001x\r\n") != NULL);
	/* another boundary than the one named: never a delimiter */
	run("zzz", NGINX, strlen(NGINX), 0, 0, &g);
	CHECK(g.parts == 0 && g.last_ev != RC_PARTS_END);
	/* headers without end */
	char big[8192];
	size_t n = (size_t)snprintf(big, sizeof big, "\r\n--00000000001\r\n");
	while (n + 40 < sizeof big)
		n += (size_t)snprintf(big + n, sizeof big - n,
				      "X-Filler: 0123456789012345678901\r\n");
	CHECK(broken(big) != NULL);
	/* a header line over the parser's line */
	n = (size_t)snprintf(big, sizeof big, "\r\n--00000000001\r\nX: ");
	memset(big + n, 'a', 400);
	big[n + 400] = '\0';
	CHECK(broken(big) != NULL);
	/* after an error, the same error */
	struct rc_parts p;
	size_t used;
	rc_parts_init(&p, "b");
	CHECK(rc_parts_next(&p, "\r\n--b--\r\n", 9, &used) == RC_PARTS_ERROR);
	CHECK(rc_parts_next(&p, "x", 1, &used) == RC_PARTS_ERROR && used == 0);
	return DONE();
}
