/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * -o FILE through FILE.part, renamed when the run succeeded, and the
 * metadata that lets the same command continue a partial file: see
 * output.h. The partial file is made the process's stdout, so the sinks
 * write to fd 1 as they always do. It does not fetch anything: the probe
 * checks the kept bytes' ETag by If-Match (main passes it on). Main
 * thread only.
 */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "escape.h"
#include "http.h"
#include "log.h"
#include "sink_raw.h"

#define XATTR_NAME "user.rangecat.resume"
#define META_MAX 1024

/* What FILE.part holds, as stored beside it. */
struct meta {
	char key[65];		/* sha256 of the URL (redacted) + range */
	char etag[RC_ETAG_MAX]; /* strong ETag, "" for none */
	char last_modified[RC_DATE_MAX]; /* for the record */
	uint64_t length; /* the complete .part's size, or unknown */
	uint64_t total;	 /* the remote file's size, or unknown */
};

struct rc_output {
	const struct rc_opts *o;
	char path[PATH_MAX];
	char part[PATH_MAX];
	char side[PATH_MAX];
	char dir[PATH_MAX];
	char shown[PATH_MAX]; /* part, escaped for messages */
	int fd;
	uint64_t prefix; /* bytes kept from an earlier run */
	bool described;	 /* the stored metadata describes this run */
	bool strong;	 /* ... with a strong ETag: resumable */
	bool pinned;	 /* etag pins the probe (If-Match) */
	bool direct;	 /* FILE written in place: no .part, no rename */
	bool cut;	 /* FILE.part still as the run found it: cut it to
			  * prefix before the first byte (output_cut) */
	char key[65];
	char etag[RC_ETAG_MAX];
	uint64_t total; /* the remote's size etag was stored with */
};

/* The URL (credentials and signatures redacted) and the part of the file
 * asked for, hashed: a partial file is continued only by the same
 * command, and no credential is stored beside it. */
