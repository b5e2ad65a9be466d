/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The command line, parsed once into a struct rc_opts that nothing mutates
 * afterwards. Pure: no I/O besides the caller's argv and environment.
 */
#ifndef RC_OPTIONS_H
#define RC_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define RC_DEFAULT_CONNECTIONS 8 /* what the default buffer is sized for */
#define RC_MAX_CONNECTIONS 256
#define RC_DEFAULT_CHUNK (4u << 20)
#define RC_MIN_CHUNK (64u << 10)
#define RC_DEFAULT_MEMORY (64u << 20)
#define RC_MAX_HEADERS 64
#define RC_MAX_LONGOPTS 80 /* size of env_groups; options.c checks */

/* The codes rc_options_classify returns for --if-match, --sha256 and
 * --sha512 (the resume command leaves them out or replaces them). */
#define RC_OPT_IF_MATCH 258
#define RC_OPT_SHA256 0x300
#define RC_OPT_SHA512 0x301

/* DEFAULT: no setting (a bar on a terminal, else nothing); AUTO: a bar on
 * a terminal, else lines (--progress=auto, for container images). */
enum rc_progress {
	RC_PROGRESS_DEFAULT,
	RC_PROGRESS_AUTO,
	RC_PROGRESS_BAR,
	RC_PROGRESS_LINE,
	RC_PROGRESS_JSON,
	RC_PROGRESS_NONE
};

enum rc_start { RC_START_ZERO, RC_START_OFFSET, RC_START_APPEND };

/* What the consumer does with the bytes. */
enum rc_mode {
	RC_MODE_RAW,	 /* write them to stdout */
	RC_MODE_DECODE,	 /* -d: decompress to stdout */
	RC_MODE_EXTRACT, /* -x DIR */
	RC_MODE_LIST,	 /* -t */
	RC_MODE_MEMBER	 /* --member PATH: that member to stdout */
};

enum rc_format {
	RC_FMT_AUTO,
	RC_FMT_ZSTD,
	RC_FMT_GZIP,
	RC_FMT_XZ,
	RC_FMT_BZIP2,
	RC_FMT_LZ4
};

/* --sha256 / --sha512: which digest of the downloaded bytes to check. */
enum rc_digest_kind { RC_DIGEST_NONE, RC_DIGEST_SHA256, RC_DIGEST_SHA512 };

struct rc_opts {
	const char *url; /* the first URL operand, or NULL */
	/* Every URL operand in order (pointers into argv), and -i FILE, whose
	 * lines main reads (src/inputs.c) and fetches after them. */
	const char *const *urls;
	size_t nurls;
	const char *input_file;
	unsigned connections;
	uint64_t chunk_size; /* after validation: bytes per slot */
	uint64_t memory;     /* after validation: slots * chunk_size */
	bool chunk_set, memory_set;
	bool connections_set; /* -n pins the count; else it adapts */

	enum rc_start start; /* -C */
	uint64_t offset;     /* -C N */
	bool has_range;	     /* -r */
	bool range_suffix;   /* -r -N: the last range_last bytes */
	uint64_t range_first;
	uint64_t range_last; /* inclusive; UINT64_MAX for "A-" */

	const char *if_match;		     /* --if-match, the ETag as given */
	const char *headers[RC_MAX_HEADERS]; /* -H, pointers into argv */
	size_t nheaders;

	unsigned retries;
	double retry_delay;   /* seconds, base of the backoff */
	long connect_timeout; /* seconds */
	long stall_timeout;   /* seconds */
	long max_time;	      /* --max-time: seconds for the run, 0 none */
	uint64_t speed_limit; /* --speed-limit: bytes/s, 0 none */
	long speed_time;      /* --speed-time: seconds below it, 0 unset */
	bool insecure;
	const char *cacert;

	unsigned shard_k, shard_n; /* --shard K/N; shard_n 0 = none */
	enum rc_mode mode;
	enum rc_format format;	 /* -d=FMT */
	bool passthrough;	 /* -d=auto,passthrough */
	const char *extract_dir; /* -x */
	const char *start_dir;	 /* the directory -x left, absolute, or NULL */
	const char *member;	 /* --member */
	unsigned strip;		 /* --strip-components */
	bool strip_set;
	bool strict;	 /* --strict: stop at the first refusal */
	bool same_owner; /* --same-owner */
	bool same_perms; /* --same-permissions: devices, FIFOs, setuid */
	bool stats;	 /* --stats */

