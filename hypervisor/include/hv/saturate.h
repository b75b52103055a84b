/* Saturating arithmetic for clock conversions: a value that does not fit
 * becomes UINT64_MAX instead of wrapping, so a deadline far in the future
 * stays in the future (and UINT64_MAX reads as "never").  Freestanding;
 * inline because every context switch converts a slice. */
#ifndef HV_SATURATE_H
#define HV_SATURATE_H

#include <stdint.h>

/* a + b, or UINT64_MAX when the sum does not fit. */
static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
	uint64_t s;

	return __builtin_add_overflow(a, b, &s) ? UINT64_MAX : s;
}

/* (x * mult) >> shift in 128 bits, or UINT64_MAX when the result does not
 * fit in 64.  shift < 64. */
static inline uint64_t sat_mul_shift(uint64_t x, uint64_t mult, unsigned shift)
{
	unsigned __int128 p = ((unsigned __int128)x * mult) >> shift;

	return p > UINT64_MAX ? UINT64_MAX : (uint64_t)p;
}

#endif
