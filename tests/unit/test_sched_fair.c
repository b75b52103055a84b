/* The fair-share policy (core/sched_fair.c): heap and arithmetic checks,
 * then a discrete-event simulation of one CPU driven only through the
 * module's API, asserting what users notice: shares, and how soon a woken
 * sleeper runs.  Each scenario prints the shares it measured. */
#include <stddef.h>
#include <stdlib.h>
#include <hv/sched_fair.h>
#include "harness.h"

#define US          1000ull
#define MS          1000000ull
#define SEC         1000000000ull
#define BASE_SLICE  (10 * MS)
#define SIM_TIME    (10 * SEC)
#define MAX_TASKS   16
#define FOREVER     UINT64_MAX

/* ---- a fixed-seed PRNG ---------------------------------------------------- */
static uint64_t prng_state = 0x9e3779b97f4a7c15ull;

static uint64_t prng(void)
{
	prng_state ^= prng_state << 13;
	prng_state ^= prng_state >> 7;
	prng_state ^= prng_state << 17;
	return prng_state;
}

static uint64_t prng_below(uint64_t n)
{
	return prng() % n;
}

/* ---- heap and arithmetic -------------------------------------------------- */
#define HEAP_N 200

/* (vruntime, seq) order, as the module defines it. */
static bool runs_before(const struct fair_entity *a, const struct fair_entity *b)
{
	int64_t d = (int64_t)(a->vruntime - b->vruntime);

	return d < 0 || (d == 0 && a->seq < b->seq);
}

static bool heap_ok(const struct fair_queue *q, const struct fair_entity *all, int n)
{
	uint64_t weight = 0;
	uint32_t queued = 0;

	for (uint32_t i = 0; i < q->count; i++) {
		const struct fair_entity *e = q->slot[i];

		if (e->heap_index != i || (i && runs_before(e, q->slot[(i - 1) / 2])))
			return false;
		weight += e->weight;
	}
	for (int i = 0; i < n; i++)
		queued += all[i].heap_index != FAIR_NOT_QUEUED;
	return queued == q->count && weight == q->total_weight &&
	       fair_load(q).count == q->count && fair_load(q).weight == weight;
}

/* One random operation on a random entity (failures, e.g. enqueueing a
 * queued entity, are part of the test: they must change nothing). */
static void heap_random_op(struct fair_queue *q, struct fair_entity *all)
{
	struct fair_entity *e = &all[prng_below(HEAP_N)];
	struct fair_entity *run;

	switch (prng_below(5)) {
	case 0:
		fair_enqueue_new(q, e);
		break;
	case 1:
		if (e->heap_index == FAIR_NOT_QUEUED)    /* it slept a while */
			e->vruntime = q->min_vruntime - 20 * MS + prng_below(40 * MS);
		fair_enqueue_wakeup(q, e);
		break;
	case 2:
		fair_dequeue(q, e);
		break;
	default:
		run = fair_pick_next(q);
		if (run) {
			fair_charge(q, run, prng_below(20 * MS));
			fair_requeue(q, run);
		}
	}
}

static void test_heap_random(void)
{
	static struct fair_entity ent[HEAP_N];
	static struct fair_entity *slot[HEAP_N];
	struct fair_queue q;
	uint64_t last_min;
	bool ok = true, monotonic = true;

	fair_queue_init(&q, slot, HEAP_N, BASE_SLICE);
	q.min_vruntime = UINT64_MAX - 10 * MS;     /* cross the 2^64 wrap on the way */
	last_min = q.min_vruntime;
	for (int i = 0; i < HEAP_N; i++)
		fair_entity_init(&ent[i], 1 + (uint32_t)prng_below(FAIR_WEIGHT_MAX));
	for (int op = 0; op < 50000 && ok; op++) {
		heap_random_op(&q, ent);
		ok = heap_ok(&q, ent, HEAP_N);
		monotonic &= (int64_t)(q.min_vruntime - last_min) >= 0;
		last_min = q.min_vruntime;
	}
	CHECK(ok);
	CHECK(monotonic);
	CHECK(q.min_vruntime < 1 * SEC);        /* it did wrap */
	CHECK(q.count > HEAP_N / 4);
	for (struct fair_entity *e, *prev = NULL; (e = fair_pick_next(&q)); prev = e)
		if (prev && !CHECK(!runs_before(e, prev)))   /* drained in order */
			break;
}

