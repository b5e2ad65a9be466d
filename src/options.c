/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * Parsing and validating the command line. Every number goes through
 * rc_parse_u64/rc_parse_size; after parsing, one pass (validate) rejects
 * conflicts and derives the ring geometry. Runs on the main thread, before
 * anything else. Environment-only settings (credentials) are not read here.
 */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "log.h"

enum {
	OPT_CHUNK = 256,
	OPT_MEMORY,
	OPT_IF_MATCH = RC_OPT_IF_MATCH,
	OPT_RETRIES,
	OPT_RETRY_DELAY,
	OPT_CONNECT_TIMEOUT,
	OPT_STALL_TIMEOUT,
	OPT_CACERT,
	OPT_PROGRESS,
	OPT_SHARD,
	OPT_STATS,
	OPT_MEMBER,
	OPT_STRIP,
	OPT_STRICT,
	OPT_SAME_OWNER,
	OPT_SAME_PERMS,
	OPT_SHA256 = RC_OPT_SHA256,
	OPT_SHA512 = RC_OPT_SHA512,
	OPT_MAX_TIME,
	OPT_SPEED_LIMIT,
	OPT_SPEED_TIME,
	OPT_MAX_SIZE,
	OPT_REMOVE_ON_ERROR,
	OPT_CACHE,
	OPT_CACHE_SIZE,
};
#define SHORTOPTS ":n:C:r:H:kqvVhd::x:to:i:"

static const struct option longopts[] = {
    {"connections", required_argument, NULL, 'n'},
    {"chunk-size", required_argument, NULL, OPT_CHUNK},
    {"memory", required_argument, NULL, OPT_MEMORY},
    {"continue-at", required_argument, NULL, 'C'},
    {"range", required_argument, NULL, 'r'},
    {"if-match", required_argument, NULL, OPT_IF_MATCH},
    {"header", required_argument, NULL, 'H'},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"retry-delay", required_argument, NULL, OPT_RETRY_DELAY},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"stall-timeout", required_argument, NULL, OPT_STALL_TIMEOUT},
    {"max-time", required_argument, NULL, OPT_MAX_TIME},
    {"speed-limit", required_argument, NULL, OPT_SPEED_LIMIT},
    {"speed-time", required_argument, NULL, OPT_SPEED_TIME},
    {"insecure", no_argument, NULL, 'k'},
    {"cacert", required_argument, NULL, OPT_CACERT},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"progress", optional_argument, NULL, OPT_PROGRESS},
    {"shard", required_argument, NULL, OPT_SHARD},
    {"stats", no_argument, NULL, OPT_STATS},
    {"decompress", optional_argument, NULL, 'd'},
    {"extract", required_argument, NULL, 'x'},
    {"list", no_argument, NULL, 't'},
    {"member", required_argument, NULL, OPT_MEMBER},
    {"strip-components", required_argument, NULL, OPT_STRIP},
    {"strict", no_argument, NULL, OPT_STRICT},
    {"same-owner", no_argument, NULL, OPT_SAME_OWNER},
    {"same-permissions", no_argument, NULL, OPT_SAME_PERMS},
    {"sha256", required_argument, NULL, OPT_SHA256},
    {"sha512", required_argument, NULL, OPT_SHA512},
    {"max-size", required_argument, NULL, OPT_MAX_SIZE},
    {"output", required_argument, NULL, 'o'},
    {"remove-on-error", no_argument, NULL, OPT_REMOVE_ON_ERROR},
    {"cache", required_argument, NULL, OPT_CACHE},
    {"cache-size", required_argument, NULL, OPT_CACHE_SIZE},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {"input-file", required_argument, NULL, 'i'},
    {NULL, 0, NULL, 0},
};
_Static_assert(sizeof longopts / sizeof longopts[0] <= RC_MAX_LONGOPTS,
	       "env_groups must hold one entry per long option");

static const char *mode_name(enum rc_mode m);

