/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The run: options, process set-up, the fetcher thread, and the consumer
 * loop on this (main) thread that writes the ring's bytes to stdout in
 * order. main alone turns an error into an exit status and a message, and
 * prints the resume command when a failed run already delivered bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "auth.h"
#include "cache.h"
#include "digest.h"
#include "err.h"
#include "escape.h"
#include "fetch.h"
#include "inputs.h"
#include "lazyarchive.h"
#include "log.h"
#include "options.h"
#include "output.h"
#include "plan.h"
#include "progress.h"
#include "ranged.h"
#include "resume.h"
#include "reader.h"
#include "ring.h"
#include "run.h"
#include "sched.h"
#include "sink_decode.h"
#include "sink_raw.h"
#include "sink_unpack.h"

static volatile sig_atomic_t got_signal;
static struct timespec run_start; /* for --stats */
/* The progress display of the whole run, from the command line's end to
 * finish(): a restart of -o's file does not start it over. */
static struct rc_progress_state *progress;

/* The first signal wins: a SIGTERM after --max-time fired (SIGALRM) does
 * not turn a timeout into a termination, nor the other way round. */
static void on_signal(int sig)
{
	if (got_signal == 0)
		got_signal = sig;
}

/* SIGINT and SIGTERM set the flag every wait checks (sched.c), and so
 * does SIGALRM, which --max-time arms for the whole run. */
static void install_signals(long max_time)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* No SA_RESTART: a blocked write(2) returns EINTR and we stop. */
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	rc_sched_watch(&got_signal, max_time);
	if (max_time > 0) {
		struct itimerval it = {.it_value = {.tv_sec = max_time}};
		setitimer(ITIMER_REAL, &it, NULL);
	}
}

/* A closed stdin, stdout or stderr would let a socket take its number:
 * fill the gap with /dev/null. A closed stdout is an error of its own
 * unless -o names the output (main checks): returns whether it was. */
static bool closed_stdout(void)
{
	bool closed = false;

	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1)
			continue;
		closed |= fd == 1;
		int n = open("/dev/null", O_RDWR);
		if (n != fd && n >= 0)
			close(n);
	}
	return closed;
}

/* -C -: the size of stdout when it is a regular file opened for append. */
static enum rc_err append_offset(uint64_t *off, char *why, size_t whylen)
{
	struct stat st;
	int fl = fcntl(1, F_GETFL);

	if (fstat(1, &st) != 0 || !S_ISREG(st.st_mode) || fl == -1 ||
	    !(fl & O_APPEND))
		return rc_err_usage(why, whylen,
				    "-C -: stdout must be a regular file "
				    "opened for append (rangecat -C - URL >> "
				    "FILE)");
	*off = (uint64_t)st.st_size;
	return RC_OK;
}

/*
 * Each connection needs a socket (of each of the fetchers that may run at
 * once: two with several URLs); curl, stdio and the wake-up pipe need a
 * few more. Raise the soft open-file limit as far as the hard one allows,
 * then lower -n to fit what is left, saying so once.
 */
static void fit_fd_limit(struct rc_opts *o, unsigned fetchers)
{
	struct rlimit rl;
	const rlim_t spare = 16;
	rlim_t need = (rlim_t)o->connections * fetchers + spare;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
		return;
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need) {
		rl.rlim_cur = need;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			return;
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	unsigned fit = rl.rlim_cur > spare + fetchers
			   ? (unsigned)((rl.rlim_cur - spare) / fetchers)
			   : 1;
	if (fit < o->connections) {
		if (!o->quiet)
			rc_log_error(
			    "-n %u lowered to %u: the open-file limit is "
			    "%lu",
			    o->connections, fit, (unsigned long)rl.rlim_cur);
		o->connections = fit;
	}
}

/* The directories -x made (absolute), to take back when the run fails
 * with nothing in them: tar -x -C DIR never makes DIR, and a mistyped URL
 * should not leave an empty one. */
#define MAX_MADE 32
static char *made[MAX_MADE];
static size_t nmade;

static int make_dir(const char *path, const char *start)
{
	if (mkdir(path, 0777) != 0)
		return -1;
	size_t n = strlen(start) + strlen(path) + 2;
	char *abs = nmade < MAX_MADE ? malloc(n) : NULL;
	if (abs == NULL)
		return 0;
	if (path[0] == '/')
		snprintf(abs, n, "%s", path);
	else
		snprintf(abs, n, "%s/%s", start, path);
	made[nmade++] = abs;
	return 0;
}

/* Removes the directories -x made that are still empty, deepest first. */
static void unmake_dirs(bool failed)
{
	while (nmade > 0) {
		char *d = made[--nmade];
		if (failed)
			(void)rmdir(d);
		free(d);
	}
}

/*
 * -x DIR: create DIR if needed and make it the working directory, so the
 * archive's relative paths land inside it and libarchive's symlink checks
 * start there (as tar -C does). CA file paths are made absolute first:
 * the fetcher thread may open them later.
 */
static enum rc_err enter_dir(struct rc_opts *o)
{
	static char ca[4096], cache[4096];
	char path[4096];

