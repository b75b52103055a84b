/* Per-domain FPU/SSE/AVX state.  The hypervisor itself never touches these
 * registers (-mgeneral-regs-only), so state is switched eagerly between
 * domains: XSAVE when the CPU has it, else FXSAVE. */
#include <hv/cpu.h>
#include <hv/domain.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mm.h>

#define FPU_ALIGN 64

static void *clean_state;
static uint32_t state_size;

void fpu_save(void *area)
{
	if (cpu.xsave)
		__asm__ volatile("xsave64 (%0)" :: "r"(area), "a"((uint32_t)cpu.xcr0),
				 "d"((uint32_t)(cpu.xcr0 >> 32)) : "memory");
	else
		__asm__ volatile("fxsave64 (%0)" :: "r"(area) : "memory");
}

void fpu_restore(const void *area)
{
	if (cpu.xsave)
		__asm__ volatile("xrstor64 (%0)" :: "r"(area), "a"((uint32_t)cpu.xcr0),
				 "d"((uint32_t)(cpu.xcr0 >> 32)) : "memory");
	else
		__asm__ volatile("fxrstor64 (%0)" :: "r"(area) : "memory");
}

uint32_t fpu_state_size(void)
{
	return state_size;
}

/* The state a new domain starts with: x87 and SSE at their reset values. */
void fpu_init(void)
{
	static uint8_t clean[4096] __attribute__((aligned(FPU_ALIGN)));
	uint32_t mxcsr = 0x1f80;

	state_size = cpu.xsave ? cpu.xsave_size : 512;
	if (state_size > sizeof(clean))
		panic("fpu: XSAVE area of %u bytes is larger than expected", state_size);
	clean_state = clean;
	__asm__ volatile("fninit; ldmxcsr %0" :: "m"(mxcsr));
	fpu_save(clean_state);
}

void fpu_init_state(void *area)
{
	memcpy(area, clean_state, state_size);
}
