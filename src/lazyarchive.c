/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * libarchive on demand (lazyarchive.h). Every archive_* function
 * rangecat uses is listed once in FUNCS; the list makes a pointer for
 * each, resolves them all when the library is loaded, and defines a
 * function of the library's own name and prototype (from archive.h, so
 * the compiler checks every call) that forwards to it. Loading runs once
 * (pthread_once), from whichever thread first asks; every forwarder
 * passes through the same once, so the pointers it reads were written
 * before, on any thread.
 *
 * Calling a forwarder when rc_lazyarchive_load failed is a bug in the
 * caller (each use loads first, and gives up with the load's message):
 * it aborts with a one-line message rather than jump to NULL.
 */
#include "lazyarchive.h"

#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef RC_LIBARCHIVE
#define RC_LIBARCHIVE "libarchive.so.13"
#endif

typedef struct archive arc_t;
typedef struct archive_entry ent_t;
typedef la_int64_t i64;
typedef la_ssize_t ssz;
typedef __LA_MODE_T mode;
typedef const char *str;

/* X(return type, name, parameters, arguments): every function but
 * archive_set_error (variadic, below). */
#define FUNCS(X, V)                                                            \
	X(arc_t *, archive_read_new, (void), ())                               \
	X(int, archive_read_free, (arc_t * a), (a))                            \
	X(int, archive_read_support_format_all, (arc_t * a), (a))              \
	X(int, archive_read_support_format_raw, (arc_t * a), (a))              \
	X(int, archive_read_support_format_zip_seekable, (arc_t * a), (a))     \
	X(int, archive_read_append_filter, (arc_t * a, int c), (a, c))         \
	X(int, archive_read_open,                                              \
	  (arc_t * a, void *d, archive_open_callback *o,                       \
	   archive_read_callback *r, archive_close_callback *c),               \
	  (a, d, o, r, c))                                                     \
	X(int, archive_read_open1, (arc_t * a), (a))                           \
	X(int, archive_read_set_callback_data, (arc_t * a, void *d), (a, d))   \
	X(int, archive_read_set_read_callback,                                 \
	  (arc_t * a, archive_read_callback * f), (a, f))                      \
	X(int, archive_read_set_seek_callback,                                 \
	  (arc_t * a, archive_seek_callback * f), (a, f))                      \
	X(int, archive_read_set_skip_callback,                                 \
	  (arc_t * a, archive_skip_callback * f), (a, f))                      \
	X(int, archive_read_next_header, (arc_t * a, ent_t * *e), (a, e))      \
	X(int, archive_read_data_block,                                        \
	  (arc_t * a, const void **b, size_t *n, i64 *o), (a, b, n, o))        \
	X(ssz, archive_read_data, (arc_t * a, void *b, size_t n), (a, b, n))   \
	X(arc_t *, archive_write_disk_new, (void), ())                         \
	X(int, archive_write_disk_set_options, (arc_t * a, int f), (a, f))     \
	X(int, archive_write_disk_set_standard_lookup, (arc_t * a), (a))       \
	X(int, archive_write_header, (arc_t * a, ent_t * e), (a, e))           \
	X(ssz, archive_write_data_block,                                       \
	  (arc_t * a, const void *b, size_t n, i64 o), (a, b, n, o))           \
	X(int, archive_write_finish_entry, (arc_t * a), (a))                   \
	X(int, archive_write_close, (arc_t * a), (a))                          \
	X(int, archive_write_free, (arc_t * a), (a))                           \
	X(str, archive_error_string, (arc_t * a), (a))                         \
	X(int, archive_errno, (arc_t * a), (a))                                \
	X(str, archive_format_name, (arc_t * a), (a))                          \
	X(int, archive_format, (arc_t * a), (a))                               \
	X(str, archive_filter_name, (arc_t * a, int i), (a, i))                \
	X(i64, archive_filter_bytes, (arc_t * a, int i), (a, i))               \
	X(str, archive_version_string, (void), ())                             \
	X(str, archive_entry_pathname, (ent_t * e), (e))                       \
	X(str, archive_entry_symlink, (ent_t * e), (e))                        \
	X(str, archive_entry_hardlink, (ent_t * e), (e))                       \
	X(str, archive_entry_uname, (ent_t * e), (e))                          \
	X(str, archive_entry_gname, (ent_t * e), (e))                          \
	X(str, archive_entry_strmode, (ent_t * e), (e))                        \
	X(i64, archive_entry_size, (ent_t * e), (e))                           \
	X(int, archive_entry_size_is_set, (ent_t * e), (e))                    \
	X(i64, archive_entry_uid, (ent_t * e), (e))                            \
	X(i64, archive_entry_gid, (ent_t * e), (e))                            \
	X(mode, archive_entry_filetype, (ent_t * e), (e))                      \
	X(mode, archive_entry_perm, (ent_t * e), (e))                          \
	X(time_t, archive_entry_mtime, (ent_t * e), (e))                       \
	X(int, archive_entry_sparse_count, (ent_t * e), (e))                   \
	V(archive_entry_set_pathname, (ent_t * e, const char *s), (e, s))      \
	V(archive_entry_set_hardlink, (ent_t * e, const char *s), (e, s))      \
	V(archive_entry_set_perm, (ent_t * e, mode m), (e, m))

#define POINTER(ret, name, params, args) static ret(*p_##name) params;
#define POINTER_V(name, params, args) static void(*p_##name) params;
FUNCS(POINTER, POINTER_V)
static void (*p_archive_set_error)(arc_t *, int, const char *, ...);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool loaded;
static char failure[256]; /* why not, when !loaded */

/* dlsym's object pointer into a function pointer, as POSIX allows. */
static bool resolve(void *lib, const char *name, void *fp, size_t size)
{
	void *s = dlsym(lib, name);

	if (s == NULL) {
		snprintf(failure, sizeof failure, "%s has no %s", RC_LIBARCHIVE,
			 name);
		return false;
	}
	memcpy(fp, &s, size);
	return true;
}

#define RESOLVE(ret, name, params, args)                                       \
	ok = ok && resolve(lib, #name, &p_##name, sizeof p_##name);
#define RESOLVE_V(name, params, args) RESOLVE(void, name, params, args)

static void load(void)
{
	void *lib = dlopen(RC_LIBARCHIVE, RTLD_NOW | RTLD_LOCAL);
	bool ok = lib != NULL;

	if (lib == NULL) {
		const char *e = dlerror();
		snprintf(failure, sizeof failure, "%s",
			 e ? e : RC_LIBARCHIVE ": cannot be loaded");
		return;
	}
	FUNCS(RESOLVE, RESOLVE_V)
	RESOLVE(void, archive_set_error, (), ())
	/* It stays loaded until exit: its objects outlive any one use. */
	loaded = ok;
}

bool rc_lazyarchive_load(char *why, size_t whylen)
{
	pthread_once(&once, load);
	if (!loaded)
		snprintf(why, whylen,
			 "libarchive is needed here and cannot be loaded (%s); "
			 "it is Debian's libarchive13",
			 failure);
	return loaded;
}

const char *rc_lazyarchive_version(void)
{
	static char v[300];

	pthread_once(&once, load);
	if (loaded)
		return archive_version_string();
	snprintf(v, sizeof v, "libarchive (not loaded: %s)", failure);
	return v;
}

/* Every forwarder's first step. */
static void need(const char *name)
{
	pthread_once(&once, load);
	if (!loaded) {
		fprintf(stderr, "rangecat: %s called without libarchive: %s\n",
			name, failure);
		abort();
	}
}

#define FORWARD(ret, name, params, args)                                       \
	ret name params                                                        \
	{                                                                      \
		need(#name);                                                   \
		return p_##name args;                                          \
	}
#define FORWARD_V(name, params, args)                                          \
	void name params                                                       \
	{                                                                      \
		need(#name);                                                   \
		p_##name args;                                                 \
	}
FUNCS(FORWARD, FORWARD_V)

void archive_set_error(arc_t *a, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	need("archive_set_error");
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	p_archive_set_error(a, err, "%s", msg);
}