	if (o->cacert && o->cacert[0] != '/' && realpath(o->cacert, ca) != NULL)
		o->cacert = ca;
	/* --cache DIR is opened later, and may not exist yet. */
	if (o->cache_dir && o->cache_dir[0] != '/' && getcwd(path, 2048) &&
	    snprintf(cache, sizeof cache, "%s/%s", path, o->cache_dir) <
		(int)sizeof cache)
		o->cache_dir = cache;
	for (const char *v = "SSL_CERT_FILE"; v;
	     v = strcmp(v, "SSL_CERT_FILE") == 0 ? "CURL_CA_BUNDLE" : NULL) {
		const char *val = getenv(v);
		if (val && *val && val[0] != '/' && realpath(val, path))
			setenv(v, path, 1);
	}
	/* Files the credentials come from, read again at every refresh
	 * while the archive is unpacked here: a relative name must not
	 * find a member of it (nor miss the user's file). */
	static char start[2048];
	static const char *const files[] = {
	    "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
	    "AWS_WEB_IDENTITY_TOKEN_FILE",
	    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "NETRC"};
	if (getcwd(start, sizeof start) == NULL) {
		rc_log_error("--extract: the current directory: %s",
			     strerror(errno));
		return RC_E_OUTPUT;
	}
	o->start_dir = start;
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		const char *val = getenv(files[i]);
		if (val && *val && val[0] != '/' && strncmp(val, "~/", 2) &&
		    snprintf(path, sizeof path, "%s/%s", start, val) <
			(int)sizeof path)
			setenv(files[i], path, 1);
	}
	snprintf(path, sizeof path, "%s", o->extract_dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		(void)make_dir(path, start);
		*p = '/';
	}
	char dir[4096];
	rc_escape(o->extract_dir, dir, sizeof dir);
	if (make_dir(path, start) != 0 && errno != EEXIST) {
		rc_log_error("--extract %s: %s", dir, strerror(errno));
		return RC_E_OUTPUT;
	}
	if (chdir(path) != 0) {
		rc_log_error("--extract %s: %s", dir, strerror(errno));
		return RC_E_OUTPUT;
	}
	return RC_OK;
}

/*
 * --sha256/--sha512, after the sink finished: the sink may stop before the
 * end (an archive's padding after its end marker, a reader that closed the
 * pipe), so the rest of the stream is read and hashed too, then checked.
 */
static enum rc_err check_digest(struct rc_reader *r, const struct rc_opts *o,
				char *msg, size_t msglen)
{
	const unsigned char *p;
	ssize_t n;

	while ((n = rc_reader_next(r, &p)) > 0)
		;
	if (n < 0) {
		snprintf(msg, msglen, "%s", r->msg);
		return r->err;
	}
	return rc_digest_check(r->digest, o->digest_hex, r->consumed, msg,
			       msglen);
}

/*
 * -o: the digest starts with the bytes kept in FILE.part, the remote's
 * size must be the one recorded with them (else RC_E_CHANGED, and main
 * starts the file over), and what
 * FILE.part holds is recorded once the probe was judged, before its first
 * byte is written (the fetcher publishes what it learnt before that byte
 * lands, so the peek's acquire makes it visible here).
 */
static enum rc_err output_begin(struct rc_output *out, struct rc_reader *r,
				const struct rc_fetch_info *in, char *msg,
				size_t msglen)
{
	const unsigned char *p;
	enum rc_err err;

	if (r->digest &&
	    (err = rc_output_hash_prefix(out, r->digest, msg, msglen)))
		return err;
	if (rc_reader_peek(r, 1, &p) <= 0)
		return RC_OK;
	if (!rc_output_fits(out, in)) {
		char tag[RC_ETAG_MAX * 4];
		snprintf(msg, msglen,
			 "the remote file has ETag %s but %" PRIu64
			 " bytes, not the size recorded with its kept bytes",
			 rc_escape(rc_output_pin(out), tag, sizeof tag),
			 in->total);
		return RC_E_CHANGED;
	}
	return rc_output_began(out, in, msg, msglen);
}

/* Reads the ring (or a --cache hit) to the end through the sink o->mode
 * asks for, and with chain the rings of the URLs after it; out is -o's
 * FILE.part (or NULL), in what the fetcher (or the cache) learnt of the
 * file. */
static enum rc_err consume(struct rc_ring *ring, struct rc_run *run,
			   const struct rc_reader_chain *chain,
			   struct rc_cache *cache, const struct rc_opts *o,
			   struct rc_output *out,
			   const struct rc_fetch_info *in, uint64_t *delivered,
			   bool *want_zip, char *msg, size_t msglen)
{
	struct rc_progress_state *pg = progress;
	struct rc_reader r;
	enum rc_err err;

	rc_reader_init(&r, ring, run, &got_signal, pg);
	r.chain = chain;
	rc_cache_attach(cache, &r);
	if (o->digest != RC_DIGEST_NONE) {
		r.digest = rc_digest_new(o->digest);
		if (r.digest == NULL) {
			snprintf(msg, msglen, "out of memory for %s",
				 rc_digest_option(o->digest));
			rc_ring_stop(ring, RC_E_NOMEM, msg);
			return RC_E_NOMEM;
		}
	}
	err = out && o->mode == RC_MODE_RAW
		  ? output_begin(out, &r, in, msg, msglen)
		  : RC_OK;
	if (err != RC_OK)
		; /* nothing was written */
	else if (o->mode == RC_MODE_RAW)
		err = rc_sink_raw_run(&r, delivered, msg, msglen);
	else if (o->mode == RC_MODE_DECODE)
		err = rc_sink_decode_run(&r, o->format, o->passthrough,
					 delivered, msg, msglen);
	else
		err =
		    rc_sink_unpack_run(&r, o, delivered, want_zip, msg, msglen);
	if (err == RC_OK && r.digest && !*want_zip)
		err = check_digest(&r, o, msg, msglen);
	rc_digest_free(r.digest);
	if (pg && err == RC_OK) {
		/* The last figures: logs in line mode end on a full line. */
		rc_progress_update(pg, r.consumed + r.pending,
				   r.consumed + r.pending, 0,
				   atomic_load(&r.run->retries), true);
	}
	rc_progress_end(pg);
	rc_ring_stop(r.ring, err, msg);
	return err;
}

/* -t / --member on a zip, with the fetcher stopped: the central directory
 * and the member asked for, by range requests. */
