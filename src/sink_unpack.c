/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The unpack sink: -x DIR (extract), -t (list), --member PATH (one member
 * to stdout), reading the archive as it streams from the ring through
 * libarchive (any compression, any streamable format). Consumer (main)
 * thread only.
 *
 * Safety comes first and does not trust libarchive alone (Debian 12's
 * 3.6.2 lets some of these through): every path is cleaned here (no
 * absolute paths, drive letters or ".." components; backslashes count as
 * separators), symlinks must stay inside DIR where they really lead
 * with the links on disk (beneath.h; judged again at the end), hard links
 * are cleaned like paths and may not pass a symlink, device nodes, FIFOs
 * and setuid/setgid bits need --same-permissions, and an entry must
 * deliver exactly the bytes it declares. Names are printed escaped
 * (escape.h). Writing
 * uses libarchive's secure flags too, so nothing is written through a
 * symlink. A refused entry is named on stderr; the run goes on with the
 * safe entries and exits 6 at the end, or stops at once with --strict.
 *
 * No wrong byte is left looking complete: compressed archives are read
 * through rc_dec, which verifies the format's checks and refuses trailing
 * data; zip's CRC-32 warnings fail the member; a zip stream's entries
 * must match its central directory (zipdir_check); files are written under
 * temporary names and renamed only when verified (see settle), and
 * --member goes to stdout only after the whole archive passed.
 */
#include "sink_unpack.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "beneath.h"
#include "escape.h"
#include "lazyarchive.h"
#include "log.h"
#include "ranged.h"
#include "sink_decode.h"
#include "sink_raw.h"

const char *rc_unpack_clean_path(const char *in, unsigned strip, char *out,
				 size_t outlen, bool *skip)
{
	size_t o = 0, n = strlen(in);
	unsigned dropped = 0;

	*skip = false;
	if (n == 0)
		return "empty path";
	if (n >= outlen)
		return "path too long";
	if (((in[0] >= 'a' && in[0] <= 'z') ||
	     (in[0] >= 'A' && in[0] <= 'Z')) &&
	    in[1] == ':')
		return "drive letter";
	if (in[0] == '/' || in[0] == '\\')
		return "absolute path";
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && in[j] != '/' && in[j] != '\\')
			j++;
		size_t len = j - i;
		if (len == 2 && in[i] == '.' && in[i + 1] == '.')
			return "'..' in the path";
		if (len > 0 && !(len == 1 && in[i] == '.')) {
			if (dropped < strip) {
				dropped++;
			} else {
				if (o > 0)
					out[o++] = '/';
				memcpy(out + o, in + i, len);
				o += len;
			}
		}
		i = j + 1;
	}
	out[o] = '\0';
	if (o == 0)
		*skip = true; /* nothing left (stripped, or just ".") */
	/* What is written must pass too: stripping can bring "c:" first. */
	if (((out[0] >= 'a' && out[0] <= 'z') ||
	     (out[0] >= 'A' && out[0] <= 'Z')) &&
	    out[1] == ':')
		return "drive letter";
	return NULL;
}

bool rc_unpack_link_inside(const char *linkpath, const char *target)
{
	long depth = 0;

	if (target[0] == '\0' || target[0] == '/' || target[0] == '\\')
		return false;
	if (((target[0] >= 'a' && target[0] <= 'z') ||
	     (target[0] >= 'A' && target[0] <= 'Z')) &&
	    target[1] == ':')
		return false;
	/* The link's own directory depth. */
	for (const char *p = linkpath; *p; p++)
		if (*p == '/')
			depth++;
	for (const char *p = target; *p;) {
		const char *q = p;
		while (*q && *q != '/' && *q != '\\')
			q++;
		size_t len = (size_t)(q - p);
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return false;
		} else if (len > 0 && !(len == 1 && p[0] == '.')) {
			depth++;
		}
		p = *q ? q + 1 : q;
	}
	return depth > 0; /* at DIR itself is outside enough to refuse */
}

/* Copies s for printing, escaped (escape.h): names and messages from an
 * archive never reach the terminal raw. */
static const char *shown(const char *s, char *buf, size_t len)
{
	return rc_escape(s, buf, len);
}

/* A file written under a temporary name, renamed when verified. */
struct pending {
	char *tmp, *path;
};

struct unpack {
	struct rc_reader *r;
	const struct rc_opts *o;
	struct archive *a;
	struct archive *w;  /* write-to-disk, -x only */
	struct rc_dec *dec; /* the decoded stream; NULL for zip by ranges */
	unsigned char *buf;
	unsigned refused;
	uint64_t delivered;
	uint64_t written; /* member bytes written, against --max-size */
	bool closed;
	/* -x: files of a compressed stream stay under temporary names until
	 * the stream's checks have passed at its end (defer); pend holds
	 * them. Otherwise each is renamed once its own data is complete. */
	bool defer;
	bool verified; /* the stream ended with its checks passed */
	struct pending *pend;
	size_t npend, cappend;
	unsigned tmpseq;
	/* --member: the last copy of the member, held in an unlinked file
	 * in TMPDIR until the archive has been read and verified. */
	int spool;
	uint64_t spool_size;
	char *msg;
	size_t msglen;
	int dirfd;    /* -x: DIR, for the link checks (beneath.h) */
	char **links; /* -x: symlinks made, checked again at the end */
	size_t nlinks;
	char why[512]; /* a refusal's reason when it is not static */
	/* A zip read as a stream: its central directory is checked at the
	 * end against the entries the stream held (zipdir_check), from the
	 * last ZTAIL bytes of the stream, kept in a ring. */
	bool zipcheck;
	unsigned char *ztail;
	uint64_t zlen; /* stream bytes seen */
	char **znames; /* entry names in stream order (NULL: none) */
	size_t nznames;
};

#define ZTAIL (16u << 20)

static enum rc_err reader_or(struct unpack *u, const char *what)
{
	char b[512];

	if (u->dec && rc_dec_error(u->dec, u->msg, u->msglen) != RC_OK)
		return rc_dec_error(u->dec, u->msg, u->msglen);
	if (u->r->err != RC_OK) {
		snprintf(u->msg, u->msglen, "%s", u->r->msg);
		return u->r->err;
	}
	snprintf(u->msg, u->msglen, "%s: %s at compressed byte %lld", what,
		 shown(archive_error_string(u->a), b, sizeof b),
		 (long long)archive_filter_bytes(u->a, -1));
	return RC_E_DECODE;
}

