/* CPU_STATS: one entry per started CPU, in order; idle time that grows
 * while nothing runs; and the refusals (max too large, bad buffers). */
#include <stdio.h>
#include <string.h>
#include "ctlstat.h"

#define MAX_CPUS 256

static struct pv_domctl_cpu_stat a[MAX_CPUS], b[MAX_CPUS];

static long cpu_stats(void *buf, uint32_t max, uint32_t *count)
{
	struct pv_domctl_cpus q;
	long r;

	domctl_hdr(&q.hdr, PV_DOMCTL_CPU_STATS, sizeof(q), 0);
	q.buf_gva = (uintptr_t)buf;
	q.max = max;
	r = pv_domctl(&q, sizeof(q));
	*count = q.count;
	return r;
}

static uint32_t host_cpus(void)
{
	struct pv_domctl_host h;

	domctl_hdr(&h.hdr, PV_DOMCTL_HOST_INFO, sizeof(h), 0);
	return pv_domctl(&h, sizeof(h)) ? 0 : h.cpus;
}

static void print_cpus(const struct pv_domctl_cpu_stat *s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		printf("ctlstat: cpu n=%u cpu=%u idle_ns=%llu switches=%llu wakeups=%llu steals=%llu timer_irqs=%llu\n",
		       i, s[i].cpu, (unsigned long long)s[i].idle_ns, (unsigned long long)s[i].context_switches,
		       (unsigned long long)s[i].wakeups, (unsigned long long)s[i].steals,
		       (unsigned long long)s[i].timer_irqs);
}

/* What changed between a and b, with the wall time between the calls. */
static void print_deltas(uint32_t n, uint64_t wall_ns)
{
	for (uint32_t i = 0; i < n; i++)
		printf("ctlstat: cpu-delta n=%u idle_ns=%llu wall_ns=%llu switches=%llu wakeups=%llu timer_irqs=%llu\n",
		       i, (unsigned long long)(b[i].idle_ns - a[i].idle_ns), (unsigned long long)wall_ns,
		       (unsigned long long)(b[i].context_switches - a[i].context_switches),
		       (unsigned long long)(b[i].wakeups - a[i].wakeups),
		       (unsigned long long)(b[i].timer_irqs - a[i].timer_irqs));
}

/* max below the CPU count: only max entries, the rest of the buffer as it was. */
static void partial(void)
{
	uint32_t count = 99;
	long r;

	memset(b, 0xee, sizeof(b));
	r = cpu_stats(b, 1, &count);
	printf("ctlstat: cpus-one r=%ld count=%u cpu=%u untouched=%d\n", r, count, b[0].cpu,
	       b[1].cpu == 0xeeeeeeeeu && b[1].idle_ns == 0xeeeeeeeeeeeeeeeeull);
	r = cpu_stats(NULL, 0, &count);
	printf("ctlstat: cpus-zero r=%ld count=%u\n", r, count);
}

static void refusals(void)
{
	uint32_t count;

	printf("ctlstat: cpus-bigmax r=%ld\n", cpu_stats(a, MAX_CPUS + 1, &count));
	printf("ctlstat: cpus-badbuf r=%ld\n", cpu_stats((void *)KERNEL_ADDR, 4, &count));
	printf("ctlstat: cpus-robuf r=%ld\n", cpu_stats((void *)READ_ONLY_ADDR, 4, &count));
}

int run_cpus(void)
{
	uint32_t n1 = 0, n2 = 0, cpus;
	uint64_t t0, t1;
	long r1, r2;

	nap_ms(300);                  /* the other boot domain settles */
	cpus = host_cpus();
	t0 = pv_monotonic_ns();
	r1 = cpu_stats(a, MAX_CPUS, &n1);
	nap_ms(600);                  /* the machine idles meanwhile */
	r2 = cpu_stats(b, MAX_CPUS, &n2);
	t1 = pv_monotonic_ns();
	printf("ctlstat: cpus r=%ld count=%u again_r=%ld again_count=%u host_cpus=%u\n", r1, n1, r2, n2, cpus);
	print_cpus(b, n2);
	print_deltas(n1 < n2 ? n1 : n2, t1 - t0);
	partial();
	refusals();
	return r1 || r2 || n1 != cpus;
}
