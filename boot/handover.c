/* Leaving UEFI: the final memory map, ExitBootServices, the jump.
 *
 * Between the last GetMemoryMap and ExitBootServices nothing may touch boot
 * services (a Print or an allocation changes the map key and EBS then fails
 * every time).  So the map buffer is allocated first, with slack, and the
 * retry loop only calls GetMemoryMap and ExitBootServices.
 */
#include "loader.h"

#define EBS_TRIES	8
#define MAP_SLACK	32	/* descriptors of headroom */
#define MAP_GROWS	4

struct map_buf {
	UINT64 phys;
	UINTN cap;	/* bytes allocated */
};

static EFI_STATUS map_alloc(struct map_buf *mb, UINTN extra)
{
	UINTN need = 0, key, dsize = 0;
	UINT32 dver;
	EFI_STATUS st;

	st = BS->GetMemoryMap(&need, NULL, &key, &dsize, &dver);
	if (st != EFI_BUFFER_TOO_SMALL)
		return EFI_ERROR(st) ? st : EFI_DEVICE_ERROR;
	mb->cap = ALIGN_UP(need + extra + MAP_SLACK * dsize, PAGE_SIZE);
	return alloc_pages(mb->cap, BOOT_MEM_PARAVANE_KEEP, &mb->phys);
}

static __attribute__((noreturn)) void jump(UINT64 cr3, struct boot_info *bi,
					   UINT64 entry)
{
	/* A fake return address keeps the SysV "just called" alignment. */
	asm volatile("cli\n\t"
		     "mov %0, %%cr3\n\t"
		     "and $-16, %%rsp\n\t"
		     "pushq $0\n\t"
		     "jmp *%2"
		     : : "r"(cr3), "D"(bi), "r"(entry) : "memory");
	__builtin_unreachable();
}

/* Never returns on success.  On failure after the first ExitBootServices
 * call, boot services may be half gone: report on COM1 only. */
EFI_STATUS exit_and_jump(EFI_HANDLE image, struct boot_info *bi,
			 UINT64 cr3, UINT64 entry)
{
	struct map_buf mb;
	UINTN size, key, dsize;
	UINT32 dver, grows = 0;
	EFI_STATUS st;

	st = map_alloc(&mb, 0);
	if (EFI_ERROR(st)) {
		error(L"cannot allocate the memory map: %r", st);
		return st;
	}
	while (bi->ebs_attempts < EBS_TRIES) {
		size = mb.cap;
		st = BS->GetMemoryMap(&size, (void *)mb.phys, &key, &dsize,
				      &dver);
		if (st == EFI_BUFFER_TOO_SMALL && bi->ebs_attempts == 0 &&
		    grows++ < MAP_GROWS) {
			/* still allowed to allocate: nothing exited yet */
			free_pages(mb.phys, mb.cap);
			st = map_alloc(&mb, size);
			if (EFI_ERROR(st))
				break;
			continue;
		}
		if (EFI_ERROR(st))
			break;
		bi->ebs_attempts++;
		bi->tsc_before_ebs = rdtsc();
		st = BS->ExitBootServices(image, key);
		if (st == EFI_SUCCESS) {
			bi->mmap_phys = mb.phys;
			bi->mmap_size = size;
			bi->mmap_desc_size = dsize;
			bi->mmap_desc_version = dver;
			test_hooks_before_jump();
			jump(cr3, bi, entry);
		}
		if (st != EFI_INVALID_PARAMETER)
			break;
	}
	if (bi->ebs_attempts == 0) {
		error(L"GetMemoryMap failed: %r", st);
		return st;
	}
	serial_puts("paravane loader: error: ExitBootServices failed; "
		    "giving up\n");
	test_exit();
	return EFI_ERROR(st) ? st : EFI_ABORTED;
}
