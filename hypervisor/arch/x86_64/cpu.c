/* CPUID probing and control-register hardening.  Every feature is checked
 * before use: QEMU TCG and real machines differ (no PCID, x2APIC or
 * TSC-deadline under TCG). */
#include <hv/cpu.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/x86.h>

struct cpu_features cpu;
static bool smap_on;
static char enabled_text[96];

static void cpu_brand(void)
{
	uint32_t r[4], max_ext;

	cpuid(0x80000000, 0, r);
	max_ext = r[0];
	if (max_ext < 0x80000004) {
		strlcpy(cpu.brand, "unknown", sizeof(cpu.brand));
		return;
	}
	for (uint32_t i = 0; i < 3; i++) {
		cpuid(0x80000002 + i, 0, r);
		memcpy(cpu.brand + 16 * i, r, 16);
	}
	cpu.brand[48] = 0;
}

static void cpu_leaf1_7(void)
{
	uint32_t r[4], max;

	cpuid(0, 0, r);
	max = r[0];
	memcpy(cpu.vendor, &r[1], 4);
	memcpy(cpu.vendor + 4, &r[3], 4);
	memcpy(cpu.vendor + 8, &r[2], 4);
	cpuid(1, 0, r);
	cpu.stepping = r[0] & 0xf;
	cpu.model = ((r[0] >> 4) & 0xf) | ((r[0] >> 12) & 0xf0);
	cpu.family = ((r[0] >> 8) & 0xf) + ((r[0] >> 20) & 0xff);
	cpu.pcid = r[2] & (1u << 17);
	cpu.x2apic = r[2] & (1u << 21);
	cpu.tsc_deadline = r[2] & (1u << 24);
	cpu.xsave = r[2] & (1u << 26);
	cpu.pge = r[3] & (1u << 13);
	cpu.fxsr = r[3] & (1u << 24);
	cpu.sse2 = r[3] & (1u << 26);
	if (max >= 7) {
		cpuid(7, 0, r);
		cpu.fsgsbase = r[1] & (1u << 0);
		cpu.smep = r[1] & (1u << 7);
		cpu.smap = r[1] & (1u << 20);
		cpu.umip = r[2] & (1u << 2);
	}
	if (max >= 0x15) {
		cpuid(0x15, 0, r);
		cpu.tsc_den = r[0];
		cpu.tsc_num = r[1];
		cpu.tsc_crystal_hz = r[2];
	}
}

void cpu_detect(void)
{
	uint32_t r[4];

	cpu_leaf1_7();
	cpuid(0x80000001, 0, r);
	cpu.syscall = r[3] & (1u << 11);
	cpu.nx = r[3] & (1u << 20);
	cpu.pdpe1gb = r[3] & (1u << 26);
	cpu.rdtscp = r[3] & (1u << 27);
	cpuid(0x80000007, 0, r);
	cpu.invariant_tsc = r[3] & (1u << 8);
	cpu_brand();
}

static void append(const char *word)
{
	size_t n = strlen(enabled_text);

	snprintf(enabled_text + n, sizeof(enabled_text) - n, "%s%s", n ? " " : "", word);
}

/* XCR0: x87 + SSE (+ AVX when present) so guests may use them; the
 * hypervisor itself never does (-mgeneral-regs-only). */
static void cpu_enable_xsave(void)
{
	uint32_t r[4];
	uint64_t xcr0 = 3;

	cpuid(0xd, 0, r);
	xcr0 |= r[0] & 4;  /* AVX state if supported */
	write_cr4(read_cr4() | CR4_OSXSAVE);
	__asm__ volatile("xsetbv" :: "c"(0), "a"((uint32_t)xcr0), "d"(0));
	cpuid(0xd, 0, r);
	cpu.xcr0 = xcr0;
	cpu.xsave_size = r[1];
	append("xsave");
}

/* Whatever the firmware left in the debug registers and SYSENTER MSRs is
 * replaced: no breakpoints, and SYSENTER (which we never use) with a null
 * code selector, so a guest's sysenter faults (#GP) instead of jumping
 * somewhere the firmware chose.  Each CPU, at start. */
static void known_debug_and_sysenter(void)
{
	__asm__ volatile("movq %0, %%dr7" :: "r"(0x400UL));
	__asm__ volatile("movq %0, %%dr6" :: "r"(0xffff0ff0UL));
	wrmsr(MSR_SYSENTER_CS, 0);
	wrmsr(MSR_SYSENTER_ESP, 0);
	wrmsr(MSR_SYSENTER_EIP, 0);
}

/* CR0, CR4 and EFER are built from known values, not edited from what
 * the firmware left (a stray CR4.FSGSBASE would let a guest set a GS base
 * that looks like the hypervisor's, a stray PCIDE or VMXE worse).  Only
 * the paging mode itself (LME, LA57, and NXE, which the loader's page
 * tables may rely on) carries over. */
const char *cpu_harden(void)
{
	uint64_t cr4 = CR4_PAE | (read_cr4() & CR4_LA57);

	if (!cpu.syscall || !cpu.fxsr || !cpu.sse2)
		panic("cpu: syscall, fxsr and sse2 are required");
	write_cr0(CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG);
	/* NXE stays if it was on: the loader's tables may use NX bits */
	wrmsr(MSR_EFER, (rdmsr(MSR_EFER) & (EFER_LME | EFER_NXE)) | EFER_SCE);
	known_debug_and_sysenter();
	cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
	if (cpu.pge) {
		cr4 |= CR4_PGE;
		append("pge");
	}
	if (IS_ENABLED(CONFIG_HARDEN_NX) && cpu.nx) {
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
		append("nx");
	}
	if (IS_ENABLED(CONFIG_HARDEN_SMEP) && cpu.smep) {
		cr4 |= CR4_SMEP;
		append("smep");
	}
	if (IS_ENABLED(CONFIG_HARDEN_SMAP) && cpu.smap) {
		cr4 |= CR4_SMAP;
		smap_on = true;
		append("smap");
	}
	if (IS_ENABLED(CONFIG_HARDEN_UMIP) && cpu.umip) {
		cr4 |= CR4_UMIP;
		append("umip");
	}
	write_cr4(cr4);
	if (cpu.xsave)
		cpu_enable_xsave();
	else
		cpu.xsave_size = 512;   /* FXSAVE area */
	return enabled_text;
}

/* An application processor: the control registers the boot CPU settled on
 * (CR0, CR4 and EFER came with the start-up code), plus XCR0. */
void cpu_harden_ap(void)
{
	known_debug_and_sysenter();
	if (cpu.xsave)
		__asm__ volatile("xsetbv" :: "c"(0), "a"((uint32_t)cpu.xcr0), "d"((uint32_t)(cpu.xcr0 >> 32)));
}

bool cpu_smap_enabled(void)
{
	return smap_on;
}
