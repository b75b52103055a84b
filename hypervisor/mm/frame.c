/* Physical frame allocator.
 *
 * Free memory starts as a small table of ranges that allocation carves from;
 * freed frames go onto a LIFO list threaded through the frames themselves
 * (via the direct map), so both alloc and free are O(1) and start-up does
 * not touch every page.  Contiguous requests carve from the ranges only;
 * a freed contiguous block returns to the free list page by page. */
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/errno.h>
#include <hv/lock.h>
#include <hv/mm.h>

#define MAX_RANGES 128

struct range { uint64_t base, end; };

static struct range ranges[MAX_RANGES];
static unsigned range_count;
static uint64_t free_list;           /* physical address of first free frame */
static struct frame_stats stats;

void frame_add_range(uint64_t base, uint64_t pages)
{
	base = PAGE_ALIGN_UP(base);
	if (!pages)
		return;
	stats.total += pages;
	stats.free += pages;
	if (range_count < MAX_RANGES) {
		ranges[range_count].base = base;
		ranges[range_count++].end = base + pages * PAGE_SIZE;
		return;
	}
	for (uint64_t i = 0; i < pages; i++) {  /* table full: thread the pages */
		stats.free--;
		frame_free(base + i * PAGE_SIZE);
	}
}

void frame_note_reclaimed(uint64_t pages)
{
	stats.reclaimed += pages;
}

/* Oldest ranges first: conventional memory before what was reclaimed from
 * the firmware.  Under QEMU TCG that matters: the first write to a page
 * that once held executed firmware code invalidates translated code
 * (measured: 115 ms for the first 1 MiB domain, 1 ms after this order). */
static uint64_t carve(uint64_t n)
{
	for (unsigned i = 0; i < range_count; i++) {
		struct range *r = &ranges[i];

		if ((r->end - r->base) / PAGE_SIZE >= n) {
			r->end -= n * PAGE_SIZE;
			return r->end;
		}
	}
	return 0;
}

/* frames_lock guards the ranges, the free list and the counters; frames
 * are zeroed after it is dropped. */
static struct spinlock frames_lock = SPINLOCK_INIT("frames", LOCK_RANK_FRAMES);

static uint64_t take_one(void)
{
	uint64_t pa = free_list;

	if (pa)
		free_list = *(uint64_t *)phys_to_virt(pa);
	else
		pa = carve(1);
	if (pa)
		stats.free--;
	return pa;
}

static uint64_t zeroed(uint64_t pa, uint64_t n)
{
	if (pa)
		memset(phys_to_virt(pa), 0, n * PAGE_SIZE);
	return pa;
}

uint64_t frame_alloc(void)
{
	uint64_t f = spin_lock(&frames_lock);
	uint64_t pa = stats.free > stats.reserved ? take_one() : 0;

	spin_unlock(&frames_lock, f);
	return zeroed(pa, 1);
}

uint64_t frame_alloc_reserved(void)
{
	uint64_t f = spin_lock(&frames_lock);
	uint64_t pa = stats.reserved ? take_one() : 0;

	if (pa)
		stats.reserved--;
	spin_unlock(&frames_lock, f);
	return zeroed(pa, 1);
}

int frame_reserve(uint64_t n)
{
	uint64_t f = spin_lock(&frames_lock);
	int r = stats.free - stats.reserved < n ? -ENOMEM : 0;

	if (!r)
		stats.reserved += n;
	spin_unlock(&frames_lock, f);
	return r;
}

void frame_unreserve(uint64_t n)
{
	uint64_t f = spin_lock(&frames_lock);

	stats.reserved -= MIN(n, stats.reserved);
	spin_unlock(&frames_lock, f);
}

uint64_t frame_alloc_contig(uint64_t n)
{
	uint64_t f, pa = 0;

	if (n == 1)
		return frame_alloc();
	f = spin_lock(&frames_lock);
	if (n && stats.free - stats.reserved >= n)
		pa = carve(n);
	if (pa)
		stats.free -= n;
	spin_unlock(&frames_lock, f);
	return zeroed(pa, n);
}

static void put_one(uint64_t pa)
{
	*(uint64_t *)phys_to_virt(pa) = free_list;
	free_list = pa;
	stats.free++;
}

void frame_free(uint64_t pa)
{
	uint64_t f = spin_lock(&frames_lock);

	put_one(pa);
	spin_unlock(&frames_lock, f);
}

void frame_free_contig(uint64_t pa, uint64_t n)
{
	uint64_t f = spin_lock(&frames_lock);

	for (uint64_t i = 0; i < n; i++)
		put_one(pa + i * PAGE_SIZE);
	spin_unlock(&frames_lock, f);
}

void frame_stats(struct frame_stats *s)
{
	uint64_t f = spin_lock(&frames_lock);

	*s = stats;
	spin_unlock(&frames_lock, f);
}
