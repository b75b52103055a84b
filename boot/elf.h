/* Verifying and placing the hypervisor's ELF64 image.
 *
 * Pure C (no UEFI): the checks are the security boundary against a corrupt
 * file, so they are unit-testable on the host.
 */
#ifndef PARAVANE_BOOT_ELF_H
#define PARAVANE_BOOT_ELF_H

#include <stdint.h>

/* The hypervisor lives in the top 2 GiB (-mcmodel=kernel); we allow 1 GiB. */
#define HV_VIRT_MIN	0xffffffff80000000ULL
#define HV_VIRT_SPAN	(1ULL << 30)
#define ELF_MAX_LOAD	16
#define ELF_MAX_PHNUM	64

struct elf_seg {
	uint64_t vaddr;
	uint64_t memsz;
	uint64_t offset;
	uint64_t filesz;
	uint32_t flags;		/* PF_X | PF_W | PF_R */
};

struct elf_image {
	uint64_t entry;
	uint64_t virt_base;	/* lowest vaddr, rounded down to a page */
	uint64_t virt_end;	/* highest end, rounded up to a page */
	uint32_t nseg;
	struct elf_seg seg[ELF_MAX_LOAD];	/* PT_LOADs sorted by vaddr */
};

/* Returns NULL if the file is a loadable hypervisor image (and fills *img),
 * otherwise a short reason for the error message. */
const char *elf_check(const void *file, uint64_t size, struct elf_image *img);

/* Copy the segments into dst, which covers [virt_base, virt_end); every
 * byte not backed by the file (bss, gaps) is zeroed. */
void elf_place(const struct elf_image *img, const void *file, void *dst);

#endif
