/* Replays fuzz inputs without libFuzzer: runs LLVMFuzzerTestOneInput on
 * every file in the directories given, so `make check` re-checks the seed
 * corpora and every past finding (regressions/) with the normal build.
 * A crash is a failure; so is a directory that is missing, unreadable or
 * holds no input, and an input that cannot be read whole: a replay that
 * ran nothing must not pass. (tests/run names a regressions directory
 * only when it holds inputs.) Prints "N passed, N failed"; exits 1 on any
 * failure. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

/* Replays every input in dir; returns how many, or -1 after saying why
 * the directory cannot be replayed. */
static int replay_dir(const char *dir, int *failed)
{
	static uint8_t buf[1 << 20];
	DIR *dp = opendir(dir);
	struct dirent *e;
	int runs = 0, before = *failed;

	if (dp == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(dp)) != NULL) {
		char path[4096];
		if (e->d_name[0] == '.')
			continue; /* ., .. and .gitkeep */
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		if (f == NULL) {
			fprintf(stderr, "replay: %s: %s\n", path,
				strerror(errno));
			(*failed)++;
			continue;
		}
		size_t n = fread(buf, 1, sizeof buf, f);
		int bad = ferror(f) || fgetc(f) != EOF;
		fclose(f);
		if (bad) {
			fprintf(stderr,
				"replay: %s: unreadable or over %zu "
				"bytes\n",
				path, sizeof buf);
			(*failed)++;
			continue;
		}
		LLVMFuzzerTestOneInput(buf, n);
		runs++;
	}
	closedir(dp);
	if (runs == 0 && *failed == before) {
		fprintf(stderr, "replay: %s holds no input\n", dir);
		return -1;
	}
	return runs;
}

int main(int argc, char **argv)
{
	int runs = 0, failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR...\n", argv[0]);
		failed++;
	}
	for (int i = 1; i < argc; i++) {
		int n = replay_dir(argv[i], &failed);
		if (n < 0)
			failed++;
		else
			runs += n;
	}
	printf("%d passed, %d failed\n", runs, failed);
	return failed != 0;
}
