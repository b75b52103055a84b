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

/* ---- areas from outside: a restore's ---------------------------------------- */

#define FX_MXCSR_MASK  28
#define MXCSR_MASK_DEFAULT 0xffbfu   /* when FXSAVE reports 0 (SDM vol. 1, 11.6.6) */
#define XSAVE_HDR      512

/* The MXCSR bits this CPU takes: loading any other faults. */
static uint32_t mxcsr_mask(void)
{
	static uint8_t area[512] __attribute__((aligned(16)));
	uint32_t mask;

	__asm__ volatile("fxsave64 (%0)" :: "r"(area) : "memory");
	mask = *(uint32_t *)(area + FX_MXCSR_MASK);
	return mask ? mask : MXCSR_MASK_DEFAULT;
}

static int fpu_refuse(char *err, size_t n, const char *why)
{
	snprintf(err, n, "FPU: %s", why);
	return -1;
}

/* An area fpu_restore may load without faulting: made by a CPU with our
 * format and features (the only XSAVE layout a restore takes is the
 * standard one, with this CPU's XCR0), MXCSR within what this CPU
 * takes, and an XSAVE header with no bit we did not enable and zeros
 * where the SDM wants them (XRSTOR faults otherwise). */
int fpu_state_check(const void *area, uint32_t size, uint64_t xcr0, uint32_t format, char *err, size_t n)
{
	const uint8_t *a = area;
	uint64_t hdr[8];

	if (format != (cpu.xsave ? 1u : 2u) || size != state_size)
		return fpu_refuse(err, n, "another format or size than this CPU saves");
	if (cpu.xsave && xcr0 != cpu.xcr0)
		return fpu_refuse(err, n, "saved with other XSAVE features (XCR0) than this CPU has");
	if (*(const uint32_t *)(a + FX_MXCSR) & ~mxcsr_mask())
		return fpu_refuse(err, n, "MXCSR has bits this CPU does not take");
	if (!cpu.xsave)
		return 0;
	memcpy(hdr, a + XSAVE_HDR, sizeof(hdr));
	if (hdr[0] & ~cpu.xcr0)
		return fpu_refuse(err, n, "XSTATE_BV names components that are not enabled");
	for (int i = 1; i < 8; i++)
		if (hdr[i])
			return fpu_refuse(err, n, "the XSAVE header's reserved bytes are not zero");
	return 0;
}