/* Names a refused entry; with --strict the run stops here. */
static enum rc_err refuse(struct unpack *u, const char *path, const char *why)
{
	char b[512];

	u->refused++;
	rc_log_error("refused %s: %s", shown(path, b, sizeof b), why);
	if (u->o->strict) {
		snprintf(u->msg, u->msglen,
			 "stopped at the first refused entry (--strict)");
		return RC_E_DECODE;
	}
	return RC_OK;
}

/* Counts the bytes an entry reaches up to end against --max-size; *upto is
 * how far this entry was counted. */
static enum rc_err budget(struct unpack *u, const char *name, uint64_t end,
			  uint64_t *upto)
{
	char b[512];

	if (end <= *upto)
		return RC_OK;
	if (u->o->max_size_set && u->written + (end - *upto) > u->o->max_size) {
		snprintf(u->msg, u->msglen,
			 "%s: the members' data would exceed --max-size "
			 "(%llu bytes)",
			 shown(name, b, sizeof b),
			 (unsigned long long)u->o->max_size);
		return RC_E_DECODE;
	}
	u->written += end - *upto;
	*upto = end;
	return RC_OK;
}

/* Writes n bytes at off into the spool file (holes stay zero). */
static enum rc_err spool_write(struct unpack *u, const char *name,
			       const void *p, size_t n, uint64_t off)
{
	char b[512];

	while (n > 0) {
		ssize_t w = pwrite(u->spool, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(u->msg, u->msglen,
				 "holding member %s in TMPDIR: %s",
				 shown(name, b, sizeof b),
				 w < 0 ? strerror(errno) : "short write");
			return RC_E_OUTPUT;
		}
		p = (const char *)p + w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return RC_OK;
}

/* The message for a failed write of name to the disk. */
static enum rc_err write_failed(struct unpack *u, const char *name)
{
	char b[512], c[512];
	int e = archive_errno(u->w);

	snprintf(u->msg, u->msglen, "writing %s: %s", shown(name, b, sizeof b),
		 e > 0 ? strerror(e)
		       : shown(archive_error_string(u->w), c, sizeof c));
	return RC_E_OUTPUT;
}

/*
 * Streams the current entry's data to the spool file (--member) or to the
 * disk writer w, never past its declared size; the holes of a sparse
 * entry stay holes. name is the entry's name for messages. Returns RC_OK,
 * or an error (a corrupt member, a failed check, a failed write, the
 * --max-size budget); sets *why when the entry lied about its size.
 */
static enum rc_err copy_data(struct unpack *u, struct archive_entry *e,
			     const char *name, bool to_spool, const char **why)
{
	bool sized = archive_entry_size_is_set(e);
	bool sparse = archive_entry_sparse_count(e) > 0;
	uint64_t size = sized ? (uint64_t)archive_entry_size(e) : 0;
	uint64_t got = 0, upto = 0;
	const void *p;
	size_t n;
	la_int64_t off;
	enum rc_err err;
	char b[512];

	*why = NULL;
	/* A declared size over the budget fails before a byte is written. */
	if (sized && u->o->max_size_set && u->written + size > u->o->max_size)
		return budget(u, name, size, &upto);
	for (;;) {
		int rc = archive_read_data_block(u->a, &p, &n, &off);
		if (rc == ARCHIVE_EOF)
			break;
		if (rc != ARCHIVE_OK) {
			/* A warning here is a failed check (zip's CRC-32 or
			 * sizes): the data is wrong, not merely unusual. */
			enum rc_err re = reader_or(u, "archive data");
			if (re == RC_E_DECODE) {
				char m[512];
				snprintf(m, sizeof m, "%s", u->msg);
				snprintf(u->msg, u->msglen, "member %s: %s",
					 shown(name, b, sizeof b), m);
			}
			return re;
		}
		if (off < 0)
			return reader_or(u, "archive data");
		uint64_t end = (uint64_t)off + n;
		if (sized && end > size) {
			/* Never hand out more than declared: cut, refuse. */
			n = (uint64_t)off >= size ? 0 : (size_t)(size - off);
			*why = "it delivers more bytes than it declares";
		}
		if (n > 0) {
			err = budget(u, name, (uint64_t)off + n, &upto);
			if (err != RC_OK)
				return err;
			if (to_spool) {
				err = spool_write(u, name, p, n, (uint64_t)off);
				if (err != RC_OK)
					return err;
			} else if (archive_write_data_block(u->w, p, n, off) !=
				   ARCHIVE_OK) {
				return write_failed(u, name);
			}
		}
		if ((uint64_t)off + n > got)
			got = (uint64_t)off + n;
		if (*why)
			return RC_OK;
	}
	if (sized && got < size) {
		if (!sparse) {
			*why = "it ends before its declared size";
			return RC_OK;
		}
		/* A sparse file may end in a hole: it still is that long. */
		err = budget(u, name, size, &upto);
		if (err != RC_OK)
			return err;
		got = size;
	}
	if (to_spool) {
		if (ftruncate(u->spool, (off_t)got) != 0) {
			snprintf(u->msg, u->msglen,
				 "holding member %s in TMPDIR: %s",
				 shown(name, b, sizeof b), strerror(errno));
			return RC_E_OUTPUT;
		}
		u->spool_size = got;
	}
	return RC_OK;
}

/* Prints s escaped, whole: a listing is never cut (4 bytes out per byte
 * in at most). */
static void print_shown(const char *s)
{
	size_t cap = 4 * (s ? strlen(s) : 0) + 1;
	char *b = malloc(cap);

	fputs(b ? rc_escape(s, b, cap) : "?", stdout);
	free(b);
}

static void list_entry(struct archive_entry *e, bool verbose)
{
	char t[64];

	if (!verbose) {
		print_shown(archive_entry_pathname(e));
		putchar('\n');
		return;
	}
	time_t mt = archive_entry_mtime(e);
	struct tm tm;
	gmtime_r(&mt, &tm);
	strftime(t, sizeof t, "%Y-%m-%d %H:%M", &tm);
	const char *un = archive_entry_uname(e), *gn = archive_entry_gname(e);
	printf("%s ", archive_entry_strmode(e));
	if (un && gn) {
		print_shown(un);
		putchar('/');
		print_shown(gn);
	} else {
		printf("%lld/%lld", (long long)archive_entry_uid(e),
		       (long long)archive_entry_gid(e));
	}
	printf(" %10lld %s ", (long long)archive_entry_size(e), t);
	print_shown(archive_entry_pathname(e));
	if (archive_entry_symlink(e)) {
		fputs(" -> ", stdout);
		print_shown(archive_entry_symlink(e));
	} else if (archive_entry_hardlink(e)) {
		fputs(" link to ", stdout);
		print_shown(archive_entry_hardlink(e));
	}
	putchar('\n');
}

/* --member: when entry e is no regular file (a directory, a link, a
 * device), says what it is in why ("is a directory") and returns true:
 * it has no bytes of its own for standard output. A hard link with
 * data (cpio keeps a file's bytes with its last link) is a file. */
static bool member_not_file(struct archive_entry *e, char *why, size_t len)
{
	const char *hard = archive_entry_hardlink(e);
	const char *sym = archive_entry_symlink(e);
	char b[512];

	if (hard != NULL && archive_entry_size(e) > 0)
		return false;
	if (hard != NULL)
		snprintf(why, len, "is a hard link to %s: ask for that member",
			 shown(hard, b, sizeof b));
	else if (archive_entry_filetype(e) == AE_IFDIR)
		snprintf(why, len, "is a directory, not a file");
	else if (archive_entry_filetype(e) == AE_IFLNK)
		snprintf(why, len, "is a symbolic link to %s, not a file",
			 sym ? shown(sym, b, sizeof b) : "?");
	else if (archive_entry_filetype(e) != AE_IFREG)
		snprintf(why, len, "is not a regular file");
	else
		return false;
	return true;
}

/* Strips "./" prefixes for comparing member names. */
static const char *bare(const char *p)
{
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	return p;
}

/* Whether archive name a is member m: "./" prefixes and trailing
 * slashes (a directory's) do not matter, as with tar; a member that is
 * nothing else ("/", "./") names no entry. */
static bool same_member(const char *a, const char *m)
{
	a = bare(a);
	m = bare(m);
	size_t la = strlen(a), lm = strlen(m);
	while (la > 0 && a[la - 1] == '/')
		la--;
	while (lm > 0 && m[lm - 1] == '/')
		lm--;
	return lm > 0 && la == lm && memcmp(a, m, la) == 0;
}

/* Where the symlink at path (cleaned, relative to DIR) with text target
 * really leads, given the links on disk: NULL, or a reason in u->why. */
static const char *link_leaves(struct unpack *u, const char *path,
			       const char *target)
{
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) : 0;
	const char *t = target;
	char full[8192], b[512];
	const char *why;

	/* The link's own directory is made of real directories at their
	 * literal names (libarchive makes the missing ones and replaces
	 * links on the way), so a leading ".." climbs those names without
	 * asking the disk, where they may not exist yet. */
	for (;;) {
		if (t[0] == '.' && t[1] == '/') {
			t += 2;
		} else if (t[0] == '/' && t != target) {
			t++;
		} else if (dirlen > 0 && t[0] == '.' && t[1] == '.' &&
			   (t[2] == '/' || t[2] == '\0')) {
			const char *up = memrchr(path, '/', dirlen);
			dirlen = up ? (size_t)(up - path) : 0;
			t += 2;
		} else {
			break;
		}
	}
	snprintf(full, sizeof full, "%.*s%s%s", (int)dirlen, path,
		 dirlen && *t ? "/" : "", t);
	why = rc_beneath_check(u->dirfd, full, 0);
	if (why == NULL)
		return NULL;
	snprintf(u->why, sizeof u->why, "its symlink to %s: %s",
		 shown(target, b, sizeof b), why);
	return u->why;
}

