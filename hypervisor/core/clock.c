/* The LAPIC timer vector before the scheduler owns it (boot self-tests),
 * and the spurious vector.  Once domains start, the scheduler's one-shot
 * timer (core/sched_timer.c) takes the vector over: there is no periodic
 * tick. */
#include <hv/lib.h>
#include <hv/time.h>
#include <hv/trap.h>

volatile uint64_t clock_ticks;

static void count_tick(struct trap_frame *f)
{
	__atomic_fetch_add(&clock_ticks, 1, __ATOMIC_RELAXED);
	lapic_eoi();
}

static void spurious(struct trap_frame *f)
{
	/* no EOI for the spurious vector */
}

void clock_init(void)
{
	trap_set_irq(VEC_TIMER, count_tick);
	trap_set_irq(VEC_SPURIOUS, spurious);
}
