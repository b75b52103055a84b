/* The hypervisor's own address space (hv/layout.h draws it): a direct map
 * of RAM, the image mapped W^X section by section, and an uncached MMIO
 * window.  Built once at boot from the loader's identity map, then every
 * domain's page tables share its upper half. */
#include <boot_info.h>
#include <hv/cpu.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/errno.h>
#include <hv/lock.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/trap.h>
#include <hv/x86.h>

extern char __image_start[], __text_end[], __rodata_end[], __data_end[], __image_end[];
extern char boot_stack[];   /* its first page is the boot stack's guard */
extern char __entry_text_start[], __entry_text_end[];

uint64_t physmap_offset;
static uint64_t kernel_pml4, user_template, hv_phys_base, hv_virt_base, physmap_limit;
static uint64_t mmio_next = MMIO_BASE;
static struct kspace_stats kstats;
/* Guards kernel_pml4's and user_template's lower levels and mmio_next. */
static struct spinlock kspace_lock = SPINLOCK_INIT("kspace", LOCK_RANK_KSPACE);

uint64_t virt_to_phys(const void *va)
{
	uint64_t v = (uint64_t)va;

	if (v >= KERNEL_VBASE)
		return v - hv_virt_base + hv_phys_base;
	return v - physmap_offset;
}

static void must(int r, const char *what)
{
	if (r)
		panic("kspace: out of memory mapping %s", what);
}

/* Global TLB entries survive a CR3 write: with page-table isolation built
 * in, none of the hypervisor's mappings may be global, or they would stay
 * usable while a guest's tables are loaded. */
static uint64_t global(void)
{
	return IS_ENABLED(CONFIG_ISOLATION) ? 0 : PTE_G;
}

static void map_physmap(uint64_t ram_top)
{
	uint64_t flags = PTE_W | global() | pt_nx();

	for (uint64_t pa = 0; pa < ram_top; pa += LARGE_PAGE)
		must(pt_map_large(kernel_pml4, PHYSMAP_BASE + pa, pa, flags), "the direct map");
}

/* The direct map must not be a writable alias of the hypervisor's text or
 * read-only data: those pages are read-only and NX there too. */
static void protect_image_alias(void)
{
	uint64_t n = ((uint64_t)__rodata_end - (uint64_t)__image_start) / PAGE_SIZE;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t pa = hv_phys_base + i * PAGE_SIZE, va = PHYSMAP_BASE + pa;

		must(pt_split_large(kernel_pml4, va), "the image's alias");
		must(pt_map(kernel_pml4, va, pa, global() | pt_nx()), "the image's alias");
	}
}

static uint64_t image_flags(uint64_t va)
{
	if (!IS_ENABLED(CONFIG_HARDEN_WX))
		return PTE_W | global();
	if (va < (uint64_t)__text_end)
		return global();                       /* text: read + execute */
	if (va < (uint64_t)__rodata_end || va >= (uint64_t)__data_end)
		return global() | pt_nx();             /* rodata, symbols: read only */
	return PTE_W | global() | pt_nx();             /* data, bss */
}

static void map_image(void)
{
	uint64_t start = (uint64_t)__image_start, end = (uint64_t)__image_end;

	for (uint64_t va = start; va < end; va += PAGE_SIZE)
		if (va != (uint64_t)boot_stack)
			must(pt_map(kernel_pml4, va, va - hv_virt_base + hv_phys_base, image_flags(va)),
		     "the image");
	kstats.image_bytes = end - start;
}

/* Create the PDPT under a PML4 slot now, so that every domain's copy of
 * the upper half sees later mappings there. */
static void reserve_slot(uint64_t pml4, uint64_t va)
{
	must(pt_reserve(pml4, va), "a top-level slot");
}

/* The guest template starts with the entry code and the IDT (read-only);
 * each CPU adds its entry page and stacks (arch/x86_64/percpu.c). */
static void build_user_template(void)
{
	uint64_t text = (uint64_t)__entry_text_start;

	user_template = frame_alloc();
	if (!user_template)
		panic("kspace: no memory for page tables");
	reserve_slot(user_template, KERNEL_VBASE);
	reserve_slot(user_template, STACKS_BASE);
	kspace_share(text, ((uint64_t)__entry_text_end - text) / PAGE_SIZE, 0);
	kspace_share((uint64_t)idt_page(), 1, pt_nx());
}

