/* Tickless time for the scheduler (see hv/sched.h).  Each CPU's LAPIC
 * timer is one-shot, armed for the earliest of: its next domain deadline,
 * the end of the running domain's slice when someone waits for the CPU,
 * and (boot CPU only) the next device poll or hypervisor timer.  With none
 * of those it is stopped: a CPU whose domains all sleep without a deadline
 * takes no interrupts at all, however many there are.
 *
 * Hypervisor timers (restart back-off) live in one small table under
 * timers_lock; they run on the boot CPU's normal path (its timer interrupt
 * finds them due and queues timers_work), never in interrupt context. */
#include <hv/domain.h>
#include <hv/ipi.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/sched.h>
#include <hv/time.h>
#include <hv/work.h>
#include <hv/x86.h>

#define MAX_TIMERS 64
#define MIN_ARM_NS 2000      /* closer than this: fire (almost) at once */

struct timer { uint64_t when; sched_timer_fn fn; uint32_t arg; };

static struct spinlock timers_lock = SPINLOCK_INIT("timers", LOCK_RANK_TIMERS);
static struct timer timers[MAX_TIMERS];
static uint32_t timer_count;
static uint32_t timers_running;             /* popped, fn not yet returned */
static uint64_t timers_next = UINT64_MAX;   /* earliest `when`, read by CPU 0's arming */

/* ---- hypervisor timers -------------------------------------------------------- */

static void recompute_next(void)
{
	timers_next = UINT64_MAX;
	for (uint32_t i = 0; i < timer_count; i++)
		timers_next = MIN(timers_next, timers[i].when);
}

int sched_timer_add(uint64_t when, sched_timer_fn fn, uint32_t arg)
{
	uint64_t f = spin_lock(&timers_lock);
	int r = -1;

	if (timer_count < MAX_TIMERS) {
		timers[timer_count++] = (struct timer){ when, fn, arg };
		recompute_next();
		r = 0;
	}
	spin_unlock(&timers_lock, f);
	if (!r) {
		cpu_get(0)->sched.look = true;
		ipi_resched(cpu_get(0));   /* let the boot CPU arm for it */
	}
	return r;
}

/* Due or running: a restart in progress still counts, so "every domain
 * has ended" is not decided while one is being built. */
uint32_t sched_pending_timers(void)
{
	uint64_t f = spin_lock(&timers_lock);
	uint32_t n = timer_count + timers_running;

	spin_unlock(&timers_lock, f);
	return n;
}

uint64_t sched_timers_next(void)
{
	return __atomic_load_n(&timers_next, __ATOMIC_RELAXED);
}

/* Pop one due timer (under the lock), run it without the lock. */
static bool run_one_due(uint64_t now)
{
	uint64_t f = spin_lock(&timers_lock);
	struct timer t = { 0 };

	for (uint32_t i = 0; i < timer_count && !t.fn; i++) {
		if (timers[i].when <= now) {
			t = timers[i];
			timers[i] = timers[--timer_count];
			recompute_next();
			timers_running++;
		}
	}
	spin_unlock(&timers_lock, f);
	if (!t.fn)
		return false;
	t.fn(t.arg);
	f = spin_lock(&timers_lock);
	timers_running--;
	spin_unlock(&timers_lock, f);
	return true;
}

/* timers_work: every due timer, queued by the boot CPU's timer interrupt. */
static void run_due_timers(void *arg)
{
	uint64_t now = rdtsc();

	while (run_one_due(now))
		;
}

static struct work timers_work = { .fn = run_due_timers };

/* ---- arming ------------------------------------------------------------------------ */

static uint64_t next_event(struct cpu *c)
{
	struct domain *first = dh_min(&c->sched.dl);
	uint64_t next = first ? first->deadline_tsc : UINT64_MAX;

	if (c->running && c->sched.fq.count)
		next = MIN(next, c->sched.slice_end_tsc);
	if (c->index == 0) {
		uint64_t polls = poll_next_tsc();   /* once: MIN() evaluates twice */

		next = MIN(next, MIN(sched_timers_next(), polls));
	}
	return next;
}

/* Lazy: a timer already armed for no later than `next` is left alone (it
 * fires, and the way back re-arms for the real target), so a domain switch
 * that only moves the slice end later costs no LAPIC writes. */
void sched_arm_timer(struct cpu *c)
{
	uint64_t next = next_event(c), armed = c->sched.timer_tsc, now;

	if (next == armed || (armed && armed != UINT64_MAX && armed <= next))
		return;
	c->sched.timer_tsc = next;
	if (next == UINT64_MAX) {
		lapic_timer_stop();
		return;
	}
	now = rdtsc();
	lapic_timer_oneshot_ns(next > now ? MAX(tsc_to_ns(next - now), (uint64_t)MIN_ARM_NS) : MIN_ARM_NS);
}

/* ---- the timer interrupt ------------------------------------------------------------ */

static void expire_deadlines(struct cpu *c, uint64_t now)
{
	struct domain *d;

	while ((d = dh_min(&c->sched.dl)) && d->deadline_tsc <= now)
		sched_wake_locked(c, d, 0, now);
}

/* Deadlines and slice ends are handled here; whoever runs next is picked
 * on the way back to ring 3 (or by the idle loop), which re-arms.  The boot
 * CPU's timer is armed for the next poll and hypervisor timer too: due
 * polls run here, due timers as work on the way out. */
void sched_timer_irq(struct trap_frame *f)
{
	struct cpu *c = this_cpu();
	uint64_t flags, now = rdtsc();

	__atomic_fetch_add(&clock_ticks, 1, __ATOMIC_RELAXED);
	lapic_eoi();
	flags = spin_lock(&c->sched.lock);
	c->sched.timer_irqs++;
	c->sched.timer_tsc = 0;
	c->sched.look = true;
	expire_deadlines(c, now);
	if (c->running && c->sched.fq.count && now >= c->sched.slice_end_tsc)
		c->sched.need_resched = true;
	spin_unlock(&c->sched.lock, flags);
	if (c->index != 0)
		return;
	poll_run_due(now);
	if (sched_timers_next() <= now)
		work_queue(0, &timers_work);
}