static enum rc_err zip_by_ranges(const struct rc_opts *o, struct rc_auth *auth,
				 struct rc_fetch *f, uint64_t *delivered,
				 char *msg, size_t msglen)
{
	const struct rc_fetch_info *in = rc_fetch_info(f);
	struct rc_ranged *z =
	    rc_ranged_new(o, auth, rc_fetch_url(f), rc_fetch_pin_line(f),
			  in->etag, in->last_modified, in->coding, in->total);

	if (z == NULL) {
		snprintf(msg, msglen, "out of memory for the zip reader");
		return RC_E_NOMEM;
	}
	enum rc_err err =
	    rc_unpack_zip_run(z, o, &got_signal, delivered, msg, msglen);
	rc_ranged_free(z);
	return err;
}

/*
 * "rangecat: HEAD CMD" on one line. A log line holds 2 KiB (log.c); the
 * resume command of a long argv or of many URLs is longer, and a command
 * cut short would be wrong, so such a line is written whole here. The
 * command is shell-quoted, with $'...' for any control byte (resume.c),
 * so it is safe on a terminal as it is.
 */
static void say_resume(const char *head, const char *cmd)
{
	size_t hl = strlen(head), cl = strlen(cmd);

	if (hl + cl < 1900) {
		rc_log_error("%s%s", head, cmd);
		return;
	}
	char *line = malloc(hl + cl + 12);
	if (line == NULL) {
		rc_log_error("%s(the command does not fit in memory)", head);
		return;
	}
	int n = snprintf(line, hl + cl + 12, "rangecat: %s%s\n", head, cmd);
	for (size_t off = 0; n > 0 && off < (size_t)n;) {
		ssize_t w = write(2, line + off, (size_t)n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	free(line);
}

/* Room for a resume command built from argv (with -C, --if-match and
 * extra words besides): every word redacted and quoted at worst
 * (RC_RESUME_GROWTH bytes a byte), since a command cut short would be a
 * wrong one. */
static size_t command_room(int argc, char *argv[])
{
	size_t cap = 1024 + RC_ETAG_MAX * 4;

	for (int i = 1; i < argc; i++)
		cap += strlen(argv[i]) * RC_RESUME_GROWTH + 4;
	return cap;
}

/* Decoded bytes say nothing of the place in the file: no command
 * continues them. Says so and returns false; true for raw bytes. */
static bool raw_resumable(const struct rc_opts *o, uint64_t delivered)
{
	if (o->mode == RC_MODE_RAW)
		return true;
	rc_log_error("delivered %" PRIu64 " decoded bytes; decoding cannot "
		     "resume mid-stream: run the command again",
		     delivered);
	return false;
}

/* What the resume command cmd cannot carry over: the version check
 * (unchecked: no strong ETag), the digest of the whole of what (the file,
 * or the output of several URLs), a URL's password. */
static void resume_caveats(const struct rc_opts *o, bool unchecked,
			   const char *what, const char *cmd)
{
	if (unchecked)
		rc_log_error("no strong ETag: the resumed bytes cannot be "
			     "checked against the earlier version");
	if (o->digest != RC_DIGEST_NONE)
		rc_log_error("%s is left out: a continuation cannot check the "
			     "whole %s's digest; check the finished %s "
			     "with %s%s",
			     rc_digest_option(o->digest), what, what,
			     o->digest == RC_DIGEST_SHA512 ? "sha512sum"
							   : "sha256sum",
			     !o->digest_env ? ""
			     : o->digest == RC_DIGEST_SHA512
				 ? " (unset RANGECAT_SHA512 to run it)"
				 : " (unset RANGECAT_SHA256 to run it)");
	if (strstr(cmd, "[redacted]@"))
		rc_log_error("the URL's password is not repeated: give it as "
			     "RANGECAT_USER and RANGECAT_PASSWORD instead");
	if (strstr(cmd, ": [redacted]"))
		rc_log_error("a header's value is not repeated: put it back "
			     "for [redacted], or give the header as "
			     "RANGECAT_HEADERS");
	if (strstr(cmd, "=[redacted]"))
		rc_log_error("the URL's secret query values are not repeated: "
			     "put them back for [redacted]");
}

/* Tells the user how to continue after a failure that delivered bytes. */
static void resume_hint(enum rc_err err, int argc, char *argv[],
			const struct rc_opts *o, const struct rc_fetch_info *in,
			uint64_t delivered)
{
	uint64_t next = in->first + delivered;

	if (o->shard_n)
		next -= in->shard_first; /* -C counts inside the shard */

	if (err == RC_E_INTEGRITY)
		return; /* every byte was delivered, and they are wrong */
	if (delivered == 0)
		return; /* the same command starts over */
	if (!raw_resumable(o, delivered))
		return;
	if (err == RC_E_CHANGED) {
		rc_log_error("delivered %" PRIu64
			     " bytes of the earlier version; they cannot be "
			     "continued: fetch the file again from the start",
			     delivered);
		return;
	}
	if (!in->ranges) {
		rc_log_error("delivered %" PRIu64
			     " bytes; the server does not support ranges, so "
			     "the transfer cannot be resumed",
			     delivered);
		return;
	}
	bool ranged = o->has_range && in->end != RC_UNKNOWN;
	size_t cap = command_room(argc, argv);
	char *cmd = malloc(cap);
	if (cmd == NULL) {
		rc_log_error("delivered %" PRIu64 " bytes", delivered);
		return;
	}
	/* RANGECAT_SHARD: the hint's -C would set the group it belongs to
	 * on the command line and drop it, so --shard is named there. */
	char shard[32];
	char **words = calloc((size_t)argc + 3, sizeof *words);
	int nwords = 0;
	snprintf(shard, sizeof shard, "%u/%u", o->shard_k, o->shard_n);
	for (int i = 0; words && i < argc; i++) {
		words[nwords++] = argv[i];
		if (i == 0 && o->shard_n && o->shard_env) {
			words[nwords++] = "--shard";
			words[nwords++] = shard;
		}
	}
	if (words == NULL) {
		free(cmd);
		rc_log_error("delivered %" PRIu64 " bytes", delivered);
		return;
	}
	rc_resume_command(
	    nwords, words, next, ranged ? in->end - 1 : RC_UNKNOWN,
	    in->validator == RC_VAL_ETAG ? in->etag : NULL, cmd, cap);
	free(words);
	if (cmd[0] == '\0') { /* out of memory inside the builder */
		free(cmd);
		rc_log_error("delivered %" PRIu64 " bytes", delivered);
		return;
	}
	/* The command ends its line, so the whole line can be pasted. */
	char head[128];
	snprintf(head, sizeof head,
		 "delivered %" PRIu64 " bytes; resume with: ", delivered);
	say_resume(head, cmd);
	resume_caveats(o, in->validator != RC_VAL_ETAG, "file", cmd);
	free(cmd);
}

/* --stats: one key=value line for scripts, success or not. */
static void print_stats(const struct rc_opts *o, const struct rc_fetch_info *in,
			uint64_t delivered, uint64_t peak, enum rc_err err)
{
	struct timespec t;
	char etag[1024];
	clock_gettime(CLOCK_MONOTONIC, &t);
	/* The count the fetcher ended with; -n when it never ran. */
	unsigned conns = in->connections ? in->connections : o->connections;
	double secs = (double)(t.tv_sec - run_start.tv_sec) +
		      (double)(t.tv_nsec - run_start.tv_nsec) / 1e9;

	rc_log_error("stats: bytes=%" PRIu64 " seconds=%.3f rate=%.0f "
		     "retries=%u connections=%u exit=%d peak_buffer=%" PRIu64
		     " ranges=%u etag=%s",
		     delivered, secs, secs > 0 ? (double)delivered / secs : 0,
		     in->retries, conns, rc_err_exit_status(err), peak,
		     in->per_request ? in->per_request : 1,
		     in->etag[0] ? rc_escape(in->etag, etag, sizeof etag)
				 : "-");
}

/* --cacert FILE must be a readable file: a usage error naming both,
 * before any request (curl would only say the TLS handshake failed). */
static enum rc_err check_cacert(const char *path, char *why, size_t whylen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return rc_err_usage(why, whylen, "--cacert %s: %s", path,
				    strerror(errno));
	bool dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
	close(fd);
	if (dir)
		return rc_err_usage(why, whylen, "--cacert %s: %s", path,
				    strerror(EISDIR));
	return RC_OK;
}

/* The end of a run past the command line: the exit status, and with
 * --progress=json the final object. */
static int finish(const struct rc_opts *o, enum rc_err err, const char *why,
		  uint64_t delivered)
{
	int status = rc_err_exit_status(err);

	unmake_dirs(err != RC_OK);
	rc_progress_finish(progress, status);
	rc_progress_free(progress);
	progress = NULL;
	if (o->progress == RC_PROGRESS_JSON)
		rc_progress_json_end(status, why, delivered);
	return status;
}

/* The exit status of --help and --version: their text must have been
 * written (a full disk fails at some earlier flush, not the last one). */
static int written(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	rc_log_error("write to stdout: %s", strerror(errno ? errno : EIO));
	return rc_err_exit_status(RC_E_OUTPUT);
}

static int version(void)
{
	char libs[1024];

	rc_fetch_versions(libs, sizeof libs);
	printf("rangecat %s\n%s\n", RC_VERSION, libs);
	return written();
}

/* One URL of the run: its credentials, and once started its ring, the
 * figures its fetcher shares with the reader, and the fetcher. */
struct job {
	const char *url;      /* into argv or the -i list */
	struct rc_auth *auth; /* owned */
	struct rc_ring *ring; /* owned; NULL until started, after reaped */
	struct rc_fetch *f;   /* owned; likewise */
	struct rc_run figs;   /* run.h; valid while ring is */
	bool started;
	enum rc_err err; /* starting it failed: why in msg */
	char msg[512];
	uint64_t base; /* stream offset of its first byte, once reached */
};

/*
 * Every URL of the run, in order. The consumer reads job cur; the next job
 * starts as soon as the one before it has claimed its last chunk, so its
 * probe and first chunks overlap the tail of the files before it. Each
 * ring's budget is half of --memory (rc_options: geometry), and the rings
 * in flight hold no more than --memory between them: a ring allocates
 * buffers only as chunks are claimed, so once a file's size is known its
 * ring counts as that size, which lets several small files run ahead (up
 * to MAX_AHEAD jobs besides cur). With one URL the ring has all of
 * --memory, -o and --cache may apply, and the -o restart reuses job 0.
 * Consumer (main) thread only.
 */
#define MAX_AHEAD 7

struct run {
	const struct rc_opts *o;
	struct job *jobs; /* owned */
	size_t njobs;
	size_t cur;
	size_t next;	 /* the first job not started */
	size_t nslots;	 /* per ring */
	uint64_t budget; /* bytes per ring at most */
	uint64_t start, last;
	bool hold;	  /* -t/--member: the zip reader may take over */
	bool hit;	  /* --cache serves job 0: its fetcher never starts */
	uint64_t peak;	  /* the most bytes one ring held (--stats) */
	size_t done;	  /* a finished job not reaped yet, or SIZE_MAX */
	unsigned polls;	  /* polls since it finished */
	unsigned retries; /* of the jobs reaped */
	struct rc_fetch_info info; /* of the last job reaped */
	uint64_t at;		   /* job cur's base, for its failure */
};

/* Starts job k's fetcher; a failure is kept in the job until the reader
 * reaches it. */
static void start_job(struct run *run, size_t k)
{
	const struct rc_opts *o = run->o;
	struct job *j = &run->jobs[k];

	j->started = true;
	run->next = k + 1;
	/* The first job's token was fetched before the run. */
	if (k > 0 && (j->err = rc_auth_start(j->auth, o, j->msg,
					     sizeof j->msg)) != RC_OK)
		return;
	rc_run_init(&j->figs);
	j->ring = rc_ring_new(run->nslots, (size_t)o->chunk_size, run->budget);
	j->f = j->ring
		   ? rc_fetch_new(o, j->auth, j->ring, &j->figs, run->start,
				  run->last, o->has_range && o->range_suffix,
				  o->range_last)
		   : NULL;
	if (j->f == NULL) {
		snprintf(j->msg, sizeof j->msg,
			 "out of memory for a %" PRIu64 "-byte buffer",
			 run->budget);
		j->err = RC_E_NOMEM;
		return;
	}
	char which[64] = "";
	if (run->njobs > 1)
		snprintf(which, sizeof which, " (URL %zu of %zu)", k + 1,
			 run->njobs);
	rc_log("rangecat %s: %u connections%s, chunks up to %" PRIu64
	       " bytes, buffer up to %" PRIu64 " bytes, start at %" PRIu64 "%s",
	       RC_VERSION,
	       o->connections_set ? o->connections : RC_SCHED_CONN_CAP,
	       o->connections_set ? "" : " at most (adaptive)", o->chunk_size,
	       run->budget, run->start, which);
	/* -t and --member may read a zip by ranges instead of streaming
	 * it: the fetcher waits after the probe until the consumer
	 * decides. */
	if (run->hold)
		atomic_store(&j->figs.hold, 1);
	if (run->hit)
		return; /* --cache: the entry is read instead */
	/* The fetcher thread must not take the signals: block them while it
	 * is created so it inherits the mask, then unblock them here. */
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	if (rc_fetch_start(j->f) != RC_OK) {
		snprintf(j->msg, sizeof j->msg,
			 "cannot start the fetcher thread");
		j->err = RC_E_NOMEM;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Stops job k's fetcher (if it still runs), keeps what it learnt in
 * run->info, and frees its ring and handles. */
static void reap_job(struct run *run, size_t k, enum rc_err err,
		     const char *msg)
{
	struct job *j = &run->jobs[k];

	if (j->f) {
		rc_ring_stop(j->ring, err, msg);
		rc_fetch_join(j->f);
		run->info = *rc_fetch_info(j->f);
		run->retries += run->info.retries;
	}
	if (j->ring && atomic_load(&j->ring->peak) > run->peak)
		run->peak = atomic_load(&j->ring->peak);
	rc_fetch_free(j->f);
	rc_ring_free(j->ring);
	j->f = NULL;
	j->ring = NULL;
}

/* Reaps the finished job, if any. */
static void reap_done(struct run *run)
{
	if (run->done == SIZE_MAX)
		return;
	reap_job(run, run->done, RC_OK, "");
	run->done = SIZE_MAX;
}

/* The memory job j's ring may come to hold: its budget, or the file's
 * size once the probe told it (the fetcher's figures). */
static uint64_t footprint(const struct run *run, const struct job *j)
{
	uint64_t all = run->budget;

	if (j->ring == NULL)
		return 0;
	uint64_t end = atomic_load(&j->figs.end);
	uint64_t first = atomic_load(&j->figs.first);
	return end != UINT64_MAX && end - first < all ? end - first : all;
}

/* rc_reader_chain.poll: once the last job started has every chunk
 * claimed, the next URL starts, while the memory allows. */
static void chain_poll_cb(void *arg, struct rc_ring *ring)
{
	struct run *run = arg;
	size_t k = run->next;

	(void)ring;
	/* Freeing a finished job's handles and ring takes milliseconds:
	 * not at the seam, but once the next URL's first bytes are out. */
	if (run->done != SIZE_MAX && ++run->polls > 1)
		reap_done(run);
	if (k >= run->njobs || k > run->cur + MAX_AHEAD)
		return;
	const struct job *prev = &run->jobs[k - 1];
	if (prev->ring == NULL)
		return; /* it failed to start: its error comes first */
	uint64_t n = atomic_load(&prev->ring->nchunks);
	if (n == UINT64_MAX || atomic_load(&prev->ring->claimed) < n)
		return;
	uint64_t held = run->budget;
	for (size_t i = run->cur; i < k; i++)
		held += footprint(run, &run->jobs[i]);
	if (run->done != SIZE_MAX)
		held += footprint(run, &run->jobs[run->done]);
	if (held > run->o->memory && run->done != SIZE_MAX) {
		held -= footprint(run, &run->jobs[run->done]);
		reap_done(run);
	}
	if (held <= run->o->memory)
		start_job(run, k);
}

/* rc_reader_chain.next: the current URL is all read. */
static struct rc_ring *chain_next_cb(void *arg, struct rc_reader *r)
{
	struct run *run = arg;
	size_t k = run->cur + 1;

	if (k >= run->njobs)
		return NULL; /* the last one: main reaps it */
	reap_done(run);
	/* Its fetcher ends by itself: every byte landed. */
	run->done = run->cur;
	run->polls = 0;
	run->cur = k;
	run->at = r->consumed;
	run->jobs[k].base = r->consumed;
	if (!run->jobs[k].started) {
		reap_done(run);
		start_job(run, k);
	}
	if (run->jobs[k].ring)
		rc_log("URL %zu of %zu: %" PRIu64 " bytes ready at its start",
		       k + 1, run->njobs,
		       atomic_load(&run->jobs[k].ring->slots[0].filled));
	if (run->jobs[k].err != RC_OK) {
		r->err = run->jobs[k].err;
		snprintf(r->msg, sizeof r->msg, "%s", run->jobs[k].msg);
		return NULL;
	}
	r->run = &run->jobs[k].figs;
	return run->jobs[k].ring;
}

/*
 * The resume hint of a run of several URLs that failed in job cur after
 * delivering bytes: continue cur with -C, then the URLs after it. One
 * line, ending with the command.
 */
static void multi_hint(enum rc_err err, int argc, char *argv[],
		       const struct run *run, uint64_t delivered)
{
	const struct rc_opts *o = run->o;
	const struct rc_fetch_info *in = &run->info;
	size_t k = run->cur, rest = run->njobs - k;
	uint64_t here = delivered > run->at ? delivered - run->at : 0;
	char red[1024];

	if (err == RC_E_INTEGRITY)
		return; /* every byte was delivered, and they are wrong */
	rc_log_redact_url(run->jobs[k].url, red, sizeof red);
	if (o->mode == RC_MODE_RAW)
		rc_log_error("URL %zu of %zu failed at its byte %" PRIu64
			     ": %s",
			     k + 1, run->njobs, in->first + here, red);
	else /* decoded bytes say nothing of the place in the URL */
		rc_log_error("URL %zu of %zu failed: %s", k + 1, run->njobs,
			     red);
	if (delivered == 0)
		return; /* the same command starts over */
	if (!raw_resumable(o, delivered))
		return;
	if (here > 0 && err == RC_E_CHANGED) {
		rc_log_error("delivered %" PRIu64 " bytes, the last %" PRIu64
			     " of them of the earlier version of URL %zu; "
			     "they cannot be continued",
			     delivered, here, k + 1);
		return;
	}
	if (here > 0 && !in->ranges) {
		rc_log_error("delivered %" PRIu64 " bytes; the server of URL "
			     "%zu does not support ranges, so it cannot be "
			     "resumed",
			     delivered, k + 1);
		return;
	}
	size_t cap = command_room(argc, argv);
	const char **urls = malloc(rest * sizeof *urls);
	for (size_t i = 0; urls && i < rest; i++) {
		urls[i] = run->jobs[k + i].url;
		cap += strlen(urls[i]) * RC_RESUME_GROWTH + 4;
	}
	char *cmd = urls ? malloc(cap * 2 + 16) : NULL;
	if (cmd == NULL) {
		free(urls);
		rc_log_error("delivered %" PRIu64 " bytes", delivered);
		return;
	}
	if (here == 0) {
		rc_resume_command_urls(argc, argv, RC_UNKNOWN, NULL, urls, rest,
				       cmd, cap);
	} else {
		/* Two commands are grouped, so that one redirection
		 * (>> FILE) takes the output of both. */
		size_t n = rest > 1 ? 2 : 0;
		memcpy(cmd, "{ ", n);
		rc_resume_command_urls(argc, argv, in->first + here,
				       in->validator == RC_VAL_ETAG ? in->etag
								    : NULL,
				       urls, 1, cmd + n, cap);
		if (rest > 1) {
			n = strlen(cmd);
			memcpy(cmd + n, " && ", 5);
			rc_resume_command_urls(argc, argv, RC_UNKNOWN, NULL,
					       urls + 1, rest - 1, cmd + n + 4,
					       cap);
			n = strlen(cmd);
			memcpy(cmd + n, "; }", 4);
		}
	}
	char head[128];
	snprintf(
	    head, sizeof head,
	    "delivered %" PRIu64 " bytes in all; resume with: ", delivered);
	say_resume(head, cmd);
	resume_caveats(o, here > 0 && in->validator != RC_VAL_ETAG, "output",
		       cmd);
	if (o->input_env)
		rc_log_error("the command names the URLs RANGECAT_INPUT_FILE "
			     "listed: unset RANGECAT_INPUT_FILE to run it");
	free(cmd);
	free(urls);
}

/* The URLs of the run: the operands, then -i FILE's lines. */
static enum rc_err list_urls(const struct rc_opts *o, struct rc_inputs *in,
			     struct run *run, char *why, size_t whylen)
{
	memset(in, 0, sizeof *in);
	if (o->input_file) {
		enum rc_err err =
		    rc_inputs_read(o->input_file, in, why, whylen);
		if (err != RC_OK)
			return err;
	}
	run->njobs = o->nurls + in->n;
	if (run->njobs == 0) {
		char shown[256];
		return rc_err_usage(
		    why, whylen, "no URL given (--input-file %s holds none)",
		    rc_escape(o->input_file, shown, sizeof shown));
	}
	run->jobs = calloc(run->njobs, sizeof *run->jobs);
	if (run->jobs == NULL) {
		snprintf(why, whylen, "out of memory for %zu URLs", run->njobs);
		return RC_E_NOMEM;
	}
	for (size_t i = 0; i < run->njobs; i++)
		run->jobs[i].url =
		    i < o->nurls ? o->urls[i] : in->urls[i - o->nurls];
	return RC_OK;
}

/* Frees every job, stopping the fetchers still running with err. */
static void free_jobs(struct run *run, enum rc_err err, const char *msg)
{
	for (size_t i = 0; run->jobs && i < run->njobs; i++) {
		if (run->jobs[i].f) {
			rc_ring_stop(run->jobs[i].ring, err, msg);
			rc_fetch_join(run->jobs[i].f);
		}
		rc_fetch_free(run->jobs[i].f);
		rc_ring_free(run->jobs[i].ring);
		rc_auth_free(run->jobs[i].auth);
	}
	free(run->jobs);
	run->jobs = NULL;
}

/* Ends the run before the first job started: what main set up is freed. */
static int give_up(struct run *run, struct rc_inputs *inputs,
		   struct rc_output *out, struct rc_cache *cache,
		   const struct rc_opts *o, enum rc_err err, const char *why)
{
	rc_log_error("%s", why);
	rc_cache_free(cache);
	rc_output_free(out);
	free_jobs(run, err, why);
	rc_inputs_free(inputs);
	curl_global_cleanup();
	return finish(o, err, why, 0);
}

/* An exit before any fetcher or credential exists, its error said. */
static int quit_early(struct run *run, struct rc_inputs *inputs,
		      enum rc_err err)
{
	free(run->jobs);
	rc_inputs_free(inputs);
	return rc_err_exit_status(err);
}

int main(int argc, char *argv[])
{
	struct rc_opts o;
	struct rc_inputs inputs = {0};
	struct run run = {.o = &o, .done = SIZE_MAX};
	char why[512];
	uint64_t delivered = 0, start = 0;
	enum rc_err err;
	int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);

	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	bool no_stdout = closed_stdout();
	err = rc_options_parse(&o, argc, argv, why, sizeof why);
	if (no_stdout && (err != RC_OK || !o.output)) {
		rc_log_error("stdout is closed; nothing to write to");
		return rc_err_exit_status(RC_E_OUTPUT);
	}
	if (err != RC_OK) {
		rc_log_error("%s", why);
		return rc_err_exit_status(err);
	}
	if (o.help) {
		rc_options_usage(stdout);
		return written();
	}
	if (o.version)
		return version();
	if (o.cacert && (err = check_cacert(o.cacert, why, sizeof why))) {
		rc_log_error("%s", why);
		return finish(&o, err, why, 0);
	}
	/* Before -x changes the directory: -i names a file from here. */
	if ((err = list_urls(&o, &inputs, &run, why, sizeof why)) != RC_OK) {
		rc_log_error("%s", why);
		free(run.jobs);
		rc_inputs_free(&inputs);
		return finish(&o, err, why, 0);
	}
	/* Before argv is wiped: the start line names the (first) URL, which
	 * may come from -i. */
	progress =
	    rc_progress_new(o.progress, run.njobs ? run.jobs[0].url : o.url);
	/* With -t, one -v asks for the detailed listing, as in tar -tv;
	 * -vv also logs. */
	rc_log_init(o.mode == RC_MODE_LIST && o.verbose > 0 ? o.verbose - 1
							    : o.verbose);
	if (o.start == RC_START_APPEND && !o.output) {
		if ((err = append_offset(&start, why, sizeof why)) != RC_OK) {
			rc_log_error("%s", why);
			return quit_early(&run, &inputs, err);
		}
	} else if (o.start == RC_START_OFFSET) {
		start = o.offset; /* with --shard: inside the shard */
	} else if (o.has_range) {
		start = o.range_first;
	}
	uint64_t last =
	    o.has_range && !o.range_suffix && o.range_last != UINT64_MAX
		? o.range_last
		: RC_UNKNOWN;

	fit_fd_limit(&o, run.njobs > MAX_AHEAD ? MAX_AHEAD + 1
					       : (unsigned)run.njobs);
	/* In a container, the default buffer stays well inside its memory
	 * limit (a given --memory is the user's call). */
	uint64_t limit =
	    rc_sched_cgroup_limit("/proc/self/cgroup", "/sys/fs/cgroup");
	uint64_t before = o.memory;
	rc_options_default_memory(&o, rc_sched_memory_for_limit(limit));
	if (o.memory != before)
		rc_log("memory limit %" PRIu64
		       " bytes (cgroup): buffer %" PRIu64
		       " bytes in chunks of %" PRIu64,
		       limit, o.memory, o.chunk_size);
	if (o.mode == RC_MODE_EXTRACT || o.mode == RC_MODE_LIST ||
	    o.mode == RC_MODE_MEMBER) {
		/* Before any byte is fetched (xz and the like under -d are
		 * known only from their first bytes: sink_decode.c). */
		if (!rc_lazyarchive_load(why, sizeof why)) {
			rc_log_error("%s", why);
			return quit_early(&run, &inputs, RC_E_DECODE);
		}
	}
	if (o.mode == RC_MODE_EXTRACT && (err = enter_dir(&o)) != RC_OK)
		return quit_early(&run, &inputs, err);
	clock_gettime(CLOCK_MONOTONIC, &run_start);
	install_signals(o.max_time);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		rc_log_error("libcurl failed to initialise");
		return quit_early(&run, &inputs, RC_E_NETWORK);
	}
	/* Credentials: read once, for every URL (each gets its own origin's:
	 * netrc by host, a URL's user:password for that URL alone), then
	 * wiped from the environment and argv as /proc shows them. The
	 * process is not dumpable from start-up (a URL password is in argv
	 * from exec) and stays so while it holds any secret. */
	bool secret = false;
	err = RC_OK;
	for (size_t i = 0; i < run.njobs && err == RC_OK; i++) {
		struct job *j = &run.jobs[i];
		o.url = j->url; /* rc_auth_new reads it; nothing else does */
		err = rc_auth_new(&o, rc_getenv, &j->auth, why, sizeof why);
		secret = secret || rc_auth_holds_secret(j->auth);
		if (err != RC_OK && run.njobs > 1) {
			char red[1024], m[512];
			rc_log_redact_url(j->url, red, sizeof red);
			snprintf(m, sizeof m, "%s", why);
			snprintf(why, sizeof why,
				 "%.300s (URL %zu of %zu: %.150s)", m, i + 1,
				 run.njobs, red);
		}
	}
	o.url = run.jobs[0].url;
	bool held = rc_auth_scrub(argc, argv);
	if (dumpable == 1 && !held && !secret)
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	if (err == RC_OK)
		err = rc_auth_start(run.jobs[0].auth, &o, why, sizeof why);
	if (err != RC_OK)
		return give_up(&run, &inputs, NULL, NULL, &o, err, why);
	/* -o (one URL only: options.c): FILE.part becomes stdout; the bytes
	 * it keeps move the start, pinned to their ETag. A probe that finds
	 * another version starts the file over, once. */
	struct rc_output *out = NULL;
	const char *user_pin = o.if_match;
	uint64_t base = o.has_range && !o.range_suffix ? o.range_first : 0;
	if (o.output && (err = rc_output_open(&o, &out, why, sizeof why)))
		return give_up(&run, &inputs, out, NULL, &o, err, why);
	/* -o /dev/stdout -C -: stdout's length, as without -o. */
	if (out && rc_output_direct(out) && o.start == RC_START_APPEND &&
	    (err = append_offset(&start, why, sizeof why)) != RC_OK)
		return give_up(&run, &inputs, out, NULL, &o, err, why);
	/* --cache (one URL only): one conditional request; a hit is read
	 * from disk. Bytes FILE.part keeps must be of the version the entry
	 * holds, or the file starts over (and the entry is asked again from
	 * byte 0). */
	struct rc_cache *cache = NULL;
	bool hit = false;
	/* A FILE written in place starts where stdout would (-C N). */
	bool kept = out && !rc_output_direct(out);
	for (int pass = 0; o.cache_dir && pass < 2; pass++) {
		if (kept)
			start = base + rc_output_prefix(out);
		if ((err = rc_cache_open(&o, run.jobs[0].auth, start, &cache,
					 &hit, why, sizeof why)) != RC_OK)
			return give_up(&run, &inputs, out, cache, &o, err, why);
		if (!hit || !out || rc_output_prefix(out) == 0 ||
		    !rc_output_pin(out) ||
		    strcmp(rc_output_pin(out), rc_cache_info(cache)->etag) == 0)
			break;
		rc_cache_free(cache);
		cache = NULL;
		hit = false;
		if ((err = rc_output_restart(out, why, sizeof why)) != RC_OK)
			return give_up(&run, &inputs, out, NULL, &o, err, why);
	}
	rc_sink_raw_prepare(1);
	/* Slots for chunks down to 256 KiB (the first ones are that small),
	 * buffers allocated as chunks are claimed, up to the budget: all of
	 * --memory for one URL, half of it for each of several. */
	run.budget = o.memory;
	if (run.njobs > 1 && o.memory / 2 >= o.chunk_size)
		run.budget = o.memory / 2;
	uint64_t nslots =
	    run.budget /
	    (o.chunk_size < RC_FIRST_CHUNK ? o.chunk_size : RC_FIRST_CHUNK);
	/* Two at least: a stream's write may run from one chunk into the
	 * next (span_len in fetch.c). */
	/* Stripes (fetch.c) claim two groups of RC_STRIPE_MAX chunks per
	 * connection ahead; a claim takes no memory, a slot little. */
	uint64_t ahead = 2 * RC_STRIPE_MAX *
			     (uint64_t)(o.connections_set ? o.connections
							  : RC_SCHED_CONN_CAP) +
			 8;
	if (nslots < ahead)
		nslots = ahead;
	run.nslots = nslots > 4096 ? 4096 : nslots > 2 ? (size_t)nslots : 2;
	run.last = last;
	run.hit = hit;
	/* -t and --member may read a zip by ranges instead of streaming
	 * it. Not across several URLs: they are one stream. */
	run.hold = run.njobs == 1 &&
		   (o.mode == RC_MODE_LIST || o.mode == RC_MODE_MEMBER) &&
		   o.digest == RC_DIGEST_NONE;
	const struct rc_reader_chain chain = {
	    .poll = chain_poll_cb, .next = chain_next_cb, .arg = &run};
	bool want_zip;
	struct job *j;
	for (;;) {
		if (kept) {
			start = base + rc_output_prefix(out);
			o.if_match =
			    rc_output_pin(out) ? rc_output_pin(out) : user_pin;
		}
		run.start = start;
		start_job(&run, 0);
		j = &run.jobs[0];
		if (j->err == RC_E_NOMEM && j->f == NULL) {
			rc_log_error("%s", j->msg);
			rc_cache_free(cache);
			rc_output_free(out);
			free_jobs(&run, RC_E_NOMEM, "");
			rc_inputs_free(&inputs);
			curl_global_cleanup();
			return rc_err_exit_status(RC_E_NOMEM);
		}
		want_zip = false;
		err = j->err;
		if (err == RC_OK)
			err = consume(
			    j->ring, &j->figs, run.njobs > 1 ? &chain : NULL,
			    cache, &o, out,
			    hit ? rc_cache_info(cache) : rc_fetch_info(j->f),
			    &delivered, &want_zip, why, sizeof why);
		else
			snprintf(why, sizeof why, "%s", j->msg);
		reap_done(&run);
		j = &run.jobs[run.cur];
		if (j->f)
			rc_fetch_join(j->f);
		if (err == RC_OK && want_zip)
			err = zip_by_ranges(&o, j->auth, j->f, &delivered, why,
					    sizeof why);
		reap_job(&run, run.cur, err, why);
		if (hit || !(out && err == RC_E_CHANGED && delivered == 0 &&
			     rc_output_pin(out) && !user_pin))
			break;
		/* -o: the kept bytes are of another version; start over. */
		rc_log("%s", why);
		if ((err = rc_output_restart(out, why, sizeof why)) != RC_OK)
			return give_up(&run, &inputs, out, cache, &o, err, why);
	}
	if (out && err == RC_OK)
		err = rc_output_commit(out, delivered, why, sizeof why);

	const struct rc_fetch_info *in = hit ? rc_cache_info(cache) : &run.info;
	if (!hit)
		rc_cache_store(cache, in, err);
	run.info.retries = run.retries;
	if (err != RC_OK) {
		rc_log_error("%s", why);
		if (kept)
			rc_output_fail(out, err, delivered);
		else if (run.njobs > 1)
			multi_hint(err, argc, argv, &run, delivered);
		else
			resume_hint(err, argc, argv, &o, in, delivered);
	} else {
		rc_log("delivered %" PRIu64 " bytes, %u retries", delivered,
		       in->retries);
	}
	if (o.stats)
		print_stats(&o, in, delivered, run.peak, err);
	rc_cache_free(cache);
	rc_output_free(out);
	free_jobs(&run, err, why);
	rc_inputs_free(&inputs);
	curl_global_cleanup();
	return finish(&o, err, why, delivered);
}
