/* The scheduler's fair-share policy: weighted virtual time, one queue per CPU.
 *
 * Pure policy, no mechanism.  No locks: the caller holds its CPU's run-queue
 * lock around every call (fair_load() excepted).  No allocation: the caller
 * gives the heap's storage.  No domains: struct fair_entity is embedded in
 * the caller's domain, which it gets back with container_of.  Only
 * <stdint.h>, <stdbool.h> and <stddef.h>, so the same file builds in the
 * hypervisor and in tests/unit/test_sched_fair.c, which simulates a CPU.
 *
 * THE POLICY (in the spirit of Linux CFS/EEVDF and Xen credit2)
 *   Every entity has a weight (FAIR_WEIGHT_DEFAULT = 256 is "one share") and
 *   a vruntime: the ns it ran times 256 / weight.  A CPU runs the queued
 *   entity with the smallest vruntime (ties: first queued first), so each
 *   runnable entity gets CPU in proportion to its weight.  The running
 *   entity is not in the queue.  min_vruntime follows the smallest vruntime
 *   of the running and queued entities and never goes back; it is where
 *   newcomers and sleepers are placed:
 *     new          at min_vruntime: it neither owes nor is owed.
 *     wake-up      at max(own vruntime, min_vruntime - credit), credit being
 *                  fair_wake_credit_ns() (half a base slice) of its own
 *                  running time, i.e. scaled by 256 / weight.  Sleeping
 *                  longer earns nothing more, so blocking never buys priority.
 *     preempted or yielded: keeps its vruntime, so yielding gains nothing.
 *   Slice: the base slice shared by weight among the runnable entities
 *   (base * weight / total weight), never below FAIR_MIN_GRANULARITY_NS
 *   (a long queue must not switch too fast to do work) and never above the
 *   base slice (which wins if shorter): each runnable entity runs about
 *   once per base slice.
 *   Wake-up preemption: a woken entity preempts the running one only when
 *   its vruntime is more than fair_wake_gran_ns() (scaled by its weight)
 *   smaller.  A sleeper that was owed time runs at once; a frequent waker
 *   that has had its share waits for the slice end like anyone else, so it
 *   cannot chop a spinner's slices.
 *
 * FAIRNESS BOUND
 *   Every queued or running entity's vruntime stays within
 *   [min_vruntime - credit, min_vruntime + one slice]: it is placed no lower
 *   than the credit, and it was the smallest when picked and runs one slice
 *   at most.  So over ANY interval, an entity that blocks, wakes and yields
 *   as it likes gets at most
 *       fair_wake_credit_ns() + its slice + the other's slice  (<= 2.5 base)
 *   more CPU (weight-normalised: ns * 256 / weight) than one on the same
 *   queue that never blocks.  The excess is a constant, so in the long run its share is its
 *   weight's share however it times its blocking.  A never-yielding spinner
 *   against a yielder that never blocks: at most the two slices.
 *
 * WAKE-UP LATENCY BOUND
 *   Call a sleeper an entity placed at min_vruntime - credit on wake-up
 *   (it slept long enough to be owed the whole credit).
 *   - It preempts AT ONCE any running entity whose vruntime is at or above
 *     min_vruntime (anything that did not itself just wake with credit),
 *     because the credit (base / 2) exceeds the wake granularity (<= base / 4).
 *   - Otherwise each other runnable entity runs at most one slice before it
 *     (one lighter than the sleeper, w_j < w, up to credit * (1 - w_j / w)
 *     more).  With n runnable entities of equal weight (the sleeper included)
 *     and no other entity blocking meanwhile, it starts within
 *         (n - 1) * min(base, max(base / n, FAIR_MIN_GRANULARITY_NS))
 *     e.g. 7.5 ms for base 10 ms and n = 4; about one base slice while
 *     n * FAIR_MIN_GRANULARITY_NS <= base.
 *   These hold if the caller re-reads fair_slice() for the running entity
 *   whenever an enqueue did not preempt it (its share shrank).
 *
 * THE CALLER'S LOOP (one CPU; q locked)
 *   e = fair_pick_next(q); arm the one-shot timer for fair_slice(q, e).
 *   On any exit from the guest: fair_charge(q, e, ns since last charge);
 *     slice over, preempted, yielded -> fair_requeue(q, e), pick again
 *       (or charge, requeue and pick at once: fair_requeue_pick(q, e, ns));
 *     blocked -> nothing (it is not queued), pick again.
 *   On a wake-up: charge e, fair_enqueue_wakeup(q, d); if fair_should_preempt(q, e, d)
 *     reschedule, else re-arm the timer with fair_slice(q, e).  (The caller
 *     may decline to preempt, e.g. for a wake-up by a hypercall, to batch.)
 *   Idle CPU: pick the busiest by fair_load(), move one entity with
 *     lag = fair_migrate_out(src, e) under src's lock, then
 *     fair_migrate_in(dst, e, lag) under dst's lock: never both locks held.
 *
 * Limits: comparisons are wrap-safe, so vruntime may overflow; an entity
 * blocked while min_vruntime advances more than 3 * 2^62 (1.7 years of a
 * weight-1 entity running alone, 438 years at weight 256) may wake far ahead.
 */
