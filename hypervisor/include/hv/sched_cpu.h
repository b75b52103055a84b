/* The scheduler's per-CPU state (a member of struct cpu, hv/percpu.h). */
#ifndef HV_SCHED_CPU_H
#define HV_SCHED_CPU_H

#include <stdbool.h>
#include <stdint.h>
#include <hv/lock.h>
#include <hv/sched_queue.h>

struct cpu_sched {
	struct spinlock lock;        /* guards everything below */
	struct run_queue rq;         /* runnable domains queued on this CPU */
	struct deadline_heap dl;     /* blocked domains with a deadline */
	bool need_resched;           /* pick again before returning to a guest */
};

#endif
