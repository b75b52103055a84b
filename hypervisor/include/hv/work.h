/* The one seam between the scheduler and everything else that needs CPU
 * time of its own (core/work.c):
 *
 *   polls     periodic checks a device or subsystem registers (the uplink
 *             NIC's safety-net poll, the console's keys, MAC ageing).  They
 *             run on the boot CPU from its timer interrupt, when due; keep
 *             them short.  The timer is armed for the next one, so an idle
 *             machine wakes only as often as its polls ask.
 *   work      deferred work queued to a CPU from any context (an interrupt
 *             included).  It runs on that CPU's normal path, on the way
 *             back to a guest or in its idle loop, with interrupts ON and
 *             no lock held: the place for anything O(memory), such as
 *             building a domain.
 *
 * The scheduler calls poll_run_due(), poll_next_tsc() and work_run(); it
 * knows no device. */
#ifndef HV_WORK_H
#define HV_WORK_H

#include <stdbool.h>
#include <stdint.h>
#include <hv/percpu.h>

struct poll {
	const char *name;
	void (*fn)(void);
	uint64_t period_ns;
	uint64_t next_tsc;          /* private */
	struct poll *next;          /* private */
};

void poll_register(struct poll *p);      /* at boot, before domains start */
/* Run p no later than when_tsc; boot CPU only.  A poll registered with
 * period_ns 0 runs only when woken like this (the serial drain's pacing). */
void poll_wake(struct poll *p, uint64_t when_tsc);
void poll_run_due(uint64_t now_tsc);     /* boot CPU, timer interrupt */

extern uint64_t polls_next;              /* private: read it with poll_next_tsc() */

/* Earliest due, or UINT64_MAX: inline, the boot CPU's timer arming reads it
 * on every pass through the scheduler. */
static inline uint64_t poll_next_tsc(void)
{
	return polls_next;
}

struct work {
	void (*fn)(void *arg);
	void *arg;
	struct work *next;          /* private */
	bool queued;                /* private */
};

/* Queue w on cpu (no-op if already queued); kicks that CPU. */
void work_queue(uint32_t cpu, struct work *w);
/* Run this CPU's queued work (and print a pending NMI/machine-check
 * report); true when any work ran. */
bool work_run(struct cpu *c);

/* Has work_run(c) anything to do?  Inline, because every pass through the
 * scheduler asks and the answer is almost always no. */
static inline bool work_pending(const struct cpu *c)
{
	return __atomic_load_n(&c->work, __ATOMIC_RELAXED) ||
	       __atomic_load_n(&c->hw.any, __ATOMIC_RELAXED);
}

#endif
