/* CPU identification, feature checks and hardening (arch/x86_64/cpu.c). */
#ifndef HV_CPU_H
#define HV_CPU_H

#include <stdbool.h>
#include <stdint.h>

struct cpu_features {
	char vendor[13];
	char brand[49];
	uint32_t family, model, stepping;
	bool nx, smep, smap, umip, fsgsbase, pge, pdpe1gb, syscall;
	bool xsave, fxsr, sse2, invariant_tsc, tsc_deadline, x2apic, pcid, rdtscp;
	uint32_t xsave_size;     /* bytes of XSAVE area for XCR0 we enable */
	uint64_t xcr0;           /* what we enable for guests */
	uint32_t tsc_crystal_hz; /* CPUID 0x15, 0 if unknown */
	uint32_t tsc_num, tsc_den;
};

extern struct cpu_features cpu;

void cpu_detect(void);
/* Set CR0/CR4/EFER for the hypervisor: WP, NXE, SMEP, SMAP, UMIP, PGE,
 * OSFXSR, OSXSAVE per Kconfig and CPUID.  Returns a short text of what was
 * enabled, for the banner. */
const char *cpu_harden(void);
void cpu_harden_ap(void);   /* the same on an application processor */
bool cpu_smap_enabled(void);

#endif
