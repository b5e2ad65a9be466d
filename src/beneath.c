/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The link resolver for -x. A lexical check cannot see that "a/b/up/../.."
 * leaves DIR when "a/b/up" is a symlink to "..": only the links on disk
 * can say where a path really goes. The kernel answers that exactly with
 * openat2(RESOLVE_BENEATH), which fails with EXDEV as soon as a lookup
 * would leave the starting directory (by "..", an absolute link or a
 * magic link). Where openat2 is missing (Linux before 5.6, or a seccomp
 * filter refusing it) the same walk is done here with fstatat and
 * readlinkat. Either way a missing component ends the walk, and the text
 * after it may not go up: a name that does not exist yet may become a
 * symlink later, and ".." after it could then lead anywhere.
 */
#include "beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

bool rc_beneath_no_openat2;
static bool no_openat2; /* the kernel said ENOSYS once */

static const char OUTSIDE[] = "it leads outside the directory";
static const char LOOP[] = "too many levels of symbolic links";
static const char AFTER_MISSING[] = "'..' follows a name that does not exist";
static const char THROUGH_LINK[] = "its path goes through a symlink";
static const char TOO_LONG[] = "its path is too long to check";
static const char UNCHECKED[] = "its path cannot be checked";

/* True when the components of s hold "..". */
static bool has_dotdot(const char *s)
{
	while (*s) {
		size_t len = strcspn(s, "/");
		if (len == 2 && s[0] == '.' && s[1] == '.')
			return true;
		s += len;
		while (*s == '/')
			s++;
	}
	return false;
}

const char *rc_beneath_walk(int dirfd, const char *path, unsigned flags)
{
	char cur[4096], todo[8192], tmp[8192], target[4096];
	size_t clen = 0, pos = 0;
	unsigned links = 0;

	if (path[0] == '/')
		return OUTSIDE;
	if (snprintf(todo, sizeof todo, "%s", path) >= (int)sizeof todo)
		return TOO_LONG;
	cur[0] = '\0';
	for (;;) {
		while (todo[pos] == '/')
			pos++;
		if (todo[pos] == '\0')
			return NULL;
		const char *c = todo + pos;
		size_t len = strcspn(c, "/"), next = pos + len;
		if (len == 1 && c[0] == '.') {
			pos = next;
			continue;
		}
		if (len == 2 && c[0] == '.' && c[1] == '.') {
			if (clen == 0)
				return OUTSIDE;
			char *slash = memrchr(cur, '/', clen);
			clen = slash ? (size_t)(slash - cur) : 0;
			cur[clen] = '\0';
			pos = next;
			continue;
		}
		if (clen + 1 + len >= sizeof cur)
			return TOO_LONG;
		size_t parent = clen;
		if (clen)
			cur[clen++] = '/';
		memcpy(cur + clen, c, len);
		clen += len;
		cur[clen] = '\0';
		struct stat st;
		if (fstatat(dirfd, cur, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno != ENOENT && errno != ENOTDIR)
				return UNCHECKED;
			return has_dotdot(todo + next) ? AFTER_MISSING : NULL;
		}
		if (S_ISLNK(st.st_mode)) {
			if (flags & RC_BENEATH_NO_SYMLINKS)
				return THROUGH_LINK;
			if (++links > 40)
				return LOOP;
			ssize_t tl =
			    readlinkat(dirfd, cur, target, sizeof target - 1);
			if (tl < 0)
				return UNCHECKED;
			target[tl] = '\0';
			if (target[0] == '/')
				return OUTSIDE;
			/* The link's text replaces its name, from its
			 * directory. */
			if (snprintf(tmp, sizeof tmp, "%s/%s", target,
				     todo + next) >= (int)sizeof tmp)
				return TOO_LONG;
			memcpy(todo, tmp, strlen(tmp) + 1);
			pos = 0;
			clen = parent;
			cur[clen] = '\0';
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			/* Like ENOTDIR: only trailing slashes may follow. */
			return has_dotdot(todo + next) ? AFTER_MISSING : NULL;
		}
		pos = next;
	}
}

/* openat2 of path under dirfd: 0 when it resolves, else an errno. */
static int open_beneath(int dirfd, const char *path, unsigned flags)
{
	struct open_how how = {
	    .flags = O_PATH | O_CLOEXEC,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};

	if (flags & RC_BENEATH_NO_SYMLINKS)
		how.resolve |= RESOLVE_NO_SYMLINKS;
	for (int tries = 0; tries < 8; tries++) {
		long fd = syscall(SYS_openat2, dirfd, path[0] ? path : ".",
				  &how, sizeof how);
		if (fd >= 0) {
			close((int)fd);
			return 0;
		}
		if (errno != EAGAIN && errno != EINTR)
			return errno;
	}
	return EAGAIN;
}

const char *rc_beneath_check(int dirfd, const char *path, unsigned flags)
{
	char buf[4096];
	int e;

	if (rc_beneath_no_openat2 || no_openat2)
		return rc_beneath_walk(dirfd, path, flags);
	if (path[0] == '/')
		return OUTSIDE;
	e = open_beneath(dirfd, path, flags);
	if (e == ENOSYS) {
		no_openat2 = true; /* older kernel: do not ask again */
		return rc_beneath_walk(dirfd, path, flags);
	}
	if (e == 0)
		return NULL;
	if (e == EXDEV)
		return OUTSIDE;
	if (e == ELOOP)
		return flags & RC_BENEATH_NO_SYMLINKS ? THROUGH_LINK : LOOP;
	if (e != ENOENT && e != ENOTDIR)
		return rc_beneath_walk(dirfd, path, flags); /* ENOSYS, EPERM */
	/* Something is missing: find the first component that fails. */
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
		return TOO_LONG;
	for (size_t pos = 0;;) {
		while (buf[pos] == '/')
			pos++;
		if (buf[pos] == '\0')
			return NULL; /* only a trailing slash failed */
		size_t start = pos;
		pos += strcspn(buf + pos, "/");
		char save = buf[pos];
		buf[pos] = '\0';
		e = open_beneath(dirfd, buf, flags);
		buf[pos] = save;
		if (e == 0)
			continue;
		if (e == EXDEV)
			return OUTSIDE;
		if (e == ELOOP)
			return flags & RC_BENEATH_NO_SYMLINKS ? THROUGH_LINK
							      : LOOP;
		if (e != ENOENT && e != ENOTDIR)
			return UNCHECKED;
		return has_dotdot(buf + start) ? AFTER_MISSING : NULL;
	}
}
