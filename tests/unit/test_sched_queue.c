/* The scheduler's run queue and deadline heap (core/sched_queue.c). */
#include <stdlib.h>
#include <hv/domain.h>
#include <hv/sched_queue.h>
#include "harness.h"

void *kmalloc(size_t n) { return malloc(n); }
void kfree(void *p) { free(p); }

#define N 500
static struct domain dom[N];

static void check_heap(const struct deadline_heap *h)
{
	for (uint32_t i = 1; i < h->len; i++)
		if (!CHECK(h->slot[(i - 1) / 2]->deadline_tsc <= h->slot[i]->deadline_tsc))
			return;
	for (uint32_t i = 0; i < h->len; i++)
		CHECK_EQ_INT(h->slot[i]->heap_index, i);
}

static void test_heap_order(void)
{
	struct deadline_heap h = { 0 };
	uint64_t last = 0;

	srand(7);
	for (int i = 0; i < N; i++) {
		dom[i].heap_index = NO_HEAP;
		dom[i].deadline_tsc = (uint64_t)rand() * 1000 + (uint64_t)i;
		CHECK_EQ_INT(dh_insert(&h, &dom[i]), 0);
	}
	check_heap(&h);
	for (int i = 0; i < N; i += 3)          /* remove from the middle */
		dh_remove(&h, &dom[i]);
	check_heap(&h);
	dh_remove(&h, &dom[0]);                 /* already removed: no-op */
	CHECK_EQ_INT(h.len, N - (N + 2) / 3);
	while (dh_min(&h)) {                    /* pops come out sorted */
		struct domain *d = dh_min(&h);

		if (!CHECK(d->deadline_tsc >= last))
			break;
		last = d->deadline_tsc;
		dh_remove(&h, d);
		CHECK_EQ_U64(d->heap_index, NO_HEAP);
	}
	free(h.slot);
}

int main(void)
{
	RUN(test_heap_order);
	return harness_report();
}
