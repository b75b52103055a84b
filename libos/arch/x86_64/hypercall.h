/* Hypercall stubs: `syscall` with the number in rax and arguments in rdi,
 * rsi, rdx, r10, r8, r9 (public/hypercall.h).  The CPU clobbers rcx and
 * r11; the hypervisor preserves every other register, so only those two and
 * memory (the hypervisor may write guest buffers) are declared clobbered.
 * The result is >= 0 or a negative PV_E* error.
 */
#ifndef LIBOS_ARCH_HYPERCALL_H
#define LIBOS_ARCH_HYPERCALL_H

#include <stdint.h>

#define PV_HC_CLOBBERS "rcx", "r11", "memory"

static inline int64_t pv_hypercall0(uint64_t nr)
{
	int64_t ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr) : PV_HC_CLOBBERS);
	return ret;
}

static inline int64_t pv_hypercall1(uint64_t nr, uint64_t a1)
{
	int64_t ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a1)
			 : PV_HC_CLOBBERS);
	return ret;
}

static inline int64_t pv_hypercall2(uint64_t nr, uint64_t a1, uint64_t a2)
{
	int64_t ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a1), "S"(a2)
			 : PV_HC_CLOBBERS);
	return ret;
}

static inline int64_t pv_hypercall3(uint64_t nr, uint64_t a1, uint64_t a2,
				    uint64_t a3)
{
	int64_t ret;

	__asm__ volatile("syscall" : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3)
			 : PV_HC_CLOBBERS);
	return ret;
}

static inline int64_t pv_hypercall4(uint64_t nr, uint64_t a1, uint64_t a2,
				    uint64_t a3, uint64_t a4)
{
	register uint64_t r10 __asm__("r10") = a4;
	int64_t ret;

	__asm__ volatile("syscall" : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10)
			 : PV_HC_CLOBBERS);
	return ret;
}

static inline int64_t pv_hypercall5(uint64_t nr, uint64_t a1, uint64_t a2,
				    uint64_t a3, uint64_t a4, uint64_t a5)
{
	register uint64_t r10 __asm__("r10") = a4;
	register uint64_t r8 __asm__("r8") = a5;
	int64_t ret;

	__asm__ volatile("syscall" : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10),
			   "r"(r8)
			 : PV_HC_CLOBBERS);
	return ret;
}

static inline int64_t pv_hypercall6(uint64_t nr, uint64_t a1, uint64_t a2,
				    uint64_t a3, uint64_t a4, uint64_t a5,
				    uint64_t a6)
{
	register uint64_t r10 __asm__("r10") = a4;
	register uint64_t r8 __asm__("r8") = a5;
	register uint64_t r9 __asm__("r9") = a6;
	int64_t ret;

	__asm__ volatile("syscall" : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10),
			   "r"(r8), "r"(r9)
			 : PV_HC_CLOBBERS);
	return ret;
}

#endif
