/* Fuzz target: archive path cleaning and symlink containment (-x). The
 * input is "path\0target"; a path accepted as clean must be relative and
 * free of ".." components and drive letters, whatever it was. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sink_unpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *buf = malloc(n + 2);
	char out[4096];
	bool skip;

	if (buf == NULL)
		return 0;
	memcpy(buf, d, n);
	buf[n] = buf[n + 1] = '\0';
	const char *target = buf + strlen(buf) + 1;
	unsigned strip = n ? d[0] % 3 : 0;
	if (rc_unpack_clean_path(buf, strip, out, sizeof out, &skip) == NULL &&
	    !skip) {
		bool letter = (out[0] >= 'a' && out[0] <= 'z') ||
			      (out[0] >= 'A' && out[0] <= 'Z');
		if (out[0] == '/' || strchr(out, '\\') ||
		    (letter && out[1] == ':'))
			abort();
		for (const char *p = out; *p;) {
			size_t l = strcspn(p, "/");
			if ((l == 2 && p[0] == '.' && p[1] == '.') || l == 0)
				abort();
			p += l + (p[l] == '/');
		}
		/* an absolute target is never inside */
		if (rc_unpack_link_inside(out, target) && target[0] == '/')
			abort();
	}
	free(buf);
	return 0;
}
