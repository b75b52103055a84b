/* The scheduler: round-robin run queue, a deadline min-heap, and a halted
 * CPU when nothing is runnable.  O(1) per tick in the number of domains
 * (plus O(log n) per expiring deadline): blocked domains cost nothing. */
#ifndef HV_SCHED_H
#define HV_SCHED_H

#include <stdbool.h>
#include <stdint.h>
#include <hv/percpu.h>

struct domain;
struct trap_frame;

void sched_init(uint64_t time_slice_us);
void sched_add(struct domain *d);          /* new domain: runnable */
void sched_remove(struct domain *d);       /* from wherever it is queued */
void sched_yield(struct domain *d);        /* current goes to the back */
/* Block current until an event in mask or deadline (TSC; UINT64_MAX none).
 * Returns -1 (and does not block) when out of memory for the deadline. */
int sched_block(struct domain *d, uint64_t deadline_tsc, uint64_t mask);
/* Make a blocked domain runnable, its pending hypercall returning rax. */
void sched_wake(struct domain *d, int64_t rax);
/* Around a hypercall handler: wake-ups it causes do not preempt the caller. */
static inline void sched_hypercall_begin(void) { this_cpu()->in_hypercall = true; }
static inline void sched_hypercall_end(void) { this_cpu()->in_hypercall = false; }
/* Called last on every path back to ring 3: picks who runs and loads its
 * registers into f (idles with interrupts on while nobody can run). */
void sched_return_to_guest(struct trap_frame *f);
/* Enter the first domain; never returns. */
__attribute__((noreturn)) void sched_start(void);

/* Restart timers for ended domains (core/domain.c registers callbacks). */
typedef void (*sched_timer_fn)(uint32_t arg);
int sched_timer_add(uint64_t when_tsc, sched_timer_fn fn, uint32_t arg);
uint32_t sched_pending_timers(void);

#endif