#ifndef HV_SCHED_FAIR_H
#define HV_SCHED_FAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAIR_WEIGHT_MIN         1u
#define FAIR_WEIGHT_DEFAULT     256u
#define FAIR_WEIGHT_MAX         65535u
#define FAIR_NOT_QUEUED         UINT32_MAX

/* The base slice is clamped to the manifest's time_slice range. */
#define FAIR_BASE_SLICE_MIN_NS  100000ull         /* 100 us */
#define FAIR_BASE_SLICE_MAX_NS  1000000000ull     /* 1 s */
#define FAIR_MIN_GRANULARITY_NS 1000000ull        /* shortest slice: 1 ms */
#define FAIR_WAKE_GRANULARITY_NS 1000000ull       /* preemption hysteresis: 1 ms */

/* One charge larger than this (18 minutes) is a stall, not work: clamped,
 * so ns * FAIR_WEIGHT_DEFAULT cannot overflow 64 bits. */
#define FAIR_MAX_CHARGE_NS      (1ull << 40)

/* Embedded in the caller's domain; set up by fair_entity_init(). */
struct fair_entity {
	uint64_t vruntime;      /* weighted virtual ns: ns run * 256 / weight */
	uint64_t seq;           /* enqueue order: equal vruntimes run first come, first served */
	uint32_t weight;        /* FAIR_WEIGHT_MIN..FAIR_WEIGHT_MAX */
	uint32_t heap_index;    /* slot in its queue's heap, or FAIR_NOT_QUEUED */
	uint32_t vremainder;    /* (ns * 256) % weight carried to the next charge */
};

/* One per CPU.  The running entity is never in it. */
struct fair_queue {
	struct fair_entity **slot;  /* min-heap by (vruntime, seq); caller's storage */
	uint32_t cap;               /* slots in slot[]: enqueue fails beyond it */
	uint32_t count;             /* entities queued */
	uint64_t total_weight;      /* their weights summed */
	uint64_t min_vruntime;      /* monotonic (wrap-safe); see above */
	uint64_t next_seq;
	uint64_t base_slice_ns;
};

/* What an idle CPU compares to choose whom to steal from. */
struct fair_load {
	uint32_t count;             /* entities waiting (not the running one) */
	uint64_t weight;            /* their total weight */
};

/* The credit a sleeper keeps, in ns of its own running time. */
static inline uint64_t fair_wake_credit_ns(const struct fair_queue *q)
{
	return q->base_slice_ns / 2;
}

