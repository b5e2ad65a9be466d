/* The -i list: comments, blanks, CRLF, bad lines named by number. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "inputs.h"

static enum rc_err parse(const char *text, struct rc_inputs *in, char *why)
{
	size_t n = strlen(text);
	char *t = malloc(n + 1);

	memcpy(t, text, n + 1);
	return rc_inputs_parse(t, n, "list", in, why, 256);
}

int main(void)
{
	struct rc_inputs in;
	char why[256];

	CHECK(parse("# head\n\n  http://h/a  \r\n\t#x\nhttp://h/b\n\n"
		    "https://h/c",
		    &in, why) == RC_OK &&
	      in.n == 3 && strcmp(in.urls[0], "http://h/a") == 0 &&
	      strcmp(in.urls[1], "http://h/b") == 0 &&
	      strcmp(in.urls[2], "https://h/c") == 0);
	rc_inputs_free(&in);
	CHECK(parse("", &in, why) == RC_OK && in.n == 0);
	rc_inputs_free(&in);
	CHECK(parse("\n\n# only\n", &in, why) == RC_OK && in.n == 0);
	rc_inputs_free(&in);
	/* A bad line: its number, never its text. */
	CHECK(parse("http://h/a\n#c\nftp://u:SECRET@h/x\n", &in, why) ==
		  RC_E_USAGE &&
	      strstr(why, "list, line 3: bad URL") != NULL &&
	      strstr(why, "SECRET") == NULL);
	rc_inputs_free(&in);
	CHECK(parse("http://h/a b\n", &in, why) == RC_E_USAGE);
	rc_inputs_free(&in);
	/* A # inside a URL is its fragment, not a comment. */
	CHECK(parse("http://h/a#frag\n", &in, why) == RC_OK && in.n == 1 &&
	      strcmp(in.urls[0], "http://h/a#frag") == 0);
	rc_inputs_free(&in);
	/* Missing file. */
	CHECK(rc_inputs_read("/nonexistent/list", &in, why, sizeof why) ==
		  RC_E_USAGE &&
	      strstr(why, "/nonexistent/list: No such file") != NULL);
	rc_inputs_free(&in);
	return DONE();
}