/* Two queues fed the same random operations; at every yield A takes the
 * three steps (fair_charge, fair_requeue, fair_pick_next) and B the one
 * (fair_requeue_pick).  They must pick the same entity and agree on every
 * observable: queued set, load, min_vruntime, seq, vruntimes. */
struct twin { struct fair_queue q; struct fair_entity e[HEAP_N], *slot[HEAP_N], *run; };

static bool twins_agree(const struct twin *a, const struct twin *b)
{
	if (a->q.count != b->q.count || a->q.total_weight != b->q.total_weight ||
	    a->q.min_vruntime != b->q.min_vruntime || a->q.next_seq != b->q.next_seq ||
	    (a->run ? a->run - a->e : -1) != (b->run ? b->run - b->e : -1))
		return false;
	for (int i = 0; i < HEAP_N; i++) {
		const struct fair_entity *x = &a->e[i], *y = &b->e[i];

		if (x->vruntime != y->vruntime || x->seq != y->seq || x->vremainder != y->vremainder ||
		    (x->heap_index == FAIR_NOT_QUEUED) != (y->heap_index == FAIR_NOT_QUEUED))
			return false;
	}
	return heap_ok(&a->q, a->e, HEAP_N) && heap_ok(&b->q, b->e, HEAP_N);
}

/* The yield (or slice end) of the running entity, charged ns first. */
static void twin_yield(struct twin *t, uint64_t ns, bool one_step)
{
	if (!t->run) {
		t->run = fair_pick_next(&t->q);
		return;
	}
	if (one_step) {
		t->run = fair_requeue_pick(&t->q, t->run, ns);
		return;
	}
	fair_charge(&t->q, t->run, ns);
	fair_requeue(&t->q, t->run);
	t->run = fair_pick_next(&t->q);
}

static void twin_op(struct twin *t, uint32_t op, uint32_t i, uint64_t arg, bool one_step)
{
	struct fair_entity *e = &t->e[i];

	if (e == t->run && op < 3)      /* the running entity is never enqueued */
		op = 3;
	switch (op) {
	case 0:
		fair_enqueue_new(&t->q, e);
		break;
	case 1:
		if (e->heap_index == FAIR_NOT_QUEUED)
			e->vruntime = t->q.min_vruntime - 20 * MS + arg % (40 * MS);
		fair_enqueue_wakeup(&t->q, e);
		break;
	case 2:
		fair_dequeue(&t->q, e);
		break;
	case 3:                          /* the running entity blocks */
		if (t->run)
			fair_charge(&t->q, t->run, arg % (20 * MS));
		t->run = NULL;
		break;
	default:
		twin_yield(t, arg & 1 ? arg % (3 * MS) : 0, one_step);   /* 0: ties */
	}
}

