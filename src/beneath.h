/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * Whether a path stays inside the extraction directory once the symlinks
 * already on disk are followed. Consumer (main) thread; pure apart from
 * reading the directory tree.
 */
#ifndef RC_BENEATH_H
#define RC_BENEATH_H

#include <stdbool.h>

/* No symlink may be followed anywhere on the path (hard link targets). */
#define RC_BENEATH_NO_SYMLINKS 1u

/*
 * Decides whether path, relative to the directory dirfd, resolves inside
 * it (DIR itself counts as inside), following the symlinks on disk. A
 * component that does not exist yet (or is not a directory) ends the
 * walk: whatever is created there later is checked when it is created, so
 * the rest is judged by its text and may not hold "..". Uses
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) where the kernel has
 * it, else rc_beneath_walk. Returns NULL when inside, else a static
 * reason ("it leads outside the directory", ...).
 */
const char *rc_beneath_check(int dirfd, const char *path, unsigned flags);

/* The same decision made in user space with fstatat and readlinkat (the
 * fallback, and the tests' second opinion). */
const char *rc_beneath_walk(int dirfd, const char *path, unsigned flags);

/* Tests only: when set, rc_beneath_check never calls openat2. */
extern bool rc_beneath_no_openat2;

#endif