/* How far (in the woken entity's running ns) it must be behind to preempt. */
static inline uint64_t fair_wake_gran_ns(const struct fair_queue *q)
{
	uint64_t quarter = q->base_slice_ns / 4;

	return quarter < FAIR_WAKE_GRANULARITY_NS ? quarter : FAIR_WAKE_GRANULARITY_NS;
}

/* Weight clamped to FAIR_WEIGHT_MIN..MAX; not queued. */
void fair_entity_init(struct fair_entity *e, uint32_t weight);

/* slot[] has room for cap entities (the hypervisor: its max domains); the
 * base slice is clamped to FAIR_BASE_SLICE_MIN_NS..FAIR_BASE_SLICE_MAX_NS. */
void fair_queue_init(struct fair_queue *q, struct fair_entity **slot,
		     uint32_t cap, uint64_t base_slice_ns);

/* Enqueue: 0, or -1 when the queue is full or e is already queued (then
 * nothing changed).  They differ only in where e's vruntime is put. */
int fair_enqueue_new(struct fair_queue *q, struct fair_entity *e);     /* at min_vruntime */
int fair_enqueue_wakeup(struct fair_queue *q, struct fair_entity *e);  /* bounded credit */
int fair_requeue(struct fair_queue *q, struct fair_entity *e);         /* vruntime kept */

/* Take e out of q, from any position, O(log n); no-op when not queued. */
void fair_dequeue(struct fair_queue *q, struct fair_entity *e);

/* The entity that should run next, or NULL: fair_peek() leaves it queued;
 * fair_pick_next() removes it (it becomes the running entity) and moves
 * min_vruntime up to it. */
struct fair_entity *fair_peek(const struct fair_queue *q);
struct fair_entity *fair_pick_next(struct fair_queue *q);

/* fair_charge(q, e, ran_ns), fair_requeue(q, e), fair_pick_next(q) in one
 * cheaper step, for the running e (not queued) at a yield, a preemption or
 * a slice end: returns e itself, still not queued, when it runs before
 * every queued entity; otherwise e is queued and the entity returned was
 * removed. */
struct fair_entity *fair_requeue_pick(struct fair_queue *q, struct fair_entity *e,
				      uint64_t ran_ns);

/* The running entity ran ran_ns (clamped to FAIR_MAX_CHARGE_NS) since the
 * last charge: advance its vruntime (exactly: remainders carry over) and
 * min_vruntime.  Charge before fair_should_preempt() and fair_requeue(). */
void fair_charge(struct fair_queue *q, struct fair_entity *running, uint64_t ran_ns);

/* Raise min_vruntime to the smaller of running's (may be NULL) and the
 * queue's first vruntime, if that is higher.  fair_charge() and
 * fair_pick_next() call it; call it after a dequeue if you need it fresh. */
void fair_update_min(struct fair_queue *q, const struct fair_entity *running);

/* Slice length, ns, for the running entity as the queue stands now. */
uint64_t fair_slice(const struct fair_queue *q, const struct fair_entity *running);

/* Should the just-woken entity preempt running (NULL: CPU idle -> true)? */
bool fair_should_preempt(const struct fair_queue *q, const struct fair_entity *running,
			 const struct fair_entity *woken);

/* Migration keeps the lag, vruntime - min_vruntime, across queues whose
 * clocks differ: out removes e from q if queued and returns its lag; in
 * sets e's vruntime from the lag on q (lag below -credit is cut to -credit)
 * and does NOT enqueue (the thief runs it, or fair_requeue()s it, or it is
 * blocked and waits for fair_enqueue_wakeup()). */
int64_t fair_migrate_out(struct fair_queue *q, struct fair_entity *e);
void fair_migrate_in(struct fair_queue *q, struct fair_entity *e, int64_t lag);

/* Queue load; may be called without q's lock (fields read atomically). */
struct fair_load fair_load(const struct fair_queue *q);

/* New weight (clamped), effective from the next charge; vruntime kept. */
void fair_set_weight(struct fair_queue *q, struct fair_entity *e, uint32_t weight);

#endif
