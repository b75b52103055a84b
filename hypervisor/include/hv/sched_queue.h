/* The deadline heap: blocked domains by wake-up time, a binary min-heap
 * (O(log n)), kept apart from the scheduler so it can be unit-tested on
 * the host.  One per CPU; the run queue is the fair policy's
 * (hv/sched_fair.h). */
#ifndef HV_SCHED_QUEUE_H
#define HV_SCHED_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

struct domain;

struct deadline_heap {
	struct domain **slot;
	uint32_t len, cap;
};

/* 0, or -1 when the heap cannot grow (out of memory). */
int dh_insert(struct deadline_heap *h, struct domain *d);
void dh_remove(struct deadline_heap *h, struct domain *d);   /* no-op if absent */
static inline struct domain *dh_min(const struct deadline_heap *h)
{
	return h->len ? h->slot[0] : 0;
}

#endif
