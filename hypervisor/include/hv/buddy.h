/* Binary buddy allocator over frame numbers (mm/buddy.c); mm/frame.c wraps
 * it with a lock, physical addresses and zeroing.
 *
 * Free memory is kept as blocks of 2^order frames, each aligned to its
 * size, on one free list per zone and order.  Freeing a block merges it
 * with its buddy (the other half of the block twice its size) for as long
 * as that buddy is free as a whole, so memory freed in pieces becomes one
 * large block again.  Allocation takes the smallest block that fits from
 * the first zone that has one, splits off the halves it does not need and
 * gives back the tail beyond n frames.  Both are O(orders), plus a check
 * of every frame handed back.
 *
 * All it knows lives outside the frames, in metadata the caller provides
 * (buddy_meta_bytes()): a state byte and two free-list links per frame.
 * No frame is ever read or written, so memory a guest once held cannot
 * corrupt the allocator; a free of anything not allocated (a double free,
 * a frame never managed) is refused whole.  Freestanding, no locks:
 * tests/unit/test_buddy.c runs it on the host. */
#ifndef HV_BUDDY_H
#define HV_BUDDY_H

#include <stddef.h>
#include <stdint.h>

#define BUDDY_ORDERS 21            /* blocks of 1 frame .. 2^20 frames (4 GiB) */
#define BUDDY_ZONES  2             /* allocation tries zone 0 first */
#define BUDDY_NONE   UINT32_MAX    /* end of a free list */

struct buddy {
	uint32_t frames;           /* the metadata covers frames [0, frames) */
	uint8_t *state;            /* per frame: unmanaged, in use, or a free block's head */
	uint32_t *next, *prev;     /* free-list links, valid for free blocks' heads */
	uint32_t head[BUDDY_ZONES][BUDDY_ORDERS];
	uint64_t free;             /* frames on the free lists */
};

/* Metadata for frames [0, frames), 4-byte aligned. */
size_t buddy_meta_bytes(uint32_t frames);
void buddy_init(struct buddy *b, void *meta, uint32_t frames);
/* Hand frames [first, first + n) over, in zone; 0, or -1 (nothing done)
 * when any lies beyond the metadata or is already managed. */
int buddy_add(struct buddy *b, uint64_t first, uint64_t n, unsigned zone);
/* n contiguous frames, the first aligned to n rounded up to a power of
 * two: 0 with *first set, or -1 when no free block is that large. */
int buddy_alloc(struct buddy *b, uint64_t n, uint32_t *first);
/* Give back frames [first, first + n), all allocated (one allocation, part
 * of one, or several); 0, or -1 (nothing done) when any is not. */
int buddy_free(struct buddy *b, uint64_t first, uint64_t n);
/* The order of the largest free block, -1 when nothing is free. */
int buddy_largest_order(const struct buddy *b);

#endif
