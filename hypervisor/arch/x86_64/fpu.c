/* Per-domain FPU/SSE/AVX state (see hv/fpu.h): the clean initial state. */
#include <hv/cpu.h>
#include <hv/domain.h>
#include <hv/fpu.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mm.h>

#define FPU_ALIGN 64
#define FX_FCW      0        /* FXSAVE/XSAVE legacy area offsets */
#define FX_MXCSR    24
#define FCW_RESET   0x037f   /* FNINIT: all exceptions masked, 64-bit precision */
#define MXCSR_RESET 0x1f80   /* all exceptions masked, round to nearest */

static void *clean_state;
static uint32_t state_size;

uint32_t fpu_state_size(void)
{
	return state_size;
}

/* The state a new domain starts with (docs/abi.md), built rather than
 * saved from the boot CPU, whose registers hold whatever the firmware and
 * loader left there: FCW and MXCSR at their reset values, all else zero.
 * XSTATE_BV = 0 makes XRSTOR put every enabled component (x87, XMM, YMM,
 * any later one) in its init state whatever the area holds; it still
 * loads MXCSR from the area.  FXRSTOR loads the zeroed legacy area. */
void fpu_init(void)
{
	static uint8_t clean[4096] __attribute__((aligned(FPU_ALIGN)));

	state_size = cpu.xsave ? cpu.xsave_size : 512;
	if (state_size > sizeof(clean))
		panic("fpu: XSAVE area of %u bytes is larger than expected", state_size);
	memset(clean, 0, state_size);
	*(uint16_t *)(clean + FX_FCW) = FCW_RESET;
	*(uint32_t *)(clean + FX_MXCSR) = MXCSR_RESET;
	clean_state = clean;
}

void fpu_init_state(void *area)
{
	memcpy(area, clean_state, state_size);
}
