/* Per-domain FPU/SSE/AVX state (arch/x86_64/fpu.c).  The hypervisor never
 * touches these registers (-mgeneral-regs-only), so they are switched
 * eagerly between domains: XSAVE when the CPU has it, else FXSAVE.  Save
 * and restore are inline because every context switch does both. */
#ifndef HV_FPU_H
#define HV_FPU_H

#include <stddef.h>
#include <stdint.h>
#include <hv/cpu.h>

void fpu_init(void);
void fpu_init_state(void *area);  /* the clean state a new domain starts with */
uint32_t fpu_state_size(void);
/* 0 when area (size bytes, saved elsewhere) is safe for fpu_restore here;
 * else -1 with err (a restore's check). */
int fpu_state_check(const void *area, uint32_t size, uint64_t xcr0, uint32_t format, char *err, size_t n);

static inline void fpu_save(void *area)
{
	if (cpu.xsave)
		__asm__ volatile("xsave64 (%0)" :: "r"(area), "a"((uint32_t)cpu.xcr0),
				 "d"((uint32_t)(cpu.xcr0 >> 32)) : "memory");
	else
		__asm__ volatile("fxsave64 (%0)" :: "r"(area) : "memory");
}

static inline void fpu_restore(const void *area)
{
	if (cpu.xsave)
		__asm__ volatile("xrstor64 (%0)" :: "r"(area), "a"((uint32_t)cpu.xcr0),
				 "d"((uint32_t)(cpu.xcr0 >> 32)) : "memory");
	else
		__asm__ volatile("fxrstor64 (%0)" :: "r"(area) : "memory");
}

#endif