/*
 * The checks that need the disk, and what is restored: a symlink must
 * resolve inside DIR through the links already extracted; a hard link's
 * target must be reached without any symlink; device nodes and FIFOs are
 * made, and setuid/setgid bits kept, only with --same-permissions.
 * Returns NULL, or the reason to refuse e.
 */
static const char *guard(struct unpack *u, struct archive_entry *e,
			 const char *path)
{
	const char *sl = archive_entry_symlink(e);
	const char *hl = archive_entry_hardlink(e);
	unsigned type = archive_entry_filetype(e);

	if (!u->o->same_perms) {
		if (type == AE_IFCHR || type == AE_IFBLK)
			return "a device node is made only with "
			       "--same-permissions";
		if (type == AE_IFIFO)
			return "a FIFO is made only with --same-permissions";
		archive_entry_set_perm(e, archive_entry_perm(e) &
					      ~(mode_t)(S_ISUID | S_ISGID));
	}
	if (sl)
		return link_leaves(u, path, sl);
	if (hl) {
		char dir[4096], b[512];
		const char *slash = strrchr(hl, '/');
		snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - hl) : 0,
			 hl);
		const char *why =
		    rc_beneath_check(u->dirfd, dir, RC_BENEATH_NO_SYMLINKS);
		if (why) {
			snprintf(u->why, sizeof u->why,
				 "its hard link to %s: %s",
				 shown(hl, b, sizeof b), why);
			return u->why;
		}
		/* A hard link to a symlink is that symlink again in another
		 * directory, where its text may lead elsewhere. */
		char text[4096];
		ssize_t n = readlinkat(u->dirfd, hl, text, sizeof text - 1);
		if (n >= 0) {
			text[n] = '\0';
			return link_leaves(u, path, text);
		}
	}
	return NULL;
}

/* Keeps the path of a symlink made, for recheck_links. */
static enum rc_err remember_link(struct unpack *u, const char *path)
{
	char **n = realloc(u->links, (u->nlinks + 1) * sizeof *n);
	if (n == NULL || (n[u->nlinks] = strdup(path)) == NULL) {
		if (n)
			u->links = n;
		snprintf(u->msg, u->msglen, "out of memory");
		return RC_E_NOMEM;
	}
	u->links = n;
	u->nlinks++;
	return RC_OK;
}

/*
 * A later entry can turn a directory a symlink went through into a link
 * of its own, so each symlink made is judged again once all are there;
 * one that now leads outside DIR is removed and refused.
 */
static enum rc_err recheck_links(struct unpack *u)
{
	enum rc_err err = RC_OK;
	char target[4096];

