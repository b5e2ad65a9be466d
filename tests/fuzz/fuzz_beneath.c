/* Fuzz target: the link resolver. The input is a script, one command per
 * line, run in a fresh directory DIR beside a directory OUT:
 *   d PATH          make a directory
 *   s PATH\tTARGET  make a symlink, only if the resolver lets it stay
 *                   inside (as -x does)
 *   f PATH          make a file
 *   q PATH          ask about a path
 * Every answer of openat2 and of the user-space walk must agree, and a
 * path judged inside that exists must really resolve inside DIR. */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beneath.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static char top[64], dir[96], real[PATH_MAX];

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	remove(p);
	return 0;
}

/* The scratch tree goes when the process ends. */
static void cleanup(void)
{
	nftw(top, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static bool ordinary(const char *why)
{
	/* Loops and over-long paths may be counted differently. */
	return why == NULL || strstr(why, "levels") == NULL;
}

/* Both resolvers on path; aborts when they disagree. */
static const char *both(int fd, const char *path, unsigned flags)
{
	rc_beneath_no_openat2 = true;
	const char *walk = rc_beneath_check(fd, path, flags);
	rc_beneath_no_openat2 = false;
	const char *kern = rc_beneath_check(fd, path, flags);
	if (ordinary(walk) && ordinary(kern) &&
	    (walk == NULL) != (kern == NULL))
		abort();
	return kern;
}

/* A path judged inside that exists resolves inside DIR. */
static void really_inside(const char *path)
{
	char full[8192], res[PATH_MAX];

	snprintf(full, sizeof full, "%s/%s", dir, path);
	if (realpath(full, res) == NULL)
		return;
	size_t rl = strlen(real);
	if (strncmp(res, real, rl) != 0 || (res[rl] != '\0' && res[rl] != '/'))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *buf = malloc(n + 1);
	int ops = 0;

	if (buf == NULL)
		return 0;
	if (top[0] == '\0') {
		snprintf(top, sizeof top, "/tmp/fuzz_beneath.XXXXXX");
		if (mkdtemp(top) == NULL)
			abort();
		snprintf(dir, sizeof dir, "%s/in/DIR", top);
		atexit(cleanup);
	}
	nftw(top, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	char out[128];
	snprintf(out, sizeof out, "%s", top);
	mkdir(out, 0700);
	snprintf(out, sizeof out, "%s/in", top);
	mkdir(out, 0700);
	snprintf(out, sizeof out, "%s/in/OUT", top);
	mkdir(out, 0700);
	mkdir(dir, 0700);
	if (realpath(dir, real) == NULL)
		abort();
	int fd = open(dir, O_PATH | O_DIRECTORY);
	if (fd < 0)
		abort();
	memcpy(buf, d, n);
	buf[n] = '\0';
	for (char *line = buf, *next; line && ops < 64; line = next, ops++) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strlen(line) < 3 || line[1] != ' ')
			continue;
		char *path = line + 2;
		if (line[0] == 'd') {
			mkdirat(fd, path, 0700);
		} else if (line[0] == 'f') {
			int f = openat(fd, path,
				       O_CREAT | O_WRONLY | O_NOFOLLOW, 0600);
			if (f >= 0)
				close(f);
		} else if (line[0] == 's') {
			char *tab = strchr(path, '\t');
			if (tab == NULL)
				continue;
			*tab = '\0';
			const char *target = tab + 1;
			char full[8192];
			const char *slash = strrchr(path, '/');
			int dl = slash ? (int)(slash - path) : 0;
			snprintf(full, sizeof full, "%.*s%s%s", dl, path,
				 dl ? "/" : "", target);
			/* as -x: the link's own directory must be inside
			 * without symlinks, its target must resolve inside */
			char pdir[4096];
			snprintf(pdir, sizeof pdir, "%.*s", dl, path);
			if (both(fd, pdir, RC_BENEATH_NO_SYMLINKS) == NULL &&
			    both(fd, full, 0) == NULL &&
			    symlinkat(target, fd, path) == 0)
				really_inside(path);
		} else if (line[0] == 'q') {
			if (both(fd, path, 0) == NULL)
				really_inside(path);
			both(fd, path, RC_BENEATH_NO_SYMLINKS);
		}
	}
	close(fd);
	free(buf);
	return 0;
}
