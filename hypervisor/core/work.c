/* Polls and deferred work (see hv/work.h). */
#include <hv/hwevent.h>
#include <hv/ipi.h>
#include <hv/lib.h>
#include <hv/lock.h>
#include <hv/percpu.h>
#include <hv/sched.h>
#include <hv/time.h>
#include <hv/work.h>
#include <hv/x86.h>

#define RFLAGS_IF 0x200UL

/* ---- polls (boot CPU only; the list is fixed once domains start) ---------- */

static struct poll *polls;
uint64_t polls_next = UINT64_MAX;      /* poll_next_tsc() (hv/work.h) reads it */

static void recompute_next(void)
{
	polls_next = UINT64_MAX;
	for (struct poll *p = polls; p; p = p->next)
		polls_next = MIN(polls_next, p->next_tsc);
}

/* Period 0: a poll that sleeps until poll_wake(). */
static uint64_t next_run(const struct poll *p, uint64_t now)
{
	return p->period_ns ? now + ns_to_tsc(p->period_ns) : UINT64_MAX;
}

void poll_register(struct poll *p)
{
	p->next_tsc = next_run(p, rdtsc());
	p->next = polls;
	polls = p;
	recompute_next();
}

void poll_run_due(uint64_t now)
{
	if (now < polls_next)
		return;
	for (struct poll *p = polls; p; p = p->next) {
		if (p->next_tsc > now)
			continue;
		p->next_tsc = next_run(p, now);
		p->fn();
	}
	recompute_next();
}

/* From the boot CPU (its interrupts, or the poll itself): the way back to
 * ring 3 or the idle loop re-arms the timer for it. */
void poll_wake(struct poll *p, uint64_t when_tsc)
{
	if (when_tsc >= p->next_tsc)
		return;
	p->next_tsc = when_tsc;
	polls_next = MIN(polls_next, when_tsc);
	this_cpu()->sched.look = true;
}

/* ---- deferred work --------------------------------------------------------------- */

/* Each CPU's queue (struct cpu .work, .work_lock). */
void work_queue(uint32_t cpu, struct work *w)
{
	struct cpu *c = cpu_get(cpu);
	uint64_t f = spin_lock(&c->work_lock);

	if (!w->queued) {
		w->queued = true;
		w->next = c->work;
		c->work = w;
	}
	spin_unlock(&c->work_lock, f);
	c->sched.look = true;
	ipi_resched(c);
}

static struct work *take_all(struct cpu *c)
{
	uint64_t f = spin_lock(&c->work_lock);
	struct work *w = c->work;

	c->work = NULL;
	for (struct work *i = w; i; i = i->next)
		i->queued = false;
	spin_unlock(&c->work_lock, f);
	return w;
}

/* Interrupts on while the work runs: it may take long (building a domain)
 * and the timer and IPIs must get through meanwhile. */
bool work_run(struct cpu *c)
{
	struct work *w;

	if (!work_pending(c))
		return false;          /* the usual case, before any other cost */
	if (__atomic_load_n(&c->hw.any, __ATOMIC_RELAXED))
		hwevent_report(c);
	if (!__atomic_load_n(&c->work, __ATOMIC_RELAXED))
		return false;
	w = take_all(c);
	sti();
	while (w) {
		struct work *next = w->next;

		w->fn(w->arg);
		w = next;
	}
	cli();
	return true;
}