void rc_options_usage(void *fp)
{
	FILE *f = fp;

	fputs(
	    "usage: rangecat [OPTIONS] URL...\n"
	    "Stream remote files to stdout, in order, over parallel HTTP "
	    "range requests.\n"
	    "URL is http://, https:// or s3://BUCKET/KEY; several are "
	    "written one after\n"
	    "the other, as cat would.\n"
	    "\n"
	    "  -n, --connections N     parallel connections (default adaptive:"
	    "\n"
	    "                          from 8, at most 32; one stream first "
	    "on a short path,\n"
	    "                          kept where the client is the limit; "
	    "1: one stream)\n"
	    "      --chunk-size SIZE   bytes per range request (default 4M;"
	    " K/M/G/T suffixes)\n"
	    "      --memory SIZE       cap on the reorder buffer, which grows "
	    "only as needed\n"
	    "                          (default 64M, at most a quarter of a "
	    "cgroup memory\n"
	    "                          limit and 5% of the file beyond 2M; "
	    "4M-16M with\n"
	    "                          several ranges a request)\n"
	    "  -C, --continue-at N|-   start at byte N; '-' = size of stdout "
	    "opened with >>\n"
	    "  -r, --range A-B         only bytes A..B inclusive (also A- and "
	    "-N)\n"
	    "      --if-match ETAG     refuse unless the remote ETag is ETAG\n"
	    "  -H, --header 'K: V'     extra request header (repeatable; not "
	    "Range, If-*,\n"
	    "                          Accept-Encoding)\n"
	    "      --retries N         retries per range (default 5)\n"
	    "      --retry-delay S     first backoff delay in seconds "
	    "(default 2)\n"
	    "      --connect-timeout S connect timeout (default 30)\n"
	    "      --stall-timeout S   drop a connection silent for S seconds "
	    "(default 60)\n"
	    "      --max-time S        end the whole run after S seconds "
	    "(exit 3)\n"
	    "      --speed-limit B     end the run when it gets under B "
	    "bytes/s\n"
	    "      --speed-time S      ...for S seconds (default 30)\n"
	    "  -k, --insecure          do not verify the TLS certificate\n"
	    "      --cacert FILE       CA certificates to verify with\n"
	    "  -q, --quiet             no progress display\n"
	    "  -v, --verbose           log requests, retries and timings\n"
	    "      --progress[=STYLE]  progress on stderr: bar, line (start, "
	    "every 5 s,\n"
	    "                          end: for logs), json, none, or auto "
	    "(bar on a\n"
	    "                          terminal, else line); unset: a bar on "
	    "a terminal\n"
	    "      --stats             a key=value summary line at the end\n"
	    "      --shard K/N         only the K-th of N equal parts\n"
	    "  -d, --decompress[=FMT]  decode to stdout: auto (default), "
	    "zstd,\n"
	    "                          gzip, xz, bzip2, lz4 "
	    "(auto,passthrough:\n"
	    "                          plain data goes through as it is)\n"
	    "  -x, --extract DIR       unpack the archive into DIR, safely\n"
	    "      --strip-components N  drop N leading path parts (-x)\n"
	    "      --strict            stop at the first refused entry (-x)\n"
	    "      --same-owner        restore owners (-x, as root)\n"
	    "      --same-permissions  also make device nodes and FIFOs and\n"
	    "                          keep setuid/setgid bits (-x)\n"
	    "  -t, --list              list the members (-v: details)\n"
	    "      --member PATH       write only that member to stdout\n"
	    "      --sha256 HEX        check the downloaded bytes' SHA-256 "
	    "(exit 7)\n"
	    "      --sha512 HEX        check the downloaded bytes' SHA-512 "
	    "(exit 7)\n"
	    "      --max-size SIZE     at most SIZE bytes of member data "
	    "(-x, --member)\n"
	    "  -o, --output FILE       write to FILE.part, renamed to FILE "
	    "when complete;\n"
	    "                          the same command resumes it ('-': "
	    "stdout)\n"
	    "      --remove-on-error   remove FILE.part when the run fails\n"
	    "      --cache DIR         keep a verified copy of each whole "
	    "file in DIR;\n"
	    "                          later runs revalidate it with one "
	    "request\n"
	    "      --cache-size SIZE   bound DIR, evicting the least "
	    "recently used\n"
	    "                          (default: no bound)\n"
	    "  -V, --version           versions of rangecat and its libraries\n"
	    "  -h, --help              this text\n"
	    "  -i, --input-file FILE   more URLs, one per line, after those "
	    "given as\n"
	    "                          arguments ('-': stdin; # comments)\n"
	    "\n"
	    "Exit status: 0 ok, 1 usage, 2 remote refused (4xx), 3 network,\n"
	    "4 remote file changed, 5 output failed, 6 decode or unpack\n"
	    "failed, 7 --sha256/--sha512 mismatch, 130 SIGINT,\n"
	    "143 SIGTERM.\n"
	    "Every long option can also be set as RANGECAT_<OPTION>\n"
	    "(RANGECAT_CONNECTIONS=16); the command line wins, and\n"
	    "RANGECAT_QUIET wins over RANGECAT_PROGRESS.\n"
	    "Credentials come from the environment only, one kind per run:\n"
	    "RANGECAT_TOKEN (bearer), RANGECAT_USER and RANGECAT_PASSWORD,\n"
	    "RANGECAT_HEADERS, NETRC, AWS_ACCESS_KEY_ID and "
	    "AWS_SECRET_ACCESS_KEY\n"
	    "(s3:// URLs; without them the AWS chain: web identity,\n"
	    "AWS_PROFILE files, container, IMDSv2),\n"
	    "RANGECAT_OAUTH_TOKEN_URL and _CLIENT_ID and\n"
	    "_CLIENT_SECRET, RANGECAT_HMAC_KEY. See rangecat(1).\n",
	    f);
}

enum rc_err rc_parse_u64(const char *s, uint64_t max, uint64_t *out,
			 const char **why)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0') {
		*why = "empty number";
		return RC_E_USAGE;
	}
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9') {
			*why = "not a whole number";
			return RC_E_USAGE;
		}
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10) {
			*why = "number too large";
			return RC_E_USAGE;
		}
		v = v * 10 + d;
	}
	if (v > max) {
		*why = "number out of range";
		return RC_E_USAGE;
	}
	*out = v;
	return RC_OK;
}

enum rc_err rc_parse_size(const char *s, uint64_t *out, const char **why)
{
	char digits[32];
	size_t n = 0;
	unsigned shift = 0;

	if (s == NULL || *s == '\0') {
		*why = "empty size";
		return RC_E_USAGE;
	}
	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (n == 0 || n >= sizeof digits) {
		*why = n ? "size too large" : "not a size";
		return RC_E_USAGE;
	}
	memcpy(digits, s, n);
	digits[n] = '\0';
	const char *suf = s + n;
	if (*suf) {
		switch (toupper((unsigned char)*suf)) {
		case 'K': shift = 10; break;
		case 'M': shift = 20; break;
		case 'G': shift = 30; break;
		case 'T': shift = 40; break;
		default:
			*why = "unknown size suffix (use K, M, G or T)";
			return RC_E_USAGE;
		}
		suf++;
		/* Accept "K", "KB", "KiB" alike: all mean 1024. */
		if (strcasecmp(suf, "") != 0 && strcasecmp(suf, "B") != 0 &&
		    strcasecmp(suf, "iB") != 0) {
			*why = "junk after the size suffix";
			return RC_E_USAGE;
		}
	}
	uint64_t v;
	if (rc_parse_u64(digits, UINT64_MAX >> shift, &v, why) != RC_OK) {
		*why = "size too large";
		return RC_E_USAGE;
	}
	*out = v << shift;
	return RC_OK;
}

enum rc_err rc_parse_range(const char *s, struct rc_opts *o, const char **why)
{
	const char *dash = strchr(s, '-');
	char first[32];

