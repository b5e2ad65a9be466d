/* Number, size and range parsing; option conflicts; URL checks. */
#include <string.h>

#include "harness.h"
#include "options.h"

/* The message of the last parse, so a refusal can be checked for its
 * reason and not just its status. */
static char last_why[256];

static enum rc_err parse(struct rc_opts *o, const char *a1, const char *a2,
			 const char *a3, const char *a4)
{
	char *argv[6] = {"rangecat", (char *)a1, (char *)a2,
			 (char *)a3, (char *)a4, NULL};
	int argc = 1;

	last_why[0] = '\0';
	while (argc < 5 && argv[argc])
		argc++;
	return rc_options_parse(o, argc, argv, last_why, sizeof last_why);
}

/* A container's limit lowers the default buffer, never a given one. */
static void default_memory(void)
{
	struct rc_opts o;
	const uint64_t M = 1u << 20;

	CHECK(parse(&o, "http://h/x", NULL, NULL, NULL) == RC_OK);
	CHECK(o.memory == 64 * M && o.chunk_size == 4 * M);
	rc_options_default_memory(&o, 12 * M);
	CHECK(o.memory == 12 * M && o.chunk_size == 512u << 10);
	CHECK(o.memory / o.chunk_size >= 2 * o.connections);
	rc_options_default_memory(&o, 1u << 30); /* higher: no change */
	CHECK(o.memory == 12 * M);
	CHECK(parse(&o, "--memory", "256M", "http://h/x", NULL) == RC_OK);
	rc_options_default_memory(&o, 12 * M);
	CHECK(o.memory == 256 * M);
	CHECK(parse(&o, "--chunk-size", "8M", "http://h/x", NULL) == RC_OK);
	rc_options_default_memory(&o, 12 * M);
	CHECK(o.chunk_size == 8 * M && o.memory == 16 * M); /* two slots */
	CHECK(parse(&o, "http://h/x", NULL, NULL, NULL) == RC_OK);
	rc_options_default_memory(&o, 0);
	CHECK(o.memory == 64u << 10 && o.chunk_size == 32u << 10);
}

/* A long option getopt_long refused says which way: a value to a flag
 * printed a control character for its name ("unknown option -\n"). */
static void long_option_errors(void)
{
	struct rc_opts o;

	CHECK(parse(&o, "--stats=1", "http://h/x", NULL, NULL) == RC_E_USAGE);
	CHECK(strcmp(last_why, "option --stats takes no value") == 0);
	CHECK(parse(&o, "--quiet=yes", "http://h/x", NULL, NULL) == RC_E_USAGE);
	CHECK(strcmp(last_why, "option --quiet takes no value") == 0);
	CHECK(parse(&o, "--conn", "4", "http://h/x", NULL) == RC_E_USAGE);
	CHECK(strcmp(last_why, "ambiguous option --conn") == 0);
	CHECK(parse(&o, "--nope=secret", "http://h/x", NULL, NULL) ==
	      RC_E_USAGE);
	CHECK(strcmp(last_why, "unknown option --nope") == 0);
	CHECK(parse(&o, "-Z", "http://h/x", NULL, NULL) == RC_E_USAGE);
	CHECK(strcmp(last_why, "unknown option -Z") == 0);
	CHECK(parse(&o, "--connections", "4", "http://h/x", NULL) == RC_OK);
	/* --if-match: a strong tag in quotes, or exit 1 before any
	 * request (unquoted, weak and "*" all ended in a 412, exit 4). */
	CHECK(parse(&o, "--if-match", "5e0be100-6", "http://h/x", NULL) ==
	      RC_E_USAGE);
	CHECK(strstr(last_why, "expected a strong ETag in double quotes"));
	CHECK(parse(&o, "--if-match", "*", "http://h/x", NULL) == RC_E_USAGE);
	CHECK(parse(&o, "--if-match", "W/\"a\"", "http://h/x", NULL) ==
	      RC_E_USAGE);
	CHECK(parse(&o, "--if-match", "\"a\"", "http://h/x", NULL) == RC_OK);
}