	for (size_t i = 0; i < u->nlinks; i++) {
		ssize_t n = readlinkat(u->dirfd, u->links[i], target,
				       sizeof target - 1);
		if (n < 0 || err != RC_OK)
			continue; /* replaced by a later entry */
		target[n] = '\0';
		const char *why = link_leaves(u, u->links[i], target);
		if (why == NULL)
			continue;
		unlinkat(u->dirfd, u->links[i], 0);
		err = refuse(u, u->links[i], why);
	}
	return err;
}

/* Renames a verified file from its temporary name into place; name is the
 * member's name for the message. */
static enum rc_err commit(struct unpack *u, const char *tmp, const char *path,
			  const char *name)
{
	char b[512];

	if (rename(tmp, path) == 0)
		return RC_OK;
	if (errno == EISDIR) {
		/* A directory in its place: an empty one goes, as
		 * libarchive's unlink-first writing removed it; one that
		 * holds files refuses the entry (exit 6, not a failed disk). */
		if (rmdir(path) == 0 && rename(tmp, path) == 0)
			return RC_OK;
		if (errno == ENOTEMPTY || errno == EEXIST) {
			unlink(tmp);
			return refuse(u, name,
				      "a directory that is not empty is in "
				      "its place");
		}
		errno = EISDIR;
	}
	snprintf(u->msg, u->msglen, "putting %s in place: %s",
		 shown(name, b, sizeof b), strerror(errno));
	unlink(tmp);
	return RC_E_OUTPUT;
}

/* The end of -x: once the stream is verified, the staged files go into
 * place in archive order (so the last copy of a name wins, as with tar),
 * even if other entries were refused; else they are removed and the
 * message says so. */
static enum rc_err settle(struct unpack *u, enum rc_err err)
{
	size_t removed = 0;
	bool keep = u->verified;
	unsigned refused = u->refused;

	for (size_t i = 0; i < u->npend; i++) {
		enum rc_err cerr = RC_OK;
		if (keep)
			cerr = commit(u, u->pend[i].tmp, u->pend[i].path,
				      u->pend[i].path);
		else if (unlink(u->pend[i].tmp) == 0)
			removed++;
		if (cerr != RC_OK) {
			keep = false; /* the first error wins */
			err = cerr;
		}
		free(u->pend[i].tmp);
		free(u->pend[i].path);
	}
	free(u->pend);
	u->pend = NULL;
	if (err == RC_OK && u->refused > refused) {
		snprintf(u->msg, u->msglen,
			 "%u %s refused; the safe ones were extracted",
			 u->refused, u->refused == 1 ? "entry" : "entries");
		err = RC_E_DECODE;
	}
	if (removed > 0) {
		size_t l = strlen(u->msg);
		snprintf(u->msg + l, u->msglen - l,
			 " (the %zu %s extracted from the unverified "
			 "stream %s removed)",
			 removed, removed == 1 ? "file" : "files",
			 removed == 1 ? "was" : "were");
	}
	return err;
}

/*
 * Whether a cleaned path names, in any component, a staging name of this
 * run (.rangecat-PID-N): such an entry, or a hard link to one, would
 * replace or reach a staged file before it is renamed into place.
 */
static bool staging_name(const char *path)
{
	char pre[64];
	int n = snprintf(pre, sizeof pre, ".rangecat-%ld-", (long)getpid());

	for (const char *c = path; c;) {
		if (strncmp(c, pre, (size_t)n) == 0)
			return true;
		c = strchr(c, '/');
		if (c)
			c++;
	}
	return false;
}

/*
 * Drops the staged files (compressed streams and zips, still waiting for
 * the end) at path: a later entry replaced them, as it would have
 * replaced a file already in place. Their temporary names go; hard links
 * already made to them stay.
 */
static void supersede(struct unpack *u, const char *path)
{
	size_t keep = 0;

	for (size_t i = 0; i < u->npend; i++) {
		if (strcmp(u->pend[i].path, path) == 0) {
			unlink(u->pend[i].tmp);
			free(u->pend[i].tmp);
			free(u->pend[i].path);
			continue;
		}
		u->pend[keep++] = u->pend[i];
	}
	u->npend = keep;
}

/* Whether a file staged for a directory above path is in the way: in
 * place, it would make libarchive refuse the entry, so it does here. */
static bool staged_above(const struct unpack *u, const char *path)
{
	size_t pl = strlen(path);

	for (size_t i = 0; i < u->npend; i++) {
		const char *q = u->pend[i].path;
		size_t ql = strlen(q);
		if (ql < pl && strncmp(q, path, ql) == 0 && path[ql] == '/')
			return true;
	}
	return false;
}

/* One entry of -x: clean it, check links and sizes, write it. */
static enum rc_err extract_entry(struct unpack *u, struct archive_entry *e)
{
	char path[4096], link[4096], oname[4096];
	const char *orig = archive_entry_pathname(e);
	const char *why;
	bool skip;

