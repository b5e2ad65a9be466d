/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The revalidating cache behind --cache DIR. Per URL, DIR holds KEY.data
 * (the file's bytes) and KEY.meta (a few text lines: the size, the SHA-256
 * of the bytes, the ETag and/or Last-Modified), where KEY is the SHA-256
 * of the URL as fetched, without userinfo. No credential is in the key or
 * in any file: the metadata does not even name the URL.
 *
 * A run with an entry sends one blocking conditional request before the
 * fetcher starts; a 304 (or a 200/206 with the entry's validator and
 * size, when a server ignores the condition; its body is not read) makes
 * a hit, served from disk through the same reader and sinks as a
 * download. The entry's size and digest are checked before the first byte
 * is written: a byte written cannot be taken back, and reading a file
 * from the page cache costs far less than fetching it.
 *
 * A miss of a whole file copies the bytes the reader consumes into
 * DIR/tmp.*, which becomes the entry (fsync, rename) only once the run
 * succeeded. Readers hold DIR/lock shared while they open an entry's two
 * files; storing, dropping and evicting hold it exclusively, briefly.
 * Two runs that miss together both download and both store a complete
 * entry; the last rename wins, and no reader sees a torn pair. A temporary
 * file is flock'ed by the run writing it, so eviction can tell an
 * abandoned one (its run was killed) from one still being written.
 *
 * Main (consumer) thread only.
 */
#include "cache.h"
#include "handle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "escape.h"
#include "http.h"
#include "log.h"
#include "sched.h"

#define BUF_SIZE (1u << 20)
#define META_MAX 4096
/* A temporary file untouched this long, and not locked, is abandoned. */
#define STALE_SECS 60

struct entry {
	uint64_t size;
	char sha[65];
	char etag[RC_ETAG_MAX];
	char lm[RC_DATE_MAX];
};

struct rc_cache {
	const struct rc_opts *o;
	int dirfd;
	int lockfd;
	char shown[1024]; /* DIR, escaped, for messages */
	char url[1024];	  /* the URL, redacted, for -v */
	char key[65];

	bool have; /* an entry was found (e) */
	struct entry e;
	int datafd; /* the entry's bytes while it may be served */

	bool hit;
	uint64_t first, len; /* the slice a hit serves */
	struct rc_fetch_info info;
	unsigned char *buf; /* BUF_SIZE: the hit's reads, digests */

	/* The copy a miss writes. */
	int tmpfd;
	char tmpname[64];
	EVP_MD_CTX *md;
	uint64_t written;
};

static void say(const struct rc_cache *c, const char *fmt, const char *a)
{
	if (!c->o->quiet)
		rc_log_error(fmt, c->shown, a);
}

static void hex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static bool sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned len = 0;

	if (EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) != 1 || len != 32)
		return false;
	hex(md, 32, out);
	return true;
}

