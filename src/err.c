/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * The one table that maps an error to its exit status. The man page's EXIT
 * STATUS section repeats it, and tests/integration checks they agree.
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

static const struct {
	int status;
	const char *name;
} table[RC_E__COUNT] = {
    [RC_OK] = {0, "success"},
    [RC_E_USAGE] = {1, "usage error"},
    [RC_E_REMOTE] = {2, "remote refused"},
    [RC_E_NETWORK] = {3, "network error"},
    [RC_E_CHANGED] = {4, "remote file changed"},
    [RC_E_OUTPUT] = {5, "output failed"},
    [RC_E_DECODE] = {6, "decode failed"},
    [RC_E_INTEGRITY] = {7, "integrity check failed"},
    [RC_E_INTERRUPT] = {130, "interrupted"},
    [RC_E_TERMINATED] = {143, "terminated"},
    [RC_E_NOMEM] = {3, "out of memory"},
};

int rc_err_exit_status(enum rc_err err)
{
	if ((unsigned)err >= RC_E__COUNT)
		return 3;
	return table[err].status;
}

const char *rc_err_name(enum rc_err err)
{
	if ((unsigned)err >= RC_E__COUNT)
		return "internal error";
	return table[err].name;
}

enum rc_err rc_err_usage(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return RC_E_USAGE;
}