/* -x, --member and -i name one thing: a second one silently won. */
static void given_twice(void)
{
	struct rc_opts o;
	char *argv[] = {"rangecat", "--member",	  "a", "--member",
			"b",	    "http://h/x", NULL};

	CHECK(rc_options_parse(&o, 6, argv, last_why, sizeof last_why) ==
	      RC_E_USAGE);
	CHECK(strstr(last_why, "--member given twice"));
	argv[1] = argv[3] = "-x";
	CHECK(rc_options_parse(&o, 6, argv, last_why, sizeof last_why) ==
	      RC_E_USAGE);
	CHECK(strstr(last_why, "--extract given twice"));
	argv[1] = argv[3] = "-i";
	CHECK(rc_options_parse(&o, 6, argv, last_why, sizeof last_why) ==
	      RC_E_USAGE);
	CHECK(strstr(last_why, "--input-file given twice"));
	argv[4] = "a"; /* the same one again is no conflict */
	CHECK(rc_options_parse(&o, 6, argv, last_why, sizeof last_why) ==
	      RC_OK);
}

/* A small --memory holds two chunks for each URL, even under 64K each:
 * with one, nothing runs beside the head to judge it slow by. */
static void small_memory(void)
{
	struct rc_opts o;

	CHECK(parse(&o, "--memory", "64K", "http://h/x", NULL) == RC_OK);
	CHECK(o.memory == 64u << 10 && o.chunk_size == 32u << 10);
	CHECK(parse(&o, "--memory", "100K", "http://h/x", NULL) == RC_OK);
	CHECK(o.chunk_size == 48u << 10 && o.memory == 96u << 10);
	CHECK(parse(&o, "--memory", "128K", "http://h/x", NULL) == RC_OK);
	CHECK(o.chunk_size == 64u << 10 && o.memory == 128u << 10);
	CHECK(parse(&o, "--memory", "64K", "http://h/x", "http://h/y") ==
	      RC_OK);
	CHECK(o.chunk_size == 16u << 10 && o.memory == 64u << 10);
}

static void digest_options(void)
{
	struct rc_opts o;
	const char *h64 = "0123456789abcdefABCDEF0123456789abcdef0123456789"
			  "abcdef0123456789";
	char h128[129];

	memset(h128, 'a', 128);
	h128[128] = '\0';
	CHECK(parse(&o, "--sha256", h64, "http://h/x", NULL) == RC_OK &&
	      o.digest == RC_DIGEST_SHA256 &&
	      strcmp(o.digest_hex, "0123456789abcdefabcdef0123456789abcdef"
				   "0123456789abcdef0123456789") == 0);
	CHECK(parse(&o, "--sha512", h128, "http://h/x", NULL) == RC_OK &&
	      o.digest == RC_DIGEST_SHA512 && strlen(o.digest_hex) == 128);
	CHECK(parse(&o, "--sha512", h64, "http://h/x", NULL) == RC_E_USAGE &&
	      strstr(last_why, "--sha512") && strstr(last_why, "128"));
	CHECK(parse(&o, "--sha256", h128, "http://h/x", NULL) == RC_E_USAGE &&
	      strstr(last_why, "--sha256") && strstr(last_why, "64"));
	CHECK(parse(&o, "--sha256", "g123", "http://h/x", NULL) == RC_E_USAGE &&
	      strstr(last_why, "hex"));
	/* Conflicts, each with a URL so only the conflict can refuse. */
	CHECK(parse(&o, "--sha256", h64, "-C5", "http://h/x") == RC_E_USAGE &&
	      strstr(last_why, "--sha256") &&
	      strstr(last_why, "--continue-at"));
	CHECK(parse(&o, "--sha256", h64, "-r0-9", "http://h/x") == RC_E_USAGE &&
	      strstr(last_why, "--sha256") && strstr(last_why, "--range"));
	CHECK(parse(&o, "--sha512", h128, "--shard=1/2", "http://h/x") ==
		  RC_E_USAGE &&
	      strstr(last_why, "--sha512") && strstr(last_why, "--shard"));
	CHECK(parse(&o, "--sha256", h64, "--sha512", h128) == RC_E_USAGE &&
	      strstr(last_why, "--sha256 and --sha512"));
	CHECK(parse(&o, "--sha256", h64, "-d", "http://h/x") == RC_OK &&
	      o.digest == RC_DIGEST_SHA256);

	const char *w;
	char out[129];
	CHECK(rc_parse_digest("", RC_DIGEST_SHA256, out, &w) == RC_E_USAGE);
	CHECK(rc_parse_digest(h64, RC_DIGEST_SHA256, out, &w) == RC_OK);
}

