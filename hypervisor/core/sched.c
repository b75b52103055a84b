/* Scheduler (see hv/sched.h).
 *
 * Runnable domains sit in a FIFO; the running one is `current` and is not
 * queued.  Each tick charges the current domain; when its slice is used up
 * and someone else is runnable it goes to the back.  A domain woken from
 * block goes to the FRONT (like Xen's credit BOOST) unless it used its whole
 * slice last time, so sleepers stay responsive next to spinners without
 * letting a spinner buy priority by blocking briefly.
 *
 * Deadlines live in a binary min-heap keyed by TSC; each tick pops what
 * expired.  Nothing in a tick touches a blocked domain that is not due. */
#include <hv/domain.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/sched.h>
#include <hv/time.h>
#include <hv/x86.h>

#define USER_RFLAGS_KEEP 0x0cd5UL   /* CF PF AF ZF SF DF OF */
#define RFLAGS_IF        0x200UL
#define MAX_TIMERS       64

struct domain *current;
static struct domain *rq_head, *rq_tail;
static struct domain **heap;
static uint32_t heap_len, heap_cap;
static uint64_t slice_tsc;
static bool need_resched;

struct timer { uint64_t when; sched_timer_fn fn; uint32_t arg; };
static struct timer timers[MAX_TIMERS];
static uint32_t timer_count;

/* ---- run queue ---------------------------------------------------------- */
static void rq_push(struct domain *d, bool front)
{
	d->state = DOM_RUNNABLE;
	d->rq_prev = d->rq_next = NULL;
	if (!rq_head) {
		rq_head = rq_tail = d;
	} else if (front) {
		d->rq_next = rq_head;
		rq_head->rq_prev = d;
		rq_head = d;
	} else {
		d->rq_prev = rq_tail;
		rq_tail->rq_next = d;
		rq_tail = d;
	}
}

static void rq_unlink(struct domain *d)
{
	if (d->rq_prev)
		d->rq_prev->rq_next = d->rq_next;
	else if (rq_head == d)
		rq_head = d->rq_next;
	if (d->rq_next)
		d->rq_next->rq_prev = d->rq_prev;
	else if (rq_tail == d)
		rq_tail = d->rq_prev;
	d->rq_prev = d->rq_next = NULL;
}

/* ---- deadline heap ------------------------------------------------------ */
static void heap_set(uint32_t i, struct domain *d)
{
	heap[i] = d;
	d->heap_index = i;
}

static void heap_up(uint32_t i)
{
	while (i && heap[(i - 1) / 2]->deadline_tsc > heap[i]->deadline_tsc) {
		struct domain *p = heap[(i - 1) / 2];

		heap_set((i - 1) / 2, heap[i]);
		heap_set(i, p);
		i = (i - 1) / 2;
	}
}

static void heap_down(uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		struct domain *t;

		if (l < heap_len && heap[l]->deadline_tsc < heap[m]->deadline_tsc)
			m = l;
		if (r < heap_len && heap[r]->deadline_tsc < heap[m]->deadline_tsc)
			m = r;
		if (m == i)
			return;
		t = heap[m];
		heap_set(m, heap[i]);
		heap_set(i, t);
		i = m;
	}
}

static bool heap_grow(void)
{
	uint32_t cap = heap_cap ? heap_cap * 2 : 64;
	struct domain **n = kmalloc(cap * sizeof(*n));

	if (!n)
		return false;
	if (heap)
		memcpy(n, heap, heap_len * sizeof(*n));
	kfree(heap);
	heap = n;
	heap_cap = cap;
	return true;
}

static void heap_remove(struct domain *d)
{
	uint32_t i = d->heap_index;

	if (i == NO_HEAP)
		return;
	d->heap_index = NO_HEAP;
	if (i != --heap_len) {
		heap_set(i, heap[heap_len]);
		heap_up(i);
		heap_down(heap[i]->heap_index);
	}
}

/* ---- state changes ------------------------------------------------------ */
void sched_add(struct domain *d)
{
	d->heap_index = NO_HEAP;
	rq_push(d, false);
}

void sched_remove(struct domain *d)
{
	if (d->state == DOM_RUNNABLE)
		rq_unlink(d);
	heap_remove(d);
	if (current == d)
		current = NULL;
}

