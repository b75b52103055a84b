/* boot_info: what the UEFI loader (boot/) hands to the hypervisor.
 *
 * This is the loader <-> hypervisor contract, not the guest ABI.  Fixed-width
 * fields only, explicit padding, a magic and a version; the structure and
 * every table it points to live in memory of type BOOT_MEM_PARAVANE_KEEP so
 * that the hypervisor can tell them apart from reclaimable loader memory.
 *
 * Hand-over state (what the hypervisor may rely on at its ELF entry point):
 *   - long mode, ring 0, interrupts disabled, boot services exited;
 *   - CR3 = loader page tables that identity-map physical memory from 0 up to
 *     boot_info.identity_limit and map the hypervisor image at its ELF
 *     virtual addresses onto [hv_phys_base, hv_phys_base + hv_phys_size);
 *   - rdi = physical (== identity virtual) address of struct boot_info;
 *   - the stack is the firmware's; the hypervisor switches to its own at once.
 */
#ifndef PARAVANE_BOOT_INFO_H
#define PARAVANE_BOOT_INFO_H

#include <stdint.h>

#define BOOT_INFO_MAGIC   0x4f4f4256415241ULL /* "ARAVBOO" */
#define BOOT_INFO_VERSION 2

/* OS-defined UEFI memory types (the spec reserves 0x80000000.. for loaders).
 * Memory the hypervisor must keep: its own image, boot_info, the manifest,
 * the memory map copy and every module (guest image). */
#define BOOT_MEM_PARAVANE_KEEP 0x80000001u

/* One file the loader read on behalf of a manifest guest section. */
struct boot_module {
	uint64_t phys;        /* physical address, page aligned */
	uint64_t size;        /* bytes */
	uint32_t guest_index; /* index into the manifest's guest table */
	uint32_t kind;        /* BOOT_MODULE_* */
	char     path[112];   /* path on the ESP, NUL terminated */
};
#define BOOT_MODULE_IMAGE 1
_Static_assert(sizeof(struct boot_module) == 136, "boot_module layout");

struct boot_framebuffer {
	uint64_t base;   /* physical; 0 when there is no GOP */
	uint64_t size;
	uint32_t width, height;
	uint32_t pitch;  /* pixels per scan line */
	uint32_t format; /* EFI_GRAPHICS_PIXEL_FORMAT */
};
_Static_assert(sizeof(struct boot_framebuffer) == 32, "boot_framebuffer layout");

struct boot_info {
	uint64_t magic;            /* BOOT_INFO_MAGIC */
	uint32_t version;          /* BOOT_INFO_VERSION */
	uint32_t size;             /* sizeof(struct boot_info) as the loader saw it */

	/* UEFI memory map exactly as GetMemoryMap returned it (the last call,
	 * whose key ExitBootServices accepted); iterate by desc_size. */
	uint64_t mmap_phys;
	uint64_t mmap_size;        /* bytes used */
	uint32_t mmap_desc_size;
	uint32_t mmap_desc_version;

	uint64_t acpi_rsdp;        /* physical address of the RSDP, 0 if none */
	struct boot_framebuffer fb;

	uint64_t hv_phys_base;     /* hypervisor image: physical base ... */
	uint64_t hv_phys_size;     /* ... and size of the contiguous block */
	uint64_t hv_virt_base;     /* lowest ELF virtual address mapped there */
	uint64_t identity_limit;   /* loader page tables identity-map [0, this) */

	uint64_t manifest_phys;    /* manifest text (not NUL terminated) */
	uint64_t manifest_size;
	char     manifest_path[64];

	uint64_t modules_phys;     /* struct boot_module[module_count] */
	uint32_t module_count;
	uint32_t loader_errors;    /* problems the loader reported (skipped guests) */

	/* TSC stamps for boot-time measurement. */
	uint64_t tsc_loader_start; /* first instruction of efi_main */
	uint64_t tsc_before_ebs;   /* just before the successful ExitBootServices */
	uint32_t ebs_attempts;     /* ExitBootServices calls needed (map key retries) */
	uint32_t pad0;

	uint64_t hv_symbols_phys;  /* reserved: symbol table, 0 for now */
	uint64_t hv_symbols_size;

	/* Version 2: pages below 1 MiB for the application processors'
	 * real-mode start-up code (a SIPI can only point under 1 MiB), kept
	 * as BOOT_MEM_PARAVANE_KEEP; 0 when the firmware had none to give. */
	uint64_t ap_trampoline_phys;
	uint32_t ap_trampoline_pages;   /* BOOT_AP_TRAMPOLINE_PAGES */
	uint32_t pad1;
};
_Static_assert(sizeof(struct boot_info) == 264, "boot_info layout");

/* Code page, then PML4, PDPT and PD of the start-up page tables. */
#define BOOT_AP_TRAMPOLINE_PAGES 4

#endif