static void make_key(const struct rc_opts *o, char out[65])
{
	static char buf[16384 + 128];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t n;

	rc_log_redact_url(o->url, buf, 16384);
	n = strlen(buf);
	if (o->has_range && o->range_suffix)
		snprintf(buf + n, sizeof buf - n, "\nsuffix %" PRIu64,
			 o->range_last);
	else if (o->has_range)
		snprintf(buf + n, sizeof buf - n,
			 "\nrange %" PRIu64 "-%" PRIu64, o->range_first,
			 o->range_last);
	else if (o->shard_n)
		snprintf(buf + n, sizeof buf - n, "\nshard %u/%u", o->shard_k,
			 o->shard_n);
	if (EVP_Digest(buf, strlen(buf), md, &mdlen, EVP_sha256(), NULL) != 1)
		mdlen = 0;
	for (unsigned i = 0; i < mdlen && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[mdlen ? 64 : 0] = '\0';
}

static void put_u64(char *out, size_t outlen, uint64_t v)
{
	if (v == RC_UNKNOWN)
		snprintf(out, outlen, "-");
	else
		snprintf(out, outlen, "%" PRIu64, v);
}

static int format_meta(const struct meta *m, char *out, size_t outlen)
{
	char len[24], tot[24];

	put_u64(len, sizeof len, m->length);
	put_u64(tot, sizeof tot, m->total);
	return snprintf(out, outlen,
			"rangecat-part 1\nkey %s\netag %s\n"
			"last-modified %s\nlength %s\ntotal %s\n",
			m->key, m->etag, m->last_modified, len, tot);
}

static bool get_u64(const char *s, uint64_t *v)
{
	const char *why;

	if (strcmp(s, "-") == 0) {
		*v = RC_UNKNOWN;
		return true;
	}
	return rc_parse_u64(s, UINT64_MAX - 1, v, &why) == RC_OK;
}

/* Parses what format_meta wrote; anything else is not trusted. */
static bool parse_meta(char *s, struct meta *m)
{
	unsigned seen = 0;
	char *line, *save = NULL;

	if (strncmp(s, "rangecat-part 1\n", 16) != 0)
		return false;
	memset(m, 0, sizeof *m);
	for (line = strtok_r(s + 16, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *v = strchr(line, ' ');
		if (v == NULL)
			return false;
		*v++ = '\0';
		if (strcmp(line, "key") == 0 && strlen(v) == 64) {
			memcpy(m->key, v, 65);
			seen |= 1;
		} else if (strcmp(line, "etag") == 0 &&
			   strlen(v) < sizeof m->etag) {
			memcpy(m->etag, v, strlen(v) + 1);
			seen |= 2;
		} else if (strcmp(line, "last-modified") == 0 &&
			   strlen(v) < sizeof m->last_modified) {
			memcpy(m->last_modified, v, strlen(v) + 1);
			seen |= 4;
		} else if (strcmp(line, "length") == 0 &&
			   get_u64(v, &m->length)) {
			seen |= 8;
		} else if (strcmp(line, "total") == 0 &&
			   get_u64(v, &m->total)) {
			seen |= 16;
		} else {
			return false;
		}
	}
	return seen == 31;
}

/* The stored metadata: the xattr, else the sidecar. */
static bool read_meta(struct rc_output *out, struct meta *m)
{
	char buf[META_MAX + 1];
	ssize_t n = fgetxattr(out->fd, XATTR_NAME, buf, META_MAX);

	if (n < 0) {
		/* Only our own sidecar: another user's (planted in a shared
		 * directory) could name any version for our bytes. */
		struct stat st;
		int fd = open(out->side,
			      O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd < 0)
			return false;
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
		    st.st_uid != geteuid())
			n = -1;
		else
			n = read(fd, buf, META_MAX);
		close(fd);
	}
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return parse_meta(buf, m);
}

/* The xattr where the file system has them, else the sidecar (fsync'd:
 * it must not outlive a crash emptier than the bytes it describes). */
static void write_meta(struct rc_output *out, const struct meta *m)
{
	char buf[META_MAX];
	int n = format_meta(m, buf, sizeof buf);

	if (n < 0 || (size_t)n >= sizeof buf)
		return;
	if (fsetxattr(out->fd, XATTR_NAME, buf, (size_t)n, 0) == 0) {
		(void)unlink(out->side);
		return;
	}
	rc_log("%s: no user xattrs (%s): metadata in a sidecar file",
	       out->shown, strerror(errno));
	/* A new file of ours, never one that was there. */
	(void)unlink(out->side);
	int fd =
	    open(out->side,
		 O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
	size_t done;
	volatile sig_atomic_t never = 0;
	if (fd < 0 || rc_sink_raw_write(fd, buf, (size_t)n, &done, &never) ||
	    fsync(fd) != 0)
		rc_log("%s.rangecat: %s: the partial file cannot be resumed",
		       out->shown, strerror(errno));
	if (fd >= 0)
		close(fd);
}

static void drop_meta(struct rc_output *out)
{
	(void)fremovexattr(out->fd, XATTR_NAME);
	(void)unlink(out->side);
	out->described = out->strong = false;
}

static enum rc_err fail_errno(char *why, size_t whylen, const char *what,
			      const struct rc_output *out)
{
	snprintf(why, whylen, "--output: %s %s: %s", what, out->shown,
		 strerror(errno));
	return RC_E_OUTPUT;
}

/* Why the partial file found cannot be continued, or NULL when it can. */
static const char *distrust(const struct rc_output *out, bool have,
			    const struct meta *m, uint64_t size)
{
	const struct rc_opts *o = out->o;

	if (o->mode != RC_MODE_RAW)
		return "decoded output cannot be resumed";
	if (o->has_range && o->range_suffix)
		return "a suffix range (-r -N) cannot be resumed";
	if (!have)
		return "its resume metadata is missing or damaged";
	if (strcmp(m->key, out->key) != 0)
		return "it was written for another URL or range";
	if (m->etag[0] == '\0')
		return "no strong ETag was stored to check its version";
	if (o->if_match && !rc_http_etag_matches(m->etag, o->if_match))
		return "it holds another version than --if-match names";
	if (m->length != RC_UNKNOWN && size > m->length)
		return "it is longer than the file";
	return NULL;
}

/* FILE is not a regular file to replace (see rc_output_open): it
 * becomes stdout as it is (same: it already is stdout). */
static enum rc_err open_direct(struct rc_output *out, bool same, char *why,
			       size_t whylen)
{
	rc_escape(out->path, out->shown, sizeof out->shown);
	/* -C N writes from byte N, as to stdout (the resume hint of a run
	 * that failed here says so). -C - takes stdout's length when FILE
	 * is stdout (main.c); a device or FIFO has none to go by. */
	if (out->o->start == RC_START_APPEND && !same) {
		snprintf(why, whylen,
			 "--continue-at -: %s is written in place (a "
			 "device or FIFO), with no length to continue from: "
			 "give -C N",
			 out->shown);
		return RC_E_USAGE;
	}
	out->direct = out->described = true;
	if (!same) {
		out->fd = open(out->path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
		if (out->fd < 0 || dup2(out->fd, 1) < 0) {
			snprintf(why, whylen, "--output: cannot open %s: %s",
				 out->shown, strerror(errno));
			return RC_E_OUTPUT;
		}
	}
	rc_sink_raw_name(out->shown);
	return RC_OK;
}

/* Cuts FILE.part to the bytes the run keeps, dropping a record that does
 * not describe this run, once: before its first byte is written, or when
 * it begins (its record is then written for it). */
static enum rc_err output_cut(void *arg, char *why, size_t whylen)
{
	struct rc_output *out = arg;

	if (!out->cut)
		return RC_OK;
	out->cut = false;
	if (!out->described)
		drop_meta(out);
	if (ftruncate(out->fd, (off_t)out->prefix) != 0 ||
	    lseek(out->fd, 0, SEEK_END) < 0)
		return fail_errno(why, whylen, "cannot cut", out);
	return RC_OK;
}

enum rc_err rc_output_open(const struct rc_opts *o, struct rc_output **outp,
			   char *why, size_t whylen)
{
	struct rc_output *out = calloc(1, sizeof *out);
	struct stat st;
	struct meta m;

	*outp = out;
	if (out == NULL) {
		snprintf(why, whylen, "out of memory");
		return RC_E_NOMEM;
	}
	out->o = o;
	out->fd = -1;
	size_t n = strlen(o->output);
	if (n + sizeof ".part.rangecat" > sizeof out->part) {
		snprintf(why, whylen, "--output: the file name is too long");
		return RC_E_USAGE;
	}
	memcpy(out->path, o->output, n + 1);
	snprintf(out->part, sizeof out->part, "%s.part", o->output);
	snprintf(out->side, sizeof out->side, "%s.part.rangecat", o->output);
	snprintf(out->dir, sizeof out->dir, "%s", o->output);
	char *slash = strrchr(out->dir, '/');
	if (slash == NULL)
		snprintf(out->dir, sizeof out->dir, ".");
	else
		slash[slash == out->dir] = '\0';
	rc_escape(out->part, out->shown, sizeof out->shown);
	make_key(o, out->key);

	/* A device, FIFO or socket (-o /dev/null, a named pipe), or a link to
	 * the file stdout already is (-o /dev/stdout), is written in place,
	 * as > FILE would: a .part renamed over it would replace it. */
	if (stat(out->path, &st) == 0 && !S_ISDIR(st.st_mode)) {
		struct stat so, ln;
		bool same = lstat(out->path, &ln) == 0 && S_ISLNK(ln.st_mode) &&
			    fstat(1, &so) == 0 && so.st_dev == st.st_dev &&
			    so.st_ino == st.st_ino;
		if (!S_ISREG(st.st_mode) || same)
			return open_direct(out, same, why, whylen);
	}
	/* rename(2) cannot put a file where a directory is: say so now,
	 * not after the download. */
	if (stat(out->path, &st) == 0 && S_ISDIR(st.st_mode)) {
		char file[PATH_MAX];
		snprintf(why, whylen, "--output: %s is a directory",
			 rc_escape(out->path, file, sizeof file));
		return RC_E_OUTPUT;
	}
	/* Another run may rename (or remove) FILE.part between our open and
	 * our lock: then we hold a file that is no longer FILE.part (it may
	 * be the finished FILE), so it is opened again. */
	for (int tries = 0;; tries++) {
		struct stat now;
		if (out->fd >= 0)
			close(out->fd);
		out->fd = open(out->part,
			       O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
		if (out->fd < 0)
			return fail_errno(why, whylen, "cannot open", out);
		if (fstat(out->fd, &st) != 0)
			return fail_errno(why, whylen, "cannot stat", out);
		if (!S_ISREG(st.st_mode)) {
			snprintf(why, whylen,
				 "--output: %s is not a regular file",
				 out->shown);
			return RC_E_OUTPUT;
		}
		if (flock(out->fd, LOCK_EX | LOCK_NB) != 0) {
			if (errno == EWOULDBLOCK) {
				snprintf(why, whylen,
					 "--output: %s is being written by "
					 "another process",
					 out->shown);
				return RC_E_OUTPUT;
			}
			return fail_errno(why, whylen, "cannot lock", out);
		}
		if (lstat(out->part, &now) == 0 && now.st_dev == st.st_dev &&
		    now.st_ino == st.st_ino)
			break;
		if (tries == 8) {
			snprintf(why, whylen,
				 "--output: %s keeps being replaced by "
				 "another process",
				 out->shown);
			return RC_E_OUTPUT;
		}
	}
	if (fstat(out->fd, &st) != 0)
		return fail_errno(why, whylen, "cannot stat", out);
	/* Another user's FILE.part (planted in a shared /tmp) holds bytes
	 * and a record we cannot trust, and would stay theirs as FILE. */
	if (st.st_uid != geteuid()) {
		snprintf(why, whylen, "--output: %s belongs to another user",
			 out->shown);
		return RC_E_OUTPUT;
	}

	uint64_t size = (uint64_t)st.st_size, keep = 0;
	bool have = read_meta(out, &m);
	const char *note = NULL;
	if (o->start == RC_START_OFFSET && o->offset != size) {
		if (size == 0) /* made just now: nothing to keep */
			(void)unlink(out->part);
		snprintf(why, whylen,
			 "--continue-at %" PRIu64 ": %s holds %" PRIu64
			 " bytes",
			 o->offset, out->shown, size);
		return RC_E_USAGE;
	}
	if (o->start != RC_START_ZERO) {
		/* -C: the user says these bytes are good. Their version is
		 * checked only when the metadata names one. */
		keep = size;
		if (distrust(out, have, &m, size) == NULL) {
			out->described = out->strong = out->pinned = true;
		} else if (size > 0 && !o->quiet) {
			rc_log_error(
			    "%s: no stored ETag of this URL: the %" PRIu64
			    " bytes kept are not checked against "
			    "the remote's version",
			    out->shown, size);
		}
	} else if (size > 0) {
		note = distrust(out, have, &m, size);
		if (note == NULL) {
			keep = size;
			out->described = out->strong = out->pinned = true;
		}
	}
	if (out->pinned) {
		memcpy(out->etag, m.etag, sizeof out->etag);
		out->total = m.total;
		/* A complete partial file (a run stopped before its rename)
		 * fetches its last byte again: the probe then proves the
		 * remote is still this version. */
		if (m.length != RC_UNKNOWN && keep >= m.length && keep > 0)
			keep = m.length - 1;
	}
	if (note && !o->quiet)
		rc_log_error("%s: %s: starting over", out->shown, note);
	out->prefix = keep;
	/* Cut (and its record dropped) only when this run writes: a run
	 * that fails first (a typo in the URL, a 404) keeps it as it was. */
	out->cut = keep < size || keep == 0 || !out->described;
	rc_sink_raw_before_first(output_cut, out);
	if (lseek(out->fd, 0, SEEK_END) < 0) /* writes follow what is kept */
		return fail_errno(why, whylen, "cannot seek", out);
	if (keep > 0)
		rc_log("%s: continuing after its %" PRIu64 " bytes%s%s",
		       out->shown, keep, out->pinned ? ", If-Match " : "",
		       out->pinned ? out->etag : "");
	if (dup2(out->fd, 1) < 0)
		return fail_errno(why, whylen, "cannot write to", out);
	rc_sink_raw_name(out->shown);
	return RC_OK;
}

uint64_t rc_output_prefix(const struct rc_output *out)
{
	return out->prefix;
}

const char *rc_output_pin(const struct rc_output *out)
{
	return out->pinned && out->prefix > 0 ? out->etag : NULL;
}

enum rc_err rc_output_hash_prefix(struct rc_output *out, struct rc_digest *d,
				  char *msg, size_t msglen)
{
	static unsigned char buf[1 << 16];
	uint64_t off = 0;

	while (off < out->prefix) {
		size_t want = out->prefix - off < sizeof buf
				  ? (size_t)(out->prefix - off)
				  : sizeof buf;
		ssize_t n = pread(out->fd, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(msg, msglen, "--output: cannot read %s: %s",
				 out->shown,
				 n == 0 ? "it got shorter" : strerror(errno));
			return RC_E_OUTPUT;
		}
		rc_digest_update(d, buf, (size_t)n);
		off += (uint64_t)n;
	}
	return RC_OK;
}

bool rc_output_fits(const struct rc_output *out, const struct rc_fetch_info *in)
{
	return !out->pinned || out->prefix == 0 || out->total == RC_UNKNOWN ||
	       in->total == RC_UNKNOWN || in->total == out->total;
}

enum rc_err rc_output_began(struct rc_output *out,
			    const struct rc_fetch_info *in, char *why,
			    size_t whylen)
{
	struct meta m;
	enum rc_err err = output_cut(out, why, whylen);

	if (err != RC_OK || out->described || out->o->mode != RC_MODE_RAW)
		return err;
	memset(&m, 0, sizeof m);
	memcpy(m.key, out->key, sizeof m.key);
	if (in->validator == RC_VAL_ETAG)
		snprintf(m.etag, sizeof m.etag, "%s", in->etag);
	snprintf(m.last_modified, sizeof m.last_modified, "%s",
		 in->last_modified);
	m.length = in->end != RC_UNKNOWN && in->end >= in->first
		       ? in->end - in->first + out->prefix
		       : RC_UNKNOWN;
	m.total = in->total;
	write_meta(out, &m);
	out->described = true;
	out->strong = m.etag[0] != '\0';
	return RC_OK;
}

enum rc_err rc_output_restart(struct rc_output *out, char *why, size_t whylen)
{
	if (!out->o->quiet)
		rc_log_error("%s: the remote file is no longer the version of "
			     "its %" PRIu64 " bytes: starting over",
			     out->shown, out->prefix);
	drop_meta(out);
	out->prefix = 0;
	out->pinned = false;
	out->cut = false;
	if (ftruncate(out->fd, 0) != 0 || lseek(out->fd, 0, SEEK_SET) < 0)
		return fail_errno(why, whylen, "cannot empty", out);
	return RC_OK;
}

enum rc_err rc_output_commit(struct rc_output *out, uint64_t delivered,
			     char *msg, size_t msglen)
{
	struct stat st;
	char file[PATH_MAX];

	enum rc_err err;

	if (out->direct)
		return RC_OK;
	/* A run that wrote nothing (an empty range) still cuts. */
	if ((err = output_cut(out, msg, msglen)) != RC_OK)
		return err;
	if (fsync(out->fd) != 0)
		return fail_errno(msg, msglen, "cannot fsync", out);
	if (fstat(out->fd, &st) != 0)
		return fail_errno(msg, msglen, "cannot stat", out);
	if ((uint64_t)st.st_size != out->prefix + delivered) {
		snprintf(
		    msg, msglen,
		    "--output: %s holds %" PRIu64 " bytes, not the %" PRIu64
		    " written: changed by another process",
		    out->shown, (uint64_t)st.st_size, out->prefix + delivered);
		return RC_E_OUTPUT;
	}
	/* The finished file carries no resume metadata. */
	(void)fremovexattr(out->fd, XATTR_NAME);
	if (rename(out->part, out->path) != 0) {
		snprintf(msg, msglen, "--output: cannot rename %s to %s: %s",
			 out->shown, rc_escape(out->path, file, sizeof file),
			 strerror(errno));
		return RC_E_OUTPUT;
	}
	int dfd = open(out->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || (fsync(dfd) != 0 && errno != EINVAL)) {
		int e = errno;
		if (dfd >= 0)
			close(dfd);
		snprintf(msg, msglen,
			 "--output: cannot fsync the directory "
			 "of %s: %s",
			 rc_escape(out->path, file, sizeof file), strerror(e));
		return RC_E_OUTPUT;
	}
	close(dfd);
	(void)unlink(out->side);
	return RC_OK;
}

void rc_output_fail(struct rc_output *out, enum rc_err err, uint64_t delivered)
{
	struct stat st;
	uint64_t size = fstat(out->fd, &st) == 0 ? (uint64_t)st.st_size : 0;

	if (out->direct)
		return;
	/* Not this run's bytes: even --remove-on-error leaves them. */
	if (out->cut && size > 0) {
		rc_log_error("%s left as it was (%" PRIu64 " bytes): this run "
			     "wrote nothing",
			     out->shown, size);
		return;
	}
	if (out->o->remove_on_error || size == 0) {
		(void)unlink(out->part);
		(void)unlink(out->side);
		if (size > 0)
			rc_log_error("%s removed (--remove-on-error)",
				     out->shown);
		return;
	}
	/* With -C the same command would keep the bytes (-C -) or refuse
	 * them (-C N, now fewer than FILE.part holds): starting over is
	 * the command without it. */
	char same[96] = "the same command";
	if (out->o->start == RC_START_OFFSET && !out->o->start_env)
		snprintf(same, sizeof same,
			 "the same command without -C %" PRIu64,
			 out->o->offset);
	else if (out->o->start != RC_START_ZERO)
		snprintf(same, sizeof same, "the same command without %s",
			 out->o->start_env ? "RANGECAT_CONTINUE_AT" : "-C -");
	if (out->o->mode != RC_MODE_RAW) {
		rc_log_error("%s kept: %" PRIu64 " decoded bytes; decoding "
			     "cannot resume mid-stream, so %s starts over",
			     out->shown, size, same);
	} else if (err == RC_E_INTEGRITY) {
		drop_meta(out);
		rc_log_error("%s kept for inspection: its %" PRIu64
			     " bytes failed the check; %s starts over",
			     out->shown, size, same);
	} else if (err == RC_E_CHANGED) {
		rc_log_error("%s kept: %" PRIu64 " bytes of the earlier "
			     "version; %s starts over",
			     out->shown, size, same);
	} else if (!out->strong) {
		rc_log_error("%s kept: %" PRIu64 " bytes; no strong ETag "
			     "pins their version, so %s starts over (-C - "
			     "continues them unchecked)",
			     out->shown, size, same);
	} else if (out->o->start == RC_START_OFFSET) {
		/* The same -C N would find the file longer than N. */
		rc_log_error(
		    "%s kept: %" PRIu64 " bytes (%" PRIu64
		    " of this run); resume with the same command, "
		    "%s in place of %s%" PRIu64,
		    out->shown, size, delivered,
		    out->o->start_env ? "RANGECAT_CONTINUE_AT=-" : "-C -",
		    out->o->start_env ? "RANGECAT_CONTINUE_AT=" : "-C ",
		    out->o->offset);
	} else {
		rc_log_error("%s kept: %" PRIu64 " bytes (%" PRIu64
			     " of this run); resume with the same command",
			     out->shown, size, delivered);
	}
}

bool rc_output_direct(const struct rc_output *out)
{
	return out->direct;
}

void rc_output_free(struct rc_output *out)
{
	if (out == NULL)
		return;
	if (out->fd >= 0)
		close(out->fd);
	free(out);
}
