/* Test builds only (CONFIG_TEST_HOOKS): with `selftest = cpustate` the
 * loader leaves the CPU the way careless firmware might, right before it
 * jumps to the hypervisor: a breakpoint enabled in DR7, the SYSENTER MSRs
 * pointing at a ring-0 selector, CR4.FSGSBASE (where CPUID has it) and
 * CR0.AM on.  The hypervisor must build its own values rather than edit
 * these (cpu_harden); the system test reads them back on every CPU. */
#include "loader.h"

#define MSR_SYSENTER_CS  0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define CR0_AM       (1UL << 18)
#define CR4_FSGSBASE (1UL << 16)
#define DR7_G0       (1UL << 1)

static bool leave_junk;

void test_hooks_note(const struct manifest *m)
{
#ifdef CONFIG_TEST_HOOKS
	leave_junk = m->hv.selftest == MANIFEST_SELFTEST_CPUSTATE;
#endif
}

static void wrmsr(UINT32 msr, UINT64 v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((UINT32)v), "d"((UINT32)(v >> 32)));
}

static bool has_fsgsbase(void)
{
	UINT32 a = 7, b, c = 0, d;

	asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return b & 1;
}

/* After ExitBootServices: nothing here may call the firmware. */
void test_hooks_before_jump(void)
{
	UINT64 cr0, cr4;

	if (!leave_junk)
		return;
	serial_puts("paravane loader: test build: leaving junk in DR7, SYSENTER, CR4 and CR0\n");
	asm volatile("mov %0, %%dr0" : : "r"(0UL));      /* execute breakpoint at 0 */
	asm volatile("mov %0, %%dr7" : : "r"(0x400UL | DR7_G0));
	wrmsr(MSR_SYSENTER_CS, 0x10);
	wrmsr(MSR_SYSENTER_ESP, 0x1000);
	wrmsr(MSR_SYSENTER_EIP, 0x1000);
	asm volatile("mov %%cr0, %0" : "=r"(cr0));
	asm volatile("mov %0, %%cr0" : : "r"(cr0 | CR0_AM));
	asm volatile("mov %%cr4, %0" : "=r"(cr4));
	if (has_fsgsbase())
		asm volatile("mov %0, %%cr4" : : "r"(cr4 | CR4_FSGSBASE));
}