static void test_requeue_pick(void)
{
	static struct twin a, b;
	struct fair_entity lone, *lone_slot[1];
	struct fair_queue lq;
	bool ok = true;

	fair_queue_init(&a.q, a.slot, HEAP_N, BASE_SLICE);
	a.q.min_vruntime = UINT64_MAX - 10 * MS;     /* across the wrap */
	for (int i = 0; i < HEAP_N; i++)
		fair_entity_init(&a.e[i], i % 7 ? FAIR_WEIGHT_DEFAULT : 1 + (uint32_t)prng_below(2048));
	b = a;
	b.q.slot = b.slot;
	for (int op = 0; op < 100000 && ok; op++) {
		uint32_t kind = (uint32_t)prng_below(10), i = (uint32_t)prng_below(HEAP_N / 4);
		uint64_t arg = prng();

		twin_op(&a, kind, i, arg, false);
		twin_op(&b, kind, i, arg, true);
		ok = twins_agree(&a, &b);
	}
	CHECK(ok);
	/* Alone, and on ties: the running entity goes on only when strictly ahead. */
	fair_queue_init(&lq, lone_slot, 1, BASE_SLICE);
	fair_entity_init(&lone, FAIR_WEIGHT_DEFAULT);
	CHECK(fair_requeue_pick(&lq, &lone, 0) == &lone && lq.count == 0);
	fair_entity_init(&a.e[0], FAIR_WEIGHT_DEFAULT);
	fair_entity_init(&a.e[1], FAIR_WEIGHT_DEFAULT);
	fair_queue_init(&a.q, a.slot, HEAP_N, BASE_SLICE);
	fair_requeue(&a.q, &a.e[1]);
	CHECK(fair_requeue_pick(&a.q, &a.e[0], 0) == &a.e[1]);    /* equal vruntime: the waiter */
	CHECK(a.e[0].heap_index == 0 && a.e[1].heap_index == FAIR_NOT_QUEUED);
	CHECK(fair_requeue_pick(&a.q, &a.e[1], 0) == &a.e[0]);
	fair_dequeue(&a.q, &a.e[1]);
	a.e[1].vruntime = 1;
	fair_requeue(&a.q, &a.e[1]);
	CHECK(fair_requeue_pick(&a.q, &a.e[0], 0) == &a.e[0]);    /* strictly ahead: goes on */
	CHECK(a.e[0].heap_index == FAIR_NOT_QUEUED && a.q.count == 1);
	CHECK(fair_requeue_pick(&a.q, &a.e[1], 0) == &a.e[1]);    /* already queued: a plain pick */
	CHECK(a.q.count == 0);
}

static void test_heap_full_and_order(void)
{
	struct fair_entity ent[8], *slot[8], *e, *prev = NULL;
	struct fair_queue q;

	fair_queue_init(&q, slot, 8, BASE_SLICE);
	for (int i = 0; i < 8; i++) {
		fair_entity_init(&ent[i], FAIR_WEIGHT_DEFAULT);
		ent[i].vruntime = (uint64_t)(i % 3) * MS;      /* ties on purpose */
		CHECK_EQ_INT(fair_requeue(&q, &ent[i]), 0);
	}
	CHECK_EQ_INT(fair_requeue(&q, &ent[0]), -1);         /* already queued */
	fair_dequeue(&q, &ent[3]);
	fair_dequeue(&q, &ent[3]);                           /* twice: no-op */
	CHECK_EQ_INT(q.count, 7);
	CHECK_EQ_INT(fair_enqueue_new(&q, &ent[3]), 0);
	CHECK_EQ_INT(fair_enqueue_new(&q, &(struct fair_entity){ .heap_index = FAIR_NOT_QUEUED,
							     .weight = 1 }), -1);   /* full */
	while ((e = fair_pick_next(&q))) {                   /* (vruntime, seq) order */
		if (prev)
			CHECK(runs_before(prev, e));
		CHECK_EQ_U64(e->heap_index, FAIR_NOT_QUEUED);
		prev = e;
	}
	CHECK(q.count == 0 && q.total_weight == 0);
	CHECK_EQ_U64(q.min_vruntime, 2 * MS);
}

static void test_weight_math(void)
{
	struct fair_entity *slot[4], a, b, c, d;
	struct fair_queue q;

	fair_queue_init(&q, slot, 4, BASE_SLICE);
	fair_entity_init(&a, FAIR_WEIGHT_DEFAULT);
	fair_entity_init(&b, 512);
	fair_entity_init(&c, 0);                  /* clamped to 1 */
	fair_entity_init(&d, 100000);             /* clamped to 65535 */
	CHECK_EQ_INT(c.weight, FAIR_WEIGHT_MIN);
	CHECK_EQ_INT(d.weight, FAIR_WEIGHT_MAX);
	fair_charge(&q, &a, 1000);
	fair_charge(&q, &b, 1000);
	fair_charge(&q, &c, 1000);
	CHECK_EQ_U64(a.vruntime, 1000);
	CHECK_EQ_U64(b.vruntime, 500);
	CHECK_EQ_U64(c.vruntime, 256000);
	for (int i = 0; i < 1000; i++)            /* 100 ns each: 0.39 virtual ns */
		fair_charge(&q, &d, 100);
	CHECK_EQ_U64(d.vruntime, 100000ull * 256 / 65535);   /* nothing lost */
	fair_charge(&q, &c, UINT64_MAX);          /* clamped: no overflow */
	CHECK_EQ_U64(c.vruntime, 256000 + FAIR_MAX_CHARGE_NS * 256);
	CHECK_EQ_U64(q.min_vruntime, c.vruntime); /* follows the running entity */
}

