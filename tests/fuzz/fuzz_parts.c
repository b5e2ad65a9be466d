/* Fuzz target: a multipart/byteranges body fed to the parts parser in
 * pieces whose sizes come from the input, each part's bytes taken a few
 * at a time; and the boundary parameter of a Content-Type. Checks that
 * the parser never consumes more than it was given, never hands out
 * more of a part than its Content-Range names, and keeps saying what it
 * said once it ended. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parts.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char b[RC_PARTS_BOUNDARY_MAX + 8];
	char *ct;
	struct rc_parts p;

	if (n < 2)
		return 0;
	/* The first byte sets the piece size, the second the take size. */
	size_t step = (size_t)d[0] % 17 + 1, take = (size_t)d[1] % 9 + 1;
	d += 2;
	n -= 2;
	if ((ct = malloc(n + 1)) == NULL)
		return 0;
	memcpy(ct, d, n);
	ct[n] = '\0';
	if (rc_parts_boundary(ct, b, sizeof b) &&
	    (strlen(b) == 0 || strlen(b) > RC_PARTS_BOUNDARY_MAX))
		abort();
	free(ct);
	rc_parts_init(&p, "00000000001");
	size_t off = 0;
	uint64_t body = 0, named = 0;
	int ended = -1;
	while (off < n) {
		size_t k = n - off < step ? n - off : step, used;
		enum rc_parts_event e =
		    rc_parts_next(&p, (const char *)d + off, k, &used);
		if (used > k)
			abort();
		if (ended >= 0 && (int)e != ended)
			abort();
		off += used;
		if (e == RC_PARTS_PART) {
			named = p.left;
			if (named != p.cr.last - p.cr.first + 1)
				abort();
			body = 0;
		} else if (e == RC_PARTS_BODY) {
			size_t t = k - used < take ? k - used : take;
			if (t > p.left)
				t = (size_t)p.left;
			rc_parts_took(&p, t);
			body += t;
			if (body > named)
				abort();
			off += t;
		} else if (e == RC_PARTS_END || e == RC_PARTS_ERROR) {
			ended = (int)e;
			if (e == RC_PARTS_ERROR)
				break;
		} else if (used == 0) {
			break; /* MORE with nothing consumed: k was 0 */
		}
	}
	return 0;
}
