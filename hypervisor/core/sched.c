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
#include <hv/sched_queue.h>
#include <hv/netback.h>
#include <hv/time.h>
#include <hv/x86.h>

#define USER_RFLAGS_KEEP 0x0cd5UL   /* CF PF AF ZF SF DF OF */
#define RFLAGS_IF        0x200UL
#define MAX_TIMERS       64

static uint64_t slice_tsc;
#define rq (this_cpu()->sched.rq)
#define dl (this_cpu()->sched.dl)
#define need_resched (this_cpu()->sched.need_resched)

struct timer { uint64_t when; sched_timer_fn fn; uint32_t arg; };
static struct timer timers[MAX_TIMERS];
static uint32_t timer_count;

/* ---- state changes ------------------------------------------------------ */
static void make_runnable(struct domain *d, bool front)
{
	d->state = DOM_RUNNABLE;
	rq_push(&rq, d, front);
}

void sched_add(struct domain *d)
{
	d->heap_index = NO_HEAP;
	make_runnable(d, false);
}

void sched_remove(struct domain *d)
{
	rq_unlink(&rq, d);
	dh_remove(&dl, d);
	if (current == d)
		current = NULL;
}

void sched_yield(struct domain *d)
{
	need_resched = true;
}

int sched_block(struct domain *d, uint64_t deadline_tsc, uint64_t mask)
{
	d->deadline_tsc = deadline_tsc;
	if (deadline_tsc != UINT64_MAX && dh_insert(&dl, d))
		return -1;
	d->state = DOM_BLOCKED;
	d->block_mask = mask;
	need_resched = true;
	return 0;
}

void sched_wake(struct domain *d, int64_t rax)
{
	if (d->state != DOM_BLOCKED)
		return;
	dh_remove(&dl, d);
	d->regs.rax = (uint64_t)rax;
	make_runnable(d, !d->used_full_slice);
	/* Woken by an interrupt or a deadline: run it now.  Woken by another
	 * domain's hypercall (a frame it sent, say): it goes first, but the
	 * sender keeps the CPU until it blocks, yields or uses its slice, so a
	 * burst of frames costs one switch, not one per frame. */
	if (!this_cpu()->in_hypercall)
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

	while (dh_min(&dl) && dh_min(&dl)->deadline_tsc <= now)
		sched_wake(dh_min(&dl), 0);
	if (timer_count)
		run_timers(now);
	if (IS_ENABLED(CONFIG_NET))
		net_tick();
	console_poll_input();
	if (current && rq.head && now - current->slice_start_tsc >= slice_tsc) {
		current->used_full_slice = true;
		need_resched = true;
	}
}

void sched_init(uint64_t time_slice_us)
{
	/* Room for every domain's deadline up front: the heap never grows, so
	 * blocking never allocates and memory accounting stays exact. */
	dl.slot = kmalloc(CONFIG_MAX_DOMAINS * sizeof(*dl.slot));
	if (!dl.slot)
		panic("sched: no memory for the deadline heap");
	dl.cap = CONFIG_MAX_DOMAINS;
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
		make_runnable(d, false);
}

static void switch_in(struct domain *d, struct trap_frame *f, uint64_t now)
{
	rq_unlink(&rq, d);
	d->state = DOM_RUNNING;
	if (!d->switches++)
		log_event("domain-started id=%u name=%s", d->id, d->name);
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
	while (!rq.head)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
}

void sched_return_to_guest(struct trap_frame *f)
{
	uint64_t now = rdtsc();

	if (current && current->state == DOM_RUNNING && !need_resched)
		return;
	need_resched = false;
	if (current && current->state == DOM_RUNNING && !rq.head)
		return;                   /* alone: keep running */
	if (current)
		switch_out(current, f, now);
	current = NULL;
	if (!rq.head)
		idle();
	switch_in(rq.head, f, rdtsc());
}

/* Called by sched_start (isr.S) with the empty frame it made. */
void sched_first_frame(struct trap_frame *f);
void sched_first_frame(struct trap_frame *f)
{
	memset(f, 0, sizeof(*f));
	current = NULL;
	need_resched = true;
	sched_return_to_guest(f);
}
