/* Physical frames, the kernel heap, page tables and the hypervisor's own
 * address space.  Physical memory is reached through the direct map
 * (hv/layout.h); before the hypervisor switches to its own page tables the
 * loader's identity map plays that role. */
#ifndef HV_MM_H
#define HV_MM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct boot_info;

/* ---- direct map (mm/physmap.c) ------------------------------------------ */
extern uint64_t physmap_offset;   /* 0 while on the loader's identity map */
static inline void *phys_to_virt(uint64_t pa) { return (void *)(pa + physmap_offset); }
uint64_t virt_to_phys(const void *va);  /* direct-map or image address only */

/* ---- frame allocator (mm/frame.c, a buddy allocator: mm/buddy.c) --------- */
struct frame_stats {
	uint64_t total;        /* frames ever handed to the allocator */
	uint64_t free;         /* frames free now */
	uint64_t reclaimed;    /* frames that came from loader/boot-services memory */
	uint64_t reserved;     /* free frames promised to domains (demand-zero) */
	uint64_t meta;         /* frames holding the allocator's own metadata */
};

void frame_add_range(uint64_t base, uint64_t pages);
uint64_t frame_alloc(void);              /* one zeroed frame; 0 when out of memory */
uint64_t frame_alloc_contig(uint64_t n); /* n contiguous zeroed frames; 0 on failure */
/* The same, NOT zeroed: only for the hypervisor's own structures whose
 * every byte read is written first; never for a page a guest can see. */
uint64_t frame_alloc_contig_raw(uint64_t n);
/* Frames allocated by any of the calls here, whole or in part; freeing one
 * that is not allocated panics. */
void frame_free(uint64_t pa);
void frame_free_contig(uint64_t pa, uint64_t n);
void frame_stats(struct frame_stats *s);
/* Set n frames aside for later frame_alloc_reserved() calls (demand-zero
 * guest memory): 0, or -ENOMEM when fewer than n are free and unreserved.
 * Plain frame_alloc() never eats into reservations. */
int frame_reserve(uint64_t n);
void frame_unreserve(uint64_t n);
uint64_t frame_alloc_reserved(void);   /* one zeroed frame of a reservation */
void frame_note_reclaimed(uint64_t pages);

/* ---- boot memory map (mm/memmap.c) --------------------------------------- */
/* Phase 1: conventional memory above 1 MiB.  Phase 2 (after the switch to
 * our page tables): loader and boot-services memory.  Returns pages added. */
uint64_t memmap_add_free(const struct boot_info *bi, bool reclaim_phase);
uint64_t memmap_ram_top(const struct boot_info *bi);
uint64_t memmap_total_ram(const struct boot_info *bi);

/* ---- kernel heap (mm/heap.c) --------------------------------------------- */
void *kmalloc(size_t n);   /* 16-byte aligned, NOT zeroed; NULL when out of memory */
void *kzalloc(size_t n);
void kfree(void *p);
uint64_t heap_bytes_in_use(void);

/* ---- page tables (arch/x86_64/paging.c) ---------------------------------- */
#define PTE_P     (1UL << 0)
#define PTE_W     (1UL << 1)
#define PTE_U     (1UL << 2)
#define PTE_PWT   (1UL << 3)
#define PTE_PCD   (1UL << 4)
#define PTE_A     (1UL << 5)
#define PTE_D     (1UL << 6)
#define PTE_PS    (1UL << 7)
#define PTE_G     (1UL << 8)
#define PTE_NX    (1UL << 63)
#define PTE_ADDR  0x000FFFFFFFFFF000UL

/* Map one 4 KiB page; intermediate tables come from the frame allocator
 * (user bit set on them only when flags has PTE_U).  Returns 0 or -ENOMEM. */
int pt_map(uint64_t pml4_pa, uint64_t va, uint64_t pa, uint64_t flags);
int pt_map_large(uint64_t pml4_pa, uint64_t va, uint64_t pa, uint64_t flags); /* 2 MiB */
/* Create every table down to va's leaf, leaving the leaf not present (so a
 * later pt_map of va needs no allocation). */
int pt_prepare(uint64_t pml4_pa, uint64_t va, bool user);
/* The same, returning va's leaf entry: the 511 entries after it (to the
 * end of its 2 MiB) are in the same table.  NULL when out of memory. */
uint64_t *pt_leaf(uint64_t pml4_pa, uint64_t va, bool user);
/* Create the table under va's PML4 slot (for slots shared by reference). */
int pt_reserve(uint64_t pml4_pa, uint64_t va);
/* Turn the 2 MiB page mapping va into 512 4 KiB pages, same flags (no-op
 * when it is already split).  0 or -ENOMEM. */
int pt_split_large(uint64_t pml4_pa, uint64_t va);
/* The frame mapped at va (page-aligned), or 0 when nothing is. */
uint64_t pt_lookup(uint64_t pml4_pa, uint64_t va);
/* Page-table frames this CPU's pt_* calls allocated since the last call
 * (and reset to 0): a domain build charges them to the domain. */
uint64_t pt_tables_created(void);
/* Free every table below the lower-half PML4 slots (not the mapped frames). */
void pt_free_user(uint64_t pml4_pa);
uint64_t pt_nx(void);  /* PTE_NX when NX is enabled, else 0 */

/* ---- the hypervisor address space (mm/kspace.c) -------------------------- */
void kspace_init(const struct boot_info *bi);
uint64_t kspace_pml4(void);
uint64_t kspace_physmap_limit(void);   /* the direct map covers [0, this) */
/* A new top-level table whose upper half is the hypervisor's. */
uint64_t kspace_new_pml4(void);
/* Page-table isolation (docs/security.md): map the frames behind the
 * hypervisor's pages [va, va + pages) at the same address in the guest
 * template, the only upper half a guest's own view of memory gets. */
void kspace_share(uint64_t va, uint64_t pages, uint64_t flags);
/* A guest's view: lower half as in pml4 (slot 0 must already exist, and
 * the guest never gets another), upper half the template.  0: no memory. */
uint64_t kspace_new_user_view(uint64_t pml4);
uint64_t kspace_user_template(void);
/* Map pages fresh zeroed frames at va (RW, NX, global); 0 or -ENOMEM. */
int kspace_map_fresh(uint64_t va, uint64_t pages);
/* Map device memory uncached and NX; returns its virtual address. */
void *mmio_map(uint64_t pa, uint64_t size);
struct kspace_stats { uint64_t image_bytes, table_frames; };
void kspace_stats(struct kspace_stats *s);

#endif
