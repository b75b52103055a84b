/* `selftest = ptdump` (CONFIG_TEST_HOOKS): walk the page tables a guest
 * runs on (its own view under page-table isolation) and report every
 * mapping, supervisor or user, as coalesced ranges:
 *
 *   @event ptdump id=N va=0x... pages=N access=rx|ro|rw user=0|1
 *   @event ptdump-done id=N ranges=N supervisor_pages=N user_pages=N
 *
 * The guest is the first domain whose name starts with "probe"; the
 * system test compares the supervisor ranges with the entry set. */
#include <hv/domain.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/selftest.h>

#define LEVEL_SHIFT(l) (12 + 9 * (l))
#define ACCESS_BITS (PTE_W | PTE_U)   /* what the top level allows: all but NX */

struct range_acc {
	uint32_t id;
	uint64_t va, pages, flags;     /* the range being grown */
	uint64_t ranges, sup_pages, user_pages;
};

static uint64_t canonical(uint64_t va)
{
	return va & (1UL << 47) ? va | 0xFFFF000000000000UL : va;
}

static const char *access_of(uint64_t flags)
{
	if (flags & PTE_W)
		return "rw";
	return flags & PTE_NX ? "ro" : "rx";
}

static void flush(struct range_acc *a)
{
	if (!a->pages)
		return;
	log_event("ptdump id=%u va=0x%lx pages=%lu access=%s user=%d", a->id, a->va, a->pages,
		  access_of(a->flags), (a->flags & PTE_U) ? 1 : 0);
	a->ranges++;
	a->pages = 0;
}

/* One leaf of `pages` 4 KiB pages at va with the effective flags. */
static void leaf(struct range_acc *a, uint64_t va, uint64_t pages, uint64_t flags)
{
	if (a->pages && (va != a->va + a->pages * PAGE_SIZE || flags != a->flags))
		flush(a);
	if (!a->pages) {
		a->va = va;
		a->flags = flags;
	}
	a->pages += pages;
	*((flags & PTE_U) ? &a->user_pages : &a->sup_pages) += pages;
}

/* Effective access: writable and user only if every level says so,
 * no-execute if any level says so. */
static uint64_t combine(uint64_t up, uint64_t e)
{
	return ((up & e) & (PTE_W | PTE_U)) | ((up | e) & PTE_NX);
}

static void walk(struct range_acc *a, uint64_t table_pa, int level, uint64_t base, uint64_t up)
{
	const uint64_t *t = phys_to_virt(table_pa);

	for (uint64_t i = 0; i < 512; i++) {
		uint64_t e = t[i], va = canonical(base + (i << LEVEL_SHIFT(level)));
		uint64_t flags = combine(up, e);

		if (!(e & PTE_P))
			continue;
		if (level == 0 || (e & PTE_PS))
			leaf(a, va, 1UL << (9 * level), flags);
		else
			walk(a, e & PTE_ADDR, level - 1, va, flags);
	}
}

static void dump(struct domain *d)
{
	struct range_acc a = { .id = d->id };

	walk(&a, d->user_pml4 ? d->user_pml4 : d->pml4, 3, 0, ACCESS_BITS);
	flush(&a);
	log_event("ptdump-done id=%u ranges=%lu supervisor_pages=%lu user_pages=%lu", d->id, a.ranges,
		  a.sup_pages, a.user_pages);
}

void selftest_ptdump(uint32_t unused)
{
	(void)unused;
	if (!domain_visit_first("probe", dump))
		log_event("ptdump-done id=0 ranges=0 supervisor_pages=0 user_pages=0");
}
