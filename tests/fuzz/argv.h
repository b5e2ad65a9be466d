/* Shared by the fuzz targets: the input, split at NUL bytes, as argv. */
#ifndef RC_FUZZ_ARGV_H
#define RC_FUZZ_ARGV_H

#include <string.h>

/* buf holds n input bytes plus a NUL; fills argv (room for max + 1,
 * argv[0] = "rangecat") and returns argc. */
static int split_argv(char *buf, size_t n, char **argv, int max)
{
	int argc = 1;

	argv[0] = "rangecat";
	for (char *p = buf; p <= buf + n && argc < max; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	return argc;
}

#endif
