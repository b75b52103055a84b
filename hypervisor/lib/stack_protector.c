/* The hypervisor is built with -fstack-protector-strong and one global
 * canary (-mstack-protector-guard=global: GS points at the per-CPU entry
 * page, which guests' tables map, so the canary must not live there).
 * A function whose canary changed panics instead of returning through a
 * smashed frame. */
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/x86.h>

#define CPUID1_ECX_RDRAND (1u << 30)

uint64_t __stack_chk_guard;

static bool rdrand64(uint64_t *v)
{
	uint8_t ok;

	for (int tries = 0; tries < 10; tries++) {
		__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
		if (ok)
			return true;
	}
	return false;
}

void stack_protector_init(void)
{
	uint32_t r[4];
	uint64_t v = 0;

	cpuid(1, 0, r);
	if (!(r[2] & CPUID1_ECX_RDRAND) || !rdrand64(&v))
		v = rdtsc() * 0x9E3779B97F4A7C15ULL;   /* weaker, never constant */
	__stack_chk_guard = v & ~0xffUL;   /* a zero low byte stops string overruns */
}

void __stack_chk_fail(void) __attribute__((noreturn));
void __stack_chk_fail(void)
{
	panic("stack protector: the frame returning to 0x%lx was overwritten",
	      (uint64_t)__builtin_return_address(0));
}