	if (dash == NULL || strchr(dash + 1, '-') != NULL ||
	    strchr(s, ',') != NULL) {
		*why = "expected A-B, A- or -N (one range)";
		return RC_E_USAGE;
	}
	size_t flen = (size_t)(dash - s);
	if (flen >= sizeof first) {
		*why = "range start too large";
		return RC_E_USAGE;
	}
	memcpy(first, s, flen);
	first[flen] = '\0';
	o->range_suffix = false;
	if (flen == 0) {
		/* "-N": the last N bytes, as in RFC 9110 and curl. */
		if (rc_parse_u64(dash + 1, UINT64_MAX - 1, &o->range_last,
				 why) != RC_OK)
			return RC_E_USAGE;
		if (o->range_last == 0) {
			*why = "a suffix range must ask for at least one byte";
			return RC_E_USAGE;
		}
		o->range_suffix = true;
		o->range_first = 0;
		return RC_OK;
	}
	if (rc_parse_u64(first, UINT64_MAX - 1, &o->range_first, why) != RC_OK)
		return RC_E_USAGE;
	if (dash[1] == '\0') {
		o->range_last = UINT64_MAX;
		return RC_OK;
	}
	if (rc_parse_u64(dash + 1, UINT64_MAX - 1, &o->range_last, why) !=
	    RC_OK)
		return RC_E_USAGE;
	if (o->range_last < o->range_first) {
		*why = "range end is before its start";
		return RC_E_USAGE;
	}
	return RC_OK;
}

enum rc_err rc_parse_shard(const char *s, unsigned *k, unsigned *n,
			   const char **why)
{
	const char *slash = strchr(s, '/');
	char kbuf[16];
	uint64_t kv, nv;

	if (slash == NULL || (size_t)(slash - s) >= sizeof kbuf) {
		*why = "expected K/N, as in 2/8";
		return RC_E_USAGE;
	}
	memcpy(kbuf, s, (size_t)(slash - s));
	kbuf[slash - s] = '\0';
	if (rc_parse_u64(kbuf, 100000, &kv, why) ||
	    rc_parse_u64(slash + 1, 100000, &nv, why) || kv == 0 || nv == 0 ||
	    kv > nv) {
		*why = "expected K/N with 1 <= K <= N <= 100000";
		return RC_E_USAGE;
	}
	*k = (unsigned)kv;
	*n = (unsigned)nv;
	return RC_OK;
}

enum rc_err rc_parse_digest(const char *s, enum rc_digest_kind k, char out[129],
			    const char **why)
{
	size_t want = k == RC_DIGEST_SHA512 ? 128 : 64;
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i])) {
			*why = "expected hexadecimal digits only";
			return RC_E_USAGE;
		}
	}
	if (n != want) {
		*why = want == 64 ? "expected 64 hex digits (a SHA-256)"
				  : "expected 128 hex digits (a SHA-512)";
		return RC_E_USAGE;
	}
	for (size_t i = 0; i <= n; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	return RC_OK;
}

/* The length of the scheme url starts with ("ftp" of ftp://h/x), 0 when
 * it names none: host:port/path and user:password@host/path, as curl
 * reads them without a scheme, name none. */
static size_t scheme_len(const char *url)
{
	size_t n = 0;

	if (!isalpha((unsigned char)url[0]))
		return 0;
	while (isalnum((unsigned char)url[n]) || url[n] == '+' ||
	       url[n] == '-' || url[n] == '.')
		n++;
	if (url[n] != ':' || isdigit((unsigned char)url[n + 1]))
		return 0;
	const char *at = strchr(url, '@');
	if (at != NULL && at < url + n + 1 + strcspn(url + n + 1, "/?#"))
		return 0;
	return n;
}

bool rc_url_ok(const char *url, const char **why)
{
	const char *rest;

	bool s3 = false;

	if (strncasecmp(url, "http://", 7) == 0)
		rest = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		rest = url + 8;
	else if (strncasecmp(url, "s3://", 5) == 0) {
		rest = url + 5;
		s3 = true;
	} else {
		/* curl would take host/path for http://host/path; a guess at
		 * the scheme is a guess at where credentials go. */
		size_t n = scheme_len(url);
		if (url[0] == '\0')
			*why = "the URL is empty";
		else if (n == 0)
			*why = "it names no scheme, such as https://, before "
			       "the host";
		else if ((n == 4 && strncasecmp(url, "http", 4) == 0) ||
			 (n == 5 && strncasecmp(url, "https", 5) == 0) ||
			 (n == 2 && strncasecmp(url, "s3", 2) == 0))
			*why = "its scheme must be followed by // and the host";
		else
			*why = "only http://, https:// and s3:// URLs are "
			       "supported";
		return false;
	}
	if (*rest == '\0' || *rest == '/') {
		*why = "the URL has no host";
		return false;
	}
	for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
		/* An S3 key is taken literally: spaces are part of it. */
		if (*p < 0x20 || *p == 0x7f || (*p == 0x20 && !s3)) {
			*why = "the URL contains a space or control character "
			       "(percent-encode it)";
			return false;
		}
	}
	if (strlen(url) > 8192) {
		*why = "the URL is longer than 8192 bytes";
		return false;
	}
	return true;
}

