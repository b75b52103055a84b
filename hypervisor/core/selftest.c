/* Self-tests that a system test asks for through the manifest
 * ([hypervisor] selftest = ...).  Inert unless CONFIG_TEST_HOOKS. */
#include <hv/lib.h>
#include <hv/lock.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/power.h>
#include <hv/selftest.h>
#include <hv/time.h>
#include <hv/x86.h>

#define TIMER_TICKS 20

/* A deliberate page fault at a recognisable address, from a named
 * function, so the test can check the report's CR2 and backtrace. */
__attribute__((noinline)) static void selftest_fault(void)
{
	volatile uint64_t *bad = (volatile uint64_t *)0xdead0000UL;

	log_info("selftest: reading unmapped address %p on purpose", bad);
	(void)*bad;
}

/* One-shot mode: one interrupt ONESHOT_MS after arming, then silence. */
#define ONESHOT_MS 25

static void selftest_oneshot(void)
{
	uint64_t start_tick, t0, fired = 0, limit;

	lapic_timer_stop();
	start_tick = clock_ticks;
	t0 = rdtsc();
	limit = t0 + 4 * ns_to_tsc(ONESHOT_MS * 1000000ULL);
	lapic_timer_oneshot_ns(ONESHOT_MS * 1000000ULL);
	sti();                                /* wait well past it: exactly one tick */
	while (rdtsc() < limit)
		if (clock_ticks != start_tick && !fired)
			fired = rdtsc();
	cli();
	log_event("selftest-oneshot interrupts=%lu after_us=%lu armed_us=%d",
		  clock_ticks - start_tick, fired ? tsc_to_ns(fired - t0) / 1000 : 0,
		  ONESHOT_MS * 1000);
	lapic_timer_stop();                   /* the scheduler arms it from here on */
}

/* Count TIMER_TICKS ticks and compare their rate, measured with the TSC,
 * against CONFIG_TIMER_HZ. */
static void selftest_timer(void)
{
	uint64_t start_tick, t0, t1, limit = rdtsc() + 10 * tsc_hz;
	uint64_t milli_hz;

	lapic_timer_periodic(CONFIG_TIMER_HZ);   /* only for this measurement */
	start_tick = clock_ticks;
	while (clock_ticks == start_tick && rdtsc() < limit)
		__asm__ volatile("sti; hlt; cli");
	t0 = rdtsc();
	start_tick = clock_ticks;
	while (clock_ticks - start_tick < TIMER_TICKS && rdtsc() < limit)
		__asm__ volatile("sti; hlt; cli");
	t1 = rdtsc();
	if (clock_ticks - start_tick < TIMER_TICKS) {
		log_err("selftest: timer: only %lu ticks in 10 s", clock_ticks - start_tick);
		power_off(POWER_STATUS_SELFTEST_FAILED);
	}
	milli_hz = TIMER_TICKS * tsc_hz * 1000 / (t1 - t0);
	log_event("selftest-timer ticks=%d tsc_cycles=%lu tsc_hz=%lu measured_millihz=%lu configured_hz=%d",
		  TIMER_TICKS, t1 - t0, tsc_hz, milli_hz, CONFIG_TIMER_HZ);
	selftest_oneshot();
}

/* Recurse until the stack runs into its guard page: the #DF report must
 * say so (the frame is kept live so the compiler cannot flatten it). */
__attribute__((noinline)) static uint64_t selftest_recurse(uint64_t n)
{
	volatile uint8_t pad[512];

	pad[0] = (uint8_t)n;
	if (n > (1UL << 40))          /* never: the guard page comes first */
		return pad[0];
	return selftest_recurse(n + 1) + pad[0];
}

static void selftest_stack(void)
{
	log_info("selftest: overflowing the boot stack on purpose");
	(void)selftest_recurse(0);
}

/* Two locks taken against the documented order: the checker must panic
 * with both stacks (test builds have CONFIG_LOCK_CHECK). */
__attribute__((noinline)) static void selftest_lockorder(void)
{
	static struct spinlock high = SPINLOCK_INIT("selftest-high", LOCK_RANK_FRAMES);
	static struct spinlock low = SPINLOCK_INIT("selftest-low", LOCK_RANK_DOMAINS);
	uint64_t f1 = spin_lock(&high), f2;

	log_info("selftest: taking locks against the lock order on purpose");
	f2 = spin_lock(&low);
	spin_unlock(&low, f2);
	spin_unlock(&high, f1);
	log_err("selftest: the lock checker let an order violation through");
	power_off(POWER_STATUS_SELFTEST_FAILED);
}

/* The direct map must not be a writable alias of the hypervisor's text
 * (mm/kspace.c, protect_image_alias): this store faults and panics.  It
 * writes back the byte it read, so where the alias is writable nothing
 * changes and the test fails cleanly. */
__attribute__((noinline)) static void selftest_textalias(void)
{
	volatile uint8_t *alias = phys_to_virt(virt_to_phys((const void *)selftest_textalias));

	log_info("selftest: writing the hypervisor's text through the direct map at %p on purpose",
		 (void *)alias);
	*alias = *alias;
	log_err("selftest: the hypervisor's text is writable through the direct map");
	power_off(POWER_STATUS_SELFTEST_FAILED);
}

/* Runs a byte past `buf` into the canary just above it (the index is
 * volatile, so the compiler cannot see the overrun); the check before
 * the return must panic with "stack protector". */
static volatile size_t smash_len = 16 + 8;

__attribute__((noinline)) static void smash_frame(void)
{
	char buf[16];

	for (size_t i = 0; i < smash_len; i++)
		buf[i] = 'A';
	__asm__ volatile("" :: "r"(buf) : "memory");
}

static void selftest_smash(void)
{
	log_info("selftest: overwriting a stack canary on purpose");
	smash_frame();
	log_err("selftest: a smashed stack frame returned");
	power_off(POWER_STATUS_SELFTEST_FAILED);
}

void selftest_run(enum manifest_selftest which)
{
	if (!IS_ENABLED(CONFIG_TEST_HOOKS) || which == MANIFEST_SELFTEST_NONE)
		return;
	if (which == MANIFEST_SELFTEST_FAULT)
		selftest_fault();
	else if (which == MANIFEST_SELFTEST_TIMER)
		selftest_timer();
	else if (which == MANIFEST_SELFTEST_STACK)
		selftest_stack();
	else if (which == MANIFEST_SELFTEST_LOCKORDER)
		selftest_lockorder();
	else if (which == MANIFEST_SELFTEST_TEXTALIAS)
		selftest_textalias();
	else if (which == MANIFEST_SELFTEST_SMASH)
		selftest_smash();
	else if (which == MANIFEST_SELFTEST_DISK)
		selftest_disk();
	else if (which == MANIFEST_SELFTEST_VOLUMES)
		selftest_volumes();
}
