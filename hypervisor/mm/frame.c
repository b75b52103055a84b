/* Physical frame allocator: the buddy allocator (mm/buddy.c) behind a lock,
 * with physical addresses, accounting and zeroing, plus the start-up phase
 * before it can exist.
 *
 * Until the hypervisor's direct map is up only low memory is reachable
 * (the loader's identity map), so the first frames (our page tables) are
 * carved from a small table of free ranges, lowest range first.  The first
 * allocation, free or addition after the switch sets the buddy allocator
 * up: its metadata (9 bytes a frame, for every frame the direct map
 * covers) is carved from the table and what is left of every range goes
 * to zone 0.  Memory added later (reclaimed from the loader and the
 * firmware) is zone 1, used only when zone 0 has no block that fits.
 * Under QEMU TCG that order matters: the first write to a page that once
 * held executed firmware code invalidates translated code (measured:
 * 115 ms for the first 1 MiB domain, 1 ms after this order).
 *
 * Freed frames merge back into large blocks, so contiguous allocations (a
 * domain's frame list and struct, large heap blocks) still succeed after
 * any number of domains came and went.  frames_lock guards everything
 * here; frames are zeroed after it is dropped. */
#include <hv/buddy.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/errno.h>
#include <hv/lock.h>
#include <hv/log.h>
#include <hv/mm.h>

#define MAX_RANGES 256

struct range { uint64_t base, end; };

static struct range ranges[MAX_RANGES];   /* until the buddy allocator is set up */
static unsigned range_count;
static struct buddy buddy;
static bool buddy_ready;
static struct frame_stats stats;
static struct spinlock frames_lock = SPINLOCK_INIT("frames", LOCK_RANK_FRAMES);

/* ---- before the direct map: a table of ranges ------------------------------ */

/* Adjacent ranges (one firmware region split by attributes) join up. */
static void table_add(uint64_t base, uint64_t pages)
{
	uint64_t end = base + pages * PAGE_SIZE;

	if (range_count && ranges[range_count - 1].end == base) {
		ranges[range_count - 1].end = end;
	} else if (range_count < MAX_RANGES) {
		ranges[range_count++] = (struct range){ base, end };
	} else {
		log_warn("frames: free range table full, %lu KiB at 0x%lx left unused", pages * 4, base);
		stats.total -= pages;
		stats.free -= pages;
	}
}

/* The top n frames of the first range that has them. */
static uint64_t table_carve(uint64_t n)
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

/* ---- the buddy allocator, once the direct map covers every frame ----------- */

static void hand_over(uint64_t base, uint64_t end, unsigned zone)
{
	uint64_t pages = (end - base) / PAGE_SIZE;

	if (!pages || !buddy_add(&buddy, base / PAGE_SIZE, pages, zone))
		return;
	log_warn("frames: 0x%lx-0x%lx is beyond the direct map or listed twice; left unused", base, end);
	stats.total -= pages;
	stats.free -= pages;
}

static void buddy_setup(void)
{
	uint32_t frames = (uint32_t)MIN(kspace_physmap_limit() / PAGE_SIZE, (uint64_t)UINT32_MAX);
	uint64_t pages = PAGE_ALIGN_UP(buddy_meta_bytes(frames)) / PAGE_SIZE;
	uint64_t pa = table_carve(pages);

	if (!pa)
		panic("frames: no %lu contiguous free pages for the allocator's metadata", pages);
	stats.free -= pages;
	stats.meta = pages;
	buddy_init(&buddy, phys_to_virt(pa), frames);
	buddy_ready = true;
	for (unsigned i = 0; i < range_count; i++)
		hand_over(ranges[i].base, ranges[i].end, 0);
	range_count = 0;
}

/* Every entry point but frame_stats (which kspace_init uses to count its
 * own page tables around the switch). */
static void ensure_buddy(void)
{
	if (!buddy_ready && physmap_offset)
		buddy_setup();
}

/* ---- taking and giving back, frames_lock held -------------------------------- */

static uint64_t take(uint64_t n)
{
	uint32_t first;
	uint64_t pa;

	ensure_buddy();
	if (buddy_ready)
		pa = buddy_alloc(&buddy, n, &first) ? 0 : (uint64_t)first * PAGE_SIZE;
	else
		pa = table_carve(n);
	if (pa)
		stats.free -= n;
	return pa;
}

/* A frame freed twice, or one never allocated, would hand memory to two
 * owners (two guests, say): stop instead. */
static void give_back(uint64_t pa, uint64_t n)
{
	ensure_buddy();
	if (!buddy_ready)
		table_add(pa, n);
	else if (pa % PAGE_SIZE || buddy_free(&buddy, pa / PAGE_SIZE, n))
		panic("frames: freeing %lu frames at 0x%lx, not all of them allocated", n, pa);
	stats.free += n;
}

static uint64_t zeroed(uint64_t pa, uint64_t n)
{
	if (pa)
		memset(phys_to_virt(pa), 0, n * PAGE_SIZE);
	return pa;
}

/* ---- the interface (hv/mm.h) -------------------------------------------------- */

void frame_add_range(uint64_t base, uint64_t pages)
{
	uint64_t f = spin_lock(&frames_lock);

	ensure_buddy();
	base = PAGE_ALIGN_UP(base);
	stats.total += pages;
	stats.free += pages;
	if (buddy_ready)
		hand_over(base, base + pages * PAGE_SIZE, 1);
	else if (pages)
		table_add(base, pages);
	spin_unlock(&frames_lock, f);
}

void frame_note_reclaimed(uint64_t pages)
{
	stats.reclaimed += pages;
}

uint64_t frame_alloc(void)
{
	uint64_t f = spin_lock(&frames_lock);
	uint64_t pa = stats.free > stats.reserved ? take(1) : 0;

	spin_unlock(&frames_lock, f);
	return zeroed(pa, 1);
}

uint64_t frame_alloc_reserved(void)
{
	uint64_t f = spin_lock(&frames_lock);
	uint64_t pa = stats.reserved ? take(1) : 0;

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

uint64_t frame_alloc_contig_raw(uint64_t n)
{
	uint64_t f = spin_lock(&frames_lock);
	uint64_t pa = n && stats.free - stats.reserved >= n ? take(n) : 0;

	spin_unlock(&frames_lock, f);
	return pa;
}

uint64_t frame_alloc_contig(uint64_t n)
{
	return zeroed(frame_alloc_contig_raw(n), n);
}

void frame_free(uint64_t pa)
{
	frame_free_contig(pa, 1);
}

void frame_free_contig(uint64_t pa, uint64_t n)
{
	uint64_t f;

	if (!n)
		return;
	f = spin_lock(&frames_lock);
	give_back(pa, n);
	spin_unlock(&frames_lock, f);
}

void frame_stats(struct frame_stats *s)
{
	uint64_t f = spin_lock(&frames_lock);

	*s = stats;
	spin_unlock(&frames_lock, f);
}
