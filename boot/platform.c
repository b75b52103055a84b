/* What the firmware knows that the hypervisor cannot find by itself later:
 * the ACPI root pointer and the GOP framebuffer. */
#include "loader.h"

static bool guid_eq(const EFI_GUID *a, const EFI_GUID *b)
{
	return CompareMem((void *)a, (void *)b, sizeof(*a)) == 0;
}

/* ACPI 2.0+ (XSDT) preferred; 1.0 (RSDT only) as a fallback. */
void find_acpi(struct boot_info *bi)
{
	EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID;
	UINT64 rsdp1 = 0;
	UINTN i;

	for (i = 0; i < ST->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &ST->ConfigurationTable[i];

		if (guid_eq(&t->VendorGuid, &acpi20)) {
			bi->acpi_rsdp = (UINT64)t->VendorTable;
			info(L"ACPI 2.0 RSDP at 0x%lx", bi->acpi_rsdp);
			return;
		}
		if (guid_eq(&t->VendorGuid, &acpi10))
			rsdp1 = (UINT64)t->VendorTable;
	}
	bi->acpi_rsdp = rsdp1;
	if (rsdp1)
		info(L"ACPI 1.0 RSDP at 0x%lx", rsdp1);
	else
		warn(L"no ACPI RSDP");
}

/* Optional: headless machines and QEMU -vga none have no GOP. */
void find_framebuffer(struct boot_info *bi)
{
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop;
	EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *mi;
	EFI_STATUS st;

	st = BS->LocateProtocol(&GraphicsOutputProtocol, NULL, (void **)&gop);
	if (EFI_ERROR(st) || !gop->Mode || !gop->Mode->Info) {
		info(L"no framebuffer");
		return;
	}
	mi = gop->Mode->Info;
	if (mi->PixelFormat == PixelBltOnly) {
		info(L"framebuffer is blt-only; not usable");
		return;
	}
	bi->fb.base = gop->Mode->FrameBufferBase;
	bi->fb.size = gop->Mode->FrameBufferSize;
	bi->fb.width = mi->HorizontalResolution;
	bi->fb.height = mi->VerticalResolution;
	bi->fb.pitch = mi->PixelsPerScanLine;
	bi->fb.format = mi->PixelFormat;
	info(L"framebuffer %dx%d at 0x%lx", bi->fb.width, bi->fb.height,
	     bi->fb.base);
}

/* Application processors start in real mode at a page a SIPI names, which
 * must lie below 1 MiB: reserve it now, while boot services can still say
 * which low pages are free.  Without it the hypervisor runs on one CPU. */
void reserve_ap_trampoline(struct boot_info *bi)
{
	EFI_PHYSICAL_ADDRESS a = 0xFFFFF;   /* highest address allowed */
	EFI_STATUS st;

	st = BS->AllocatePages(AllocateMaxAddress, BOOT_MEM_PARAVANE_KEEP,
			       BOOT_AP_TRAMPOLINE_PAGES, &a);
	if (EFI_ERROR(st)) {
		warn(L"no free pages below 1 MiB for starting other CPUs: %r", st);
		return;
	}
	ZeroMem((void *)a, BOOT_AP_TRAMPOLINE_PAGES * PAGE_SIZE);
	bi->ap_trampoline_phys = a;
	bi->ap_trampoline_pages = BOOT_AP_TRAMPOLINE_PAGES;
	info(L"AP start-up pages at 0x%lx", (UINT64)a);
}