static bool header_ok(const char *h)
{
	const char *colon = strchr(h, ':');

	if (colon == NULL || colon == h)
		return false;
	for (const char *p = h; p < colon; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return false;
	for (const char *p = h; *p; p++)
		if (*p == '\r' || *p == '\n')
			return false;
	return true;
}

/* How the user gave the digest option, for messages. */
static const char *digest_name(const struct rc_opts *o)
{
	if (o->digest == RC_DIGEST_SHA512)
		return o->digest_env ? "RANGECAT_SHA512" : "--sha512";
	return o->digest_env ? "RANGECAT_SHA256" : "--sha256";
}

const char *rc_options_header_owner(const char *line)
{
	/* Each of these would break or silently change the range requests
	 * rangecat makes and judges. */
	static const struct {
		const char *name, *use;
	} owned[] = {
	    {"Range", "use -r A-B or -C N"},
	    {"If-Range", "rangecat sets it itself"},
	    {"If-Match", "use --if-match ETAG"},
	    {"If-None-Match", "rangecat sets it itself"},
	    {"If-Modified-Since", "rangecat sets it itself"},
	    {"If-Unmodified-Since", "rangecat sets it itself"},
	    {"Accept-Encoding", "rangecat sets it itself (use -d to decode)"},
	};
	size_t n = strcspn(line, ":");

	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
		if (strlen(owned[i].name) == n &&
		    strncasecmp(line, owned[i].name, n) == 0)
			return owned[i].use;
	return NULL;
}

/* The ring: chunk size (when not given) and slot count from --memory. */
static void geometry(struct rc_opts *o)
{
	if (!o->chunk_set) {
		/* Two slots per connection keep every connection busy while
		 * the head is written; shrink the chunk before the ring. */
		uint64_t c = RC_DEFAULT_CHUNK;
		/* Several URLs: two rings share the buffer (main.c). */
		uint64_t per = o->nurls > 1 || o->input_file ? 4 : 2;
		while (c > RC_MIN_CHUNK && c * per * o->connections > o->memory)
			c /= 2;
		/* Two chunks per ring at least: with one, no range runs
		 * beside the head, and a head that drips is never found
		 * slow (nothing to compare it with), so a small --memory
		 * takes chunks under 64K. */
		if (per * c > o->memory)
			c = o->memory / per / 4096 * 4096;
		o->chunk_size = c;
	}
	if (o->chunk_set && !o->memory_set && o->memory < 2 * o->chunk_size)
		o->memory = 2 * o->chunk_size; /* the default grows to fit */
	uint64_t slots = o->memory / o->chunk_size;
	if (slots == 0)
		slots = 1;
	if (slots > 4096)
		slots = 4096;
	o->memory = slots * o->chunk_size;
}

/* Derives the ring geometry and rejects conflicting options. */
static enum rc_err validate(struct rc_opts *o, char *why, size_t whylen)
{
	if (o->help || o->version)
		return RC_OK;
	if (o->url == NULL && o->input_file == NULL)
		return rc_err_usage(why, whylen, "no URL given (see --help)");
	for (size_t i = 0; i < o->nurls; i++) {
		const char *uwhy;
		if (rc_url_ok(o->urls[i], &uwhy))
			continue;
		if (o->nurls == 1)
			return rc_err_usage(why, whylen, "bad URL: %s", uwhy);
		/* Not shown: a word that is no URL may be a secret that lost
		 * its option. */
		return rc_err_usage(why, whylen,
				    "bad URL (argument %zu of %zu "
				    "URLs): %s",
				    i + 1, o->nurls, uwhy);
	}
	if (o->nurls > 1 || o->input_file) {
		/* These name a place in one file (see rangecat(1), several
		 * URLs): the resume hint gives -C to the one URL it
		 * continues. -o's resume record and a --cache entry each
		 * describe one remote file too. */
		const char *one = o->start != RC_START_ZERO ? "--continue-at"
				  : o->has_range	    ? "--range"
				  : o->shard_n		    ? "--shard"
				  : o->if_match		    ? "--if-match"
				  : o->output		    ? "--output"
				  : o->cache_dir	    ? "--cache"
							    : NULL;
		if (one)
			return rc_err_usage(
			    why, whylen,
			    "%s applies to one URL: it cannot be combined "
			    "with several URLs or --input-file",
			    one);
	}
	for (size_t i = 0; i < o->nheaders; i++) {
		const char *use = rc_options_header_owner(o->headers[i]);
		if (use)
			return rc_err_usage(why, whylen, "-H '%.*s': %s",
					    (int)strcspn(o->headers[i], ":"),
					    o->headers[i], use);
	}
	if (o->start != RC_START_ZERO && o->has_range)
		return rc_err_usage(
		    why, whylen,
		    "--continue-at and --range cannot be combined "
		    "(use -r A-B alone)");
	if (o->shard_n && o->has_range)
		return rc_err_usage(why, whylen,
				    "--shard and --range cannot be combined");
	if (o->mode != RC_MODE_RAW &&
	    (o->start != RC_START_ZERO || o->has_range || o->shard_n))
		return rc_err_usage(
		    why, whylen,
		    "%s reads the whole file: it cannot be combined "
		    "with --continue-at, --range or --shard",
		    mode_name(o->mode));
	if (o->digest != RC_DIGEST_NONE &&
	    (o->start != RC_START_ZERO || o->has_range || o->shard_n)) {
		/* The digest is of the whole file: a part of it cannot be
		 * checked against it (see rangecat(1), --sha256). */
		const char *part = o->start != RC_START_ZERO ? "--continue-at"
				   : o->has_range	     ? "--range"
							     : "--shard";
		return rc_err_usage(why, whylen,
				    "%s checks the whole file: it cannot be "
				    "combined with %s",
				    digest_name(o), part);
	}
	if (o->mode != RC_MODE_EXTRACT &&
	    (o->strip_set || o->strict || o->same_owner || o->same_perms))
		return rc_err_usage(
		    why, whylen,
		    "--strip-components, --strict, --same-owner "
		    "and --same-permissions go with --extract");
	if (o->max_size_set && o->mode != RC_MODE_EXTRACT &&
	    o->mode != RC_MODE_MEMBER)
		return rc_err_usage(
		    why, whylen, "--max-size goes with --extract or --member");
	if (o->output && o->mode != RC_MODE_RAW && o->mode != RC_MODE_DECODE)
		return rc_err_usage(why, whylen,
				    "--output cannot be combined with %s",
				    mode_name(o->mode));
	if (o->remove_on_error && o->output == NULL)
		return rc_err_usage(
		    why, whylen, "--remove-on-error goes with --output FILE");
	if (o->cache_size && o->cache_dir == NULL)
		return rc_err_usage(why, whylen,
				    "--cache-size goes with --cache");
	if (o->quiet && o->progress != RC_PROGRESS_DEFAULT &&
	    o->progress != RC_PROGRESS_NONE)
		return rc_err_usage(
		    why, whylen, "--quiet and --progress cannot be combined");
	if (o->quiet)
		o->progress = RC_PROGRESS_NONE;
	/* As in curl, either of the pair switches the rate check on. */
	if (o->speed_limit && o->speed_time == 0)
		o->speed_time = 30;
	if (o->speed_time && o->speed_limit == 0)
		o->speed_limit = 1;

	if (o->chunk_set && o->chunk_size < RC_MIN_CHUNK)
		return rc_err_usage(why, whylen,
				    "--chunk-size must be at least 64K");
	if (o->chunk_set && o->memory_set && o->memory < o->chunk_size)
		return rc_err_usage(
		    why, whylen, "--memory is smaller than one --chunk-size");
	if (o->memory_set && o->memory < RC_MIN_CHUNK)
		return rc_err_usage(why, whylen,
				    "--memory must be at least 64K");
	geometry(o);
	return RC_OK;
}

void rc_options_default_memory(struct rc_opts *o, uint64_t memory)
{
	if (o->memory_set || memory >= o->memory)
		return;
	o->memory = memory < RC_MIN_CHUNK ? RC_MIN_CHUNK : memory;
	if (!o->chunk_set)
		o->chunk_size = RC_DEFAULT_CHUNK;
	geometry(o);
}

static const char *mode_name(enum rc_mode m)
{
	switch (m) {
	case RC_MODE_DECODE: return "--decompress";
	case RC_MODE_EXTRACT: return "--extract";
	case RC_MODE_LIST: return "--list";
	case RC_MODE_MEMBER: return "--member";
	default: return "raw output";
	}
}

enum rc_err rc_parse_format(const char *s, enum rc_format *f, bool *passthrough,
			    const char **why)
{
	static const struct {
		const char *name;
		enum rc_format f;
	} names[] = {{"auto", RC_FMT_AUTO},   {"zstd", RC_FMT_ZSTD},
		     {"gzip", RC_FMT_GZIP},   {"xz", RC_FMT_XZ},
		     {"bzip2", RC_FMT_BZIP2}, {"lz4", RC_FMT_LZ4}};
	size_t n = strcspn(s, ",");

	*passthrough = false;
	if (s[n] == ',') {
		if (strcmp(s + n + 1, "passthrough") != 0 ||
		    strncmp(s, "auto", n) != 0 || n != 4) {
			*why = "only auto,passthrough takes a modifier";
			return RC_E_USAGE;
		}
		*passthrough = true;
	}
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		if (strlen(names[i].name) == n &&
		    strncmp(s, names[i].name, n) == 0) {
			*f = names[i].f;
			return RC_OK;
		}
	}
	*why = "expected auto, zstd, gzip, xz, bzip2 or lz4";
	return RC_E_USAGE;
}

