/* The escaper for outside text: ls -b style, reversible, cut cleanly. */
#include <string.h>

#include "escape.h"
#include "harness.h"
#include "resume.h"

/* A resume command's word: plain, '...' or $'...' with octal escapes. */
static int quoted(const char *in, const char *want)
{
	char out[256];
	size_t o = 0;
	out[0] = '\0';
	rc_shell_quote(in, out, sizeof out, &o);
	if (strcmp(out, want) != 0)
		fprintf(stderr, "quoted to [%s], wanted [%s]\n", out, want);
	return strcmp(out, want) == 0;
}

static int same(const char *in, size_t n, const char *want)
{
	char out[256];
	rc_escape_mem(in, n, out, sizeof out);
	if (strcmp(out, want) != 0)
		fprintf(stderr, "escaped to [%s], wanted [%s]\n", out, want);
	return strcmp(out, want) == 0;
}

#define S(lit, want) same(lit, sizeof lit - 1, want)

int main(void)
{
	char out[16];

	CHECK(S("plain/name.txt", "plain/name.txt"));
	CHECK(S("a b", "a b"));
	CHECK(S("back\\slash", "back\\\\slash"));
	CHECK(S("esc\033[31m", "esc\\033[31m"));
	CHECK(S("bel\a cr\r lf\n tab\t", "bel\\a cr\\r lf\\n tab\\t"));
	CHECK(S("\b\v\f", "\\b\\v\\f"));
	CHECK(S("nul\0x", "nul\\000x"));
	CHECK(S("del\177", "del\\177"));
	/* C1: a raw CSI byte is invalid UTF-8; encoded U+009B is C1 */
	CHECK(S("csi\233", "csi\\233"));
	CHECK(S("csi\302\233", "csi\\302\\233"));
	/* valid UTF-8 passes, invalid is escaped byte by byte */
	CHECK(S("caf\303\251 \342\202\254 \360\237\230\200",
		"caf\303\251 \342\202\254 \360\237\230\200"));
	CHECK(S("\303", "\\303"));
	CHECK(S("\303(", "\\303("));
	CHECK(S("\300\257", "\\300\\257"));	     /* overlong '/' */
	CHECK(S("\340\200\257", "\\340\\200\\257")); /* overlong */
	CHECK(S("\355\240\200", "\\355\\240\\200")); /* surrogate */
	CHECK(S("\364\220\200\200", "\\364\\220\\200\\200"));
	CHECK(S("\377\376", "\\377\\376"));
	/* U+00A0 and U+0100 are printable */
	CHECK(S("\302\240\304\200", "\302\240\304\200"));
	/* cut before an escape or a character, never inside one */
	rc_escape("abcdefghijklmn\033", out, sizeof out);
	CHECK(strcmp(out, "abcdefghijklmn") == 0);
	rc_escape("abcdefghijklm\033", out, sizeof out);
	CHECK(strcmp(out, "abcdefghijklm") == 0);
	rc_escape("abcdefghijk\033", out, sizeof out);
	CHECK(strcmp(out, "abcdefghijk\\033") == 0);
	rc_escape("abcdefghijklm\342\202\254", out, sizeof out);
	CHECK(strcmp(out, "abcdefghijklm") == 0);
	rc_escape(NULL, out, sizeof out);
	CHECK(strcmp(out, "") == 0);
	CHECK(rc_escape("x", out, 0) == out);
	/* the logger's variant keeps backslashes, escapes the rest */
	rc_escape_controls("a\\033\033", out, sizeof out);
	CHECK(strcmp(out, "a\\033\\033") == 0);
	/* a word with bytes a terminal must not see raw stays runnable */
	CHECK(quoted("plain-1.0", "plain-1.0"));
	CHECK(quoted("\"v1\"", "'\"v1\"'"));
	CHECK(quoted("\"v\233\377\"", "$'\"v\\233\\377\"'"));
	CHECK(quoted("a'\033\\b", "$'a\\047\\033\\134b'"));
	CHECK(quoted("caf\303\251 x", "'caf\303\251 x'"));
	return DONE();
}