	if (orig == NULL)
		return refuse(u, "(no name)", "the entry has no path");
	/* The entry's own name, for messages after it is renamed. */
	snprintf(oname, sizeof oname, "%s", orig);
	orig = oname;
	why = rc_unpack_clean_path(orig, u->o->strip, path, sizeof path, &skip);
	if (why)
		return refuse(u, orig, why);
	if (skip)
		return RC_OK;
	if (staging_name(path))
		return refuse(u, orig,
			      "its name is one rangecat stages files under");
	const char *hl = archive_entry_hardlink(e);
	if (hl) {
		bool hskip;
		why = rc_unpack_clean_path(hl, u->o->strip, link, sizeof link,
					   &hskip);
		if (why || hskip)
			return refuse(u, orig,
				      why ? "its hard link target is unsafe"
					  : "its hard link target is stripped "
					    "away");
		if (staging_name(link))
			return refuse(u, orig,
				      "its hard link target is a name rangecat "
				      "stages files under");
		archive_entry_set_hardlink(e, link);
	}
	const char *sl = archive_entry_symlink(e);
	if (sl && !rc_unpack_link_inside(path, sl))
		return refuse(u, orig,
			      "its symlink points outside the "
			      "directory");
	archive_entry_set_pathname(e, path);
	if ((why = guard(u, e, path)) != NULL)
		return refuse(u, orig, why);
	/* A file with data, or a hard link to one still under a temporary
	 * name, is written under a temporary name beside its place. */
	char tmp[4096];
	const struct pending *tp = NULL;
	bool staged = false;
	if (hl) {
		for (size_t i = u->npend; i-- > 0;)
			if (strcmp(u->pend[i].path, link) == 0) {
				tp = &u->pend[i];
				break;
			}
		staged = tp != NULL;
	} else {
		staged = archive_entry_filetype(e) == AE_IFREG;
	}
	if (staged) {
		const char *slash = strrchr(path, '/');
		int dl = slash ? (int)(slash - path) + 1 : 0;
		if (snprintf(tmp, sizeof tmp, "%.*s.rangecat-%ld-%u", dl, path,
			     (long)getpid(), u->tmpseq++) >= (int)sizeof tmp)
			return refuse(u, orig, "path too long");
		archive_entry_set_pathname(e, tmp);
		if (tp)
			archive_entry_set_hardlink(e, tp->tmp);
	} else {
		archive_entry_set_pathname(e, path);
	}
	const char *at = staged ? tmp : path;
	if (staged_above(u, path))
		return refuse(u, orig,
			      "a file of the archive is in the way of its "
			      "directory");
	if (archive_write_header(u->w, e) != ARCHIVE_OK) {
		char b[512], c[512];
		rc_log_error("refused %s: %s", shown(orig, b, sizeof b),
			     shown(archive_error_string(u->w), c, sizeof c));
		u->refused++;
		if (u->o->strict) {
			snprintf(u->msg, u->msglen,
				 "stopped at the first refused entry "
				 "(--strict)");
			return RC_E_DECODE;
		}
		return RC_OK;
	}
	/* This entry is the last word on its path and on the directories
	 * above it: earlier copies still staged must not be renamed over
	 * it (a symlink, a directory) at the end. */
	supersede(u, path);
	enum rc_err err = RC_OK;
	if (archive_entry_size(e) > 0 || !archive_entry_size_is_set(e) ||
	    archive_entry_filetype(e) == AE_IFREG) {
		err = copy_data(u, e, orig, false, &why);
		if (err != RC_OK) {
			archive_write_finish_entry(u->w);
			unlink(at); /* a corrupt entry leaves nothing */
			return err;
		}
	} else {
		why = NULL;
	}
	/* Finishing sets times and modes, and makes a sparse file that
	 * ends in a hole its full length: that can fail too. */
	if (archive_write_finish_entry(u->w) < ARCHIVE_WARN) {
		err = write_failed(u, orig);
		unlink(at);
		return err;
	}
	if (why) {
		unlink(at); /* no half-trusted file stays behind */
		return refuse(u, orig, why);
	}
	struct stat st;
	if (sl ||
	    (hl && fstatat(u->dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	     S_ISLNK(st.st_mode)))
		return remember_link(u, path);
	if (!staged)
		return RC_OK;
	if (!u->defer)
		return commit(u, tmp, path, orig);
	if (u->npend == u->cappend) {
		size_t cap = u->cappend ? u->cappend * 2 : 64;
		struct pending *np = realloc(u->pend, cap * sizeof *np);
		if (np == NULL) {
			unlink(tmp);
			snprintf(u->msg, u->msglen, "out of memory");
			return RC_E_NOMEM;
		}
		u->pend = np;
		u->cappend = cap;
	}
	struct pending *pe = &u->pend[u->npend];
	pe->tmp = strdup(tmp);
	pe->path = strdup(path);
	if (pe->tmp == NULL || pe->path == NULL) {
		free(pe->tmp);
		free(pe->path);
		unlink(tmp);
		snprintf(u->msg, u->msglen, "out of memory");
		return RC_E_NOMEM;
	}
	u->npend++;
	return RC_OK;
}

/* Empties the spool for the next copy of the member, creating it first
 * (unlinked at once, in TMPDIR or /tmp). */
static enum rc_err spool_reset(struct unpack *u)
{
	if (u->spool < 0) {
		const char *dir = getenv("TMPDIR");
		char path[4096];
		if (dir == NULL || *dir == '\0')
			dir = "/tmp";
		snprintf(path, sizeof path, "%s/rangecat-member-XXXXXX", dir);
		u->spool = mkstemp(path);
		if (u->spool < 0) {
			snprintf(u->msg, u->msglen,
				 "cannot hold the member in %s: %s", dir,
				 strerror(errno));
			return RC_E_OUTPUT;
		}
		unlink(path);
	}
	u->spool_size = 0;
	if (ftruncate(u->spool, 0) != 0) {
		snprintf(u->msg, u->msglen, "cannot hold the member: %s",
			 strerror(errno));
		return RC_E_OUTPUT;
	}
	return RC_OK;
}

/* The verified member, from the spool to stdout. */
static enum rc_err spool_out(struct unpack *u)
{
	unsigned char *buf = malloc(1u << 20);
	uint64_t off = 0;
	enum rc_err err = RC_OK;

	if (buf == NULL) {
		snprintf(u->msg, u->msglen, "out of memory");
		return RC_E_NOMEM;
	}
	while (off < u->spool_size && err == RC_OK && !u->closed) {
		ssize_t n = pread(u->spool, buf, 1u << 20, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(u->msg, u->msglen,
				 "reading the held member back: %s",
				 n < 0 ? strerror(errno) : "it is shorter");
			err = RC_E_OUTPUT;
			break;
		}
		err = rc_sink_raw_emit(u->r, buf, (size_t)n, &u->delivered,
				       &u->closed, u->msg, u->msglen);
		off += (uint64_t)n;
	}
	free(buf);
	return err;
}

/* The next decoded block, whose bytes are also kept in the zip tail. */
static ssize_t u_read(struct unpack *u, const unsigned char **pp)
{
	ssize_t n = rc_dec_read(u->dec, pp);

	if (n > 0 && u->zipcheck) {
		const unsigned char *p = *pp;
		size_t m = (size_t)n;
		if (m > ZTAIL) { /* only the last ZTAIL bytes matter */
			u->zlen += m - ZTAIL;
			p += m - ZTAIL;
			m = ZTAIL;
		}
		while (m > 0) {
			size_t at = (size_t)(u->zlen % ZTAIL);
			size_t k = ZTAIL - at < m ? ZTAIL - at : m;
			memcpy(u->ztail + at, p, k);
			p += k;
			m -= k;
			u->zlen += k;
		}
	}
	return n;
}

static uint64_t le(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static bool ascii_name(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] >= 0x80 || p[i] == 0)
			return false;
	return true;
}

/*
 * A zip read as a stream is read by its local headers, which nothing
 * checks: one whose signature is damaged is skipped as if it were data,
 * and a damaged name is taken as it is. The central directory at the end
 * says what the archive holds: the stream must have held as many entries,
 * with the same names (compared where both are plain ASCII).
 */
