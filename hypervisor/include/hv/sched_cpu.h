/* The scheduler's per-CPU state (a member of struct cpu, hv/percpu.h).
 * Everything here, and the scheduling fields of every domain queued on or
 * running on this CPU (struct domain: cpu, state, fair, deadline), is
 * guarded by `lock`. */
#ifndef HV_SCHED_CPU_H
#define HV_SCHED_CPU_H

#include <stdbool.h>
#include <stdint.h>
#include <hv/lock.h>
#include <hv/sched_fair.h>
#include <hv/sched_queue.h>

struct cpu_sched {
	struct spinlock lock;
	uint32_t last_domain_id;     /* the last domain this CPU ran (ids are never reused) */
	struct fair_queue fq;        /* runnable domains waiting for this CPU */
	struct deadline_heap dl;     /* blocked domains with a deadline */
	bool need_resched;           /* pick again before returning to a guest */
	volatile bool look;          /* something changed: no fast return to the guest */
	bool idle;                   /* halted in the idle loop */
	uint64_t slice_end_tsc;      /* when current must yield to a waiter */
	uint64_t charged_tsc;        /* current's time is charged up to here */
	uint64_t timer_tsc;          /* what the one-shot timer is armed for (0: off) */
	uint32_t slice_weight;       /* slice_ticks is the slice of a domain of this weight */
	uint64_t slice_total;        /* beside waiters of this total weight */
	uint64_t slice_ticks;
	uint64_t wakeups, switches, steals, pushes;     /* counters */
	uint64_t timer_irqs;
	uint64_t idle_tsc;           /* halted in the idle loop, summed over finished halts */
	uint64_t idle_since_tsc;     /* start of the halt under way, while `idle` */
};

#endif
