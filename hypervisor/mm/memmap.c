/* Reading the UEFI memory map that the loader passed in boot_info. */
#include <boot_info.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/mm.h>

enum efi_type {
	EFI_LOADER_CODE = 1, EFI_LOADER_DATA = 2,
	EFI_BS_CODE = 3, EFI_BS_DATA = 4,
	EFI_RS_CODE = 5, EFI_RS_DATA = 6,
	EFI_CONVENTIONAL = 7,
	EFI_ACPI_RECLAIM = 9, EFI_ACPI_NVS = 10,
};

struct efi_desc {
	uint32_t type, pad;
	uint64_t phys, virt, pages, attr;
};

#define LOW_LIMIT (1UL << 20)   /* keep real-mode memory for AP start-up */

#define for_each_desc(bi, d) \
	for (uint64_t _o = 0; _o + sizeof(struct efi_desc) <= (bi)->mmap_size && \
	     ((d) = phys_to_virt((bi)->mmap_phys + _o)); _o += (bi)->mmap_desc_size)

static bool is_ram(uint32_t t)
{
	return (t >= EFI_LOADER_CODE && t <= EFI_CONVENTIONAL) || t == EFI_ACPI_RECLAIM ||
	       t == EFI_ACPI_NVS || t == BOOT_MEM_PARAVANE_KEEP;
}

static bool is_reclaimable(uint32_t t)
{
	return t == EFI_LOADER_CODE || t == EFI_LOADER_DATA || t == EFI_BS_CODE || t == EFI_BS_DATA;
}

static uint64_t add_desc(const struct efi_desc *d)
{
	uint64_t base = d->phys, end = d->phys + d->pages * PAGE_SIZE;

	if (end <= LOW_LIMIT)
		return 0;
	base = MAX(base, LOW_LIMIT);
	frame_add_range(base, (end - base) / PAGE_SIZE);
	return (end - base) / PAGE_SIZE;
}

uint64_t memmap_add_free(const struct boot_info *bi, bool reclaim_phase)
{
	const struct efi_desc *d;
	uint64_t pages = 0;

	for_each_desc(bi, d) {
		if (reclaim_phase ? is_reclaimable(d->type) : d->type == EFI_CONVENTIONAL)
			pages += add_desc(d);
	}
	if (reclaim_phase)
		frame_note_reclaimed(pages);
	return pages;
}

uint64_t memmap_ram_top(const struct boot_info *bi)
{
	const struct efi_desc *d;
	uint64_t top = 0;

	for_each_desc(bi, d) {
		if (is_ram(d->type))
			top = MAX(top, d->phys + d->pages * PAGE_SIZE);
	}
	return top;
}

uint64_t memmap_total_ram(const struct boot_info *bi)
{
	const struct efi_desc *d;
	uint64_t bytes = 0;

	for_each_desc(bi, d) {
		if (is_ram(d->type))
			bytes += d->pages * PAGE_SIZE;
	}
	return bytes;
}
