/* Fuzz target: the input split at NUL bytes becomes argv for
 * rc_options_parse; each piece also goes through the number, size, range
 * and URL checks. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "argv.h"
#include "options.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

/*
 * A size rc_parse_size accepted, recomputed another way: decimal digits
 * (strtoull, which must not overflow), then nothing or one of K, M, G, T
 * optionally followed by B or iB, and the value is exactly the number
 * times the suffix's power of 1024.
 */
static void check_size(const char *s, uint64_t v)
{
	size_t nd = strspn(s, "0123456789");
	char digits[32];
	unsigned shift = 0;

	if (nd == 0 || nd >= sizeof digits)
		abort();
	memcpy(digits, s, nd);
	digits[nd] = '\0';
	errno = 0;
	unsigned long long num = strtoull(digits, NULL, 10);
	if (errno != 0)
		abort();
	const char *suf = s + nd;
	if (*suf) {
		const char *p = strchr("KMGT", toupper((unsigned char)*suf));
		if (p == NULL || *p == '\0')
			abort();
		shift = 10 * (unsigned)(p - "KMGT" + 1);
		suf++;
		if (*suf && strcasecmp(suf, "B") != 0 &&
		    strcasecmp(suf, "iB") != 0)
			abort();
	}
	if (shift && num > (UINT64_MAX >> shift))
		abort();
	if (v != (uint64_t)num << shift)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *buf = malloc(n + 1);
	char *argv[34];
	int argc;
	struct rc_opts o;
	char why[256];
	const char *w;
	uint64_t v;

	if (buf == NULL)
		return 0;
	memcpy(buf, d, n);
	buf[n] = '\0';
	argc = split_argv(buf, n, argv, 33);
	if (rc_options_parse(&o, argc, argv, why, sizeof why) == RC_OK &&
	    !o.help && !o.version) {
		/* a parsed run always has a sane ring */
		if (o.chunk_size < RC_MIN_CHUNK || o.memory < o.chunk_size ||
		    o.memory % o.chunk_size != 0 || o.connections == 0 ||
		    (o.url == NULL && o.input_file == NULL))
			abort();
		/* a digest to check is whole lowercase hex of its length,
		 * and only ever of a whole file */
		if (o.digest != RC_DIGEST_NONE) {
			size_t hl = o.digest == RC_DIGEST_SHA256 ? 64 : 128;
			if (strlen(o.digest_hex) != hl ||
			    strspn(o.digest_hex, "0123456789abcdef") != hl ||
			    o.start != RC_START_ZERO || o.has_range ||
			    o.shard_n)
				abort();
		}
	}
	for (int i = 1; i < argc; i++) {
		struct rc_opts r = {0};
		bool next;
		(void)rc_parse_u64(argv[i], UINT64_MAX, &v, &w);
		if (rc_parse_size(argv[i], &v, &w) == RC_OK)
			check_size(argv[i], v);
		if (rc_parse_range(argv[i], &r, &w) == RC_OK &&
		    !r.range_suffix && r.range_last < r.range_first)
			abort();
		(void)rc_url_ok(argv[i], &w);
		(void)rc_options_classify(argv[i], &next);
	}
	free(buf);
	return 0;
}