	enum rc_digest_kind digest; /* --sha256 or --sha512 */
	char digest_hex[129];	    /* its value, lowercased */
	bool digest_env;	    /* set by RANGECAT_SHA256/512 */
	/* Set by the environment (RANGECAT_CONTINUE_AT, RANGECAT_SHARD,
	 * RANGECAT_INPUT_FILE): resume hints name them. */
	bool start_env, shard_env, input_env;
	/* --max-size: the most member bytes -x or --member may write */
	uint64_t max_size;
	bool max_size_set;

	/* -o FILE, through FILE.part; NULL for stdout (also "-o -") */
	const char *output;
	bool remove_on_error; /* --remove-on-error */
	/* --cache DIR: a revalidating copy of whole files (cache.c) */
	const char *cache_dir;
	uint64_t cache_size; /* --cache-size: bound on DIR, 0 none */

	int verbose;
	bool quiet;
	enum rc_progress progress;
	bool help, version;

	/* Option groups the environment set, so the command line can
	 * replace them (see rc_options_parse_env). */
	int env_groups[RC_MAX_LONGOPTS]; /* one per long option at most */
	size_t nenv_groups;
};

/*
 * Lowers the default --memory to memory (a container's limit allows no
 * more) and derives the ring again; does nothing when --memory was given
 * or memory is not lower.
 */
void rc_options_default_memory(struct rc_opts *o, uint64_t memory);

/*
 * Parses argv into *o. On RC_E_USAGE, why (size whylen) holds a one-line
 * message without the "rangecat: " prefix. argv is not modified; o keeps
 * pointers into it.
 */
enum rc_err rc_options_parse(struct rc_opts *o, int argc, char *const argv[],
			     char *why, size_t whylen);

/* Reads an environment variable; tests pass their own. Returns NULL when
 * unset. */
typedef const char *(*rc_getenv_fn)(const char *name);

/* getenv(3) as an rc_getenv_fn. */
const char *rc_getenv(const char *name);

/*
 * As rc_options_parse, reading RANGECAT_<OPTION> variables through get
 * (getenv, or a test's table; NULL for none) before argv. For each group
 * of options the command line sets, it replaces what the environment set.
 * A bad variable's message names the variable, never its value.
 */
enum rc_err rc_options_parse_env(struct rc_opts *o, int argc,
				 char *const argv[], rc_getenv_fn get,
				 char *why, size_t whylen);

/* Parses a -d argument: auto, zstd, gzip, xz, bzip2, lz4, optionally
 * followed by ",passthrough" (auto only). */
enum rc_err rc_parse_format(const char *s, enum rc_format *f, bool *passthrough,
			    const char **why);

/* Parses the value of --sha256 (k RC_DIGEST_SHA256: 64 hex digits) or
 * --sha512 (128), into out, lowercased. */
enum rc_err rc_parse_digest(const char *s, enum rc_digest_kind k, char out[129],
			    const char **why);

/* Parses --shard K/N (1 <= K <= N <= 100000). */
enum rc_err rc_parse_shard(const char *s, unsigned *k, unsigned *n,
			   const char **why);

/*
 * Parses a whole decimal number in [0, max]: no sign, no junk, no overflow.
 * Returns RC_OK, or RC_E_USAGE with *why set to a static message.
 */
enum rc_err rc_parse_u64(const char *s, uint64_t max, uint64_t *out,
			 const char **why);

/* As rc_parse_u64, with an optional K, M, G or T suffix (powers of 1024). */
enum rc_err rc_parse_size(const char *s, uint64_t *out, const char **why);

/*
 * Parses a -r argument: "A-B" (inclusive), "A-" or "-N". Returns RC_OK or
 * RC_E_USAGE with *why set.
 */
enum rc_err rc_parse_range(const char *s, struct rc_opts *o, const char **why);

/* Returns true when url is an http://, https:// or s3:// URL rangecat can
 * send (an s3:// key may hold spaces). */
bool rc_url_ok(const char *url, const char **why);

/*
 * Classifies one argv element for rebuilding a command line: returns 0 for
 * an operand, else the option's short letter or RC_OPT_* code, with
 * *takes_next set when its value is the following element. "--" and
 * operands after it are not handled.
 */
int rc_options_classify(const char *arg, bool *takes_next);

/* Prints the usage text to f (stdout for --help). */
void rc_options_usage(void *f);

/* For a header line ("Name: value") that rangecat's range requests own
 * (Range, If-Match, If-Range, Accept-Encoding...): a static hint naming
 * what to use instead. NULL for any other header. */
const char *rc_options_header_owner(const char *line);

#endif
