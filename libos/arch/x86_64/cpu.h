/* The few x86_64 instructions the libos needs outside hypercalls.  All of
 * them work in ring 3: the hypervisor leaves CR4.TSD clear. */
#ifndef LIBOS_ARCH_CPU_H
#define LIBOS_ARCH_CPU_H

#include <stdint.h>

/* lfence keeps rdtsc from running ahead of the loads before it, so a time
 * read never sees a TSC older than the pvclock fields it pairs with. */
static inline uint64_t libos_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline void libos_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

/* CPUID.1:ECX bit 30. */
static inline int libos_has_rdrand(void)
{
	uint32_t r[4];

	libos_cpuid(1, 0, r);
	return (r[2] >> 30) & 1;
}

/* One RDRAND; returns 0 when the CPU had no entropy ready (CF clear). */
static inline int libos_rdrand64(uint64_t *v)
{
	uint8_t ok;

	__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok) :: "cc");
	return ok;
}

static inline void libos_pause(void)
{
	__asm__ volatile("pause");
}

#endif
