/* The page tables the hypervisor starts on.
 *
 * Identity map of [0, identity_limit) with 1 GiB pages when the CPU has
 * them, else 2 MiB pages, so that the hypervisor can reach boot_info, the
 * memory map, the modules and the firmware's stack; plus 4 KiB mappings of
 * its image at the link address.  Everything is writable and executable:
 * the hypervisor replaces these tables with its own W^X/NX ones at once.
 */
#include "loader.h"

#define PTE_P		0x001ULL
#define PTE_RW		0x002ULL
#define PTE_PS		0x080ULL
#define PTE_ADDR	0x000ffffffffff000ULL
#define MIN_IDENTITY	(4ULL << 30)
#define MAX_IDENTITY	(1ULL << 47)	/* the lower canonical half */

struct pt_pool {
	UINT64 next, end;
};

static UINT64 *pt_alloc(struct pt_pool *p)
{
	UINT64 a = p->next;

	if (a >= p->end)
		return NULL;
	p->next += PAGE_SIZE;
	return (UINT64 *)a;	/* alloc_pages() zeroed it */
}

/* The table entry i points to, allocated on first use. */
static UINT64 *next_table(UINT64 *t, UINTN i, struct pt_pool *p)
{
	UINT64 *n;

	if (t[i] & PTE_P)
		return (UINT64 *)(t[i] & PTE_ADDR);
	n = pt_alloc(p);
	if (n)
		t[i] = (UINT64)n | PTE_P | PTE_RW;
	return n;
}

static bool cpu_has_1g_pages(void)
{
	UINT32 a, b, c, d;

	asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
		     : "a"(0x80000000));
	if (a < 0x80000001)
		return false;
	asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
		     : "a"(0x80000001));
	return d & (1u << 26);	/* pdpe1gb */
}

/* Highest end address of any memory map entry (RAM, MMIO, reserved). */
static UINT64 highest_address(void)
{
	EFI_MEMORY_DESCRIPTOR *map, *d;
	UINTN entries, key, dsize, i;
	UINT32 dver;
	UINT64 top = 0, end;

	map = LibMemoryMap(&entries, &key, &dsize, &dver);
	if (!map)
		return 0;
	for (i = 0; i < entries; i++) {
		d = (EFI_MEMORY_DESCRIPTOR *)((UINT8 *)map + i * dsize);
		end = d->PhysicalStart + d->NumberOfPages * PAGE_SIZE;
		if (end > top)
			top = end;
	}
	FreePool(map);
	return top;
}

static UINT64 identity_limit(const struct boot_info *bi)
{
	UINT64 top = highest_address();

	if (bi->fb.base + bi->fb.size > top)
		top = bi->fb.base + bi->fb.size;
	if (top < MIN_IDENTITY)
		top = MIN_IDENTITY;
	if (top > MAX_IDENTITY) {
		warn(L"memory above 128 TiB is not identity-mapped");
		top = MAX_IDENTITY;
	}
	return ALIGN_UP(top, HUGE_PAGE);
}

static bool map_identity(UINT64 *pml4, struct pt_pool *p, UINT64 limit,
			 bool gb)
{
	UINT64 *pdpt, *pd, a, b;

	for (a = 0; a < limit; a += HUGE_PAGE) {
		pdpt = next_table(pml4, (a >> 39) & 511, p);
		if (!pdpt)
			return false;
		if (gb) {
			pdpt[(a >> 30) & 511] = a | PTE_P | PTE_RW | PTE_PS;
			continue;
		}
		pd = next_table(pdpt, (a >> 30) & 511, p);
		if (!pd)
			return false;
		for (b = 0; b < HUGE_PAGE; b += LARGE_PAGE)
			pd[b >> 21] = (a + b) | PTE_P | PTE_RW | PTE_PS;
	}
	return true;
}

static bool map_hv(UINT64 *pml4, struct pt_pool *p,
		   const struct boot_info *bi)
{
	UINT64 *pdpt, *pd, *pt, off, va;

	for (off = 0; off < bi->hv_phys_size; off += PAGE_SIZE) {
		va = bi->hv_virt_base + off;
		pdpt = next_table(pml4, (va >> 39) & 511, p);
		pd = pdpt ? next_table(pdpt, (va >> 30) & 511, p) : NULL;
		pt = pd ? next_table(pd, (va >> 21) & 511, p) : NULL;
		if (!pt)
			return false;
		pt[(va >> 12) & 511] = (bi->hv_phys_base + off) | PTE_P |
				       PTE_RW;
	}
	return true;
}

/* Upper bound of the table pages both maps need. */
static UINT64 tables_needed(const struct boot_info *bi, UINT64 limit, bool gb)
{
	UINT64 gib = limit / HUGE_PAGE;
	UINT64 n = 1 + ALIGN_UP(gib, 512) / 512;	/* PML4 + PDPTs */

	if (!gb)
		n += gib;				/* PDs */
	return n + 2 + bi->hv_phys_size / LARGE_PAGE + 2;	/* hv */
}

EFI_STATUS build_page_tables(struct boot_info *bi, UINT64 *cr3)
{
	bool gb = cpu_has_1g_pages();
	UINT64 limit = identity_limit(bi);
	UINT64 pages = tables_needed(bi, limit, gb);
	struct pt_pool pool;
	UINT64 *pml4;
	EFI_STATUS st;

	st = alloc_pages(pages * PAGE_SIZE, BOOT_MEM_PARAVANE_KEEP, &pool.next);
	if (EFI_ERROR(st)) {
		error(L"no memory for %ld page-table pages: %r", pages, st);
		return st;
	}
	pool.end = pool.next + pages * PAGE_SIZE;
	pml4 = pt_alloc(&pool);
	if (!map_identity(pml4, &pool, limit, gb) || !map_hv(pml4, &pool, bi)) {
		error(L"page-table pool exhausted (bug)");
		return EFI_BUFFER_TOO_SMALL;
	}
	bi->identity_limit = limit;
	*cr3 = (UINT64)pml4;
	info(L"page tables: identity 0-%ld GiB (%a pages), %ld KiB",
	     limit >> 30, gb ? "1 GiB" : "2 MiB",
	     (pool.next - (UINT64)pml4) >> 10);
	return EFI_SUCCESS;
}
