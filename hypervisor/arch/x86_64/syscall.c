/* Hypercall entry MSRs: `syscall` lands in syscall.S with IF, TF, DF, NT
 * and AC cleared (AC: otherwise a guest could open the SMAP window). */
#include <hv/domain.h>
#include <hv/trap.h>
#include <hv/x86.h>

#define SFMASK_BITS 0x47700UL   /* TF IF DF IOPL NT AC */

extern char syscall_entry[];

void syscall_init(void)
{
	/* sysret: CS = STAR[63:48] + 16, SS = + 8; syscall: CS = STAR[47:32]. */
	wrmsr(MSR_STAR, ((uint64_t)(GDT_KDATA | 3) << 48) | ((uint64_t)GDT_KCODE << 32));
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	wrmsr(MSR_SFMASK, SFMASK_BITS);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}
