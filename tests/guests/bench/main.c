/* Micro-benchmarks run inside a domain; every figure is guest-visible TSC
 * cycles, printed as "bench: key=value ..." for tests/bench/bench.py.
 *
 *   bench solo N     create->main, null hypercall, yield alone, and a plain
 *                    function call as the in-run baseline
 *   bench yield N    N yields: run two of these to time domain switches
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <paravane.h>

static inline uint64_t tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static long null_hypercall(void)
{
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "a"((long)PV_HC_VERSION) : "rcx", "r11", "memory");
	return r;
}

__attribute__((noinline)) static long plain_call(void)
{
	__asm__ volatile("" ::: "memory");
	return PV_ABI_VERSION;
}

static uint64_t per_call(long (*fn)(void), long n)
{
	uint64_t t0 = tsc();

	for (long i = 0; i < n; i++)
		fn();
	return (tsc() - t0) / (uint64_t)n;
}

static void solo(long n, uint64_t main_tsc)
{
	const struct pv_start_info *si = pv_start_info();
	uint64_t created = si->created_tsc, t0;

	printf("bench: create_to_main_cycles=%lu create_to_main_ns=%lu\n",
	       (unsigned long)(main_tsc - created),
	       (unsigned long)(pv_tsc_to_ns(main_tsc) - pv_tsc_to_ns(created)));
	per_call(null_hypercall, 1000);                   /* warm up */
	printf("bench: hypercall_cycles=%lu call_cycles=%lu\n",
	       (unsigned long)per_call(null_hypercall, n), (unsigned long)per_call(plain_call, n));
	t0 = tsc();
	for (long i = 0; i < n; i++)
		pv_yield();
	printf("bench: yield_alone_cycles=%lu\n", (unsigned long)((tsc() - t0) / (uint64_t)n));
}

static void yields(long n)
{
	struct pv_domain_info a, b;
	uint64_t t0;

	pv_domain_info(&a);
	t0 = tsc();
	for (long i = 0; i < n; i++)
		pv_yield();
	t0 = tsc() - t0;
	pv_domain_info(&b);
	printf("bench: yield_pair_cycles=%lu switches=%lu\n", (unsigned long)(t0 / (uint64_t)n),
	       (unsigned long)(b.context_switches - a.context_switches));
}

int main(int argc, char **argv)
{
	uint64_t main_tsc = tsc();
	const char *mode = argc > 1 ? argv[1] : "solo";
	long n = argc > 2 ? atol(argv[2]) : 100000;

	if (!strcmp(mode, "solo"))
		solo(n, main_tsc);
	else
		yields(n);
	return 0;
}