void kspace_init(const struct boot_info *bi)
{
	struct frame_stats before, after;
	uint64_t ram_top = ALIGN_UP(memmap_ram_top(bi), LARGE_PAGE);

	frame_stats(&before);
	hv_phys_base = bi->hv_phys_base;
	hv_virt_base = bi->hv_virt_base;
	kernel_pml4 = frame_alloc();
	if (!kernel_pml4)
		panic("kspace: no memory for page tables");
	map_physmap(ram_top);
	physmap_limit = ram_top;
	map_image();
	if (IS_ENABLED(CONFIG_HARDEN_WX))
		protect_image_alias();
	reserve_slot(kernel_pml4, MMIO_BASE + MMIO_SIZE - PAGE_SIZE);   /* and the stacks after it */
	build_user_template();
	write_cr3(kernel_pml4);
	physmap_offset = PHYSMAP_BASE;
	frame_stats(&after);
	kstats.table_frames = before.free - after.free;
}

uint64_t kspace_pml4(void)
{
	return kernel_pml4;
}

uint64_t kspace_physmap_limit(void)
{
	return physmap_limit;
}

uint64_t kspace_new_pml4(void)
{
	uint64_t pa = frame_alloc();

	if (pa)
		memcpy((uint64_t *)phys_to_virt(pa) + 256,
		       (uint64_t *)phys_to_virt(kernel_pml4) + 256, 256 * sizeof(uint64_t));
	return pa;
}

void kspace_share(uint64_t va, uint64_t pages, uint64_t flags)
{
	uint64_t f = spin_lock(&kspace_lock);

	for (uint64_t i = 0; i < pages; i++) {
		uint64_t v = va + i * PAGE_SIZE, pa = pt_lookup(kernel_pml4, v);

		if (!pa)
			panic("kspace: sharing unmapped 0x%lx", v);
		must(pt_map(user_template, v, pa, flags), "the guest template");
	}
	spin_unlock(&kspace_lock, f);
}

uint64_t kspace_new_user_view(uint64_t pml4)
{
	uint64_t pa = frame_alloc();
	uint64_t *view = phys_to_virt(pa), *from = phys_to_virt(pml4);

	if (!pa)
		return 0;
	memcpy(view, from, 256 * sizeof(uint64_t));
	memcpy(view + 256, (uint64_t *)phys_to_virt(user_template) + 256, 256 * sizeof(uint64_t));
	return pa;
}

uint64_t kspace_user_template(void)
{
	return user_template;
}

void *mmio_map(uint64_t pa, uint64_t size)
{
	uint64_t base = PAGE_ALIGN_DOWN(pa), end = PAGE_ALIGN_UP(pa + size);
	uint64_t f = spin_lock(&kspace_lock), va = mmio_next;

	if (end - base > MMIO_BASE + MMIO_SIZE - mmio_next)
		panic("mmio_map: window full mapping 0x%lx", pa);
	for (uint64_t p = base; p < end; p += PAGE_SIZE) {
		must(pt_map(kernel_pml4, mmio_next, p, PTE_W | PTE_PCD | PTE_PWT | global() | pt_nx()),
		     "MMIO");
		mmio_next += PAGE_SIZE;
	}
	spin_unlock(&kspace_lock, f);
	return (void *)(va + (pa - base));
}

/* Fresh zeroed frames at va (per-CPU stacks).  Only ever maps what was
 * not mapped, so no other CPU can hold a stale TLB entry for it. */
int kspace_map_fresh(uint64_t va, uint64_t pages)
{
	uint64_t flags = PTE_W | global() | pt_nx();
	uint64_t f = spin_lock(&kspace_lock);
	int r = 0;

	for (uint64_t i = 0; i < pages && !r; i++) {
		uint64_t pa = frame_alloc();

		r = pa ? pt_map(kernel_pml4, va + i * PAGE_SIZE, pa, flags) : -ENOMEM;
		if (r && pa)
			frame_free(pa);
	}
	spin_unlock(&kspace_lock, f);
	return r;
}

void kspace_stats(struct kspace_stats *s)
{
	*s = kstats;
}
