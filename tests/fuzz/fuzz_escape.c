/* Fuzz target: the escaper for outside text. Whatever the bytes, the
 * output holds no control byte, DEL, C1 or invalid UTF-8, maps back to
 * exactly the input, and a short buffer gets a clean prefix of it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

/* Decodes the escaped text e back to bytes; returns the length or -1. */
static long unescape(const char *e, uint8_t *out)
{
	static const char named[] = "a\ab\bt\tn\nv\vf\fr\r\\\\";
	long o = 0;

	while (*e) {
		if (*e != '\\') {
			out[o++] = (uint8_t)*e++;
			continue;
		}
		const char *hit = e[1] ? strchr(named, e[1]) : NULL;
		if (hit && (hit - named) % 2 == 0) {
			out[o++] = (uint8_t)hit[1];
			e += 2;
			continue;
		}
		if (e[1] < '0' || e[1] > '3' || e[2] < '0' || e[2] > '7' ||
		    e[3] < '0' || e[3] > '7')
			return -1;
		out[o++] = (uint8_t)((e[1] - '0') << 6 | (e[2] - '0') << 3 |
				     (e[3] - '0'));
		e += 4;
	}
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	size_t cap = 4 * n + 1;
	char *out = malloc(cap), *cut = malloc(cap);
	uint8_t *back = malloc(n + 1);

	if (out == NULL || cut == NULL || back == NULL)
		abort();
	rc_escape_mem(d, n, out, cap);
	size_t len = strlen(out);
	/* Printable and valid UTF-8 throughout. */
	for (size_t i = 0; i < len;) {
		size_t l =
		    rc_escape_utf8_len((const uint8_t *)out + i, len - i);
		if (l == 0)
			abort();
		i += l;
	}
	/* Exactly the input again. */
	if (unescape(out, back) != (long)n || memcmp(back, d, n) != 0)
		abort();
	/* A short buffer: a prefix, never a broken escape or character. */
	size_t small = n ? d[0] % (cap + 1) : 0;
	rc_escape_mem(d, n, cut, small);
	if (small > 0) {
		size_t cl = strlen(cut);
		if (cl >= small || strncmp(cut, out, cl) != 0)
			abort();
		if (unescape(cut, back) < 0)
			abort();
	}
	free(out);
	free(cut);
	free(back);
	return 0;
}