static void test_slice_and_preempt(void)
{
	struct fair_entity *slot[32], e[32];
	struct fair_queue q;

	fair_queue_init(&q, slot, 32, BASE_SLICE);
	for (int i = 0; i < 32; i++)
		fair_entity_init(&e[i], i == 1 ? 512 : FAIR_WEIGHT_DEFAULT);
	CHECK_EQ_U64(fair_slice(&q, &e[0]), BASE_SLICE);          /* alone */
	fair_enqueue_new(&q, &e[2]);
	CHECK_EQ_U64(fair_slice(&q, &e[0]), BASE_SLICE / 2);
	CHECK_EQ_U64(fair_slice(&q, &e[1]), BASE_SLICE * 2 / 3);  /* by weight */
	for (int i = 3; i < 32; i++)
		fair_enqueue_new(&q, &e[i]);
	CHECK_EQ_U64(fair_slice(&q, &e[0]), FAIR_MIN_GRANULARITY_NS);
	fair_queue_init(&q, slot, 32, 1);                         /* clamped base */
	CHECK_EQ_U64(q.base_slice_ns, FAIR_BASE_SLICE_MIN_NS);
	CHECK_EQ_U64(fair_slice(&q, &e[0]), FAIR_BASE_SLICE_MIN_NS);

	fair_queue_init(&q, slot, 32, BASE_SLICE);
	e[0].vruntime = 10 * MS;
	e[2].vruntime = 9 * MS;                   /* exactly one granularity behind */
	CHECK(!fair_should_preempt(&q, &e[0], &e[2]));
	e[2].vruntime--;
	CHECK(fair_should_preempt(&q, &e[0], &e[2]));
	e[1].vruntime = 9 * MS + MS / 2;          /* weight 512: half the virtual gran */
	CHECK(!fair_should_preempt(&q, &e[0], &e[1]));
	e[1].vruntime--;
	CHECK(fair_should_preempt(&q, &e[0], &e[1]));
	CHECK(fair_should_preempt(&q, NULL, &e[1]));
}

static void test_wakeup_placement(void)
{
	struct fair_entity *slot[4], e, h;
	struct fair_queue q;
	uint64_t credit;

	fair_queue_init(&q, slot, 4, BASE_SLICE);
	credit = fair_wake_credit_ns(&q);
	CHECK_EQ_U64(credit, BASE_SLICE / 2);
	q.min_vruntime = 1 * SEC;
	fair_entity_init(&e, FAIR_WEIGHT_DEFAULT);
	fair_entity_init(&h, 512);
	CHECK_EQ_INT(fair_enqueue_wakeup(&q, &e), 0);      /* slept "forever" */
	CHECK_EQ_U64(e.vruntime, 1 * SEC - credit);
	h.vruntime = 1 * SEC;                               /* heavy: half the virtual credit */
	fair_enqueue_wakeup(&q, &h);
	CHECK_EQ_U64(h.vruntime, 1 * SEC);
	fair_dequeue(&q, &h);
	h.vruntime = 0;
	fair_enqueue_wakeup(&q, &h);
	CHECK_EQ_U64(h.vruntime, 1 * SEC - credit / 2);
	fair_dequeue(&q, &e);
	e.vruntime = 1 * SEC + 3 * MS;                      /* ahead: stays ahead */
	fair_enqueue_wakeup(&q, &e);
	CHECK_EQ_U64(e.vruntime, 1 * SEC + 3 * MS);
	fair_dequeue(&q, &e);
	e.vruntime = 1 * SEC + (1ull << 62) + 1;            /* wrapped while asleep */
	fair_enqueue_wakeup(&q, &e);
	CHECK_EQ_U64(e.vruntime, 1 * SEC - credit);
}