/* A fake environment for rc_options_parse_env. */
static const char *env_conn, *env_range, *env_quiet, *env_sha256;
static const char *env_progress;
static const char *fake_getenv(const char *name)
{
	if (strcmp(name, "RANGECAT_PROGRESS") == 0)
		return env_progress;
	if (strcmp(name, "RANGECAT_CONNECTIONS") == 0)
		return env_conn;
	if (strcmp(name, "RANGECAT_RANGE") == 0)
		return env_range;
	if (strcmp(name, "RANGECAT_QUIET") == 0)
		return env_quiet;
	if (strcmp(name, "RANGECAT_SHA256") == 0)
		return env_sha256;
	return NULL;
}

static enum rc_err parse_env(struct rc_opts *o, const char *a1, const char *a2,
			     char *why)
{
	char *argv[4] = {"rangecat", (char *)a1, (char *)a2, NULL};
	int argc = a2 ? 3 : 2;
	return rc_options_parse_env(o, argc, argv, fake_getenv, why, 256);
}

/*
 * -q and --progress: the command line wins over the environment; of two
 * environment settings quiet wins, without an error; both on the command
 * line conflict, in the flags' names.
 */
static void progress_rules(void)
{
	struct rc_opts o;
	char why[256];

	env_quiet = NULL;
	env_progress = NULL;
	CHECK(parse_env(&o, "http://h/x", NULL, why) == RC_OK &&
	      o.progress == RC_PROGRESS_DEFAULT && !o.quiet);
	env_progress = "auto";
	CHECK(parse_env(&o, "http://h/x", NULL, why) == RC_OK &&
	      o.progress == RC_PROGRESS_AUTO);
	CHECK(parse_env(&o, "--progress", "http://h/x", why) == RC_OK &&
	      o.progress == RC_PROGRESS_BAR);
	env_progress = "line";
	env_quiet = "1";
	CHECK(parse_env(&o, "http://h/x", NULL, why) == RC_OK && o.quiet &&
	      o.progress == RC_PROGRESS_NONE);
	CHECK(parse_env(&o, "--progress=json", "http://h/x", why) == RC_OK &&
	      !o.quiet && o.progress == RC_PROGRESS_JSON);
	env_quiet = NULL;
	CHECK(parse_env(&o, "-q", "http://h/x", why) == RC_OK && o.quiet &&
	      o.progress == RC_PROGRESS_NONE);
	env_progress = "lines";
	CHECK(parse_env(&o, "http://h/x", NULL, why) == RC_E_USAGE &&
	      strstr(why, "RANGECAT_PROGRESS: expected bar, line, json, auto "
			  "or none") &&
	      !strstr(why, "lines"));
	/* A bad variable is refused even when argv would replace it. */
	CHECK(parse_env(&o, "-q", "http://h/x", why) == RC_E_USAGE);
	env_progress = NULL;
	CHECK(parse(&o, "-q", "--progress=line", "http://h/x", NULL) ==
		  RC_E_USAGE &&
	      strcmp(last_why, "--quiet and --progress cannot be combined") ==
		  0);
	CHECK(parse(&o, "-q", "--progress=none", "http://h/x", NULL) == RC_OK);
	CHECK(parse(&o, "--progress=auto", "http://h/x", NULL, NULL) == RC_OK &&
	      o.progress == RC_PROGRESS_AUTO);
	env_quiet = "1";
}

