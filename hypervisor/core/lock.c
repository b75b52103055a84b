/* Spinlocks and, in test builds, the lock-order checker (see hv/lock.h). */
#include <hv/lib.h>
#include <hv/lock.h>
#include <hv/log.h>
#include <hv/percpu.h>
#include <hv/symbols.h>
#include <hv/time.h>
#include <hv/x86.h>

#ifndef CONFIG_LOCK_HOLD_MAX_US      /* unchecked builds */
#define CONFIG_LOCK_HOLD_MAX_US 0
#define CONFIG_LOCK_SPIN_MAX_MS 0
#endif

#define RFLAGS_IF 0x200UL
#define CHECK IS_ENABLED(CONFIG_LOCK_CHECK)

static volatile bool panicking;

static uint64_t irq_save(void)
{
	uint64_t f = read_rflags();

	cli();
	return f;
}

static void irq_restore(uint64_t f)
{
	if (f & RFLAGS_IF)
		sti();
}

/* ---- the checker's reports ------------------------------------------------ */

/* Return addresses of our callers, bounded by this CPU's stack. */
static void capture_trace(uint64_t *trace)
{
	uint64_t rbp = (uint64_t)__builtin_frame_address(0), lo, hi;

	memset(trace, 0, LOCK_TRACE_DEPTH * sizeof(*trace));
	if (!percpu_stack_bounds(rbp, &lo, &hi))
		return;
	for (int i = 0; i < LOCK_TRACE_DEPTH; i++) {
		if (rbp < lo || rbp + 16 > hi || (rbp & 7))
			return;
		trace[i] = ((uint64_t *)rbp)[1];
		if (((uint64_t *)rbp)[0] <= rbp)
			return;
		rbp = ((uint64_t *)rbp)[0];
	}
}

static void print_trace(const char *title, const uint64_t *trace)
{
	char name[64];

	log_rawf("hv|   %s:", title);
	for (int i = 0; i < LOCK_TRACE_DEPTH && trace[i]; i++) {
		if (!symbols_lookup(trace[i], name, sizeof(name)))
			strlcpy(name, "?", sizeof(name));
		log_rawf("hv|     #%d 0x%016lx <%s>", i, trace[i], name);
	}
}

static __attribute__((noreturn)) void lock_panic(const char *what, const struct spinlock *held,
						 const struct spinlock *want)
{
	uint64_t here[LOCK_TRACE_DEPTH];

	capture_trace(here);
	panic_begin();
	log_rawf("hv| ==== lock checker: %s on CPU %u ====", what, this_cpu()->index);
	if (held) {
		log_rawf("hv|   held: %s (rank %u, CPU %u)", held->name, held->rank, held->owner->index);
		print_trace("held lock taken at", held->trace);
	}
	log_rawf("hv|   this: %s (rank %u)", want->name, want->rank);
	print_trace("this acquire/release at", here);
	panic("lock checker: %s (%s)", what, want->name);
}

/* ---- order and hold-time checks (test builds) ---------------------------- */

static bool order_ok(const struct spinlock *held, const struct spinlock *want)
{
	return want->rank > held->rank || (want->rank == held->rank && want > held);
}

static void check_acquire(struct lock_cpu *lc, struct spinlock *want)
{
	if (lc->depth && want == lc->held[lc->depth - 1])
		lock_panic("recursive acquire", want, want);
	for (uint32_t i = 0; i < lc->depth; i++)
		if (!order_ok(lc->held[i], want))
			lock_panic("lock order violation", lc->held[i], want);
	if (lc->depth == LOCK_HELD_MAX)
		lock_panic("too many locks held", lc->held[lc->depth - 1], want);
}

/* The owner is always kept (log blocks ask "held here?"); the held-lock
 * list, the time and the trace only where the checker reads them. */
static void note_acquired(struct lock_cpu *lc, struct spinlock *l)
{
	l->owner = this_cpu();
	if (!CHECK)
		return;
	l->acquired_tsc = rdtsc();
	capture_trace(l->trace);
	if (lc->depth < LOCK_HELD_MAX)
		lc->held[lc->depth++] = l;
}

static void check_release(struct lock_cpu *lc, struct spinlock *l)
{
	uint64_t held_us = tsc_hz ? tsc_to_ns(rdtsc() - l->acquired_tsc) / 1000 : 0;

	if (!lc->depth || l->owner != this_cpu())
		lock_panic("release of a lock this CPU does not hold", NULL, l);
	if (held_us > CONFIG_LOCK_HOLD_MAX_US && !panicking)
		lock_panic("lock held too long", l, l);
}

static void forget(struct lock_cpu *lc, struct spinlock *l)
{
	if (lc->depth && lc->held[lc->depth - 1] == l) {   /* the usual case: last taken */
		lc->depth--;
		return;
	}
	for (uint32_t i = lc->depth; i-- > 0;) {
		if (lc->held[i] != l)
			continue;
		memmove(&lc->held[i], &lc->held[i + 1], (lc->depth - i - 1) * sizeof(l));
		lc->depth--;
		return;
	}
}

/* ---- the lock itself ----------------------------------------------------- */

static bool try_take(struct spinlock *l)
{
	return !__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE);
}

/* Spin; in checked builds a spin past CONFIG_LOCK_SPIN_MAX_MS is a
 * deadlock report naming the holder and where it took the lock. */
void spin_lock_contended(struct spinlock *l)
{
	uint64_t limit = CHECK && tsc_hz ? ns_to_tsc(CONFIG_LOCK_SPIN_MAX_MS * 1000000ULL) : 0;
	uint64_t start = limit ? rdtsc() : 0;

	while (!try_take(l)) {
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED)) {
			pause();
			if (limit && rdtsc() - start > limit && !panicking)
				lock_panic("spun too long (deadlock?)", l, l);
		}
	}
}

uint64_t spin_lock_checked(struct spinlock *l)
{
	uint64_t f = irq_save();
	struct lock_cpu *lc = &this_cpu()->locks;

	if (CHECK && !panicking)
		check_acquire(lc, l);
	spin_lock_contended(l);
	note_acquired(lc, l);
	return f;
}

void spin_lock_irqs_off_checked(struct spinlock *l)
{
	if (read_rflags() & RFLAGS_IF)
		lock_panic("interrupts on where they must be off", NULL, l);
	spin_lock_checked(l);
}

bool spin_try_lock(struct spinlock *l, uint64_t *flags)
{
	*flags = irq_save();
	if (!try_take(l)) {
		irq_restore(*flags);
		return false;
	}
	note_acquired(&this_cpu()->locks, l);
	return true;
}

void spin_unlock_checked(struct spinlock *l, uint64_t flags)
{
	struct lock_cpu *lc = &this_cpu()->locks;

	if (CHECK) {
		check_release(lc, l);
		forget(lc, l);
	}
	l->owner = NULL;
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
	irq_restore(flags);
}

bool spin_held_here(const struct spinlock *l)
{
	return l->locked && l->owner == this_cpu();
}

uint32_t locks_held_here(void)
{
	return this_cpu()->locks.depth;
}

void lock_break_for_panic(void)
{
	panicking = true;
}

bool lock_panicking(void)
{
	return panicking;
}