static void test_migration_lag(void)
{
	struct fair_entity *sa[2], *sb[2], e;
	struct fair_queue a, b;
	int64_t lag;

	fair_queue_init(&a, sa, 2, BASE_SLICE);
	fair_queue_init(&b, sb, 2, BASE_SLICE);
	a.min_vruntime = 5 * SEC;
	b.min_vruntime = 7 * MS;
	fair_entity_init(&e, FAIR_WEIGHT_DEFAULT);
	e.vruntime = 5 * SEC - 3 * MS;
	fair_requeue(&a, &e);
	lag = fair_migrate_out(&a, &e);
	CHECK_EQ_INT(lag, -(int64_t)(3 * MS));
	CHECK(a.count == 0 && e.heap_index == FAIR_NOT_QUEUED);
	fair_migrate_in(&b, &e, lag);
	CHECK_EQ_U64(e.vruntime, 4 * MS);                   /* 7 ms - 3 ms */
	CHECK_EQ_INT(b.count, 0);                           /* not enqueued */
	fair_migrate_in(&b, &e, 2 * (int64_t)MS);
	CHECK_EQ_U64(e.vruntime, 9 * MS);
	fair_migrate_in(&b, &e, -(int64_t)SEC);             /* cut to the credit */
	CHECK_EQ_U64(e.vruntime, 7 * MS - fair_wake_credit_ns(&b));
	b.min_vruntime = 0;                                 /* below zero: wraps, still behind */
	fair_migrate_in(&b, &e, -(int64_t)MS);
	CHECK_EQ_INT((int64_t)(e.vruntime - b.min_vruntime), -(int64_t)MS);
}

/* ---- the simulated CPU ---------------------------------------------------- */
enum behaviour {
	SPIN,       /* never blocks */
	GAME,       /* runs 95% of its slice, blocks for `pause`, again */
	YIELD,      /* runs `work`, yields, again */
	SLEEP,      /* every `period`, wakes for `work`, then blocks */
};

struct task {
	const char *name;
	enum behaviour kind;
	uint32_t weight;
	uint64_t work, period, pause;
	/* state */
	struct fair_entity fe;
	bool blocked, waiting;          /* waiting: woken, has not run yet */
	uint64_t wake_at, woke_at, burst_left;
	/* what it got */
	uint64_t ran, wakes, immediate, max_latency, late;
};

#define task_of(e) ((struct task *)((char *)(e) - offsetof(struct task, fe)))

struct sim {
	struct fair_queue q;
	struct fair_entity *slot[MAX_TASKS];
	struct task *t[MAX_TASKS];      /* the tasks on this CPU */
	int n;
	uint64_t now, start, run_start, slice_end;
	struct task *cur;
	bool preempt;
	uint64_t preemptions;
};

static uint64_t min3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t m = a < b ? a : b;

	return m < c ? m : c;
}

static void sim_init(struct sim *s, struct task *t, int n, uint64_t start_vruntime)
{
	*s = (struct sim){ .n = n };
	fair_queue_init(&s->q, s->slot, MAX_TASKS, BASE_SLICE);
	s->q.min_vruntime = start_vruntime;
	for (int i = 0; i < n; i++) {
		s->t[i] = &t[i];
		fair_entity_init(&t[i].fe, t[i].weight ? t[i].weight : FAIR_WEIGHT_DEFAULT);
		t[i].burst_left = t[i].kind == SPIN ? FOREVER : t[i].work;
		CHECK_EQ_INT(fair_enqueue_new(&s->q, &t[i].fe), 0);
	}
}

static void sim_switch_in(struct sim *s, struct task *t)
{
	uint64_t latency = s->now - t->woke_at;

	s->cur = t;
	s->run_start = s->now;
	s->slice_end = s->now + fair_slice(&s->q, &t->fe);
	if (t->kind == GAME && !t->burst_left)
		t->burst_left = (s->slice_end - s->now) * 95 / 100;
	if (!t->waiting)
		return;
	t->waiting = false;
	t->immediate += latency == 0;
	if (latency > t->max_latency)
		t->max_latency = latency;
}

static uint64_t sim_next_wake(const struct sim *s)
{
	uint64_t next = FOREVER;

	for (int i = 0; i < s->n; i++)
		if (s->t[i]->blocked && s->t[i]->wake_at < next)
			next = s->t[i]->wake_at;
	return next;
}

