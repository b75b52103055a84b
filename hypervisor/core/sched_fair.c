/* Fair-share scheduling policy (see hv/sched_fair.h for the policy and its
 * bounds).  Freestanding: no locks, no allocation, no hypervisor headers. */
#include <hv/sched_fair.h>

/* A vruntime this far ahead of min_vruntime can only be one that wrapped
 * while its entity slept (nothing legitimately runs 2^62 virtual ns ahead). */
#define LAG_HORIZON (INT64_C(1) << 62)

/* ---- virtual time: wrap-safe, overflow-free ------------------------------ */

/* a - b as a signed distance: correct whenever |a - b| < 2^63. */
static int64_t vt_diff(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b);
}

/* ns of running at this weight, in virtual ns; ns <= FAIR_BASE_SLICE_MAX_NS. */
static uint64_t to_virtual(uint64_t ns, uint32_t weight)
{
	return ns * FAIR_WEIGHT_DEFAULT / weight;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* ran_ns more in e's vruntime, exactly: the remainder carries over. */
static void advance(struct fair_entity *e, uint64_t ran_ns)
{
	uint64_t scaled = min_u64(ran_ns, FAIR_MAX_CHARGE_NS) * FAIR_WEIGHT_DEFAULT + e->vremainder;

	e->vruntime += scaled / e->weight;
	e->vremainder = (uint32_t)(scaled % e->weight);
}

static uint32_t clamp_weight(uint32_t weight)
{
	if (weight < FAIR_WEIGHT_MIN)
		return FAIR_WEIGHT_MIN;
	return weight > FAIR_WEIGHT_MAX ? FAIR_WEIGHT_MAX : weight;
}

/* ---- load: written under the lock, readable without it ------------------- */

static void weight_add(struct fair_queue *q, int64_t weight)
{
	__atomic_store_n(&q->total_weight, q->total_weight + (uint64_t)weight,
			 __ATOMIC_RELAXED);
}

static void load_add(struct fair_queue *q, int32_t count, int64_t weight)
{
	__atomic_store_n(&q->count, q->count + (uint32_t)count, __ATOMIC_RELAXED);
	weight_add(q, weight);
}

struct fair_load fair_load(const struct fair_queue *q)
{
	return (struct fair_load){
		.count = __atomic_load_n(&q->count, __ATOMIC_RELAXED),
		.weight = __atomic_load_n(&q->total_weight, __ATOMIC_RELAXED),
	};
}

/* ---- the heap, ordered by (vruntime, seq) -------------------------------- */

static bool runs_before(const struct fair_entity *a, const struct fair_entity *b)
{
	int64_t d = vt_diff(a->vruntime, b->vruntime);

	return d < 0 || (d == 0 && a->seq < b->seq);
}

static void heap_set(struct fair_queue *q, uint32_t i, struct fair_entity *e)
{
	q->slot[i] = e;
	e->heap_index = i;
}

static void sift_up(struct fair_queue *q, uint32_t i)
{
	struct fair_entity *e = q->slot[i];

	while (i && runs_before(e, q->slot[(i - 1) / 2])) {
		heap_set(q, i, q->slot[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(q, i, e);
}

static uint32_t first_child(const struct fair_queue *q, uint32_t i)
{
	uint32_t l = 2 * i + 1, r = l + 1;

	if (r < q->count && runs_before(q->slot[r], q->slot[l]))
		return r;
	return l;
}

static void sift_down(struct fair_queue *q, uint32_t i)
{
	struct fair_entity *e = q->slot[i];

	while (2 * i + 1 < q->count) {
		uint32_t c = first_child(q, i);

		if (!runs_before(q->slot[c], e))
			break;
		heap_set(q, i, q->slot[c]);
		i = c;
	}
	heap_set(q, i, e);
}

/* Every enqueue: e goes in at the given vruntime, or nothing changes. */
static int insert_at(struct fair_queue *q, struct fair_entity *e, uint64_t vruntime)
{
	if (q->count == q->cap || e->heap_index != FAIR_NOT_QUEUED)
		return -1;
	e->vruntime = vruntime;
	e->seq = q->next_seq++;
	q->slot[q->count] = e;
	load_add(q, 1, e->weight);
	sift_up(q, q->count - 1);
	return 0;
}

void fair_dequeue(struct fair_queue *q, struct fair_entity *e)
{
	uint32_t i = e->heap_index;
	struct fair_entity *last;

	if (i == FAIR_NOT_QUEUED)
		return;
	e->heap_index = FAIR_NOT_QUEUED;
	load_add(q, -1, -(int64_t)e->weight);
	if (i == q->count)
		return;
	last = q->slot[q->count];   /* fills the hole, then finds its level */
	heap_set(q, i, last);
	sift_up(q, i);
	sift_down(q, last->heap_index);
}

/* ---- placement ------------------------------------------------------------ */

static int64_t lag_of(const struct fair_queue *q, const struct fair_entity *e)
{
	return vt_diff(e->vruntime, q->min_vruntime);
}

/* Where an entity with this lag goes: never more than its credit behind
 * min_vruntime, whatever it slept; a wrapped vruntime counts as long asleep. */
static uint64_t placed(const struct fair_queue *q, const struct fair_entity *e,
		       int64_t lag)
{
	int64_t credit = (int64_t)to_virtual(fair_wake_credit_ns(q), e->weight);

	if (lag < -credit || lag > LAG_HORIZON)
		lag = -credit;
	return q->min_vruntime + (uint64_t)lag;
}

int fair_enqueue_new(struct fair_queue *q, struct fair_entity *e)
{
	return insert_at(q, e, q->min_vruntime);
}

int fair_enqueue_wakeup(struct fair_queue *q, struct fair_entity *e)
{
	return insert_at(q, e, placed(q, e, lag_of(q, e)));
}

int fair_requeue(struct fair_queue *q, struct fair_entity *e)
{
	return insert_at(q, e, e->vruntime);
}

int64_t fair_migrate_out(struct fair_queue *q, struct fair_entity *e)
{
	fair_dequeue(q, e);
	return lag_of(q, e);
}

void fair_migrate_in(struct fair_queue *q, struct fair_entity *e, int64_t lag)
{
	e->vruntime = placed(q, e, lag);
}

/* ---- picking, charging, min_vruntime -------------------------------------- */

struct fair_entity *fair_peek(const struct fair_queue *q)
{
	return q->count ? q->slot[0] : NULL;
}

/* fair_update_min(), inline in the switch path's operations. */
static inline void raise_min(struct fair_queue *q, const struct fair_entity *running)
{
	const struct fair_entity *first = fair_peek(q);

	if (!first || (running && vt_diff(running->vruntime, first->vruntime) < 0))
		first = running;
	if (first && vt_diff(first->vruntime, q->min_vruntime) > 0)
		q->min_vruntime = first->vruntime;
}

void fair_update_min(struct fair_queue *q, const struct fair_entity *running)
{
	raise_min(q, running);
}

/* e was just taken to run and runs before every queued entity, so the
 * smallest vruntime of the running and queued ones is its own. */
static void advance_min(struct fair_queue *q, const struct fair_entity *e)
{
	if (vt_diff(e->vruntime, q->min_vruntime) > 0)
		q->min_vruntime = e->vruntime;
}

/* The root leaves; the last entity fills it and only sinks (no sift up). */
static void pop_root(struct fair_queue *q, struct fair_entity *e)
{
	e->heap_index = FAIR_NOT_QUEUED;
	load_add(q, -1, -(int64_t)e->weight);
	if (!q->count)
		return;
	heap_set(q, 0, q->slot[q->count]);
	sift_down(q, 0);
}

struct fair_entity *fair_pick_next(struct fair_queue *q)
{
	struct fair_entity *e = fair_peek(q);

	if (!e)
		return NULL;
	pop_root(q, e);
	advance_min(q, e);
	return e;
}

/* The root leaves and e takes its place, sinking to its level. */
static void replace_root(struct fair_queue *q, struct fair_entity *e)
{
	struct fair_entity *root = q->slot[0];

	root->heap_index = FAIR_NOT_QUEUED;
	weight_add(q, (int64_t)e->weight - (int64_t)root->weight);
	heap_set(q, 0, e);
	if (q->count > 1)          /* one waiter (two domains on a CPU): nothing below */
		sift_down(q, 0);
}

/* A yield or a slice end: e is charged and goes back with a fresh seq, as
 * fair_requeue() gives it, and whoever runs first leaves.  e enters the
 * heap only when the root runs before it, replacing the root, so the
 * common cases cost one comparison or one sift down instead of a sift up
 * and a sift down; min_vruntime is raised once, to whoever runs. */
struct fair_entity *fair_requeue_pick(struct fair_queue *q, struct fair_entity *e, uint64_t ran_ns)
{
	struct fair_entity *first = fair_peek(q);

	advance(e, ran_ns);
	if (e->heap_index != FAIR_NOT_QUEUED) {  /* as fair_requeue(): refused */
		raise_min(q, e);
		return fair_pick_next(q);
	}
	e->seq = q->next_seq++;
	if (first && runs_before(first, e)) {
		replace_root(q, e);
		e = first;
	}
	advance_min(q, e);
	return e;
}

void fair_charge(struct fair_queue *q, struct fair_entity *running, uint64_t ran_ns)
{
	advance(running, ran_ns);
	raise_min(q, running);
}

/* ---- slices and preemption ------------------------------------------------ */

uint64_t fair_slice(const struct fair_queue *q, const struct fair_entity *running)
{
	uint64_t total = q->total_weight + running->weight;
	uint64_t share = q->base_slice_ns * running->weight / total;

	return min_u64(q->base_slice_ns, max_u64(share, FAIR_MIN_GRANULARITY_NS));
}

bool fair_should_preempt(const struct fair_queue *q, const struct fair_entity *running,
			 const struct fair_entity *woken)
{
	if (!running)
		return true;
	return vt_diff(running->vruntime, woken->vruntime) >
	       (int64_t)to_virtual(fair_wake_gran_ns(q), woken->weight);
}

/* ---- set-up --------------------------------------------------------------- */

void fair_entity_init(struct fair_entity *e, uint32_t weight)
{
	*e = (struct fair_entity){
		.weight = clamp_weight(weight),
		.heap_index = FAIR_NOT_QUEUED,
	};
}

void fair_queue_init(struct fair_queue *q, struct fair_entity **slot,
		     uint32_t cap, uint64_t base_slice_ns)
{
	*q = (struct fair_queue){
		.slot = slot,
		.cap = cap,
		.base_slice_ns = min_u64(max_u64(base_slice_ns, FAIR_BASE_SLICE_MIN_NS),
					 FAIR_BASE_SLICE_MAX_NS),
	};
}

void fair_set_weight(struct fair_queue *q, struct fair_entity *e, uint32_t weight)
{
	uint32_t w = clamp_weight(weight);

	if (e->heap_index != FAIR_NOT_QUEUED)
		load_add(q, 0, (int64_t)w - (int64_t)e->weight);
	e->weight = w;
	e->vremainder = 0;
}
