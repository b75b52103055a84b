/* Inter-processor interrupts (arch/x86_64/ipi.c).
 *
 *   reschedule  "look at your run queue again": the handler only EOIs; the
 *               path back to ring 3 (or the idle loop) does the rest.
 *   call        run a function on every other CPU and wait for all of them
 *               (TLB shootdowns of the hypervisor's own mappings).  Never
 *               call with a lock held: a CPU spinning on it with interrupts
 *               off could not answer (checked builds panic).
 *   stop        NMI: park every other CPU (panic, power-off).
 */
#ifndef HV_IPI_H
#define HV_IPI_H

#include <stdint.h>

struct cpu;

#define VEC_RESCHED 0xf0
#define VEC_CALL    0xf1

void ipi_init(void);                     /* vectors and the NMI hook */
void ipi_resched(struct cpu *c);         /* no-op for this CPU */
void ipi_call_others(void (*fn)(void *), void *arg);
/* Drop [va, va + pages) from every CPU's TLB (this one too). */
void tlb_shootdown(uint64_t va, uint64_t pages);
void ipi_stop_others(void);
uint64_t ipi_sent(void);                 /* counter, for reports */

#endif