/* Options that belong together: a command-line option replaces whatever
 * the environment set for its whole group (-C and -r are one start). */
static int group_of(int c)
{
	switch (c) {
	case 'C':
	case 'r':
	case OPT_SHARD: return 'C';
	case 'q':
	case OPT_PROGRESS: return 'q';
	case 'd':
	case 'x':
	case 't':
	case OPT_MEMBER: return 'd';
	case OPT_SHA256:
	case OPT_SHA512: return OPT_SHA256;
	default: return c;
	}
}

/* Undoes what the environment set for group g (see group_of). */
static void reset_group(struct rc_opts *o, int g)
{
	switch (g) {
	case 'n':
		o->connections = RC_DEFAULT_CONNECTIONS;
		o->connections_set = false;
		break;
	case OPT_CHUNK:
		o->chunk_size = RC_DEFAULT_CHUNK;
		o->chunk_set = false;
		break;
	case OPT_MEMORY:
		o->memory = RC_DEFAULT_MEMORY;
		o->memory_set = false;
		break;
	case 'C':
		o->start = RC_START_ZERO;
		o->has_range = false;
		o->shard_n = 0;
		break;
	case OPT_IF_MATCH: o->if_match = NULL; break;
	case 'H': o->nheaders = 0; break;
	case OPT_RETRIES: o->retries = 5; break;
	case OPT_RETRY_DELAY: o->retry_delay = 2.0; break;
	case OPT_CONNECT_TIMEOUT: o->connect_timeout = 30; break;
	case OPT_STALL_TIMEOUT: o->stall_timeout = 60; break;
	case 'k': o->insecure = false; break;
	case OPT_CACERT: o->cacert = NULL; break;
	case 'q':
		o->quiet = false;
		o->progress = RC_PROGRESS_DEFAULT;
		break;
	case 'v': o->verbose = 0; break;
	case OPT_STATS: o->stats = false; break;
	case 'd':
		o->mode = RC_MODE_RAW;
		o->extract_dir = NULL;
		o->member = NULL;
		break;
	case OPT_STRIP: o->strip = 0; break;
	case OPT_STRICT: o->strict = false; break;
	case OPT_SAME_OWNER: o->same_owner = false; break;
	case OPT_SAME_PERMS: o->same_perms = false; break;
	case OPT_SHA256:
		o->digest = RC_DIGEST_NONE;
		o->digest_env = false;
		break;
	case OPT_MAX_TIME: o->max_time = 0; break;
	case OPT_SPEED_LIMIT: o->speed_limit = 0; break;
	case OPT_SPEED_TIME: o->speed_time = 0; break;
	case OPT_MAX_SIZE: o->max_size_set = false; break;
	case 'o': o->output = NULL; break;
	case OPT_REMOVE_ON_ERROR: o->remove_on_error = false; break;
	case OPT_CACHE: o->cache_dir = NULL; break;
	case OPT_CACHE_SIZE: o->cache_size = 0; break;
	case 'i': o->input_file = NULL; break;
	default: break;
	}
}

/*
 * Applies option c with argument arg (NULL for flags). name is how the
 * user wrote it ("--connections", or "RANGECAT_CONNECTIONS"), for
 * messages.
 */
