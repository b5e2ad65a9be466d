/* Archive path cleaning and symlink containment for -x. */
#include <string.h>

#include "harness.h"
#include "sink_unpack.h"

static const char *clean(const char *in, unsigned strip, char *out)
{
	bool skip;
	const char *why = rc_unpack_clean_path(in, strip, out, 256, &skip);
	if (why)
		return why;
	return skip ? "(skip)" : NULL;
}

int main(void)
{
	char out[256];

	CHECK(clean("a/b/c", 0, out) == NULL && strcmp(out, "a/b/c") == 0);
	CHECK(clean("./a//b/./c/", 0, out) == NULL &&
	      strcmp(out, "a/b/c") == 0);
	CHECK(clean("a\\b\\c", 0, out) == NULL && strcmp(out, "a/b/c") == 0);
	CHECK(clean("top/sub/f", 1, out) == NULL && strcmp(out, "sub/f") == 0);
	CHECK(clean("./top/f", 1, out) == NULL && strcmp(out, "f") == 0);
	CHECK(strcmp(clean("top/", 1, out), "(skip)") == 0);
	CHECK(strcmp(clean(".", 0, out), "(skip)") == 0);
	CHECK(strcmp(clean("/etc/passwd", 0, out), "absolute path") == 0);
	CHECK(strcmp(clean("\\\\?\\c:\\x", 0, out), "absolute path") == 0);
	CHECK(strcmp(clean("//server/share", 0, out), "absolute path") == 0);
	CHECK(strcmp(clean("c:/x", 0, out), "drive letter") == 0);
	CHECK(strcmp(clean("D:..\\x", 0, out), "drive letter") == 0);
	CHECK(strcmp(clean("../x", 0, out), "'..' in the path") == 0);
	CHECK(strcmp(clean("a/../../x", 0, out), "'..' in the path") == 0);
	CHECK(strcmp(clean("a\\..\\x", 0, out), "'..' in the path") == 0);
	CHECK(strcmp(clean("top/../x", 1, out), "'..' in the path") == 0);
	CHECK(strcmp(clean("", 0, out), "empty path") == 0);
	/* found by fuzzing: stripping brings a drive letter to the front */
	CHECK(strcmp(clean("vop/S:ub'x", 1, out), "drive letter") == 0);
	CHECK(clean("..a/b..", 0, out) == NULL && strcmp(out, "..a/b..") == 0);

	CHECK(rc_unpack_link_inside("a/link", "b"));
	CHECK(rc_unpack_link_inside("a/link", "../b"));
	CHECK(rc_unpack_link_inside("link", "sub/deep/data.bin"));
	CHECK(rc_unpack_link_inside("a/b/l", "../../c"));
	CHECK(!rc_unpack_link_inside("link", ".."));
	CHECK(!rc_unpack_link_inside("link", "sub/.."));
	CHECK(!rc_unpack_link_inside("link", "."));
	CHECK(!rc_unpack_link_inside("a/link", "../../outside"));
	CHECK(!rc_unpack_link_inside("link", "/etc/passwd"));
	CHECK(!rc_unpack_link_inside("link", "c:/x"));
	CHECK(!rc_unpack_link_inside("link", "..\\x"));
	CHECK(!rc_unpack_link_inside("link", ""));
	CHECK(!rc_unpack_link_inside("a/l", "../../a/x"));
	return DONE();
}
