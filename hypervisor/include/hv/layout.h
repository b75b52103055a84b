/* The hypervisor's virtual memory map, drawn once.
 *
 *  0xFFFF_FFFF_FFFF_FFFF +-------------------------------+
 *                        | hypervisor image (ELF, W^X)   |  KERNEL_VBASE: -2 GiB,
 *  0xFFFF_FFFF_8000_0000 +-------------------------------+  -mcmodel=kernel
 *                        |            unused             |
 *  0xFFFF_C000_4080_0000 +-------------------------------+
 *                        | per-CPU stacks, guard pages   |  STACKS_BASE (8 MiB)
 *  0xFFFF_C000_4000_0000 +-------------------------------+
 *                        | MMIO window, uncached, NX     |  MMIO_BASE (1 GiB)
 *  0xFFFF_C000_0000_0000 +-------------------------------+
 *                        |            unused             |
 *                        +-------------------------------+
 *                        | direct map of physical memory |  PHYSMAP_BASE: phys P
 *  0xFFFF_8000_0000_0000 +-------------------------------+  is at PHYSMAP_BASE + P
 *                        |    non-canonical hole         |
 *  0x0000_8000_0000_0000 +-------------------------------+
 *                        | the running guest (ring 3)    |  per-domain page tables;
 *  0x0000_0000_0000_0000 +-------------------------------+  page 0 never mapped
 *
 * The upper half (PML4 slots 256..511) is shared by every address space and
 * mapped supervisor-only; the lower half belongs to the current domain.
 */
#ifndef HV_LAYOUT_H
#define HV_LAYOUT_H

#define PAGE_SIZE      4096UL
#define PAGE_SHIFT     12
#define LARGE_PAGE     (2UL << 20)

#define PHYSMAP_BASE   0xFFFF800000000000UL
#define PHYSMAP_MAX    (64UL << 40)          /* 64 TiB of RAM at most */
#define MMIO_BASE      0xFFFFC00000000000UL
#define MMIO_SIZE      (1UL << 30)
#define STACKS_BASE    (MMIO_BASE + MMIO_SIZE)
#define STACK_SLOT_SIZE (128UL << 10)        /* per CPU: stacks and their guards */
#define KERNEL_VBASE   0xFFFFFFFF80000000UL

#define USER_TOP       0x0000800000000000UL

#define PAGE_ALIGN_UP(x)   (((x) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
#define PAGE_ALIGN_DOWN(x) ((x) & ~(PAGE_SIZE - 1))

#define HV_STACK_SIZE  (16UL << 10)          /* boot and per-CPU trap stacks */
#define HV_IST_SIZE    (8UL << 10)           /* #DF, NMI, #MC stacks */

#endif
