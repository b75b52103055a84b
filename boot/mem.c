/* Page allocations.  Everything the hypervisor keeps is allocated with the
 * OS-defined type BOOT_MEM_PARAVANE_KEEP so that it can tell it apart in the
 * memory map from loader memory it may reuse. */
#include "loader.h"

EFI_STATUS alloc_pages(UINT64 bytes, EFI_MEMORY_TYPE type, UINT64 *phys)
{
	UINT64 pages = SIZE_TO_PAGES(bytes ? bytes : 1);
	EFI_PHYSICAL_ADDRESS a = 0;
	EFI_STATUS st;

	st = BS->AllocatePages(AllocateAnyPages, type, pages, &a);
	if (EFI_ERROR(st))
		return st;
	ZeroMem((void *)a, pages * PAGE_SIZE);
	*phys = a;
	return EFI_SUCCESS;
}

/*
 * UEFI only promises 4 KiB alignment: over-allocate by align and give the
 * unused head and tail back.  phys % align == phase on success, so that a
 * block can share 2 MiB alignment with its virtual address.
 */
EFI_STATUS alloc_pages_aligned(UINT64 bytes, UINT64 align, UINT64 phase,
			       EFI_MEMORY_TYPE type, UINT64 *phys)
{
	UINT64 size = ALIGN_UP(bytes ? bytes : 1, PAGE_SIZE);
	EFI_PHYSICAL_ADDRESS a = 0;
	UINT64 start, end, tail;
	EFI_STATUS st;

	st = BS->AllocatePages(AllocateAnyPages, type,
			       SIZE_TO_PAGES(size + align), &a);
	if (EFI_ERROR(st))
		return alloc_pages(bytes, type, phys);

	/* modular arithmetic: also right when a < phase */
	start = ALIGN_UP(a - phase, align) + phase;
	end = a + size + align;
	tail = end - (start + size);
	if (start > a)
		BS->FreePages(a, SIZE_TO_PAGES(start - a));
	if (tail)
		BS->FreePages(start + size, SIZE_TO_PAGES(tail));

	ZeroMem((void *)start, size);
	*phys = start;
	return EFI_SUCCESS;
}

void free_pages(UINT64 phys, UINT64 bytes)
{
	BS->FreePages(phys, SIZE_TO_PAGES(bytes ? bytes : 1));
}
