/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/* Chunk sizes: small first, doubling to the configured size. */
#include "plan.h"

#include "http.h"

static uint64_t clip(uint64_t len, uint64_t off, uint64_t end)
{
	if (end == RC_UNKNOWN)
		return len;
	if (off >= end)
		return 0;
	return end - off < len ? end - off : len;
}

uint64_t rc_plan_first(uint64_t off, uint64_t end, uint64_t chunk)
{
	return clip(chunk < RC_FIRST_CHUNK ? chunk : RC_FIRST_CHUNK, off, end);
}

uint64_t rc_plan_next(uint64_t prev, uint64_t off, uint64_t end, uint64_t chunk)
{
	uint64_t len = prev >= chunk / 2 ? chunk : prev * 2;

	if (len == 0)
		len = rc_plan_first(off, RC_UNKNOWN, chunk);
	return clip(len, off, end);
}
