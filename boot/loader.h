/* Internal interfaces of the UEFI loader (boot/).
 *
 * The loader runs once, as a UEFI application: read the manifest, load the
 * guest images and the hypervisor, leave boot services and jump.  Every
 * function that can fail prints its own message and returns an EFI_STATUS;
 * efi_main decides what is fatal.
 */
#ifndef PARAVANE_LOADER_H
#define PARAVANE_LOADER_H

#include <efi.h>
#include <efilib.h>
#include <stdbool.h>

#include "boot_info.h"
#include "manifest.h"
#include "path.h"

#define LOADER_VERSION 1

#define PAGE_SIZE     4096ULL
#define LARGE_PAGE    (2ULL << 20)
#define HUGE_PAGE     (1ULL << 30)
#define ARRAY_SIZE(a)    (sizeof(a) / sizeof((a)[0]))
#define SIZE_TO_PAGES(n) (((n) + PAGE_SIZE - 1) / PAGE_SIZE)

#define ALIGN_DOWN(x, a) ((x) & ~((UINT64)(a) - 1))
#define ALIGN_UP(x, a)   ALIGN_DOWN((x) + (a) - 1, (a))

/* console.c: every line starts with "paravane loader: ". */
void console_init(void);
void info(const CHAR16 *fmt, ...);
void warn(const CHAR16 *fmt, ...);
/* Also written raw to COM1, so a headless serial log always shows it. */
void error(const CHAR16 *fmt, ...);
void serial_puts(const char *s);
/* Leave the error on screen for a moment, then give control back. */
EFI_STATUS fail(EFI_STATUS st);
/* Test builds (CONFIG_TEST_HOOKS): QEMU exits with status 0x7e. */
void test_exit(void);

/* mem.c: page allocations, zeroed. */
EFI_STATUS alloc_pages(UINT64 bytes, EFI_MEMORY_TYPE type, UINT64 *phys);
EFI_STATUS alloc_pages_aligned(UINT64 bytes, UINT64 align, UINT64 phase,
			       EFI_MEMORY_TYPE type, UINT64 *phys);
void free_pages(UINT64 phys, UINT64 bytes);

/* file.c: files on the ESP this loader was started from. */
struct file_buf {
	UINT64 phys;  /* page aligned, pages of the requested type */
	UINT64 size;  /* bytes of file content */
};

EFI_STATUS file_init(EFI_HANDLE image);
EFI_STATUS file_read(const char *path, EFI_MEMORY_TYPE type,
		     struct file_buf *out);

/* policy.c: what the manifest's errors mean for this boot. */
EFI_STATUS manifest_check(const struct manifest *m, const char *text,
			  UINT64 len, UINT32 *skipped);

/* modules.c: one module per valid guest. */
void load_guests(const struct manifest *m, const char *manifest_dir,
		 struct boot_info *bi, struct boot_module *mods);

/* hv.c: read, verify and place the hypervisor ELF. */
EFI_STATUS load_hypervisor(const char *path, struct boot_info *bi,
			   UINT64 *entry);

/* platform.c */
void find_acpi(struct boot_info *bi);
void find_framebuffer(struct boot_info *bi);
void reserve_ap_trampoline(struct boot_info *bi);

/* paging.c */
EFI_STATUS build_page_tables(struct boot_info *bi, UINT64 *cr3);

/* testhook.c (CONFIG_TEST_HOOKS): what `selftest = cpustate` asks of the
 * loader, noted while the manifest is at hand, done just before the jump. */
void test_hooks_note(const struct manifest *m);
void test_hooks_before_jump(void);

/* handover.c: never returns on success. */
EFI_STATUS exit_and_jump(EFI_HANDLE image, struct boot_info *bi,
			 UINT64 cr3, UINT64 entry);

static inline UINT64 rdtsc(void)
{
	UINT32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((UINT64)hi << 32) | lo;
}

#endif