/* A name in DIR no other run picks: tmp.<16 random hex digits><suffix>. */
static int make_tmp(struct rc_cache *c, char *name, size_t namelen,
		    const char *suffix)
{
	for (int i = 0; i < 16; i++) {
		unsigned char rnd[8];
		char h[17];
		if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
			return -1;
		hex(rnd, sizeof rnd, h);
		snprintf(name, namelen, "tmp.%s%s", h, suffix);
		int fd = openat(c->dirfd, name,
				O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

/* mkdir -p: missing parents as umask allows, DIR itself private (0700):
 * it may hold files that needed credentials. */
static bool make_dir(const char *dir)
{
	char path[4096];

	if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return false;
	}
	for (size_t n = strlen(path); n > 1 && path[n - 1] == '/'; n--)
		path[n - 1] = '\0';
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		(void)mkdir(path, 0777);
		*p = '/';
	}
	return mkdir(path, 0700) == 0 || errno == EEXIST;
}

/* Parses KEY.meta's text into *e; false when it is not one we wrote. */
static bool parse_meta(char *text, struct entry *e)
{
	bool version = false, size = false;
	char *save = NULL;

	memset(e, 0, sizeof *e);
	for (char *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		for (const char *p = line; *p; p++)
			if ((unsigned char)*p < 0x20)
				return false;
		const char *w;
		if (strcmp(line, "rangecat-cache 1") == 0) {
			version = true;
		} else if (strncmp(line, "size ", 5) == 0) {
			if (rc_parse_u64(line + 5, UINT64_MAX - 1, &e->size,
					 &w) != RC_OK)
				return false;
			size = true;
		} else if (strncmp(line, "sha256 ", 7) == 0) {
			if (strlen(line + 7) != 64 ||
			    strspn(line + 7, "0123456789abcdef") != 64)
				return false;
			memcpy(e->sha, line + 7, 65);
		} else if (strncmp(line, "etag ", 5) == 0) {
			if (snprintf(e->etag, sizeof e->etag, "%s", line + 5) >=
			    (int)sizeof e->etag)
				return false;
		} else if (strncmp(line, "last-modified ", 14) == 0) {
			if (snprintf(e->lm, sizeof e->lm, "%s", line + 14) >=
			    (int)sizeof e->lm)
				return false;
		}
	}
	return version && size && e->sha[0] && (e->etag[0] || e->lm[0]);
}

/* Reads and parses KEY.meta (DIR/lock held); false when there is none we
 * can use. */
static bool read_meta_locked(struct rc_cache *c, struct entry *e)
{
	char name[80], text[META_MAX];
	ssize_t n = -1;

	snprintf(name, sizeof name, "%s.meta", c->key);
	int fd = openat(c->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, text, sizeof text - 1);
	close(fd);
	if (n <= 0)
		return false;
	text[n] = '\0';
	if (parse_meta(text, e))
		return true;
	rc_log("cache: the record of %s is not one rangecat wrote", c->url);
	return false;
}

/* Reads KEY.meta into *e and opens KEY.data (returned), DIR/lock held
 * shared so that a store cannot pair one entry's bytes with another's
 * record. -1 when there is no usable entry. */
static int open_entry(struct rc_cache *c, struct entry *e)
{
	char name[80];
	int fd = -1;

	flock(c->lockfd, LOCK_SH);
	if (read_meta_locked(c, e)) {
		snprintf(name, sizeof name, "%s.data", c->key);
		fd = openat(c->dirfd, name, O_RDONLY | O_CLOEXEC);
	}
	flock(c->lockfd, LOCK_UN);
	return fd;
}

/* Removes the entry if it still is the one recorded as e (another run
 * may have replaced it meanwhile). */
static void drop_entry(struct rc_cache *c, const struct entry *e)
{
	struct entry now;
	char name[80];

	flock(c->lockfd, LOCK_EX);
	if (read_meta_locked(c, &now) && strcmp(now.sha, e->sha) == 0) {
		snprintf(name, sizeof name, "%s.meta", c->key);
		unlinkat(c->dirfd, name, 0);
		snprintf(name, sizeof name, "%s.data", c->key);
		unlinkat(c->dirfd, name, 0);
	}
	flock(c->lockfd, LOCK_UN);
}

/* --- the conditional request --- */

struct cond {
	struct rc_resp resp;
	size_t body;
};

static size_t cond_head_cb(char *p, size_t sz, size_t nm, void *ud)
{
	struct cond *k = ud;
	rc_resp_header(&k->resp, p, sz * nm, time(NULL));
	return sz * nm;
}

/* One byte (bytes=0-0) is all a 206 sends; a 200's body is the whole
 * file, which a hit does not need: stop it at its first bytes. */
static size_t cond_body_cb(char *p, size_t sz, size_t nm, void *ud)
{
	struct cond *k = ud;
	(void)p;
	k->body += sz * nm;
	return k->body > 1 ? 0 : sz * nm;
}

/* Whether the reply names the entry's version: every validator the entry
 * holds is there and equal, no other one is, and the size is the same. */
static bool same_version(const struct entry *e, const struct rc_resp *r)
{
	uint64_t total = r->status == 206 ? (r->has_crange && !r->bad_crange
						 ? r->crange.total
						 : RC_UNKNOWN)
					  : r->clen;

	if (r->malformed || r->bad_etag)
		return false;
	if (e->etag[0] ? r->etag_weak || strcmp(e->etag, r->etag) != 0
		       : r->etag[0] && !r->etag_weak)
		return false;
	if (e->lm[0] && strcmp(e->lm, r->last_modified) != 0)
		return false;
	return total == e->size;
}

/*
 * Sends the conditional request (following redirects as the fetcher
 * does, credentials only where they may go) and judges the reply: true
 * when the entry is current.
 */
static bool revalidate(struct rc_cache *c, struct rc_auth *auth)
{
	struct cond k;
	char cond_line[RC_ETAG_MAX + 32], why[512];
	char *url = strdup(rc_auth_url(auth));
	CURL *h = curl_easy_init();
	bool current = false;

	if (url == NULL || h == NULL)
		goto out;
	if (c->e.etag[0])
		snprintf(cond_line, sizeof cond_line, "If-None-Match: %s",
			 c->e.etag);
	else
		snprintf(cond_line, sizeof cond_line, "If-Modified-Since: %s",
			 c->e.lm);
	rc_handle_setup_easy(h, c->o);
	rc_handle_setup_blocking(h, c->o);
	rc_auth_setup_easy(auth, h);
	curl_easy_setopt(h, CURLOPT_RANGE, "0-0");
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, cond_head_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &k);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, cond_body_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &k);
	for (int hops = 0;; hops++) {
		unsigned gen;
		enum rc_err aerr;
		char shown[1024];
		struct curl_slist *hdrs = rc_auth_headers(
		    auth, url, "0-0", cond_line, &gen, &aerr, why, sizeof why);
		if (aerr != RC_OK)
			goto out;
		rc_log_redact_url(url, shown, sizeof shown);
		rc_log("cache: GET bytes=0-0 %s with %.*s", shown,
		       (int)strcspn(cond_line, ":"), cond_line);
		rc_resp_reset(&k.resp);
		k.body = 0;
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		CURLcode res = curl_easy_perform(h);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
		rc_auth_free_list(hdrs);
		long st = k.resp.status;
		if (res != CURLE_OK && (st == 0 || k.body <= 1)) {
			rc_log("cache: the conditional request failed (%s): "
			       "fetching",
			       curl_easy_strerror(res));
			goto out;
		}
		if ((st == 301 || st == 302 || st == 303 || st == 307 ||
		     st == 308) &&
		    k.resp.location[0] && hops < 10) {
			CURLU *u = curl_url();
			char *to = NULL;
			if (u &&
			    curl_url_set(u, CURLUPART_URL, url,
					 CURLU_PATH_AS_IS) == CURLUE_OK &&
			    curl_url_set(u, CURLUPART_URL, k.resp.location,
					 CURLU_NON_SUPPORT_SCHEME |
					     CURLU_URLENCODE) == CURLUE_OK &&
			    curl_url_get(u, CURLUPART_URL, &to, 0) ==
				CURLUE_OK &&
			    rc_auth_redirect_ok(auth, url, to, why,
						sizeof why) == RC_OK) {
				free(url);
				url = strdup(to);
			} else {
				free(url);
				url = NULL;
			}
			curl_free(to);
			curl_url_cleanup(u);
			if (url == NULL)
				goto out;
			continue;
		}
		break;
	}
	if (k.resp.no_store) {
		rc_log("cache: the server now says Cache-Control: no-store: "
		       "the entry is dropped");
		drop_entry(c, &c->e);
	} else if (k.resp.status == 304) {
		/* A 304 that names another ETag contradicts itself. One
		 * with another Last-Modified is a server that answers
		 * If-Modified-Since by "not newer" (RFC 9110 13.1.3): a file
		 * rolled back to an older copy is another version. */
		current = (!k.resp.etag[0] || !c->e.etag[0] ||
			   strcmp(k.resp.etag, c->e.etag) == 0) &&
			  (!k.resp.last_modified[0] || !c->e.lm[0] ||
			   strcmp(k.resp.last_modified, c->e.lm) == 0);
		rc_log("cache: HTTP 304%s",
		       current ? "" : " with another validator");
	} else if ((k.resp.status == 200 || k.resp.status == 206) &&
		   same_version(&c->e, &k.resp)) {
		rc_log("cache: HTTP %ld with the entry's validator and size "
		       "(the server ignored the condition)",
		       k.resp.status);
		current = true;
	} else {
		rc_log("cache: HTTP %ld: the entry is not current",
		       k.resp.status);
	}