static enum rc_err zipdir_check(struct unpack *u, unsigned entries)
{
	uint64_t kept = u->zlen < ZTAIL ? u->zlen : ZTAIL;
	uint64_t base = u->zlen - kept; /* stream offset of t[0] */
	unsigned char *t = malloc(kept ? kept : 1);
	enum rc_err err = RC_E_DECODE;

	if (t == NULL) {
		snprintf(u->msg, u->msglen, "out of memory");
		return RC_E_NOMEM;
	}
	for (uint64_t i = 0; i < kept; i++)
		t[i] = u->ztail[(base + i) % ZTAIL];
	/* The end of central directory record, its comment reaching the
	 * end of the stream. */
	int64_t eocd = -1;
	for (int64_t i = (int64_t)kept - 22; i >= 0 && kept - i <= 22 + 65535;
	     i--)
		if (memcmp(t + i, "PK\5\6", 4) == 0 &&
		    (uint64_t)i + 22 + le(t + i + 20, 2) == kept) {
			eocd = i;
			break;
		}
	if (eocd < 0) {
		snprintf(u->msg, u->msglen,
			 "zip: no end of central directory record at the "
			 "end of the stream");
		goto out;
	}
	uint64_t total = le(t + eocd + 10, 2), cdsize = le(t + eocd + 12, 4);
	uint64_t cdend = (uint64_t)eocd;
	bool z64 = eocd >= 20 && memcmp(t + eocd - 20, "PK\6\7", 4) == 0;
	if (z64 || total == 0xffff || cdsize == 0xffffffff) {
		/* zip64: the locator just before the record names the zip64
		 * end record's offset; the directory ends where it starts. */
		uint64_t off;
		if (!z64 || (off = le(t + eocd - 20 + 8, 8)) < base ||
		    off - base + 56 > (uint64_t)eocd - 20 ||
		    memcmp(t + (off - base), "PK\6\6", 4) != 0) {
			snprintf(u->msg, u->msglen,
				 "zip: the zip64 end of central directory "
				 "record is missing or damaged");
			goto out;
		}
		total = le(t + (off - base) + 32, 8);
		cdsize = le(t + (off - base) + 40, 8);
		cdend = off - base;
	}
	if (total != entries) {
		snprintf(u->msg, u->msglen,
			 "zip: the central directory lists %llu entries, the "
			 "stream held %u (a damaged local header)",
			 (unsigned long long)total, entries);
		goto out;
	}
	if (cdsize <= cdend) { /* the whole directory is in the tail */
		uint64_t q = cdend - cdsize;
		for (size_t i = 0; i < u->nznames; i++) {
			if (q + 46 > cdend || memcmp(t + q, "PK\1\2", 4) != 0) {
				snprintf(u->msg, u->msglen,
					 "zip: the central directory is "
					 "damaged");
				goto out;
			}
			uint64_t nl = le(t + q + 28, 2), xl = le(t + q + 30, 2),
				 cl = le(t + q + 32, 2);
			const unsigned char *nm = t + q + 46;
			const char *seen = u->znames[i];
			if (q + 46 + nl > cdend)
				break; /* judged by the count alone */
			if (seen && ascii_name(nm, nl) &&
			    ascii_name((const unsigned char *)seen,
				       strlen(seen))) {
				bool same = strlen(seen) == nl;
				for (size_t j = 0; same && j < nl; j++)
					same =
					    (nm[j] == '\\' ? '/' : nm[j]) ==
					    (seen[j] == '\\' ? '/' : seen[j]);
				if (!same) {
					char b[512], c[512], w[1024];
					snprintf(w, sizeof w, "%.*s", (int)nl,
						 (const char *)nm);
					snprintf(u->msg, u->msglen,
						 "zip: entry %zu is %s in its "
						 "local header but %s in the "
						 "central directory",
						 i + 1,
						 shown(seen, b, sizeof b),
						 shown(w, c, sizeof c));
					goto out;
				}
			}
			q += 46 + nl + xl + cl;
		}
	}
	err = RC_OK;
out:
	free(t);
	return err;
}

/* libarchive's read callback: the next decoded block. */
static la_ssize_t dec_cb(struct archive *a, void *ud, const void **buf)
{
	struct unpack *u = ud;
	const unsigned char *p;
	ssize_t n = u_read(u, &p);

	if (n < 0) {
		char m[512];
		rc_dec_error(u->dec, m, sizeof m);
		archive_set_error(a, EIO, "%s", m);
		return -1;
	}
	*buf = p;
	return n;
}

/* Reads the current entry's data for -t, only to check it. */
static enum rc_err check_data(struct unpack *u, struct archive_entry *e)
{
	const void *p;
	size_t n;
	la_int64_t off;
	int rc;
	char b[512], m[512];

	while ((rc = archive_read_data_block(u->a, &p, &n, &off)) == ARCHIVE_OK)
		;
	if (rc == ARCHIVE_EOF)
		return RC_OK;
	enum rc_err err = reader_or(u, "archive data");
	if (err == RC_E_DECODE) {
		snprintf(m, sizeof m, "%s", u->msg);
		snprintf(u->msg, u->msglen, "member %s: %s",
			 shown(archive_entry_pathname(e)
				   ? archive_entry_pathname(e)
				   : "(no name)",
			       b, sizeof b),
			 m);
	}
	return err;
}

/* Reads every entry of u->a for u->o->mode, then the final verdict. */
static enum rc_err entries_run(struct unpack *u)
{
	const struct rc_opts *o = u->o;
	struct archive_entry *e;
	enum rc_err err = RC_OK;
	unsigned entries = 0;
	bool found = false;
	char notfile[1200] = ""; /* --member: why its last copy is no file */
	char *msg = u->msg;
	size_t msglen = u->msglen;

