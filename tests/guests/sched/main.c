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
 *   sched regs SECONDS                 spin with every general register
 *                                      holding a known value, check them
 *                                      after each round: a preemption (or
 *                                      switch) that loses one is counted
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

/* Spins `spins` pauses with 13 registers (all but rcx, the counter, and
 * rbp/rsp) set to known values, then returns the OR of each XORed with
 * its value: 0 when every one survived whatever interrupted the loop.
 * One asm block: the compiler may use none of them meanwhile. */
static uint64_t regs_round(uint64_t spins)
{
	uint64_t bad;

	__asm__ volatile(
		"movabsq $0xa1a1a1a1a1a1a1a1, %%rax\n\tmovabsq $0xb2b2b2b2b2b2b2b2, %%rbx\n\t"
		"movabsq $0xc3c3c3c3c3c3c3c3, %%rdx\n\tmovabsq $0xd4d4d4d4d4d4d4d4, %%rsi\n\t"
		"movabsq $0xe5e5e5e5e5e5e5e5, %%rdi\n\tmovabsq $0xf6f6f6f6f6f6f6f6, %%r8\n\t"
		"movabsq $0x0707070707070707, %%r9\n\tmovabsq $0x1818181818181818, %%r10\n\t"
		"movabsq $0x2929292929292929, %%r11\n\tmovabsq $0x3a3a3a3a3a3a3a3a, %%r12\n\t"
		"movabsq $0x4b4b4b4b4b4b4b4b, %%r13\n\tmovabsq $0x5c5c5c5c5c5c5c5c, %%r14\n\t"
		"movabsq $0x6d6d6d6d6d6d6d6d, %%r15\n\tmovq %[n], %%rcx\n"
		"1:\tpause\n\tdecq %%rcx\n\tjnz 1b\n\t"
		"movabsq $0xa1a1a1a1a1a1a1a1, %%rcx\n\txorq %%rcx, %%rax\n\t"
		"movabsq $0xb2b2b2b2b2b2b2b2, %%rcx\n\txorq %%rcx, %%rbx\n\torq %%rbx, %%rax\n\t"
		"movabsq $0xc3c3c3c3c3c3c3c3, %%rcx\n\txorq %%rcx, %%rdx\n\torq %%rdx, %%rax\n\t"
		"movabsq $0xd4d4d4d4d4d4d4d4, %%rcx\n\txorq %%rcx, %%rsi\n\torq %%rsi, %%rax\n\t"
		"movabsq $0xe5e5e5e5e5e5e5e5, %%rcx\n\txorq %%rcx, %%rdi\n\torq %%rdi, %%rax\n\t"
		"movabsq $0xf6f6f6f6f6f6f6f6, %%rcx\n\txorq %%rcx, %%r8\n\torq %%r8, %%rax\n\t"
		"movabsq $0x0707070707070707, %%rcx\n\txorq %%rcx, %%r9\n\torq %%r9, %%rax\n\t"
		"movabsq $0x1818181818181818, %%rcx\n\txorq %%rcx, %%r10\n\torq %%r10, %%rax\n\t"
		"movabsq $0x2929292929292929, %%rcx\n\txorq %%rcx, %%r11\n\torq %%r11, %%rax\n\t"
		"movabsq $0x3a3a3a3a3a3a3a3a, %%rcx\n\txorq %%rcx, %%r12\n\torq %%r12, %%rax\n\t"
		"movabsq $0x4b4b4b4b4b4b4b4b, %%rcx\n\txorq %%rcx, %%r13\n\torq %%r13, %%rax\n\t"
		"movabsq $0x5c5c5c5c5c5c5c5c, %%rcx\n\txorq %%rcx, %%r14\n\torq %%r14, %%rax\n\t"
		"movabsq $0x6d6d6d6d6d6d6d6d, %%rcx\n\txorq %%rcx, %%r15\n\torq %%r15, %%rax\n\t"
		"movq %%rax, %[bad]"
		: [bad] "=m"(bad)
		: [n] "m"(spins)
		: "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
		  "r14", "r15", "cc", "memory");
	return bad;
}

static int regs(uint64_t secs)
{
	uint64_t t0 = now_ns(), end = t0 + secs * 1000000000ULL, rounds = 0, wrong = 0;
	struct pv_domain_info a, b;
	char extra[96];

	pv_domain_info(&a);
	while (now_ns() < end) {
		wrong += regs_round(20000) != 0;
		rounds++;
	}
	pv_domain_info(&b);
	snprintf(extra, sizeof(extra), " rounds=%lu wrong=%lu switches=%lu", (unsigned long)rounds,
		 (unsigned long)wrong, (unsigned long)(b.context_switches - a.context_switches));
	report("regs", t0, extra);
	return wrong != 0;
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
	if (!strcmp(mode, "regs"))
		return regs(arg(argc, argv, 2, 2));
	fprintf(stderr, "usage: sched spin|gamer|yielder|sleeper|work|regs ...\n");
	return 2;
}
