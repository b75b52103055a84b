/* Checks the FPU/SSE/AVX state this domain started with (recorded by
 * entry.S before anything ran) against docs/abi.md: x87 and MXCSR at their
 * reset values, every x87, XMM and YMM register and every other enabled
 * XSAVE component zero.  Prints one line, then dirties every register and
 * exits (argv[1] "exit", code = problems found) or crashes ("crash"), so
 * that a restart on the same or another CPU can check again.  The
 * dirtying runs in one asm block: nothing may use the registers between. */
#include <cpuid.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define FCW_RESET   0x037f
#define MXCSR_RESET 0x1f80
#define XSAVE_MAX   16384

extern uint16_t entry_fcw;
extern uint32_t entry_mxcsr;
extern uint64_t entry_xcr0;
extern uint8_t entry_fxsave[512], entry_xsave[XSAVE_MAX];

static int problems;
static char report[512];

__attribute__((format(printf, 1, 2))) static void note(const char *fmt, ...)
{
	size_t n = strlen(report);
	va_list ap;

	problems++;
	va_start(ap, fmt);
	vsnprintf(report + n, sizeof(report) - n, fmt, ap);
	va_end(ap);
}

static int first_nonzero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return (int)i;
	return -1;
}

/* FXSAVE layout: FCW 0, FSW 2, abridged FTW 4, FOP 6, FIP 8, FDP 16,
 * MXCSR 24, ST0-7 at 32 (16 bytes each), XMM0-15 at 160. */
static void check_legacy(void)
{
	const uint8_t *fx = entry_fxsave;
	int i;

	if (entry_fcw != FCW_RESET)
		note(" fcw=0x%x", entry_fcw);
	if (entry_mxcsr != MXCSR_RESET)
		note(" mxcsr=0x%x", (unsigned)entry_mxcsr);
	if ((i = first_nonzero(fx + 2, 22)) >= 0)
		note(" x87-state-byte%d=0x%x", 2 + i, fx[2 + i]);
	for (int r = 0; r < 8; r++)
		if ((i = first_nonzero(fx + 32 + 16 * r, 10)) >= 0)
			note(" st%d-byte%d", r, i);
	for (int r = 0; r < 16; r++)
		if ((i = first_nonzero(fx + 160 + 16 * r, 16)) >= 0)
			note(" xmm%d-byte%d", r, i);
}

/* Components 2 and up (2 is the upper halves of YMM0-15): each either in
 * its init state (XSTATE_BV bit clear: all zero) or saved as zeros. */
static void check_xsave(char *checked, size_t n)
{
	uint64_t bv = *(const uint64_t *)(entry_xsave + 512);
	unsigned a, b, c, d;

	__cpuid_count(0xd, 0, a, b, c, d);
	if (b > XSAVE_MAX) {
		note(" xsave-area-%u-bytes", b);
		return;
	}
	for (unsigned k = 2; k < 63; k++) {
		int i;

		if (!(entry_xcr0 & (1ull << k)))
			continue;
		__cpuid_count(0xd, k, a, b, c, d);
		snprintf(checked + strlen(checked), n - strlen(checked), ",%s", k == 2 ? "avx" : "c");
		if (k != 2)
			snprintf(checked + strlen(checked), n - strlen(checked), "%u", k);
		if ((bv & (1ull << k)) && (i = first_nonzero(entry_xsave + b, a)) >= 0)
			note(" component%u-byte%d", k, i);
	}
}

static void dirty_sse(void)
{
	uint32_t mxcsr = 0xff80;             /* flush-to-zero, round to zero */
	uint16_t fcw = 0x027f;               /* 53-bit precision */

	__asm__ volatile("pcmpeqd %%xmm0, %%xmm0\n\t"
			 "movdqa %%xmm0, %%xmm1\n\t movdqa %%xmm0, %%xmm2\n\t"
			 "movdqa %%xmm0, %%xmm3\n\t movdqa %%xmm0, %%xmm4\n\t"
			 "movdqa %%xmm0, %%xmm5\n\t movdqa %%xmm0, %%xmm6\n\t"
			 "movdqa %%xmm0, %%xmm7\n\t movdqa %%xmm0, %%xmm8\n\t"
			 "movdqa %%xmm0, %%xmm9\n\t movdqa %%xmm0, %%xmm10\n\t"
			 "movdqa %%xmm0, %%xmm11\n\t movdqa %%xmm0, %%xmm12\n\t"
			 "movdqa %%xmm0, %%xmm13\n\t movdqa %%xmm0, %%xmm14\n\t"
			 "movdqa %%xmm0, %%xmm15\n\t"
			 "fninit\n\t fldcw %1\n\t"
			 "fld1\n\t fldpi\n\t fldl2t\n\t fldl2e\n\t"
			 "fldlg2\n\t fldln2\n\t fld1\n\t fldpi\n\t"
			 "ldmxcsr %0"
			 :: "m"(mxcsr), "m"(fcw) : "memory");
}

/* All ones in the upper halves of YMM0-15 as well. */
static void dirty_avx(void)
{
	__asm__ volatile("vcmptrueps %%ymm0, %%ymm0, %%ymm0\n\t"
			 "vmovaps %%ymm0, %%ymm1\n\t vmovaps %%ymm0, %%ymm2\n\t"
			 "vmovaps %%ymm0, %%ymm3\n\t vmovaps %%ymm0, %%ymm4\n\t"
			 "vmovaps %%ymm0, %%ymm5\n\t vmovaps %%ymm0, %%ymm6\n\t"
			 "vmovaps %%ymm0, %%ymm7\n\t vmovaps %%ymm0, %%ymm8\n\t"
			 "vmovaps %%ymm0, %%ymm9\n\t vmovaps %%ymm0, %%ymm10\n\t"
			 "vmovaps %%ymm0, %%ymm11\n\t vmovaps %%ymm0, %%ymm12\n\t"
			 "vmovaps %%ymm0, %%ymm13\n\t vmovaps %%ymm0, %%ymm14\n\t"
			 "vmovaps %%ymm0, %%ymm15" ::: "memory");
}

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "exit";
	char checked[128] = "x87,sse";

	check_legacy();
	if (entry_xcr0)
		check_xsave(checked, sizeof(checked));
	if (problems)
		printf("fpucheck: DIRTY%s\n", report);
	else
		printf("fpucheck: clean fcw=0x%x mxcsr=0x%x xcr0=0x%llx checked=%s\n", entry_fcw,
		       entry_mxcsr, (unsigned long long)entry_xcr0, checked);
	fflush(stdout);
	if (entry_xcr0 & 4)
		dirty_avx();
	dirty_sse();                          /* SSE last: keeps the upper YMM halves */
	if (!strcmp(how, "crash"))
		__asm__ volatile("ud2");
	return problems;
}
