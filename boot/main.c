/* The Paravane UEFI loader: firmware -> BOOTX64.EFI -> hypervisor.
 *
 * Read the manifest, load and verify the hypervisor, read every valid
 * guest's image, note ACPI and the framebuffer, build page tables, leave
 * boot services and jump.  A fatal error is printed with the prefix
 * "paravane loader: error: " and control goes back to the firmware.
 * docs/boot.md describes the policy and the hand-over state.
 */
#include "loader.h"

#ifndef CONFIG_LOADER_MANIFEST_PATH
#define CONFIG_LOADER_MANIFEST_PATH "\\paravane\\manifest.conf"
#endif
#ifndef CONFIG_LOADER_HYPERVISOR_PATH
#define CONFIG_LOADER_HYPERVISOR_PATH "\\paravane\\hypervisor.elf"
#endif

/* check-manifest refuses bigger files too */
#define MANIFEST_SIZE_MAX	(1ULL << 20)

/* boot_info in the first page, the module table after it. */
#define MODULES_OFFSET	PAGE_SIZE
#define BOOT_INFO_BYTES	(MODULES_OFFSET + \
			 MANIFEST_MAX_GUESTS * sizeof(struct boot_module))

struct loader {
	struct boot_info *bi;
	struct boot_module *mods;
	char manifest_path[MANIFEST_PATH_MAX];
	char manifest_dir[MANIFEST_PATH_MAX];
	char hv_path[MANIFEST_PATH_MAX];
	const char *text;	/* manifest text, in KEEP memory */
	struct manifest *m;
	UINT64 entry;
	UINT64 cr3;
};

static EFI_STATUS alloc_boot_info(struct loader *l, UINT64 tsc0)
{
	UINT64 phys;
	EFI_STATUS st;

	st = alloc_pages(BOOT_INFO_BYTES, BOOT_MEM_PARAVANE_KEEP, &phys);
	if (EFI_ERROR(st)) {
		error(L"no memory for boot_info: %r", st);
		return st;
	}
	l->bi = (struct boot_info *)phys;
	l->mods = (struct boot_module *)(phys + MODULES_OFFSET);
	l->bi->magic = BOOT_INFO_MAGIC;
	l->bi->version = BOOT_INFO_VERSION;
	l->bi->size = sizeof(struct boot_info);
	l->bi->modules_phys = phys + MODULES_OFFSET;
	l->bi->tsc_loader_start = tsc0;
	return EFI_SUCCESS;
}

/* Config paths use '\'; inside the loader every path is "/a/b" style. */
static EFI_STATUS set_paths(struct loader *l)
{
	char *slash, *p;

	if (!path_resolve("/", CONFIG_LOADER_MANIFEST_PATH, l->manifest_path,
			  sizeof(l->manifest_path)) ||
	    !path_resolve("/", CONFIG_LOADER_HYPERVISOR_PATH, l->hv_path,
			  sizeof(l->hv_path))) {
		error(L"bad configured path");
		return EFI_INVALID_PARAMETER;
	}
	CopyMem(l->manifest_dir, l->manifest_path, sizeof(l->manifest_dir));
	slash = l->manifest_dir;
	for (p = l->manifest_dir; *p; p++)
		if (*p == '/')
			slash = p;
	slash[slash == l->manifest_dir ? 1 : 0] = 0;
	return EFI_SUCCESS;
}

static void copy_str(char *dst, const char *src, UINTN n)
{
	UINTN i;

	for (i = 0; src[i] && i + 1 < n; i++)
		dst[i] = src[i];
	dst[i] = 0;
}

static EFI_STATUS read_manifest(struct loader *l)
{
	struct file_buf f;
	EFI_STATUS st;

	st = file_read(l->manifest_path, BOOT_MEM_PARAVANE_KEEP, &f);
	if (EFI_ERROR(st)) {
		error(L"%a: cannot read the manifest: %r", l->manifest_path,
		      st);
		return st;
	}
	if (f.size > MANIFEST_SIZE_MAX) {
		error(L"%a: %ld bytes; a manifest may have at most 1 MiB",
		      l->manifest_path, f.size);
		return EFI_BAD_BUFFER_SIZE;
	}
	l->text = (const char *)f.phys;
	l->bi->manifest_phys = f.phys;
	l->bi->manifest_size = f.size;
	copy_str(l->bi->manifest_path, l->manifest_path,
		 sizeof(l->bi->manifest_path));
	return EFI_SUCCESS;
}

/* Parse the manifest and apply the error policy (policy.c). */
static EFI_STATUS parse_manifest(struct loader *l)
{
	UINT32 skipped = 0;
	EFI_STATUS st;

	/* ~80 KiB: never on the stack */
	l->m = AllocatePool(sizeof(*l->m));
	if (!l->m) {
		error(L"no memory to parse the manifest");
		return EFI_OUT_OF_RESOURCES;
	}
	manifest_parse(l->m, l->manifest_path, l->text,
		       l->bi->manifest_size);
	st = manifest_check(l->m, l->text, l->bi->manifest_size, &skipped);
	l->bi->loader_errors += skipped;
	return st;
}

/* The hypervisor before the guests: a bad one fails fast. */
static EFI_STATUS prepare(struct loader *l, EFI_HANDLE image, UINT64 tsc0)
{
	EFI_STATUS st;

	st = file_init(image);
	if (!EFI_ERROR(st))
		st = alloc_boot_info(l, tsc0);
	if (!EFI_ERROR(st))
		st = set_paths(l);
	if (!EFI_ERROR(st))
		st = read_manifest(l);
	if (!EFI_ERROR(st))
		st = parse_manifest(l);
	if (!EFI_ERROR(st))
		st = load_hypervisor(l->hv_path, l->bi, &l->entry);
	if (EFI_ERROR(st))
		return st;
	load_guests(l->m, l->manifest_dir, l->bi, l->mods);
	test_hooks_note(l->m);
	FreePool(l->m);
	find_acpi(l->bi);
	find_framebuffer(l->bi);
	reserve_ap_trampoline(l->bi);
	return build_page_tables(l->bi, &l->cr3);
}

/* crt0 calls this with the SysV ABI: no EFIAPI here. */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	UINT64 tsc0 = rdtsc();
	struct loader l = { 0 };
	EFI_STATUS st;

	InitializeLib(image, systab);
	console_init();
	Print(L"paravane loader v%d\n", LOADER_VERSION);

	st = prepare(&l, image, tsc0);
	if (EFI_ERROR(st))
		return fail(st);

	info(L"starting the hypervisor: %d guest image(s), %d error(s), "
	     "boot_info at 0x%lx", l.bi->module_count, l.bi->loader_errors,
	     (UINT64)l.bi);
	st = exit_and_jump(image, l.bi, l.cr3, l.entry);
	return l.bi->ebs_attempts ? st : fail(st);
}