	for (;;) {
		int rc = archive_read_next_header(u->a, &e);
		if (rc == ARCHIVE_EOF)
			break;
		if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
			err = reader_or(u, archive_format_name(u->a)
					       ? archive_format_name(u->a)
					       : "archive");
			goto done;
		}
		/* libarchive reads any lines of single words as an mtree
		 * listing (a spec of paths, no data): a text file or an
		 * error page would extract empty files and exit 0. */
		if (archive_format(u->a) == ARCHIVE_FORMAT_MTREE) {
			snprintf(msg, msglen,
				 "not an archive: its first bytes read as "
				 "an mtree listing (text), which rangecat "
				 "does not unpack");
			err = RC_E_DECODE;
			goto done;
		}
		entries++;
		if (u->zipcheck) {
			const char *nm = archive_entry_pathname(e);
			char **nn =
			    realloc(u->znames, (u->nznames + 1) * sizeof *nn);
			if (nn == NULL) {
				snprintf(msg, msglen, "out of memory");
				err = RC_E_NOMEM;
				goto done;
			}
			u->znames = nn;
			nn[u->nznames++] = nm ? strdup(nm) : NULL;
		}
		if (o->mode == RC_MODE_LIST) {
			if (archive_entry_pathname(e) == NULL) {
				/* An empty line would pass for a name. */
				char b[512];
				u->refused++;
				rc_log_error("member %u: its name cannot be "
					     "read: %s",
					     entries,
					     shown(archive_error_string(u->a),
						   b, sizeof b));
				continue;
			}
			list_entry(e, o->verbose > 0);
			if (ferror(stdout) && errno == EPIPE) {
				u->closed = true; /* like cat: quietly */
				goto done;
			}
			if (ferror(stdout)) {
				snprintf(msg, msglen, "write to stdout: %s",
					 strerror(errno));
				err = RC_E_OUTPUT;
				goto done;
			}
			/* Read as a stream, the data passes anyway: check it
			 * (zip's CRC-32), as unzip -t would. By ranges, only
			 * the central directory is read. */
			if (u->dec && (err = check_data(u, e)) != RC_OK)
				goto done;
			continue;
		}
		if (o->mode == RC_MODE_MEMBER) {
			const char *name = archive_entry_pathname(e);
			if (name == NULL || !same_member(name, o->member))
				continue;
			/* As with tar, the last copy of a name wins: each
			 * one replaces what the spool held. A copy that is
			 * no regular file has no bytes of its own to write:
			 * said at the end, unless a later copy is a file. */
			const char *why;
			found = true;
			notfile[0] = '\0';
			if (member_not_file(e, notfile, sizeof notfile))
				continue;
			err = spool_reset(u);
			if (err == RC_OK)
				err = copy_data(u, e, name, true, &why);
			if (err == RC_OK && why) {
				char b[512];
				snprintf(msg, msglen, "member %s: %s",
					 shown(o->member, b, sizeof b), why);
				err = RC_E_DECODE;
			}
			if (err != RC_OK)
				goto done;
			continue;
		}
		err = extract_entry(u, e);
		if (err != RC_OK)
			goto done;
	}
	/* Past the archive's end, the stream must still end cleanly: its
	 * checks pass and nothing follows it. */
	if (u->dec) {
		const unsigned char *p;
		ssize_t n;
		while ((n = u_read(u, &p)) > 0)
			;
		if (n < 0) {
			err = rc_dec_error(u->dec, msg, msglen);
			goto done;
		}
	}
	if (u->zipcheck && (err = zipdir_check(u, entries)) != RC_OK)
		goto done;
	u->verified = true;
	if (o->mode == RC_MODE_EXTRACT && (err = recheck_links(u)) != RC_OK)
		goto done;
	if (entries == 0) {
		snprintf(msg, msglen,
			 "no archive entries found (not an archive, or a "
			 "damaged one)");
		err = RC_E_DECODE;
	} else if (o->mode == RC_MODE_MEMBER && !found) {
		char b[512];
		snprintf(msg, msglen, "no member %s in the archive",
			 shown(o->member, b, sizeof b));
		err = RC_E_DECODE;
	} else if (o->mode == RC_MODE_MEMBER && notfile[0]) {
		char b[512];
		snprintf(msg, msglen, "member %s %s",
			 shown(o->member, b, sizeof b), notfile);
		err = RC_E_DECODE;
	} else if (u->refused && o->mode == RC_MODE_LIST) {
		snprintf(msg, msglen, "%u %s could not be read", u->refused,
			 u->refused == 1 ? "name" : "names");
		err = RC_E_DECODE;
	} else if (u->refused) {
		snprintf(msg, msglen,
			 "%u %s refused; the safe ones were "
			 "extracted",
			 u->refused, u->refused == 1 ? "entry" : "entries");
		err = RC_E_DECODE;
	}
	if (err == RC_OK && found)
		err = spool_out(u);
done:
	if (o->mode == RC_MODE_LIST && fflush(stdout) != 0 && err == RC_OK &&
	    errno != EPIPE) {
		snprintf(msg, msglen, "write to stdout: %s", strerror(errno));
		err = RC_E_OUTPUT;
	}
	return err;
}

/*
 * rangecat never calls setlocale, so libarchive converts the names of
 * archives that declare UTF-8 (zip's flag bit 11, pax) to ASCII, fails for
 * anything else, and gives a NULL name: such entries were listed as empty
 * lines, not found by --member and refused by -x. This thread reads them
 * in C.UTF-8 instead (names stay bytes; escape.h still guards the terminal).
 */
static locale_t utf8_begin(void)
{
	locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);

	if (l != (locale_t)0)
		uselocale(l);
	return l;
}

static void utf8_end(locale_t l)
{
	if (l != (locale_t)0) {
		uselocale(LC_GLOBAL_LOCALE);
		freelocale(l);
	}
}

