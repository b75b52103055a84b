/* The scheduler's two data structures, kept apart from the policy so they
 * can be unit-tested on the host: a FIFO run queue (O(1) push at either end
 * and unlink) and a binary min-heap of deadlines (O(log n)). */
#ifndef HV_SCHED_QUEUE_H
#define HV_SCHED_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

struct domain;

struct run_queue {
	struct domain *head, *tail;
	uint32_t len;
};

struct deadline_heap {
	struct domain **slot;
	uint32_t len, cap;
};

void rq_push(struct run_queue *q, struct domain *d, bool front);
void rq_unlink(struct run_queue *q, struct domain *d);

/* 0, or -1 when the heap cannot grow (out of memory). */
int dh_insert(struct deadline_heap *h, struct domain *d);
void dh_remove(struct deadline_heap *h, struct domain *d);   /* no-op if absent */
static inline struct domain *dh_min(const struct deadline_heap *h)
{
	return h->len ? h->slot[0] : 0;
}

#endif