static void env_options(void)
{
	struct rc_opts o;
	char why[256];

	env_conn = "16";
	CHECK(parse_env(&o, "http://h/x", NULL, why) == RC_OK &&
	      o.connections == 16);
	CHECK(parse_env(&o, "-n3", "http://h/x", why) == RC_OK &&
	      o.connections == 3);
	env_conn = "x";
	CHECK(parse_env(&o, "http://h/x", NULL, why) == RC_E_USAGE &&
	      strstr(why, "RANGECAT_CONNECTIONS") && !strstr(why, ": x"));
	env_conn = "";
	env_range = "5-9";
	CHECK(parse_env(&o, "http://h/x", NULL, why) == RC_OK && o.has_range &&
	      o.range_first == 5 && o.connections == 8);
	/* -C on the command line replaces the environment's -r: no
	 * conflict */
	CHECK(parse_env(&o, "-C7", "http://h/x", why) == RC_OK &&
	      !o.has_range && o.offset == 7);
	env_range = NULL;
	env_quiet = "1";
	CHECK(parse_env(&o, "--progress=line", "http://h/x", why) == RC_OK &&
	      !o.quiet && o.progress == RC_PROGRESS_LINE);
	env_quiet = "off";
	CHECK(parse_env(&o, "http://h/x", NULL, why) == RC_OK && !o.quiet);
	progress_rules();
	env_quiet = "sometimes";
	CHECK(parse_env(&o, "http://h/x", NULL, why) == RC_E_USAGE &&
	      strstr(why, "RANGECAT_QUIET"));
	env_quiet = NULL;
	/* The environment's digest: refused with -C by its name; replaced
	 * by either digest option on the command line. */
	env_sha256 =
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccd"
	    "deeff";
	CHECK(parse_env(&o, "http://h/x", NULL, why) == RC_OK &&
	      o.digest == RC_DIGEST_SHA256 && o.digest_env);
	CHECK(parse_env(&o, "-C5", "http://h/x", why) == RC_E_USAGE &&
	      strstr(why, "RANGECAT_SHA256") && strstr(why, "--continue-at"));
	char sha512[140] = "--sha512=";
	memset(sha512 + 9, 'f', 128);
	sha512[137] = '\0';
	CHECK(parse_env(&o, sha512, "http://h/x", why) == RC_OK &&
	      o.digest == RC_DIGEST_SHA512 && !o.digest_env);
	env_sha256 = NULL;

	unsigned k, n;
	const char *w;
	CHECK(rc_parse_shard("2/8", &k, &n, &w) == RC_OK && k == 2 && n == 8);
	CHECK(rc_parse_shard("1/1", &k, &n, &w) == RC_OK);
	CHECK(rc_parse_shard("9/8", &k, &n, &w) == RC_E_USAGE);
	CHECK(rc_parse_shard("0/8", &k, &n, &w) == RC_E_USAGE);
	CHECK(rc_parse_shard("8", &k, &n, &w) == RC_E_USAGE);
	CHECK(rc_parse_shard("1/100001", &k, &n, &w) == RC_E_USAGE);
}

/* --max-time, --speed-limit and --speed-time: checked numbers, and
 * curl's pairing of the last two. */
static void time_bounds(void)
{
	struct rc_opts o;

	CHECK(parse(&o, "http://h/f", NULL, NULL, NULL) == RC_OK);
	CHECK(o.max_time == 0 && o.speed_limit == 0 && o.speed_time == 0);
	CHECK(parse(&o, "--max-time", "90", "http://h/f", NULL) == RC_OK &&
	      o.max_time == 90);
	CHECK(parse(&o, "--max-time", "-1", "http://h/f", NULL));
	CHECK(parse(&o, "--max-time", "2s", "http://h/f", NULL));
	CHECK(parse(&o, "--speed-limit", "1K", "http://h/f", NULL) == RC_OK &&
	      o.speed_limit == 1024 && o.speed_time == 30);
	CHECK(parse(&o, "--speed-time", "5", "http://h/f", NULL) == RC_OK &&
	      o.speed_limit == 1 && o.speed_time == 5);
	CHECK(parse(&o, "--speed-time", "0", "http://h/f", NULL));
	CHECK(parse(&o, "--speed-limit", "x", "http://h/f", NULL));
}

/* -o FILE and --remove-on-error (output.c does the rest). */
static void output_options(void)
{
	struct rc_opts o;

	CHECK(parse(&o, "-o", "f", "http://h/x", NULL) == RC_OK &&
	      strcmp(o.output, "f") == 0 && !o.remove_on_error);
	CHECK(parse(&o, "--output=-", "http://h/x", NULL, NULL) == RC_OK &&
	      o.output == NULL); /* stdout, as in curl */
	CHECK(parse(&o, "-o", "", "http://h/x", NULL) == RC_E_USAGE &&
	      strstr(last_why, "expected a file name"));
	CHECK(parse(&o, "-o", "dir/", "http://h/x", NULL) == RC_E_USAGE);
	CHECK(parse(&o, "-of", "--remove-on-error", "http://h/x", NULL) ==
		  RC_OK &&
	      o.remove_on_error);
	CHECK(parse(&o, "--remove-on-error", "http://h/x", NULL, NULL) ==
		  RC_E_USAGE &&
	      strstr(last_why, "goes with --output"));
	CHECK(parse(&o, "-o-", "--remove-on-error", "http://h/x", NULL) ==
	      RC_E_USAGE);
	CHECK(parse(&o, "-of", "-xd", "http://h/x", NULL) == RC_E_USAGE &&
	      strstr(last_why, "--output cannot be combined with --extract"));
	CHECK(parse(&o, "-of", "-t", "http://h/x", NULL) == RC_E_USAGE &&
	      strstr(last_why, "--list"));
	CHECK(parse(&o, "-of", "--member=a", "http://h/x", NULL) ==
		  RC_E_USAGE &&
	      strstr(last_why, "--member"));
	CHECK(parse(&o, "-of", "-d", "http://h/x", NULL) == RC_OK);
	CHECK(parse(&o, "-of", "-r0-9", "http://h/x", NULL) == RC_OK);
}