void sched_yield(struct domain *d)
{
	need_resched = true;
}

int sched_block(struct domain *d, uint64_t deadline_tsc, uint64_t mask)
{
	if (deadline_tsc != UINT64_MAX && heap_len == heap_cap && !heap_grow())
		return -1;
	d->state = DOM_BLOCKED;
	d->block_mask = mask;
	d->deadline_tsc = deadline_tsc;
	d->heap_index = NO_HEAP;
	if (deadline_tsc != UINT64_MAX) {
		heap_set(heap_len++, d);
		heap_up(d->heap_index);
	}
	need_resched = true;
	return 0;
}

void sched_wake(struct domain *d, int64_t rax)
{
	if (d->state != DOM_BLOCKED)
		return;
	heap_remove(d);
	d->regs.rax = (uint64_t)rax;
	rq_push(d, !d->used_full_slice);
	need_resched = true;
}

int sched_timer_add(uint64_t when, sched_timer_fn fn, uint32_t arg)
{
	if (timer_count == MAX_TIMERS)
		return -1;
	timers[timer_count++] = (struct timer){ when, fn, arg };
	return 0;
}

uint32_t sched_pending_timers(void)
{
	return timer_count;
}

static void run_timers(uint64_t now)
{
	for (uint32_t i = 0; i < timer_count;) {
		if (timers[i].when > now) {
			i++;
			continue;
		}
		struct timer t = timers[i];

		timers[i] = timers[--timer_count];
		t.fn(t.arg);
	}
}

/* ---- the tick ----------------------------------------------------------- */
static void sched_tick(void)
{
	uint64_t now = rdtsc();

	while (heap_len && heap[0]->deadline_tsc <= now)
		sched_wake(heap[0], 0);
	if (timer_count)
		run_timers(now);
	if (current && rq_head && now - current->slice_start_tsc >= slice_tsc) {
		current->used_full_slice = true;
		need_resched = true;
	}
}

void sched_init(uint64_t time_slice_us)
{
	slice_tsc = ns_to_tsc(time_slice_us * 1000);
	clock_set_tick_hook(sched_tick);
}

/* ---- switching ---------------------------------------------------------- */
static void switch_out(struct domain *d, const struct trap_frame *f, uint64_t now)
{
	d->regs = *f;
	d->cpu_tsc += now - d->slice_start_tsc;
	fpu_save(d->fpu);
	if (d->state == DOM_RUNNING)
		rq_push(d, false);
}

static void switch_in(struct domain *d, struct trap_frame *f, uint64_t now)
{
	rq_unlink(d);
	d->state = DOM_RUNNING;
	d->switches++;
	if (now - d->slice_start_tsc < slice_tsc)
		d->used_full_slice = false;
	d->slice_start_tsc = now;
	fpu_restore(d->fpu);
	write_cr3(d->pml4);
	*f = d->regs;
	f->rflags = (f->rflags & USER_RFLAGS_KEEP) | RFLAGS_IF | 0x2;
	f->cs = GDT_UCODE;
	f->ss = GDT_UDATA;
	current = d;
}

/* Nobody can run: halt with interrupts on until the tick wakes someone. */
static void idle(void)
{
	write_cr3(kspace_pml4());
	while (!rq_head)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
}

void sched_return_to_guest(struct trap_frame *f)
{
	uint64_t now = rdtsc();

	if (current && current->state == DOM_RUNNING && !need_resched)
		return;
	need_resched = false;
	if (current && current->state == DOM_RUNNING && !rq_head)
		return;                   /* alone: keep running */
	if (current)
		switch_out(current, f, now);
	current = NULL;
	if (!rq_head)
		idle();
	switch_in(rq_head, f, rdtsc());
}

void sched_start(void)
{
	struct trap_frame *f = (struct trap_frame *)(cpu_stack_top() - sizeof(*f));

	memset(f, 0, sizeof(*f));
	current = NULL;
	need_resched = true;
	sched_return_to_guest(f);
	__asm__ volatile("movq %0, %%rsp; jmp trap_return" :: "r"(f) : "memory");
	__builtin_unreachable();
}