static void sim_wake(struct sim *s, struct task *t)
{
	t->blocked = false;
	t->waiting = true;
	t->woke_at = s->now;
	t->wakes++;
	t->burst_left = t->kind == GAME ? 0 : t->work;
	CHECK_EQ_INT(fair_enqueue_wakeup(&s->q, &t->fe), 0);
	if (!s->cur)
		return;
	if (fair_should_preempt(&s->q, &s->cur->fe, &t->fe))
		s->preempt = true;
	else    /* its share shrank: re-arm the slice timer */
		s->slice_end = s->run_start + fair_slice(&s->q, &s->cur->fe);
}

static void sim_wake_due(struct sim *s)
{
	for (int i = 0; i < s->n; i++)
		if (s->t[i]->blocked && s->t[i]->wake_at <= s->now)
			sim_wake(s, s->t[i]);
}

/* Run the current task up to `until`, charging it. */
static void sim_advance(struct sim *s, uint64_t until)
{
	struct task *t = s->cur;
	uint64_t ran = until - s->now;

	fair_charge(&s->q, &t->fe, ran);
	t->ran += ran;
	if (t->burst_left != FOREVER)
		t->burst_left -= ran;
	s->now = until;
}

static void sim_block(struct sim *s, struct task *t, uint64_t wake_at)
{
	t->blocked = true;
	t->wake_at = wake_at;
	s->cur = NULL;
}

/* The burst is over: block, or yield. */
static void sim_burst_done(struct sim *s, struct task *t)
{
	uint64_t next_period;

	switch (t->kind) {
	case GAME:
		sim_block(s, t, s->now + t->pause);
		break;
	case SLEEP:
		next_period = (s->now - s->start) / t->period * t->period + t->period;
		t->late += t->woke_at + t->period <= s->now;
		sim_block(s, t, s->start + next_period);
		break;
	default:
		t->burst_left = t->work;
		fair_requeue(&s->q, &t->fe);
		s->cur = NULL;
	}
}

static void sim_after_run(struct sim *s)
{
	struct task *t = s->cur;

	if (!t)
		return;
	if (!t->burst_left) {
		sim_burst_done(s, t);
	} else if (s->preempt || s->now >= s->slice_end) {
		s->preemptions += s->preempt && s->now < s->slice_end;
		fair_requeue(&s->q, &t->fe);
		s->cur = NULL;
	}
	s->preempt = false;
}

/* The next event: slice end, end of the burst, a wake-up, or the end. */
static uint64_t sim_next_event(const struct sim *s, uint64_t end)
{
	uint64_t wake = sim_next_wake(s) < end ? sim_next_wake(s) : end;
	uint64_t burst = s->cur->burst_left;

	return min3(s->slice_end > s->now ? s->slice_end : s->now,
		    burst == FOREVER ? FOREVER : s->now + burst, wake);
}

static void sim_step(struct sim *s, uint64_t end)
{
	struct fair_entity *e;

	if (!s->cur && (e = fair_pick_next(&s->q)))
		sim_switch_in(s, task_of(e));
	if (s->cur)
		sim_advance(s, sim_next_event(s, end));
	else                                        /* idle until a wake-up */
		s->now = sim_next_wake(s) < end ? sim_next_wake(s) : end;
	if (s->now < end)
		sim_wake_due(s);
	sim_after_run(s);
}

/* Run for `duration`; the running task ends up requeued (if still runnable). */
static void sim_run(struct sim *s, uint64_t duration)
{
	uint64_t end = s->now + duration;

	s->start = s->now;
	for (int i = 0; i < s->n; i++)
		s->t[i]->ran = 0;
	while (s->now < end)
		sim_step(s, end);
	if (s->cur)
		fair_requeue(&s->q, &s->cur->fe);
	s->cur = NULL;
}

static double share(const struct task *t, uint64_t duration)
{
	return 100.0 * (double)t->ran / (double)duration;
}

static void print_shares(const char *scenario, const struct sim *s, uint64_t duration)
{
	printf("  %-28s", scenario);
	for (int i = 0; i < s->n; i++)
		printf(" %s %5.2f%%", s->t[i]->name, share(s->t[i], duration));
	printf("  (wake-up preemptions %llu)\n", (unsigned long long)s->preemptions);
}

/* What the header promises an entity that blocks, wakes or yields at will,
 * over any interval, beyond one that never blocks (equal weights). */
