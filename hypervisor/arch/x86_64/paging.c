/* 4-level x86_64 page tables. */
#include <hv/errno.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/mm.h>
#include <hv/percpu.h>
#include <hv/x86.h>

#define LEVEL_SHIFT(l) (12 + 9 * (l))   /* l: 0 = PT, 1 = PD, 2 = PDPT, 3 = PML4 */
#define INDEX(va, l) (((va) >> LEVEL_SHIFT(l)) & 511)

static uint64_t nx_bit;

uint64_t pt_nx(void)
{
	if (!nx_bit && (rdmsr(MSR_EFER) & EFER_NXE))
		nx_bit = PTE_NX;
	return nx_bit;
}

static uint64_t *table(uint64_t pa)
{
	return phys_to_virt(pa & PTE_ADDR);
}

/* Tables this CPU's walks created since the caller last looked
 * (pt_tables_created): domain builds charge them to the domain. */
static uint64_t tables_created[CONFIG_MAX_CPUS];

/* Entry at level `stop` for va, creating tables on the way down. */
static uint64_t *walk_create(uint64_t pml4_pa, uint64_t va, int stop, bool user)
{
	uint64_t *t = table(pml4_pa);

	for (int l = 3; l > stop; l--) {
		uint64_t *e = &t[INDEX(va, l)];

		if (!(*e & PTE_P)) {
			uint64_t pa = frame_alloc();

			if (!pa)
				return NULL;
			tables_created[this_cpu()->index]++;
			*e = pa | PTE_P | PTE_W | (user ? PTE_U : 0);
		} else if (*e & PTE_PS) {
			return NULL;  /* a large page is in the way */
		}
		t = table(*e);
	}
	return &t[INDEX(va, stop)];
}

int pt_map(uint64_t pml4_pa, uint64_t va, uint64_t pa, uint64_t flags)
{
	uint64_t *e = walk_create(pml4_pa, va, 0, flags & PTE_U);

	if (!e)
		return -ENOMEM;
	*e = (pa & PTE_ADDR) | flags | PTE_P;
	return 0;
}

int pt_map_large(uint64_t pml4_pa, uint64_t va, uint64_t pa, uint64_t flags)
{
	uint64_t *e = walk_create(pml4_pa, va, 1, flags & PTE_U);

	if (!e)
		return -ENOMEM;
	*e = (pa & PTE_ADDR) | flags | PTE_P | PTE_PS;
	return 0;
}

int pt_prepare(uint64_t pml4_pa, uint64_t va, bool user)
{
	return walk_create(pml4_pa, va, 0, user) ? 0 : -ENOMEM;
}

uint64_t *pt_leaf(uint64_t pml4_pa, uint64_t va, bool user)
{
	return walk_create(pml4_pa, va, 0, user);
}

int pt_reserve(uint64_t pml4_pa, uint64_t va)
{
	return walk_create(pml4_pa, va, 2, false) ? 0 : -ENOMEM;
}

int pt_split_large(uint64_t pml4_pa, uint64_t va)
{
	uint64_t *e = walk_create(pml4_pa, va & ~(LARGE_PAGE - 1), 2, false), *pt, pa;

	if (!e || !(*e & PTE_P) || (*e & PTE_PS))
		return -ENOMEM;
	e = &table(*e)[INDEX(va, 1)];
	if (!(*e & PTE_PS))
		return 0;
	pa = frame_alloc();
	if (!pa)
		return -ENOMEM;
	pt = table(pa);
	for (uint64_t i = 0; i < 512; i++)
		pt[i] = ((*e & PTE_ADDR) + i * PAGE_SIZE) | (*e & ~PTE_ADDR & ~PTE_PS);
	*e = pa | PTE_P | PTE_W;
	return 0;
}

uint64_t pt_lookup(uint64_t pml4_pa, uint64_t va)
{
	uint64_t *t = table(pml4_pa);

	for (int l = 3; l >= 0; l--) {
		uint64_t e = t[INDEX(va, l)];

		if (!(e & PTE_P))
			return 0;
		if (l == 0 || (e & PTE_PS))
			return (e & PTE_ADDR & ~((1UL << LEVEL_SHIFT(l)) - 1)) |
			       (va & ((1UL << LEVEL_SHIFT(l)) - 1) & ~(PAGE_SIZE - 1));
		t = table(e);
	}
	return 0;
}

static void free_level(uint64_t pa, int level)
{
	uint64_t *t = table(pa);

	if (level > 0) {
		for (int i = 0; i < 512; i++)
			if ((t[i] & PTE_P) && !(t[i] & PTE_PS))
				free_level(t[i] & PTE_ADDR, level - 1);
	}
	frame_free(pa & PTE_ADDR);
}

uint64_t pt_tables_created(void)
{
	uint64_t *n = &tables_created[this_cpu()->index], v = *n;

	*n = 0;
	return v;
}

void pt_free_user(uint64_t pml4_pa)
{
	uint64_t *t = table(pml4_pa);

	for (int i = 0; i < 256; i++) {
		if (t[i] & PTE_P)
			free_level(t[i] & PTE_ADDR, 2);
		t[i] = 0;
	}
}