static enum rc_err unpack_run(struct rc_reader *r, const struct rc_opts *o,
			      uint64_t *delivered, bool *want_zip, char *msg,
			      size_t msglen)
{
	struct unpack u = {
	    .r = r, .o = o, .msg = msg, .msglen = msglen, .dirfd = -1};
	enum rc_err err = RC_OK;

	const unsigned char *p;
	ssize_t n = rc_reader_peek(r, 6, &p);
	if (n < 0) {
		snprintf(msg, msglen, "%s", r->msg);
		return r->err;
	}
	/* -t and --member on a zip the server lets us seek in: read the
	 * central directory instead (rc_unpack_zip_run). The fetcher held
	 * back after the probe; let it go for every other case. With a
	 * digest to check every byte is needed: the archive streams. */
	*want_zip = false;
	if ((o->mode == RC_MODE_LIST || o->mode == RC_MODE_MEMBER) &&
	    o->digest == RC_DIGEST_NONE && n >= 4 &&
	    memcmp(p, "PK\3\4", 4) == 0 && r->run &&
	    atomic_load(&r->run->seekable) && r->chain == NULL) {
		*want_zip = true;
		return RC_OK;
	}
	if (r->run)
		atomic_store(&r->run->hold, 0);
	rc_ring_wake(r->ring);
	/* One decoder for every mode, the one -d uses: libarchive's own
	 * filters skip checks (Debian 12's gzip filter ignores the CRC-32)
	 * and stop quietly before trailing data. */
	if (!rc_lazyarchive_load(msg, msglen))
		return RC_E_DECODE;
	enum rc_format fmt = rc_decode_sniff(p, (size_t)n);
	u.spool = -1;
	u.defer = fmt != RC_FMT_AUTO;
	if (fmt == RC_FMT_AUTO && n >= 4 && memcmp(p, "PK\3\4", 4) == 0) {
		/* Its files wait for the central directory's verdict. */
		u.zipcheck = true;
		u.defer = true;
		u.ztail = malloc(ZTAIL);
		if (u.ztail == NULL) {
			snprintf(msg, msglen, "out of memory");
			return RC_E_NOMEM;
		}
	}
	u.dec = rc_dec_new(r, fmt);
	u.a = u.dec ? archive_read_new() : NULL;
	if (u.a == NULL) {
		rc_dec_free(u.dec);
		snprintf(msg, msglen, "out of memory for the archive reader");
		return RC_E_NOMEM;
	}
	archive_read_support_format_all(u.a);
	/* Errors surface at the first archive_read_next_header. */
	(void)archive_read_open(u.a, &u, NULL, dec_cb, NULL);
	if (o->mode == RC_MODE_EXTRACT) {
		u.w = archive_write_disk_new();
		int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
			    ARCHIVE_EXTRACT_SECURE_SYMLINKS |
			    ARCHIVE_EXTRACT_SECURE_NODOTDOT |
			    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |
			    ARCHIVE_EXTRACT_UNLINK;
		if (o->same_owner)
			flags |= ARCHIVE_EXTRACT_OWNER;
		if (u.w == NULL ||
		    archive_write_disk_set_options(u.w, flags) != ARCHIVE_OK) {
			snprintf(msg, msglen, "cannot set up extraction");
			err = RC_E_NOMEM;
			goto done;
		}
		archive_write_disk_set_standard_lookup(u.w);
		/* main changed into DIR */
		u.dirfd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (u.dirfd < 0) {
			snprintf(msg, msglen, "--extract: %s", strerror(errno));
			err = RC_E_OUTPUT;
			goto done;
		}
	}
	err = entries_run(&u);
done:
	err = settle(&u, err);
	if (u.w) {
		archive_write_close(u.w); /* sets directory times and modes */
		archive_write_free(u.w);
	}
	archive_read_free(u.a);
	if (u.dirfd >= 0)
		close(u.dirfd);
	for (size_t i = 0; i < u.nlinks; i++)
		free(u.links[i]);
	free(u.links);
	rc_dec_free(u.dec);
	if (u.spool >= 0)
		close(u.spool);
	free(u.ztail);
	for (size_t i = 0; i < u.nznames; i++)
		free(u.znames[i]);
	free(u.znames);
	*delivered += u.delivered;
	return err;
}

/* The seekable zip reader's callbacks, over range requests. */
struct zctx {
	struct rc_ranged *z;
	struct rc_reader *r; /* carries a failed read's error */
};

static la_ssize_t zread_cb(struct archive *a, void *ud, const void **buf)
{
	struct zctx *c = ud;
	ssize_t n = rc_ranged_read(c->z, buf);

	if (n < 0) {
		const char *m;
		c->r->err = rc_ranged_error(c->z, &m);
		snprintf(c->r->msg, sizeof c->r->msg, "%s", m);
		archive_set_error(a, EIO, "%s", m);
		return -1;
	}
	return n;
}

static la_int64_t zseek_cb(struct archive *a, void *ud, la_int64_t off,
			   int whence)
{
	struct zctx *c = ud;

	(void)a;
	return rc_ranged_seek(c->z, off, whence);
}

static la_int64_t zskip_cb(struct archive *a, void *ud, la_int64_t req)
{
	struct zctx *c = ud;

	(void)a;
	return rc_ranged_seek(c->z, req, SEEK_CUR) < 0 ? 0 : req;
}

enum rc_err rc_sink_unpack_run(struct rc_reader *r, const struct rc_opts *o,
			       uint64_t *delivered, bool *want_zip, char *msg,
			       size_t msglen)
{
	locale_t l = utf8_begin();
	enum rc_err err = unpack_run(r, o, delivered, want_zip, msg, msglen);

	utf8_end(l);
	return err;
}

static enum rc_err zip_run(struct rc_ranged *z, const struct rc_opts *o,
			   volatile sig_atomic_t *sig, uint64_t *delivered,
			   char *msg, size_t msglen)
{
	struct rc_reader fake = {.sig = sig, .err = RC_OK};
	struct zctx c = {.z = z, .r = &fake};
	struct unpack u = {
	    .r = &fake, .o = o, .spool = -1, .msg = msg, .msglen = msglen};
	enum rc_err err;

	if (!rc_lazyarchive_load(msg, msglen))
		return RC_E_DECODE;
	u.a = archive_read_new();
	if (u.a == NULL) {
		snprintf(msg, msglen, "out of memory for the archive reader");
		return RC_E_NOMEM;
	}
	archive_read_support_format_zip_seekable(u.a);
	archive_read_set_read_callback(u.a, zread_cb);
	archive_read_set_seek_callback(u.a, zseek_cb);
	archive_read_set_skip_callback(u.a, zskip_cb);
	archive_read_set_callback_data(u.a, &c);
	if (archive_read_open1(u.a) != ARCHIVE_OK)
		err = reader_or(&u, "zip");
	else
		err = entries_run(&u);
	archive_read_free(u.a);
	if (u.spool >= 0)
		close(u.spool);
	*delivered += u.delivered;
	rc_log("zip read by ranges: %llu bytes fetched",
	       (unsigned long long)rc_ranged_fetched(z));
	return err;
}

enum rc_err rc_unpack_zip_run(struct rc_ranged *z, const struct rc_opts *o,
			      volatile sig_atomic_t *sig, uint64_t *delivered,
			      char *msg, size_t msglen)
{
	locale_t l = utf8_begin();
	enum rc_err err = zip_run(z, o, sig, delivered, msg, msglen);

	utf8_end(l);
	return err;
}
