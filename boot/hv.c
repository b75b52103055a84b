/* Loading the hypervisor: read the ELF, verify it, and copy it into one
 * physically contiguous block that the page tables map at its link address. */
#include "loader.h"
#include "elf.h"

EFI_STATUS load_hypervisor(const char *path, struct boot_info *bi,
			   UINT64 *entry)
{
	struct elf_image *img;
	struct file_buf f;
	const char *why;
	UINT64 size, phys;
	EFI_STATUS st;

	st = file_read(path, EfiLoaderData, &f);
	if (EFI_ERROR(st)) {
		error(L"%a: cannot read the hypervisor: %r", path, st);
		return st;
	}
	img = AllocatePool(sizeof(*img));
	if (!img) {
		st = EFI_OUT_OF_RESOURCES;
		error(L"%a: out of memory", path);
		goto out;
	}

	why = elf_check((void *)f.phys, f.size, img);
	if (why) {
		st = EFI_LOAD_ERROR;
		error(L"%a: bad hypervisor ELF: %a", path, why);
		goto out;
	}

	/* Same offset within 2 MiB as the link address: the hypervisor can
	 * later remap itself with large pages. */
	size = img->virt_end - img->virt_base;
	st = alloc_pages_aligned(size, LARGE_PAGE,
				 img->virt_base & (LARGE_PAGE - 1),
				 BOOT_MEM_PARAVANE_KEEP, &phys);
	if (EFI_ERROR(st)) {
		error(L"%a: no memory for %ld KiB image: %r", path,
		      size >> 10, st);
		goto out;
	}
	elf_place(img, (void *)f.phys, (void *)phys);

	bi->hv_phys_base = phys;
	bi->hv_phys_size = size;
	bi->hv_virt_base = img->virt_base;
	*entry = img->entry;
	info(L"hypervisor %a: %ld KiB at 0x%lx, entry 0x%lx", path,
	     size >> 10, phys, img->entry);
out:
	if (img)
		FreePool(img);
	free_pages(f.phys, f.size);
	return st;
}
