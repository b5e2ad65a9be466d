/* The resume command and the redaction it relies on. */
#include <string.h>

#include "harness.h"
#include "http.h"
#include "log.h"
#include "options.h"
#include "resume.h"

static char out[4096];

static const char *cmd(int argc, char **argv, uint64_t next, uint64_t last,
		       const char *etag)
{
	rc_resume_command(argc, argv, next, last, etag, out, sizeof out);
	return out;
}

int main(void)
{
	char *a1[] = {"rangecat", "-n", "4", "http://h/f", NULL};
	CHECK(strcmp(cmd(4, a1, 100, RC_UNKNOWN, "\"v1\""),
		     "rangecat -C 100 --if-match '\"v1\"' -n 4 http://h/f") ==
	      0);
	char *a2[] = {"rangecat",	  "-C",		"5",
		      "--if-match=\"x\"", "http://h/f", NULL};
	CHECK(strcmp(cmd(5, a2, 900, RC_UNKNOWN, NULL),
		     "rangecat -C 900 http://h/f") == 0);
	char *a3[] = {"rangecat", "-r", "10-99", "-q", "http://h/a b'c", NULL};
	CHECK(strcmp(cmd(5, a3, 50, 99, NULL),
		     "rangecat -r 50-99 -q 'http://h/a b'\\''c'") == 0);
	char *a4[] = {"rangecat",
		      "-H",
		      "Authorization: Bearer SECRET1",
		      "--header=X-Api-Key: SECRET2",
		      "-HAccept: x/y",
		      "https://u:SECRET3@h/f?X-Amz-Signature=SECRET4&a=1",
		      NULL};
	cmd(6, a4, 7, RC_UNKNOWN, NULL);
	CHECK(strstr(out, "SECRET") == NULL);
	CHECK(strstr(out, "-H 'Authorization: [redacted]'") != NULL);
	CHECK(strstr(out, "-H 'X-Api-Key: [redacted]'") != NULL);
	CHECK(strstr(out, "-H 'Accept: x/y'") != NULL);
	CHECK(strstr(out, "a=1") != NULL);
	char *a5[] = {"rangecat", "-C5", "--range", "1-2", "http://h/f", NULL};
	CHECK(strcmp(cmd(5, a5, 8, RC_UNKNOWN, NULL),
		     "rangecat -C 8 http://h/f") == 0);

	/* A whole file's digest cannot check a continuation: left out,
	 * in every spelling. */
	char *a8[] = {"rangecat",   "--sha256", "ab", "--sha512=cd",
		      "http://h/f", "-q",	NULL};
	CHECK(strcmp(cmd(6, a8, 8, RC_UNKNOWN, NULL),
		     "rangecat -C 8 http://h/f -q") == 0);

	char *a6[] = {"rangecat", "http://h/f", "--header", NULL};
	CHECK(strcmp(cmd(3, a6, 1, RC_UNKNOWN, NULL),
		     "rangecat -C 1 http://h/f") == 0);
	char *a7[] = {"rangecat", "http://h/f", "-H", NULL};
	CHECK(strcmp(cmd(3, a7, 1, RC_UNKNOWN, NULL),
		     "rangecat -C 1 http://h/f") == 0);

	char red[256];
	rc_log_redact_header("Cookie: a=b", red, sizeof red);
	CHECK(strcmp(red, "Cookie: [redacted]") == 0);
	rc_log_redact_header("Range: bytes=0-1", red, sizeof red);
	CHECK(strcmp(red, "Range: bytes=0-1") == 0);
	rc_log_redact_url("http://h/p?token=abc&x=1#f", red, sizeof red);
	CHECK(strcmp(red, "http://h/p?token=[redacted]&x=1#f") == 0);
	rc_log_redact_url("https://user:pw@h:8/p", red, sizeof red);
	CHECK(strcmp(red, "https://[redacted]@h:8/p") == 0);
	rc_log_redact_url("http://h/p?sig=1&Signature=2", red, sizeof red);
	CHECK(strcmp(red, "http://h/p?sig=[redacted]&Signature=[redacted]") ==
	      0);
	rc_log_redact_url("http://h/plain", red, sizeof red);
	CHECK(strcmp(red, "http://h/plain") == 0);
	/* Several URLs: the operands and -i go, the URLs left come at the
	 * end (redacted), with -C only for the one that was cut. */
	char *a9[] = {"rangecat",	 "-n",	       "4",
		      "http://h/a",	 "-i",	       "list.txt",
		      "--input-file=l2", "http://h/b", NULL};
	const char *left[] = {"http://u:SECRET5@h/c", "http://h/d e"};
	rc_resume_command_urls(8, a9, 77, "\"e\"", left, 1, out, sizeof out);
	CHECK(strcmp(out, "rangecat -C 77 --if-match '\"e\"' -n 4 "
			  "'http://[redacted]@h/c'") == 0);
	rc_resume_command_urls(8, a9, RC_UNKNOWN, NULL, left, 2, out,
			       sizeof out);
	CHECK(strcmp(out, "rangecat -n 4 'http://[redacted]@h/c' "
			  "'http://h/d e'") == 0);

	/* Long options abbreviated, as getopt_long takes them: each is
	 * known by what it begins, its value goes with it, and a header
	 * is redacted however its option was spelled. */
	char *b1[] = {"rangecat",
		      "--cont",
		      "0",
		      "--rang",
		      "1-2",
		      "--head",
		      "Authorization: Bearer SECRET6",
		      "--sha2",
		      "ab",
		      "--head=X-Key: SECRET7",
		      "http://h/f",
		      NULL};
	cmd(11, b1, 9, RC_UNKNOWN, NULL);
	CHECK(strcmp(out, "rangecat -C 9 --head 'Authorization: [redacted]' "
			  "-H 'X-Key: [redacted]' http://h/f") == 0);
	/* An ambiguous prefix (--re: --range, --retries, ...) was refused
	 * by the parser; an exact name wins over the longer ones it
	 * begins. */
	bool next_too;
	CHECK(rc_options_classify("--re", &next_too) == '?');
	CHECK(rc_options_classify("--range", &next_too) == 'r' && next_too);
	CHECK(rc_options_classify("--ra=1-2", &next_too) == 'r' && !next_too);

	/* A word longer than any fixed buffer is kept whole. */
	static char url[20000], hdr[12000], big[65536];
	memcpy(url, "http://h/", 9);
	memset(url + 9, 'u', sizeof url - 10);
	memcpy(hdr, "X-Pad: ", 7);
	memset(hdr + 7, 'p', sizeof hdr - 11);
	memcpy(hdr + sizeof hdr - 4, "END", 4);
	char *b2[] = {"rangecat", "-H", hdr, url, NULL};
	rc_resume_command(4, b2, 5, RC_UNKNOWN, NULL, big, sizeof big);
	CHECK(strstr(big, url) != NULL && strstr(big, hdr) != NULL);
	/* Redaction lengthens a word: 40 empty signatures become 400
	 * bytes longer, and what follows them is kept. */
	static char sigs[512];
	strcpy(sigs, "http://h/q?");
	for (int i = 0; i < 40; i++)
		strcat(sigs, "sig=&");
	strcat(sigs, "z=END");
	char *b3[] = {"rangecat", sigs, NULL};
	rc_resume_command(2, b3, 5, RC_UNKNOWN, NULL, big, sizeof big);
	CHECK(strstr(big, "&z=END'") != NULL);
	return DONE();
}
