/* The link resolver: real trees with link chains, judged by openat2 and
 * by the user-space walk, which must agree. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beneath.h"
#include "harness.h"

static int dir;

/* Both resolvers' verdict; a disagreement fails the check. */
static const char *judge(const char *path, unsigned flags)
{
	rc_beneath_no_openat2 = true;
	const char *walk = rc_beneath_check(dir, path, flags);
	rc_beneath_no_openat2 = false;
	const char *kernel = rc_beneath_check(dir, path, flags);
	if ((walk == NULL) != (kernel == NULL))
		fprintf(stderr, "%s: walk says %s, openat2 says %s\n", path,
			walk ? walk : "inside", kernel ? kernel : "inside");
	CHECK((walk == NULL) == (kernel == NULL));
	return kernel;
}

#define IN(p) CHECK(judge(p, 0) == NULL)
#define OUT(p) CHECK(judge(p, 0) != NULL)

int main(void)
{
	char tmpl[] = "/tmp/t_beneath.XXXXXX";
	char top[64], cmd[128];

	CHECK(mkdtemp(tmpl) != NULL);
	snprintf(top, sizeof top, "%s/dir", tmpl);
	CHECK(mkdir(top, 0755) == 0);
	dir = open(top, O_PATH | O_DIRECTORY);
	CHECK(dir >= 0);
	CHECK(mkdirat(dir, "a", 0755) == 0);
	CHECK(mkdirat(dir, "a/b", 0755) == 0);
	CHECK(symlinkat("..", dir, "a/b/up") == 0);
	CHECK(symlinkat("/etc", dir, "abs") == 0);
	CHECK(symlinkat("a/b", dir, "ab") == 0);
	CHECK(symlinkat("loop2", dir, "loop1") == 0);
	CHECK(symlinkat("loop1", dir, "loop2") == 0);
	CHECK(symlinkat("nothere", dir, "dangling") == 0);
	int f = openat(dir, "file", O_CREAT | O_WRONLY, 0644);
	CHECK(f >= 0);
	close(f);

	IN("");
	IN(".");
	IN("a/b/c");
	IN("a/b/up");
	IN("a/b/up/..");     /* DIR itself */
	OUT("a/b/up/../.."); /* the chain from the issue */
	OUT("a/b/up/../../OUTSIDE");
	IN("a/b/up/../a/b/up/x");
	OUT("..");
	OUT("a/../../x");
	OUT("/etc/passwd");
	OUT("abs");
	OUT("abs/passwd");
	IN("ab/up/b");
	OUT("ab/up/../..");
	IN("ab/../../a"); /* ab is a/b, so ab/../.. is DIR */
	OUT("ab/../../..");
	OUT("loop1");
	IN("missing/x/y");
	OUT("missing/../x");
	OUT("missing/x/../../..");
	IN("dangling");
	IN("dangling/more");
	OUT("dangling/../..");
	IN("file");
	IN("file/");
	OUT("file/..");
	IN("file/x");
	/* hard link targets: no symlink on the way at all */
	CHECK(judge("a/b/c", RC_BENEATH_NO_SYMLINKS) == NULL);
	CHECK(judge("ab", RC_BENEATH_NO_SYMLINKS) != NULL);
	CHECK(judge("a/b/up/x", RC_BENEATH_NO_SYMLINKS) != NULL);
	CHECK(judge("abs", RC_BENEATH_NO_SYMLINKS) != NULL);
	/* a link's text is read relative to its own directory */
	CHECK(symlinkat("up/../../..", dir, "a/b/esc") == 0);
	OUT("a/b/esc");
	OUT("a/b/esc/x");

	close(dir);
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpl);
	CHECK(system(cmd) == 0);
	return DONE();
}
