/* SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat authors. */
/*
 * Range planning: how long the next chunk is. The probe asks a small first
 * chunk so the first byte arrives fast; each chunk after it doubles until
 * the configured chunk size. Pure; any thread.
 */
#ifndef RC_PLAN_H
#define RC_PLAN_H

#include <stdint.h>

#define RC_FIRST_CHUNK (256u << 10)

/* Length of the probe's chunk at off for a file ending at end (exclusive,
 * RC_UNKNOWN when not known yet) with chunks of at most chunk bytes. */
uint64_t rc_plan_first(uint64_t off, uint64_t end, uint64_t chunk);

/* Length of the chunk after one of prev bytes, starting at off; 0 at end. */
uint64_t rc_plan_next(uint64_t prev, uint64_t off, uint64_t end,
		      uint64_t chunk);

#endif
