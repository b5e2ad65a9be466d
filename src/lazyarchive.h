/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * libarchive, loaded when a run first needs it (-x, -t, --member, and
 * xz, bzip2 or lz4 decoding). Linking it would load it, and the 20
 * libraries it brings (libxml2, ICU, libstdc++ among them), into every
 * run: about 5 ms of start-up, a quarter of the process's, that a plain
 * download never uses. lazyarchive.c defines the archive_* functions
 * rangecat calls, each forwarding to the loaded library.
 */
#ifndef RC_LAZYARCHIVE_H
#define RC_LAZYARCHIVE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Loads libarchive (once; any thread). Returns true when it is loaded;
 * false with why (whylen bytes) saying what is missing: then no
 * archive_* function may be called.
 */
bool rc_lazyarchive_load(char *why, size_t whylen);

/* Its version ("libarchive 3.6.2"), or "libarchive (not loaded: ...)"
 * when it cannot be loaded. */
const char *rc_lazyarchive_version(void);

#endif