static enum rc_err apply(struct rc_opts *o, int c, const char *arg,
			 const char *name, char *why, size_t whylen)
{
	const char *w;
	uint64_t v;

	switch (c) {
	case 'n':
		if (rc_parse_u64(arg, RC_MAX_CONNECTIONS, &v, &w) || v == 0)
			return rc_err_usage(why, whylen, "%s: expected 1 to %d",
					    name, RC_MAX_CONNECTIONS);
		o->connections = (unsigned)v;
		o->connections_set = true;
		break;
	case OPT_CHUNK:
		if (rc_parse_size(arg, &o->chunk_size, &w))
			return rc_err_usage(why, whylen, "%s: %s", name, w);
		if (o->chunk_size > (1ull << 30))
			return rc_err_usage(why, whylen, "%s: at most 1G",
					    name);
		o->chunk_set = true;
		break;
	case OPT_MEMORY:
		if (rc_parse_size(arg, &o->memory, &w))
			return rc_err_usage(why, whylen, "%s: %s", name, w);
		if (o->memory > (64ull << 30))
			return rc_err_usage(why, whylen, "%s: at most 64G",
					    name);
		o->memory_set = true;
		break;
	case 'C':
		o->start_env = strncmp(name, "RANGECAT_", 9) == 0;
		if (strcmp(arg, "-") == 0) {
			o->start = RC_START_APPEND;
			break;
		}
		if (rc_parse_u64(arg, UINT64_MAX - 1, &o->offset, &w))
			return rc_err_usage(
			    why, whylen, "%s: %s (expected a byte offset or -)",
			    name, w);
		o->start = RC_START_OFFSET;
		break;
	case 'r':
		if (rc_parse_range(arg, o, &w))
			return rc_err_usage(why, whylen, "%s: %s", name, w);
		o->has_range = true;
		break;
	case OPT_SHARD:
		if (rc_parse_shard(arg, &o->shard_k, &o->shard_n, &w))
			return rc_err_usage(why, whylen, "%s: %s", name, w);
		o->shard_env = strncmp(name, "RANGECAT_", 9) == 0;
		break;
	case OPT_IF_MATCH: {
		/* A strong tag, quotes and all: unquoted (the shell took
		 * them), weak or "*", no reply could match it, and the run
		 * ended in a 412 that said the file changed. */
		bool weak;
		if (*arg == '\0' || strpbrk(arg, "\r\n"))
			return rc_err_usage(why, whylen, "%s: expected an ETag",
					    name);
		if (strcmp(arg, "*") == 0 || !rc_http_etag(arg, &weak) || weak)
			return rc_err_usage(
			    why, whylen,
			    "%s: expected a strong ETag in double quotes, "
			    "quoted again for the shell: --if-match "
			    "'\"...\"'",
			    name);
		o->if_match = arg;
		break;
	}
	case 'H':
		if (!header_ok(arg))
			return rc_err_usage(why, whylen,
					    "%s: expected 'Name: value'", name);
		if (o->nheaders == RC_MAX_HEADERS)
			return rc_err_usage(why, whylen,
					    "%s: at most %d headers", name,
					    RC_MAX_HEADERS);
		o->headers[o->nheaders++] = arg;
		break;
	case OPT_RETRIES:
		if (rc_parse_u64(arg, 1000, &v, &w))
			return rc_err_usage(why, whylen,
					    "%s: expected 0 to 1000", name);
		o->retries = (unsigned)v;
		break;
	case OPT_RETRY_DELAY: {
		/* Whole seconds, or milliseconds with an "ms" suffix, so
		 * tests can keep backoff short. */
		size_t n = strlen(arg);
		bool ms = n > 2 && strcmp(arg + n - 2, "ms") == 0;
		char buf[32];
		if (n >= sizeof buf)
			return rc_err_usage(why, whylen, "%s: too long", name);
		memcpy(buf, arg, n + 1);
		if (ms)
			buf[n - 2] = '\0';
		if (rc_parse_u64(buf, ms ? 3600000 : 3600, &v, &w))
			return rc_err_usage(
			    why, whylen, "%s: expected seconds (or Nms)", name);
		o->retry_delay = ms ? (double)v / 1000 : (double)v;
		break;
	}
	case OPT_CONNECT_TIMEOUT:
		if (rc_parse_u64(arg, 3600, &v, &w) || v == 0)
			return rc_err_usage(why, whylen,
					    "%s: expected 1 to 3600 seconds",
					    name);
		o->connect_timeout = (long)v;
		break;
	case OPT_STALL_TIMEOUT:
		if (rc_parse_u64(arg, 86400, &v, &w) || v == 0)
			return rc_err_usage(why, whylen,
					    "%s: expected 1 to 86400 seconds",
					    name);
		o->stall_timeout = (long)v;
		break;
	case 'k': o->insecure = true; break;
	case OPT_CACERT: o->cacert = arg; break;
	case 'q': o->quiet = true; break;
	case 'v': o->verbose++; break;
	case OPT_STATS: o->stats = true; break;
	case OPT_PROGRESS:
		if (arg == NULL || strcmp(arg, "bar") == 0)
			o->progress = RC_PROGRESS_BAR;
		else if (strcmp(arg, "line") == 0)
			o->progress = RC_PROGRESS_LINE;
		else if (strcmp(arg, "json") == 0)
			o->progress = RC_PROGRESS_JSON;
		else if (strcmp(arg, "none") == 0)
			o->progress = RC_PROGRESS_NONE;
		else if (strcmp(arg, "auto") == 0)
			o->progress = RC_PROGRESS_AUTO;
		else
			return rc_err_usage(why, whylen,
					    "%s: expected bar, line, json, "
					    "auto or none",
					    name);
		break;
	case 'd':
	case 'x':
	case 't':
	case OPT_MEMBER: {
		enum rc_mode m = c == 'd'   ? RC_MODE_DECODE
				 : c == 'x' ? RC_MODE_EXTRACT
				 : c == 't' ? RC_MODE_LIST
					    : RC_MODE_MEMBER;
		if (o->mode != RC_MODE_RAW && o->mode != m)
			return rc_err_usage(why, whylen,
					    "%s cannot be combined with %s",
					    name, mode_name(o->mode));
		o->mode = m;
		if (c == 'd' && arg && arg[0] == '=')
			arg++; /* "-d=zstd" as well as "-dzstd" */
		if (c == 'd' && arg &&
		    rc_parse_format(arg, &o->format, &o->passthrough, &w))
			return rc_err_usage(why, whylen, "%s: %s", name, w);
		if (c == 'x') {
			if (*arg == '\0')
				return rc_err_usage(why, whylen,
						    "%s: expected a directory",
						    name);
			/* tar takes one -C DIR too; a second one silently
			 * won before. */
			if (o->extract_dir && strcmp(o->extract_dir, arg))
				return rc_err_usage(
				    why, whylen,
				    "%s given twice: one directory per run",
				    name);
			o->extract_dir = arg;
		}
		if (c == OPT_MEMBER) {
			if (*arg == '\0')
				return rc_err_usage(
				    why, whylen, "%s: expected a member path",
				    name);
			if (o->member && strcmp(o->member, arg))
				return rc_err_usage(
				    why, whylen,
				    "%s given twice: one member per run (-x "
				    "DIR unpacks them all)",
				    name);
			o->member = arg;
		}
		break;
	}
	case OPT_STRIP:
		if (rc_parse_u64(arg, 1000, &v, &w))
			return rc_err_usage(why, whylen,
					    "%s: expected 0 to 1000", name);
		o->strip = (unsigned)v;
		o->strip_set = true;
		break;
	case OPT_STRICT: o->strict = true; break;
	case OPT_SAME_OWNER: o->same_owner = true; break;
	case OPT_SAME_PERMS: o->same_perms = true; break;
	case OPT_SHA256:
	case OPT_SHA512: {
		enum rc_digest_kind k =
		    c == OPT_SHA256 ? RC_DIGEST_SHA256 : RC_DIGEST_SHA512;
		if (o->digest != RC_DIGEST_NONE && o->digest != k)
			return rc_err_usage(why, whylen,
					    "--sha256 and --sha512 cannot be "
					    "combined (give one)");
		if (rc_parse_digest(arg, k, o->digest_hex, &w))
			return rc_err_usage(why, whylen, "%s: %s", name, w);
		o->digest = k;
		o->digest_env = strncmp(name, "RANGECAT_", 9) == 0;
		break;
	}
	case OPT_MAX_TIME:
		if (rc_parse_u64(arg, 31536000, &v, &w))
			return rc_err_usage(
			    why, whylen, "%s: expected 0 to 31536000 seconds",
			    name);
		o->max_time = (long)v;
		break;
	case OPT_SPEED_LIMIT:
		if (rc_parse_size(arg, &v, &w))
			return rc_err_usage(why, whylen,
					    "%s: expected bytes per second "
					    "(K/M/G suffixes)",
					    name);
		o->speed_limit = v;
		break;
	case OPT_SPEED_TIME:
		if (rc_parse_u64(arg, 86400, &v, &w) || v == 0)
			return rc_err_usage(why, whylen,
					    "%s: expected 1 to 86400 seconds",
					    name);
		o->speed_time = (long)v;
		break;
	case OPT_MAX_SIZE:
		if (rc_parse_size(arg, &o->max_size, &w))
			return rc_err_usage(why, whylen, "%s: %s", name, w);
		o->max_size_set = true;
		break;
	case 'o':
		if (*arg == '\0' || arg[strlen(arg) - 1] == '/')
			return rc_err_usage(why, whylen,
					    "%s: expected a file name", name);
		o->output = strcmp(arg, "-") == 0 ? NULL : arg;
		break;
	case OPT_REMOVE_ON_ERROR: o->remove_on_error = true; break;
	case OPT_CACHE:
		if (*arg == '\0')
			return rc_err_usage(why, whylen,
					    "%s: expected a directory", name);
		o->cache_dir = arg;
		break;
	case OPT_CACHE_SIZE:
		if (rc_parse_size(arg, &o->cache_size, &w) ||
		    o->cache_size == 0)
			return rc_err_usage(why, whylen,
					    "%s: expected a size above 0 "
					    "(K/M/G/T suffixes)",
					    name);
		break;
	case 'V': o->version = true; break;
	case 'h': o->help = true; break;
	case 'i':
		if (*arg == '\0')
			return rc_err_usage(why, whylen,
					    "%s: expected a file or -", name);
		if (o->input_file && strcmp(o->input_file, arg))
			return rc_err_usage(why, whylen,
					    "%s given twice: one list per run "
					    "(put the URLs in one file)",
					    name);
		o->input_file = arg;
		o->input_env = strncmp(name, "RANGECAT_", 9) == 0;
		break;
	}
	return RC_OK;
}

