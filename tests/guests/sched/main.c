/* Scheduler workloads for the SMP/fairness tests and benchmarks.  Each
 * mode runs for a wall-clock time and ends with one machine-readable line
 * "sched: MODE cpu_ns=N wall_ns=N ...": cpu_ns is what the hypervisor
 * charged this domain (PV_HC_DOMAIN_INFO), so shares can be compared.
 *
 *   sched spin SECONDS                 burn the CPU, never a hypercall
 *   sched gamer SECONDS SPIN_US BLOCK_US
 *                                      spin SPIN_US, sleep BLOCK_US, again:
 *                                      tries to look like a sleeper to win
 *                                      wake-up priority
 *   sched yielder SECONDS              yield in a tight loop
 *   sched sleeper SECONDS PERIOD_US    sleep PERIOD_US, 50 us of work, again;
 *                                      reports how late each wake-up was
 *   sched work ITERATIONS              fixed CPU work; reports its wall time
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <paravane.h>

static uint64_t now_ns(void)
{
	return pv_monotonic_ns();
}

static uint64_t cpu_ns(void)
{
	struct pv_domain_info di;

	return pv_domain_info(&di) == 0 ? di.cpu_ns : 0;
}

static void spin_until(uint64_t t)
{
	while (now_ns() < t)
		__asm__ volatile("pause");
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ULL), (long)(ns % 1000000000ULL) };

	nanosleep(&ts, NULL);
}

static void report(const char *mode, uint64_t t0, const char *extra)
{
	printf("sched: %s cpu_ns=%lu wall_ns=%lu%s\n", mode, (unsigned long)cpu_ns(),
	       (unsigned long)(now_ns() - t0), extra);
}

static int spin(uint64_t secs)
{
	uint64_t t0 = now_ns();

	spin_until(t0 + secs * 1000000000ULL);
	report("spin", t0, "");
	return 0;
}

static int gamer(uint64_t secs, uint64_t spin_us, uint64_t block_us)
{
	uint64_t t0 = now_ns(), end = t0 + secs * 1000000000ULL;

	while (now_ns() < end) {
		spin_until(now_ns() + spin_us * 1000);
		sleep_ns(block_us * 1000);
	}
	report("gamer", t0, "");
	return 0;
}

static int yielder(uint64_t secs)
{
	uint64_t t0 = now_ns(), end = t0 + secs * 1000000000ULL;

	while (now_ns() < end)
		pv_yield();
	report("yielder", t0, "");
	return 0;
}

static int sleeper(uint64_t secs, uint64_t period_us)
{
	uint64_t t0 = now_ns(), end = t0 + secs * 1000000000ULL, max = 0, sum = 0, n = 0;
	char extra[96];

	while (now_ns() < end) {
		uint64_t due = now_ns() + period_us * 1000, late;

		sleep_ns(period_us * 1000);
		late = now_ns() > due ? now_ns() - due : 0;
		max = late > max ? late : max;
		sum += late;
		n++;
		spin_until(now_ns() + 50000);
	}
	snprintf(extra, sizeof(extra), " wakeups=%lu max_late_us=%lu avg_late_us=%lu",
		 (unsigned long)n, (unsigned long)(max / 1000), (unsigned long)(n ? sum / n / 1000 : 0));
	report("sleeper", t0, extra);
	return 0;
}

static int work(uint64_t iterations)
{
	uint64_t t0 = now_ns();
	volatile uint64_t x = 1;

	for (uint64_t i = 0; i < iterations; i++)
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
	report("work", t0, "");
	return 0;
}

static uint64_t arg(int argc, char **argv, int i, uint64_t dflt)
{
	return argc > i ? strtoull(argv[i], NULL, 0) : dflt;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (!strcmp(mode, "spin"))
		return spin(arg(argc, argv, 2, 2));
	if (!strcmp(mode, "gamer"))
		return gamer(arg(argc, argv, 2, 2), arg(argc, argv, 3, 9500), arg(argc, argv, 4, 500));
	if (!strcmp(mode, "yielder"))
		return yielder(arg(argc, argv, 2, 2));
	if (!strcmp(mode, "sleeper"))
		return sleeper(arg(argc, argv, 2, 2), arg(argc, argv, 3, 10000));
	if (!strcmp(mode, "work"))
		return work(arg(argc, argv, 2, 100000000));
	fprintf(stderr, "usage: sched spin|gamer|yielder|sleeper|work ...\n");
	return 2;
}
