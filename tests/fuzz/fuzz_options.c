/* Fuzz target: the input split at NUL bytes becomes argv for
 * rc_options_parse; each piece also goes through the number, size, range
 * and URL checks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "options.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

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
		    o.url == NULL)
			abort();
	}
	for (int i = 1; i < argc; i++) {
		struct rc_opts r = {0};
		bool next;
		(void)rc_parse_u64(argv[i], UINT64_MAX, &v, &w);
		if (rc_parse_size(argv[i], &v, &w) == RC_OK && v != 0 && v < 1)
			abort();
		if (rc_parse_range(argv[i], &r, &w) == RC_OK &&
		    !r.range_suffix && r.range_last < r.range_first)
			abort();
		(void)rc_url_ok(argv[i], &w);
		(void)rc_options_classify(argv[i], &next);
	}
	free(buf);
	return 0;
}
