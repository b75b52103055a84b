/* Speculation-safe bounds (Spectre v1).  After `if (i < n)` a CPU may still
 * run ahead with i >= n, loading table[i] from anywhere.  index_nospec()
 * clamps i to 0 without a branch, so the speculative load stays in the
 * table.  Use it on every guest-controlled index into a hypervisor array,
 * after the ordinary bounds check. */
#ifndef HV_NOSPEC_H
#define HV_NOSPEC_H

#include <stdint.h>

/* i when i < n, else 0; both below 2^63.  The mask comes from the borrow
 * of i - n, computed in a register the compiler cannot turn into a jump. */
static inline uint64_t index_nospec(uint64_t i, uint64_t n)
{
	uint64_t mask;

	__asm__("cmpq %2, %1\n\tsbbq %0, %0" : "=r"(mask) : "r"(i), "r"(n) : "cc");
	return i & mask;
}

#endif