out:
	free(url);
	if (h)
		curl_easy_cleanup(h);
	return current;
}

/* --- a hit --- */

/* Checks the entry's bytes against its record: the size, then the
 * SHA-256 of the whole file. On false, *what says why, or is NULL when a
 * signal stopped the check (the entry is not to blame). */
static bool entry_ok(struct rc_cache *c, const char **what)
{
	struct stat st;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char d[32];
	unsigned dlen = 0;
	char got[65];
	uint64_t off = 0;
	bool ok = false;

	*what = "its size differs from the one recorded";
	if (md == NULL || fstat(c->datafd, &st) != 0 ||
	    (uint64_t)st.st_size != c->e.size)
		goto out;
	*what = "its SHA-256 differs from the one recorded";
	posix_fadvise(c->datafd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto out;
	while (off < c->e.size) {
		if (rc_sched_signal()) {
			*what = NULL;
			goto out;
		}
		ssize_t n = pread(c->datafd, c->buf, BUF_SIZE, (off_t)off);
		if (n < 0 && errno == EINTR && !rc_sched_signal())
			continue;
		if (n <= 0) {
			*what = n < 0 ? strerror(errno)
				      : "it ends before its recorded size";
			goto out;
		}
		EVP_DigestUpdate(md, c->buf, (size_t)n);
		off += (uint64_t)n;
	}
	if (EVP_DigestFinal_ex(md, d, &dlen) != 1)
		goto out;
	hex(d, 32, got);
	ok = strcmp(got, c->e.sha) == 0;
out:
	EVP_MD_CTX_free(md);
	return ok;
}

/* The bytes a hit serves: what the fetcher would fetch for -C, -r and
 * --shard. False when they are not inside the file: the fetcher then
 * gives its own answer (a 416, say). */
static bool slice(struct rc_cache *c, uint64_t start)
{
	const struct rc_opts *o = c->o;
	uint64_t size = c->e.size, first = start, end = size;

	c->info.shard_first = 0;
	if (o->shard_n) {
		uint64_t part = size / o->shard_n;
		uint64_t sf = (o->shard_k - 1) * part;
		uint64_t se =
		    o->shard_k == o->shard_n ? size : o->shard_k * part;
		if (start > se - sf)
			return false;
		c->info.shard_first = sf;
		first = sf + start;
		end = se;
	} else if (o->has_range && o->range_suffix) {
		if (size == 0)
			return false;
		first = size > o->range_last ? size - o->range_last : 0;
	} else if (o->has_range) {
		/* start is past range_first by the bytes -o's FILE.part
		 * keeps. */
		if (o->range_first >= size)
			return false;
		if (o->range_last != UINT64_MAX && o->range_last < size)
			end = o->range_last + 1;
		if (start > end)
			return false;
	} else if (start > size) {
		return false;
	}
	c->first = first;
	c->len = end - first;
	c->info.first = first;
	c->info.end = end;
	c->info.total = size;
	c->info.ranges = true;
	c->info.validator = c->e.etag[0] ? RC_VAL_ETAG : RC_VAL_DATE;
	snprintf(c->info.etag, sizeof c->info.etag, "%s", c->e.etag);
	snprintf(c->info.last_modified, sizeof c->info.last_modified, "%s",
		 c->e.lm);
	return true;
}

static bool lookup(struct rc_cache *c, struct rc_auth *auth, uint64_t start)
{
	const char *what;

	c->datafd = open_entry(c, &c->e);
	if (c->datafd < 0) {
		rc_log("cache: miss for %s", c->url);
		return false;
	}
	c->have = true;
	/* --if-match names a version: only that one may be served. */
	if (c->o->if_match &&
	    !(c->e.etag[0] && rc_http_etag_matches(c->e.etag, c->o->if_match)))
		return false;
	if (!slice(c, start) || !revalidate(c, auth))
		return false;
	if (!entry_ok(c, &what)) {
		if (what == NULL)
			return false; /* interrupted: the reader says so */
		say(c,
		    "--cache %s: an entry is damaged (%s): it is dropped "
		    "and the file fetched again",
		    what);
		drop_entry(c, &c->e);
		return false;
	}
	if (lseek(c->datafd, (off_t)c->first, SEEK_SET) == (off_t)-1)
		return false;
	posix_fadvise(c->datafd, 0, 0, POSIX_FADV_SEQUENTIAL);
	/* Least recently used is least recently touched. */
	futimens(c->datafd, (const struct timespec[2]){{.tv_nsec = UTIME_OMIT},
						       {.tv_nsec = UTIME_NOW}});
	rc_log("cache: hit for %s: %" PRIu64 " bytes from DIR/%s.data", c->url,
	       c->len, c->key);
	return true;
}

enum rc_err rc_cache_open(const struct rc_opts *o, struct rc_auth *auth,
			  uint64_t start, struct rc_cache **out, bool *hit,
			  char *why, size_t whylen)
{
	struct rc_cache *c = calloc(1, sizeof *c);
	const char *url = rc_auth_url(auth);

	*hit = false;
	if (c == NULL || (c->buf = malloc(BUF_SIZE)) == NULL) {
		free(c);
		snprintf(why, whylen, "out of memory for --cache");
		return RC_E_NOMEM;
	}
	c->o = o;
	c->dirfd = c->lockfd = c->datafd = c->tmpfd = -1;
	rc_escape(o->cache_dir, c->shown, sizeof c->shown);
	rc_log_redact_url(url, c->url, sizeof c->url);
	if (!make_dir(o->cache_dir) ||
	    (c->dirfd =
		 open(o->cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(why, whylen, "--cache %s: %s", c->shown,
			 strerror(errno));
		rc_cache_free(c);
		return RC_E_OUTPUT;
	}
	/* Whoever may write to DIR decides what a hit serves. */
	struct stat st;
	const char *unsafe = NULL;
	if (fstat(c->dirfd, &st) != 0)
		unsafe = strerror(errno);
	else if (st.st_uid != geteuid())
		unsafe = "owned by another user: its entries cannot be trusted";
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		unsafe = "writable by other users: its entries cannot be "
			 "trusted (chmod go-w)";
	else if ((c->lockfd = openat(c->dirfd, "lock",
				     O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
				     0600)) < 0)
		unsafe = strerror(errno);
	if (unsafe) {
		snprintf(why, whylen, "--cache %s: %s", c->shown, unsafe);
		rc_cache_free(c);
		return RC_E_OUTPUT;
	}
	if (!sha256_hex(url, strlen(url), c->key)) {
		snprintf(why, whylen, "--cache: SHA-256 failed");
		rc_cache_free(c);
		return RC_E_NOMEM;
	}
	*out = c;
	c->hit = *hit = lookup(c, auth, start);
	if (!c->hit && c->datafd >= 0) {
		close(c->datafd);
		c->datafd = -1;
	}
	return RC_OK;
}

/* --- a miss: the copy --- */

static void drop_copy(struct rc_cache *c)
{
	if (c->tmpfd < 0)
		return;
	unlinkat(c->dirfd, c->tmpname, 0);
	close(c->tmpfd);
	c->tmpfd = -1;
	EVP_MD_CTX_free(c->md);
	c->md = NULL;
}

static void tap_cb(void *arg, const unsigned char *p, size_t n)
{
	struct rc_cache *c = arg;

	if (c->tmpfd < 0)
		return;
	EVP_DigestUpdate(c->md, p, n);
	c->written += n;
	while (n > 0) {
		ssize_t w = write(c->tmpfd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			say(c,
			    "--cache %s: writing the copy: %s; the file "
			    "is not stored",
			    w < 0 ? strerror(errno) : "no progress");
			drop_copy(c);
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

void rc_cache_attach(struct rc_cache *c, struct rc_reader *r)
{
	const struct rc_opts *o;

	if (c == NULL)
		return;
	o = c->o;
	if (c->hit) {
		rc_reader_from_fd(r, c->datafd, c->len, c->buf, BUF_SIZE);
		return;
	}
	/* -o starting over attaches again: the first copy goes. */
	drop_copy(c);
	c->written = 0;
	/* Only a whole file becomes an entry. */
	if (o->start != RC_START_ZERO || o->has_range || o->shard_n)
		return;
	c->tmpfd = make_tmp(c, c->tmpname, sizeof c->tmpname, "");
	c->md = EVP_MD_CTX_new();
	if (c->tmpfd < 0 || c->md == NULL ||
	    EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1) {
		say(c,
		    "--cache %s: cannot write a copy (%s); the file is not "
		    "stored",
		    strerror(errno));
		drop_copy(c);
		return;
	}
	/* Marks the copy as alive for other runs' eviction. */
	flock(c->tmpfd, LOCK_EX);
	r->tap = tap_cb;
	r->tap_arg = c;
}

const struct rc_fetch_info *rc_cache_info(const struct rc_cache *c)
{
	return &c->info;
}

/* --- storing and eviction --- */

struct victim {
	struct timespec mtime;
	uint64_t size;
	char key[65];
};

static int by_age(const void *a, const void *b)
{
	const struct victim *x = a, *y = b;
	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	return (x->mtime.tv_nsec > y->mtime.tv_nsec) -
	       (x->mtime.tv_nsec < y->mtime.tv_nsec);
}

static bool is_key(const char *s)
{
	return strspn(s, "0123456789abcdef") == 64;
}

/* With DIR/lock held exclusively: removes abandoned temporary files and
 * the least recently used entries (never keep's) until DIR's files add
 * up to at most --cache-size. */
static void evict_locked(struct rc_cache *c, const char *keep)
{
	int fd = dup(c->dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct victim *v = NULL;
	size_t nv = 0, cap = 0;
	uint64_t total = 0;
	struct dirent *de;
	time_t now = time(NULL);

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (fstatat(c->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) !=
			0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (strncmp(de->d_name, "tmp.", 4) == 0 &&
		    now - st.st_mtime > STALE_SECS) {
			int t =
			    openat(c->dirfd, de->d_name, O_RDONLY | O_CLOEXEC);
			if (t >= 0 && flock(t, LOCK_EX | LOCK_NB) == 0 &&
			    unlinkat(c->dirfd, de->d_name, 0) == 0) {
				rc_log("cache: removed an abandoned %s",
				       de->d_name);
				close(t);
				continue;
			}
			if (t >= 0)
				close(t);
		}
		total += (uint64_t)st.st_size;
		size_t l = strlen(de->d_name);
		if (!c->o->cache_size || l != 69 || !is_key(de->d_name) ||
		    strcmp(de->d_name + 64, ".data") != 0 ||
		    strncmp(de->d_name, keep, 64) == 0)
			continue;
		if (nv == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct victim *nvv = realloc(v, ncap * sizeof *v);
			if (nvv == NULL)
				break;
			v = nvv;
			cap = ncap;
		}
		v[nv].mtime = st.st_mtim;
		v[nv].size = (uint64_t)st.st_size;
		memcpy(v[nv].key, de->d_name, 64);
		v[nv].key[64] = '\0';
		nv++;
	}
	closedir(d);
	if (nv > 0)
		qsort(v, nv, sizeof *v, by_age);
	for (size_t i = 0;
	     c->o->cache_size && i < nv && total > c->o->cache_size; i++) {
		char name[80];
		struct stat st;
		snprintf(name, sizeof name, "%s.meta", v[i].key);
		if (fstatat(c->dirfd, name, &st, 0) == 0 &&
		    unlinkat(c->dirfd, name, 0) == 0)
			total -= (uint64_t)st.st_size;
		snprintf(name, sizeof name, "%s.data", v[i].key);
		if (unlinkat(c->dirfd, name, 0) == 0)
			total -= v[i].size;
		rc_log("cache: evicted %.16s... (%" PRIu64
		       " bytes, least recently used)",
		       v[i].key, v[i].size);
	}
	free(v);
}

/* Writes KEY.meta's text into a new temporary file; its name in name. */
static bool write_meta(struct rc_cache *c, const char *sha, uint64_t size,
		       const struct rc_fetch_info *in, char *name,
		       size_t namelen, size_t *len)
{
	char text[META_MAX];
	int n = snprintf(text, sizeof text,
			 "rangecat-cache 1\nsize %" PRIu64 "\nsha256 %s\n",
			 size, sha);
	if (in->etag[0] && in->validator == RC_VAL_ETAG)
		n += snprintf(text + n, sizeof text - (size_t)n, "etag %s\n",
			      in->etag);
	if (in->last_modified[0])
		n += snprintf(text + n, sizeof text - (size_t)n,
			      "last-modified %s\n", in->last_modified);
	if (n <= 0 || (size_t)n >= sizeof text)
		return false;
	int fd = make_tmp(c, name, namelen, ".meta");
	if (fd < 0)
		return false;
	bool ok = write(fd, text, (size_t)n) == n && fsync(fd) == 0;
	close(fd);
	if (!ok)
		unlinkat(c->dirfd, name, 0);
	*len = (size_t)n;
	return ok;
}

void rc_cache_store(struct rc_cache *c, const struct rc_fetch_info *in,
		    enum rc_err err)
{
	unsigned char d[32];
	unsigned dlen = 0;
	char sha[65], mname[64], name[80];
	size_t mlen = 0;
	struct stat st;
	const char *why = NULL;

	if (c == NULL || c->tmpfd < 0)
		return;
	if (err != RC_OK)
		why = "the run failed";
	else if (in->first != 0 || in->total == RC_UNKNOWN ||
		 c->written != in->total)
		why = "not the whole file was read";
	else if (in->validator == RC_VAL_NONE)
		why = "the reply has no validator to revalidate it with";
	else if (in->no_store)
		why = "the server said Cache-Control: no-store";
	else if (c->o->cache_size && in->total + META_MAX > c->o->cache_size)
		why = "it is larger than --cache-size";
	if (why) {
		rc_log("cache: not stored: %s", why);
		drop_copy(c);
		return;
	}
	if (fsync(c->tmpfd) != 0 || fstat(c->tmpfd, &st) != 0 ||
	    (uint64_t)st.st_size != in->total ||
	    EVP_DigestFinal_ex(c->md, d, &dlen) != 1 ||
	    (hex(d, 32, sha),
	     !write_meta(c, sha, in->total, in, mname, sizeof mname, &mlen))) {
		say(c,
		    "--cache %s: the copy could not be completed (%s); the "
		    "file is not stored",
		    errno ? strerror(errno) : "size differs");
		drop_copy(c);
		return;
	}
	flock(c->lockfd, LOCK_EX);
	/* The old record goes first: a crash between the renames leaves
	 * bytes without a record (no entry), never a record of other
	 * bytes. */
	snprintf(name, sizeof name, "%s.meta", c->key);
	unlinkat(c->dirfd, name, 0);
	snprintf(name, sizeof name, "%s.data", c->key);
	bool ok = renameat(c->dirfd, c->tmpname, c->dirfd, name) == 0;
	snprintf(name, sizeof name, "%s.meta", c->key);
	ok = ok && renameat(c->dirfd, mname, c->dirfd, name) == 0;
	if (ok)
		fsync(c->dirfd);
	else
		unlinkat(c->dirfd, mname, 0);
	evict_locked(c, c->key);
	flock(c->lockfd, LOCK_UN);
	if (ok) {
		rc_log("cache: stored %s as DIR/%s.data (%" PRIu64 " bytes)",
		       c->url, c->key, in->total);
		close(c->tmpfd);
		c->tmpfd = -1;
		EVP_MD_CTX_free(c->md);
		c->md = NULL;
	} else {
		say(c, "--cache %s: renaming the copy into place: %s",
		    strerror(errno));
		drop_copy(c);
	}
}

void rc_cache_free(struct rc_cache *c)
{
	if (c == NULL)
		return;
	drop_copy(c);
	EVP_MD_CTX_free(c->md);
	if (c->datafd >= 0)
		close(c->datafd);
	if (c->lockfd >= 0)
		close(c->lockfd);
	if (c->dirfd >= 0)
		close(c->dirfd);
	free(c->buf);
	free(c);
}
