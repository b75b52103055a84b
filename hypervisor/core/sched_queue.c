/* The deadline heap (see hv/sched_queue.h). */
#include <hv/domain.h>
#include <hv/lib.h>
#include <hv/mm.h>
#include <hv/sched_queue.h>

static void dh_set(struct deadline_heap *h, uint32_t i, struct domain *d)
{
	h->slot[i] = d;
	d->heap_index = i;
}

static void dh_up(struct deadline_heap *h, uint32_t i)
{
	while (i && h->slot[(i - 1) / 2]->deadline_tsc > h->slot[i]->deadline_tsc) {
		struct domain *p = h->slot[(i - 1) / 2];

		dh_set(h, (i - 1) / 2, h->slot[i]);
		dh_set(h, i, p);
		i = (i - 1) / 2;
	}
}

static void dh_down(struct deadline_heap *h, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		struct domain *t;

		if (l < h->len && h->slot[l]->deadline_tsc < h->slot[m]->deadline_tsc)
			m = l;
		if (r < h->len && h->slot[r]->deadline_tsc < h->slot[m]->deadline_tsc)
			m = r;
		if (m == i)
			return;
		t = h->slot[m];
		dh_set(h, m, h->slot[i]);
		dh_set(h, i, t);
		i = m;
	}
}

static int dh_grow(struct deadline_heap *h)
{
	uint32_t cap = h->cap ? h->cap * 2 : 64;
	struct domain **n = kmalloc(cap * sizeof(*n));

	if (!n)
		return -1;
	if (h->slot)
		memcpy(n, h->slot, h->len * sizeof(*n));
	kfree(h->slot);
	h->slot = n;
	h->cap = cap;
	return 0;
}

int dh_insert(struct deadline_heap *h, struct domain *d)
{
	if (h->len == h->cap && dh_grow(h))
		return -1;
	dh_set(h, h->len++, d);
	dh_up(h, d->heap_index);
	return 0;
}

void dh_remove(struct deadline_heap *h, struct domain *d)
{
	uint32_t i = d->heap_index;

	if (i == NO_HEAP)
		return;
	d->heap_index = NO_HEAP;
	if (i != --h->len) {
		dh_set(h, i, h->slot[h->len]);
		dh_up(h, i);
		dh_down(h, h->slot[i]->heap_index);
	}
}
