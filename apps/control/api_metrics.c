/* GET /metrics: the Prometheus text exposition format 0.0.4 (docs/api.md
 * "GET /metrics"), every family with HELP and TYPE, straight from the
 * hypervisor's counters. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "metrics.h"

#define CPUS_MAX  256


void metric_family(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void gauge(struct buf *b, const char *name, const char *help, uint64_t v)
{
	metric_family(b, name, "gauge", help);
	buf_printf(b, "%s %lu\n", name, (unsigned long)v);
}

/* A label value, escaped as the format says. */
void metric_label(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++)
		buf_str(b, s[i] == '\\' ? "\\\\" : s[i] == '"' ? "\\\"" : s[i] == '\n' ? "\\n" :
			   (char[2]){ s[i], 0 });
}

static void host_metrics(struct buf *b, const struct pv_domctl_host *h)
{
	gauge(b, "paravane_host_cpus", "CPUs started.", h->cpus);
	gauge(b, "paravane_host_cpus_found", "CPUs the firmware reported.", h->cpus_found);
	gauge(b, "paravane_host_memory_total_bytes", "Memory the hypervisor manages.", h->memory_total);
	gauge(b, "paravane_host_memory_free_bytes", "Memory free and not promised to a domain.", h->memory_free);
	metric_family(b, "paravane_host_uptime_seconds", "gauge", "Time since the hypervisor started.");
	buf_str(b, "paravane_host_uptime_seconds ");
	buf_seconds(b, h->uptime_ns);
	buf_str(b, "\n");
	gauge(b, "paravane_host_domains", "Live domains.", h->domains);
	gauge(b, "paravane_host_domains_max", "The most domains there may be.", h->domains_max);
}

static const struct {
	const char *name, *help;
	size_t off;            /* of a uint64_t in struct pv_domctl_cpu_stat */
	bool seconds;
} cpu_families[] = {
	{ "paravane_cpu_idle_seconds_total", "Time the CPU spent idle.",
	  offsetof(struct pv_domctl_cpu_stat, idle_ns), true },
	{ "paravane_cpu_context_switches_total", "Context switches on this CPU.",
	  offsetof(struct pv_domctl_cpu_stat, context_switches), false },
	{ "paravane_cpu_wakeups_total", "Domains woken onto this CPU.",
	  offsetof(struct pv_domctl_cpu_stat, wakeups), false },
	{ "paravane_cpu_steals_total", "Domains this CPU stole from other CPUs.",
	  offsetof(struct pv_domctl_cpu_stat, steals), false },
	{ "paravane_cpu_timer_interrupts_total", "LAPIC timer interrupts on this CPU.",
	  offsetof(struct pv_domctl_cpu_stat, timer_irqs), false },
};

static void cpu_metrics(struct buf *b)
{
	static struct pv_domctl_cpu_stat v[CPUS_MAX];
	struct pv_domctl_cpus a;

	memset(&a, 0, sizeof(a));
	a.buf_gva = (uintptr_t)v;
	a.max = CPUS_MAX;
	if (hv_call(&a, PV_DOMCTL_CPU_STATS, sizeof(a), 0))
		return;
	for (size_t f = 0; f < sizeof(cpu_families) / sizeof(cpu_families[0]); f++) {
		metric_family(b, cpu_families[f].name, "counter", cpu_families[f].help);
		for (uint32_t i = 0; i < a.count && i < CPUS_MAX; i++) {
			uint64_t x;

			memcpy(&x, (char *)&v[i] + cpu_families[f].off, sizeof(x));
			buf_printf(b, "%s{cpu=\"%u\"} ", cpu_families[f].name, v[i].cpu);
			if (cpu_families[f].seconds)
				buf_seconds(b, x);
			else
				buf_printf(b, "%lu", (unsigned long)x);
			buf_str(b, "\n");
		}
	}
}

void api_metrics(struct request *r)
{
	struct pv_domctl_host h;
	struct buf b = { 0 };
	long err = hv_host(&h);

	if (err)
		return hv_error(r, err, h.hdr.message);
	host_metrics(&b, &h);
	cpu_metrics(&b);
	metrics_domains(&b);
	metrics_ports(&b);
	if (b.failed)
		reply_error(r, 500, "internal", NULL, "the metrics did not fit in %u bytes", BUF_CAP);
	else
		reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, b.p, b.len);
	buf_free(&b);
}