/* Reads RANGECAT_<OPTION> for every long option but help and version. A
 * flag takes 1/yes/true/on or 0/no/false/off; empty means unset. */
static enum rc_err from_env(struct rc_opts *o, rc_getenv_fn get, char *why,
			    size_t whylen)
{
	for (const struct option *lo = longopts; lo->name; lo++) {
		char var[64] = "RANGECAT_";
		size_t n = strlen(var);
		if (lo->val == 'h' || lo->val == 'V')
			continue;
		for (const char *p = lo->name; *p && n + 1 < sizeof var; p++)
			var[n++] = *p == '-' ? '_' : (char)toupper(*p);
		var[n] = '\0';
		const char *val = get(var);
		if (val == NULL || *val == '\0')
			continue;
		if (lo->has_arg == no_argument) {
			if (strcasecmp(val, "0") == 0 ||
			    strcasecmp(val, "no") == 0 ||
			    strcasecmp(val, "false") == 0 ||
			    strcasecmp(val, "off") == 0)
				continue;
			if (strcasecmp(val, "1") != 0 &&
			    strcasecmp(val, "yes") != 0 &&
			    strcasecmp(val, "true") != 0 &&
			    strcasecmp(val, "on") != 0)
				return rc_err_usage(why, whylen,
						    "%s: expected 1 or 0", var);
			val = NULL;
		}
		if (lo->val == 'H' && val) {
			/* RANGECAT_HEADER may carry a key: the environment's
			 * bytes are wiped once read (rc_auth_scrub), so the
			 * header lives on in a copy of its own. */
			static char *header_copy;
			free(header_copy);
			header_copy = strdup(val);
			if (header_copy == NULL)
				return rc_err_usage(why, whylen,
						    "%s: out of memory", var);
			val = header_copy;
		}
		if (apply(o, lo->val, val, var, why, whylen) != RC_OK)
			return RC_E_USAGE;
		o->env_groups[o->nenv_groups++] = group_of(lo->val);
	}
	/* RANGECAT_QUIET with RANGECAT_PROGRESS: quiet wins, no error. An
	 * image sets RANGECAT_PROGRESS for its logs; whoever adds
	 * RANGECAT_QUIET=1 asks for silence. Given both on the command
	 * line, the two still conflict (validate). */
	if (o->quiet)
		o->progress = RC_PROGRESS_DEFAULT;
	return RC_OK;
}