static uint64_t fairness_bound(const struct fair_queue *q)
{
	return fair_wake_credit_ns(q) + 2 * q->base_slice_ns;
}

/* ---- scenarios ------------------------------------------------------------ */

/* 1. Blocking just before the slice ends must not buy priority. */
static void test_sim_slice_gaming(void)
{
	struct task t[] = {
		{ .name = "gamer", .kind = GAME, .pause = 500 * US },
		{ .name = "spinner", .kind = SPIN },
	};
	struct sim s;

	sim_init(&s, t, 2, 0);
	sim_run(&s, SIM_TIME);
	print_shares("slice gaming (95% + 0.5ms):", &s, SIM_TIME);
	CHECK(share(&t[1], SIM_TIME) >= 45.0);
	CHECK(t[0].ran <= t[1].ran + fairness_bound(&s.q));
	CHECK(t[0].wakes > 1000);                   /* it really did game */
	/* It preempts only when more than the wake granularity behind (it did
	 * get less, 5% of a slice per round): rarely, so the spinner's slices
	 * stay whole; wake-up boosting would preempt at every wake-up. */
	CHECK(s.preemptions * 10 < t[0].wakes);
}

/* 2. Weights 512 and 256 split the CPU 2:1. */
static void weighted_split(uint64_t start_vruntime, const char *label)
{
	struct task t[] = {
		{ .name = "w512", .kind = SPIN, .weight = 512 },
		{ .name = "w256", .kind = SPIN, .weight = 256 },
	};
	struct sim s;
	double ratio;

	sim_init(&s, t, 2, start_vruntime);
	sim_run(&s, SIM_TIME);
	print_shares(label, &s, SIM_TIME);
	ratio = (double)t[0].ran / (double)t[1].ran;
	CHECK(ratio >= 1.8 && ratio <= 2.2);
}

static void test_sim_weights(void)
{
	weighted_split(0, "weights 512:256:");
	weighted_split(UINT64_MAX - 1 * SEC, "weights 512:256, wrapping:");
}

/* 3. Yielding constantly gains nothing over a spinner. */
static void test_sim_yielder(void)
{
	struct task t[] = {
		{ .name = "yielder", .kind = YIELD, .work = 100 * US },
		{ .name = "spinner", .kind = SPIN },
	};
	struct sim s;

	sim_init(&s, t, 2, 0);
	sim_run(&s, SIM_TIME);
	print_shares("yield every 100us:", &s, SIM_TIME);
	CHECK(share(&t[1], SIM_TIME) >= 45.0);
	CHECK(t[0].ran <= t[1].ran + 2 * BASE_SLICE);   /* no credit: two slices */
}

/* The header's latency bound: n runnable entities of equal weight. */
static uint64_t latency_bound(const struct fair_queue *q, uint64_t n)
{
	uint64_t slice = q->base_slice_ns / n;

	if (slice < FAIR_MIN_GRANULARITY_NS)
		slice = FAIR_MIN_GRANULARITY_NS;
	if (slice > q->base_slice_ns)
		slice = q->base_slice_ns;
	return (n - 1) * slice;
}

static void report_sleeper(const struct task *z, uint64_t bound)
{
	printf("  %-28s %llu wake-ups, %llu ran at once, max latency %llu us"
	       " (bound %llu us), %llu late\n", z->name,
	       (unsigned long long)z->wakes, (unsigned long long)z->immediate,
	       (unsigned long long)(z->max_latency / US),
	       (unsigned long long)(bound / US), (unsigned long long)z->late);
}

/* 4. A sleeper (50 us every 10 ms) beside three spinners runs at once. */
static void test_sim_sleeper(void)
{
	struct task t[] = {
		{ .name = "sleeper", .kind = SLEEP, .work = 50 * US, .period = 10 * MS },
		{ .name = "spin1", .kind = SPIN },
		{ .name = "spin2", .kind = SPIN },
		{ .name = "spin3", .kind = SPIN },
	};
	uint64_t periods = SIM_TIME / (10 * MS);
	uint64_t bound;
	struct sim s;

	sim_init(&s, t, 4, 0);
	bound = latency_bound(&s.q, 4);
	sim_run(&s, SIM_TIME);
	print_shares("sleeper + 3 spinners:", &s, SIM_TIME);
	report_sleeper(&t[0], bound);
	CHECK_EQ_U64(bound, 7500 * US);
	CHECK(t[0].max_latency <= bound);
	CHECK_EQ_U64(t[0].immediate, t[0].wakes);   /* a sleeper preempts at once */
	CHECK_EQ_U64(t[0].wakes, periods - 1);
	CHECK_EQ_U64(t[0].ran, periods * 50 * US);  /* all its work, every period */
	CHECK_EQ_U64(t[0].late, 0);
}

