/* The periodic tick: counts, then lets the scheduler look at deadlines. */
#include <hv/lib.h>
#include <hv/time.h>
#include <hv/trap.h>

volatile uint64_t clock_ticks;
static tick_hook_t tick_hook;

static void clock_tick(struct trap_frame *f)
{
	clock_ticks++;
	lapic_eoi();
	if (tick_hook)
		tick_hook();
}

static void spurious(struct trap_frame *f)
{
	/* no EOI for the spurious vector */
}

void clock_set_tick_hook(tick_hook_t hook)
{
	tick_hook = hook;
}

void clock_init(void)
{
	trap_set_irq(VEC_TIMER, clock_tick);
	trap_set_irq(VEC_SPURIOUS, spurious);
	lapic_timer_periodic(CONFIG_TIMER_HZ);
}
