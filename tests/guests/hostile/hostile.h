/* The hostile guest: what a ring-3 guest can try against the hypervisor
 * (docs/testing.md).  Each mode either crashes on purpose (the test checks
 * the vector) or checks answers and exits with the number of wrong ones. */
#ifndef HOSTILE_H
#define HOSTILE_H

#include <stdbool.h>
#include <stdint.h>

#define RFLAGS_TF   (1UL << 8)
#define RFLAGS_IF   (1UL << 9)
#define RFLAGS_DF   (1UL << 10)
#define RFLAGS_IOPL (3UL << 12)
#define RFLAGS_NT   (1UL << 14)
#define RFLAGS_AC   (1UL << 18)

/* Hypervisor addresses a guest has no business touching (hv/layout.h). */
#define HV_PHYSMAP  0xffff800000000000UL
#define HV_IMAGE    0xffffffff80000000UL
#define HV_STACKS   0xffffc00040000000UL
#define NONCANON_LO 0x0000800000000000UL
#define NONCANON_HI 0x8000000000000000UL

/* A raw hypercall with all six argument registers; rcx, r11 clobbered. */
long hc6(long nr, long a0, long a1, long a2, long a3, long a4, long a5);

/* Record a wrong answer (printed), for the exit status. */
void wrong(const char *what, long got, long want);
extern int wrong_count;

/* Never returns if the instruction faults, which is the point. */
int run_priv(const char *name);
int run_probe(const char *op, uint64_t addr);
int run_flags(void);
int run_tf(void);
int run_stack(uint64_t entry_page);
int run_fuzz(uint64_t seed, long count);

#endif
