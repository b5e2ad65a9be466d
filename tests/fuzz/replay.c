/* Replays fuzz inputs without libFuzzer: runs LLVMFuzzerTestOneInput on
 * every file in the directories given, so `make check` re-checks the seed
 * corpora and every past finding (regressions/) with the normal build. A
 * crash is the failure; otherwise it prints "N passed, 0 failed". */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int main(int argc, char **argv)
{
	int runs = 0;

	for (int i = 1; i < argc; i++) {
		DIR *dir = opendir(argv[i]);
		struct dirent *e;
		if (dir == NULL)
			continue;
		while ((e = readdir(dir)) != NULL) {
			char path[4096];
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", argv[i],
				 e->d_name);
			FILE *f = fopen(path, "rb");
			if (f == NULL)
				continue;
			static uint8_t buf[1 << 20];
			size_t n = fread(buf, 1, sizeof buf, f);
			fclose(f);
			LLVMFuzzerTestOneInput(buf, n);
			runs++;
		}
		closedir(dir);
	}
	printf("%d passed, 0 failed\n", runs);
	return 0;
}
