/* blktest: the block device from a guest (tests/system/test_block.py). */
#ifndef BLKTEST_H
#define BLKTEST_H

#include <stdint.h>
#include <pv_blk.h>

/* The byte at offset i of sector s in the test pattern of seed. */
static inline uint8_t blktest_pattern(uint32_t seed, uint64_t s, uint32_t i)
{
	uint64_t x = (s * 512 + i) * 0x9e3779b97f4a7c15ull + seed;

	return (uint8_t)(x >> 56);
}

int blktest_hostile(struct pv_blk *dev, const char *how);

#endif
