/* Starting the other CPUs (arch/x86_64/smp.c) and talking to them
 * (arch/x86_64/ipi.c). */
#ifndef HV_SMP_H
#define HV_SMP_H

#include <stdint.h>

struct cpu;

/* Start every enabled CPU in the MADT, at most manifest_cpus (0: all). */
void smp_start(uint32_t manifest_cpus);
uint32_t smp_cpus_found(void);
__attribute__((noreturn)) void ap_entry64(struct cpu *c);

#endif