int main(void)
{
	const char *w;
	uint64_t v;
	struct rc_opts o;

	time_bounds();
	default_memory();
	small_memory();
	long_option_errors();
	given_twice();
	output_options();
	CHECK(rc_parse_u64("0", 10, &v, &w) == RC_OK && v == 0);
	CHECK(rc_parse_u64("18446744073709551615", UINT64_MAX, &v, &w) ==
		  RC_OK &&
	      v == UINT64_MAX);
	CHECK(rc_parse_u64("18446744073709551616", UINT64_MAX, &v, &w));
	CHECK(rc_parse_u64("-1", 10, &v, &w));
	CHECK(rc_parse_u64("+1", 10, &v, &w));
	CHECK(rc_parse_u64(" 1", 10, &v, &w));
	CHECK(rc_parse_u64("1x", 10, &v, &w));
	CHECK(rc_parse_u64("", 10, &v, &w));
	CHECK(rc_parse_u64("11", 10, &v, &w));

	CHECK(rc_parse_size("4M", &v, &w) == RC_OK && v == 4u << 20);
	CHECK(rc_parse_size("64k", &v, &w) == RC_OK && v == 65536);
	CHECK(rc_parse_size("1GiB", &v, &w) == RC_OK && v == 1u << 30);
	CHECK(rc_parse_size("2T", &v, &w) == RC_OK && v == 2ull << 40);
	CHECK(rc_parse_size("123", &v, &w) == RC_OK && v == 123);
	CHECK(rc_parse_size("4X", &v, &w));
	CHECK(rc_parse_size("4MM", &v, &w));
	CHECK(rc_parse_size("M", &v, &w));
	CHECK(rc_parse_size("-4M", &v, &w));
	CHECK(rc_parse_size("17179869184G", &v, &w)); /* 2^64 */
	CHECK(rc_parse_size("16777215T", &v, &w) == RC_OK);
	CHECK(rc_parse_size("16777216T", &v, &w));

	memset(&o, 0, sizeof o);
	CHECK(rc_parse_range("0-99", &o, &w) == RC_OK && o.range_first == 0 &&
	      o.range_last == 99 && !o.range_suffix);
	CHECK(rc_parse_range("100-", &o, &w) == RC_OK && o.range_first == 100 &&
	      o.range_last == UINT64_MAX);
	CHECK(rc_parse_range("-500", &o, &w) == RC_OK && o.range_suffix &&
	      o.range_last == 500);
	CHECK(rc_parse_range("5-5", &o, &w) == RC_OK);
	CHECK(rc_parse_range("5-4", &o, &w));
	CHECK(rc_parse_range("-0", &o, &w));
	CHECK(rc_parse_range("-", &o, &w));
	CHECK(rc_parse_range("1-2,4-5", &o, &w));
	CHECK(rc_parse_range("a-b", &o, &w));
	CHECK(rc_parse_range("1-2-3", &o, &w));

	CHECK(rc_url_ok("http://h/x", &w));
	CHECK(rc_url_ok("HTTPS://h", &w));
	CHECK(!rc_url_ok("ftp://h/x", &w));
	CHECK(!rc_url_ok("file:///etc/passwd", &w));
	CHECK(!rc_url_ok("http://h/a b", &w));
	CHECK(!rc_url_ok("http://h/a\nb", &w));
	CHECK(!rc_url_ok("http://", &w));
	CHECK(!rc_url_ok("", &w) && strcmp(w, "the URL is empty") == 0);
	/* Without a scheme, with another, or with ours cut short. */
	const char *none[] = {"h/x",
			      "http//h/x",
			      "localhost:8080/x",
			      "localhost:8080/x?next=http://y",
			      "[::1]:80/x",
			      "user:pw@host/x?r=https://z",
			      "1host:80"};
	for (size_t i = 0; i < sizeof none / sizeof *none; i++)
		CHECK(!rc_url_ok(none[i], &w) &&
		      strstr(w, "no scheme") != NULL);
	const char *other[] = {"ftp://h/x", "file:/etc/passwd",
			       "git+ssh://h/x"};
	for (size_t i = 0; i < sizeof other / sizeof *other; i++)
		CHECK(!rc_url_ok(other[i], &w) &&
		      strstr(w, "only http") != NULL);
	const char *cut[] = {"http:/x", "HtTpS:x", "s3:/b/k", "http:"};
	for (size_t i = 0; i < sizeof cut / sizeof *cut; i++)
		CHECK(!rc_url_ok(cut[i], &w) &&
		      strstr(w, "followed by //") != NULL);

	CHECK(parse(&o, "http://h/x", NULL, NULL, NULL) == RC_OK &&
	      o.connections == 8 && o.chunk_size == 4u << 20 &&
	      o.memory == 64u << 20);
	CHECK(parse(&o, "-n", "32", "http://h/x", NULL) == RC_OK &&
	      o.chunk_size * 2 * 32 <= 64u << 20 && o.memory >= o.chunk_size);
	/* The conflict alone: with a URL, and the message names both. */
	CHECK(parse(&o, "-C5", "-r1-2", "http://h/x", NULL) == RC_E_USAGE &&
	      strstr(last_why, "--continue-at") && strstr(last_why, "--range"));
	CHECK(parse(&o, "-r1-2", "--shard=1/2", "http://h/x", NULL) ==
		  RC_E_USAGE &&
	      strstr(last_why, "--shard") && strstr(last_why, "--range"));
	CHECK(parse(&o, "-d", "-C5", "http://h/x", NULL) == RC_E_USAGE &&
	      strstr(last_why, "--decompress") &&
	      strstr(last_why, "--continue-at"));
	CHECK(parse(&o, "-C", "5", "http://h/x", NULL) == RC_OK &&
	      o.start == RC_START_OFFSET && o.offset == 5);
	CHECK(parse(&o, "-C", "-", "http://h/x", NULL) == RC_OK &&
	      o.start == RC_START_APPEND);
	CHECK(parse(&o, "-C", "x", "http://h/x", NULL) == RC_E_USAGE);
	CHECK(parse(&o, "--memory=1M", "--chunk-size=4M", "http://h/x", NULL) ==
	      RC_E_USAGE);
	CHECK(parse(&o, "--memory=1M", "http://h/x", NULL, NULL) == RC_OK &&
	      o.chunk_size <= 1u << 20);
	CHECK(parse(&o, "--chunk-size=160M", "http://h/x", NULL, NULL) ==
		  RC_OK &&
	      o.memory == 320u << 20 && o.chunk_size == 160u << 20);
	CHECK(parse(&o, "--chunk-size=1K", "http://h/x", NULL, NULL) ==
	      RC_E_USAGE);
	CHECK(parse(&o, "-n", "0", "http://h/x", NULL) == RC_E_USAGE);
	CHECK(parse(&o, "-n", "10000", "http://h/x", NULL) == RC_E_USAGE);
	CHECK(parse(&o, "--bogus", "http://h/x", NULL, NULL) == RC_E_USAGE);
	/* Several URLs, in order; -C names a place in one of them. */
	CHECK(parse(&o, "http://h/x", "http://h/y", NULL, NULL) == RC_OK &&
	      o.nurls == 2 && strcmp(o.url, "http://h/x") == 0);
	CHECK(parse(&o, "-C5", "http://h/x", "http://h/y", NULL) == RC_E_USAGE);
	CHECK(parse(&o, "-i", "list", "-C5", "http://h/x") == RC_E_USAGE);
	CHECK(parse(&o, "-i", "-", NULL, NULL) == RC_OK && o.url == NULL &&
	      o.nurls == 0 && strcmp(o.input_file, "-") == 0);
	CHECK(parse(&o, "http://h/x", "ftp://h/y", NULL, NULL) == RC_E_USAGE);
	CHECK(parse(&o, NULL, NULL, NULL, NULL) == RC_E_USAGE);
	CHECK(parse(&o, "-H", "NoColon", "http://h/x", NULL) == RC_E_USAGE);
	/* Headers that would break range requests are refused by name. */
	CHECK(parse(&o, "-H", "Range: bytes=0-9", "http://h/x", NULL) ==
	      RC_E_USAGE);
	CHECK(parse(&o, "-H", "if-none-match: \"x\"", "http://h/x", NULL) ==
	      RC_E_USAGE);
	CHECK(parse(&o, "-H", "Accept-Encoding: gzip", "http://h/x", NULL) ==
	      RC_E_USAGE);
	CHECK(parse(&o, "-H", "X-Range: 1", "http://h/x", NULL) == RC_OK);
	CHECK(strcmp(rc_options_header_owner("Range : x"),
		     "use -r A-B or -C N") == 0);
	CHECK(strcmp(rc_options_header_owner("If-Match: \"a\""),
		     "use --if-match ETAG") == 0);
	CHECK(rc_options_header_owner("If-Range: x") != NULL);
	CHECK(rc_options_header_owner("If-Modified-Since: x") != NULL);
	CHECK(rc_options_header_owner("If-Unmodified-Since: x") != NULL);
	CHECK(rc_options_header_owner("Ranges: x") == NULL);
	CHECK(rc_options_header_owner("Accept: */*") == NULL);
	CHECK(parse(&o, "-q", "--progress=bar", "http://h/x", NULL) ==
	      RC_E_USAGE);
	CHECK(parse(&o, "--progress=fancy", "http://h/x", NULL, NULL) ==
	      RC_E_USAGE);
	CHECK(parse(&o, "--retry-delay", "10ms", "http://h/x", NULL) == RC_OK &&
	      o.retry_delay > 0.009 && o.retry_delay < 0.011);
	CHECK(parse(&o, "--connections", NULL, NULL, NULL) == RC_E_USAGE);
	CHECK(parse(&o, "-xd", "--max-size=2G", "http://h/x", NULL) == RC_OK &&
	      o.max_size_set && o.max_size == 2ull << 30);
	CHECK(parse(&o, "--member=a", "--max-size=1M", "http://h/x", NULL) ==
	      RC_OK);
	CHECK(parse(&o, "-d", "--max-size=1M", "http://h/x", NULL) ==
	      RC_E_USAGE);
	CHECK(parse(&o, "--max-size=1M", "http://h/x", NULL, NULL) ==
	      RC_E_USAGE);
	CHECK(parse(&o, "-xd", "--max-size=-1", "http://h/x", NULL) ==
	      RC_E_USAGE);
	/* --cache DIR, --cache-size SIZE (above 0, only with --cache) */
	CHECK(parse(&o, "--cache=/c", "--cache-size=10G", "http://h/x", NULL) ==
		  RC_OK &&
	      strcmp(o.cache_dir, "/c") == 0 && o.cache_size == 10ull << 30);
	CHECK(parse(&o, "--cache", "/c", "http://h/x", NULL) == RC_OK &&
	      o.cache_size == 0);
	CHECK(parse(&o, "--cache-size=1M", "http://h/x", NULL, NULL) ==
		  RC_E_USAGE &&
	      strstr(last_why, "--cache-size goes with --cache"));
	CHECK(parse(&o, "--cache=/c", "--cache-size=0", "http://h/x", NULL) ==
	      RC_E_USAGE);
	CHECK(parse(&o, "--cache=", "http://h/x", NULL, NULL) == RC_E_USAGE);

	bool next;
	CHECK(rc_options_classify("http://h", &next) == 0);
	CHECK(rc_options_classify("-C", &next) == 'C' && next);
	CHECK(rc_options_classify("-C5", &next) == 'C' && !next);
	CHECK(rc_options_classify("--continue-at=5", &next) == 'C' && !next);
	CHECK(rc_options_classify("--range", &next) == 'r' && next);
	CHECK(rc_options_classify("--if-match", &next) == RC_OPT_IF_MATCH &&
	      next);
	CHECK(rc_options_classify("-qv", &next) == 'q' && !next);
	CHECK(rc_options_classify("-qn", &next) == 'n' && next);
	env_options();
	digest_options();
	return DONE();
}