/* The long option the first n bytes of name stand for, as getopt_long
 * reads them: the exact name, else the one option they begin (several
 * of one meaning count as one). NULL when none; *ambiguous when more. */
static const struct option *long_named(const char *name, size_t n,
				       bool *ambiguous)
{
	const struct option *hit = NULL;

	*ambiguous = false;
	for (const struct option *o = longopts; o->name; o++)
		if (strlen(o->name) == n && strncmp(o->name, name, n) == 0)
			return o;
	for (const struct option *o = longopts; o->name && n; o++) {
		if (strncmp(o->name, name, n) != 0)
			continue;
		if (hit != NULL &&
		    (hit->val != o->val || hit->has_arg != o->has_arg)) {
			*ambiguous = true;
			return NULL;
		}
		hit = o;
	}
	return hit;
}

/* What was wrong with a long option getopt_long refused, as its
 * message: unknown, ambiguous, or a value given to one that takes none.
 * Its name only: what follows '=' may be a secret. */
static enum rc_err long_misuse(const char *arg, char *why, size_t whylen)
{
	int n = (int)strcspn(arg, "=");
	bool ambiguous;
	const struct option *o = long_named(arg + 2, (size_t)n - 2, &ambiguous);

	return rc_err_usage(
	    why, whylen, "%soption %.*s%s",
	    ambiguous	? "ambiguous "
	    : o == NULL ? "unknown "
			: "",
	    n, arg, o != NULL && arg[n] == '=' ? " takes no value" : "");
}

const char *rc_getenv(const char *name)
{
	return getenv(name);
}

enum rc_err rc_options_parse(struct rc_opts *o, int argc, char *const argv[],
			     char *why, size_t whylen)
{
	return rc_options_parse_env(o, argc, argv, rc_getenv, why, whylen);
}

enum rc_err rc_options_parse_env(struct rc_opts *o, int argc,
				 char *const argv[], rc_getenv_fn get,
				 char *why, size_t whylen)
{
	int c;

	memset(o, 0, sizeof *o);
	o->connections = RC_DEFAULT_CONNECTIONS;
	o->memory = RC_DEFAULT_MEMORY;
	o->chunk_size = RC_DEFAULT_CHUNK;
	o->retries = 5;
	o->retry_delay = 2.0;
	o->connect_timeout = 30;
	o->stall_timeout = 60;
	if (get && from_env(o, get, why, whylen) != RC_OK)
		return RC_E_USAGE;

	/* 0, not 1: GNU getopt then also forgets its position inside a
	 * short-option cluster of an earlier argv (a use-after-free when
	 * parsing twice, found by fuzzing). */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, SHORTOPTS, longopts, NULL)) != -1) {
		if (c == ':')
			return rc_err_usage(why, whylen,
					    "option %s needs a value",
					    argv[optind - 1]);
		if (c == '?') {
			const char *u = argv[optind - 1];
			if (strncmp(u, "--", 2) != 0 || !u[2])
				return rc_err_usage(
				    why, whylen, "unknown option -%c", optopt);
			return long_misuse(u, why, whylen);
		}
		/* The command line wins: the first option of a group drops
		 * what the environment set for that group. */
		int g = group_of(c);
		for (size_t i = 0; i < o->nenv_groups; i++) {
			if (o->env_groups[i] == g) {
				reset_group(o, g);
				o->env_groups[i] = 0;
			}
		}
		/* Messages use the long name, however it was spelled. */
		char name[64] = "--";
		for (const struct option *lo = longopts; lo->name; lo++)
			if (lo->val == c)
				snprintf(name + 2, sizeof name - 2, "%s",
					 lo->name);
		if (apply(o, c, optarg, name, why, whylen) != RC_OK)
			return RC_E_USAGE;
	}
	/* Every operand is a URL, in order; -i adds more after them. */
	o->urls = (const char *const *)argv + optind;
	o->nurls = optind < argc ? (size_t)(argc - optind) : 0;
	o->url = o->nurls ? o->urls[0] : NULL;
	return validate(o, why, whylen);
}

int rc_options_classify(const char *arg, bool *takes_next)
{
	*takes_next = false;
	if (arg[0] != '-' || arg[1] == '\0')
		return 0;
	if (arg[1] == '-') {
		/* As getopt_long reads it, so that "--cont 5" is -C with
		 * its value; '?' for what parsing refused. */
		const char *name = arg + 2;
		size_t n = strcspn(name, "=");
		bool ambiguous;
		const struct option *hit = long_named(name, n, &ambiguous);
		if (hit == NULL)
			return '?';
		*takes_next =
		    hit->has_arg == required_argument && name[n] != '=';
		return hit->val;
	}
	for (const char *p = arg + 1; *p; p++) {
		const char *d = strchr(SHORTOPTS, *p);
		if (d && *p != ':' && d[1] == ':') {
			/* "d::": an optional value is attached or absent. */
			*takes_next = p[1] == '\0' && d[2] != ':';
			return *p;
		}
	}
	return arg[1];
}