/* 4b. Sleepers waking together cannot all preempt: the bound still holds. */
static void test_sim_sleepers_together(void)
{
	struct task t[6] = {
		{ .name = "spin1", .kind = SPIN },
		{ .name = "spin2", .kind = SPIN },
		{ .name = "spin3", .kind = SPIN },
	};
	uint64_t bound;
	struct sim s;

	for (int i = 3; i < 6; i++)
		t[i] = (struct task){ .name = "sleeperN", .kind = SLEEP, .work = 1 * MS,
				      .period = 10 * MS };
	t[3].name = "sleeper1", t[4].name = "sleeper2", t[5].name = "sleeper3";
	sim_init(&s, t, 6, 0);
	bound = latency_bound(&s.q, 6);
	sim_run(&s, SIM_TIME);
	print_shares("3 sleepers (1ms/10ms) + 3:", &s, SIM_TIME);
	for (int i = 3; i < 6; i++) {
		report_sleeper(&t[i], bound);
		CHECK(t[i].max_latency <= bound);
		CHECK_EQ_U64(t[i].ran, SIM_TIME / 10);
		CHECK_EQ_U64(t[i].late, 0);
	}
}

/* 5. Moved between CPUs whose clocks differ, an entity keeps its place:
 * `mover` is the last task of `from`; it runs 2 s on `to` beside the rest. */
static void migrate_and_share(struct sim *from, struct sim *to, const char *label)
{
	struct task *mover = from->t[--from->n];
	int64_t lag = fair_migrate_out(&from->q, &mover->fe);

	fair_migrate_in(&to->q, &mover->fe, lag);
	CHECK_EQ_INT((int64_t)(mover->fe.vruntime - to->q.min_vruntime), lag);
	CHECK_EQ_INT(fair_requeue(&to->q, &mover->fe), 0);
	to->t[to->n++] = mover;
	sim_run(to, 2 * SEC);
	print_shares(label, to, 2 * SEC);
	for (int i = 0; i < to->n; i++)
		CHECK(share(to->t[i], 2 * SEC) >= 45.0);
}

static void test_sim_migration(void)
{
	struct task ta[] = {
		{ .name = "spinA", .kind = SPIN },
		{ .name = "mover", .kind = SPIN },
	};
	struct task tb[] = { { .name = "spinB", .kind = SPIN } };
	struct sim a, b;

	sim_init(&a, ta, 2, 0);
	sim_init(&b, tb, 1, 0);
	sim_run(&a, 1 * SEC);                    /* A's clock: ~0.5 s */
	sim_run(&b, 5 * SEC);                    /* B's clock: ~5 s */
	CHECK(b.q.min_vruntime > a.q.min_vruntime + 4 * SEC);
	migrate_and_share(&a, &b, "moved to a later clock:");
	migrate_and_share(&b, &a, "moved back, earlier clock:");
}

int main(void)
{
	RUN(test_heap_random);
	RUN(test_heap_full_and_order);
	RUN(test_requeue_pick);
	RUN(test_weight_math);
	RUN(test_slice_and_preempt);
	RUN(test_wakeup_placement);
	RUN(test_migration_lag);
	printf("simulated CPU shares over %llu s, base slice %llu ms:\n",
	       (unsigned long long)(SIM_TIME / SEC), (unsigned long long)(BASE_SLICE / MS));
	RUN(test_sim_slice_gaming);
	RUN(test_sim_weights);
	RUN(test_sim_yielder);
	RUN(test_sim_sleeper);
	RUN(test_sim_sleepers_together);
	RUN(test_sim_migration);
	return harness_report();
}
