/* /metrics: the per-domain and per-switch-port families (api_metrics.c
 * writes the host and CPU ones). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "metrics.h"

#define PORTS_MAX 1024      /* switch ports read at once */

/* ---- per domain ------------------------------------------------------------ */

static void domain_labels(struct buf *b, const char *name, const struct pv_domctl_dominfo *d)
{
	buf_printf(b, "%s{id=\"%u\",name=\"", name, d->domid);
	metric_label(b, d->name, sizeof(d->name));
	buf_str(b, "\"}");
}

static const struct {
	const char *name, *type, *help;
	size_t off;
	bool seconds;
} dom_families[] = {
	{ "paravane_domain_cpu_seconds_total", "counter", "CPU time used by the domain.",
	  offsetof(struct pv_domctl_dominfo, cpu_ns), true },
	{ "paravane_domain_memory_bytes", "gauge", "Memory the domain was given.",
	  offsetof(struct pv_domctl_dominfo, memory), false },
	{ "paravane_domain_memory_private_bytes", "gauge", "Frames the domain owns now.",
	  offsetof(struct pv_domctl_dominfo, private_bytes), false },
	{ "paravane_domain_memory_overhead_bytes", "gauge", "Hypervisor memory spent on the domain.",
	  offsetof(struct pv_domctl_dominfo, overhead_bytes), false },
	{ "paravane_domain_uptime_seconds", "gauge", "Time since the domain was created.",
	  offsetof(struct pv_domctl_dominfo, uptime_ns), true },
	{ "paravane_domain_hypercalls_total", "counter", "Hypercalls the domain made.",
	  offsetof(struct pv_domctl_dominfo, hypercalls), false },
	{ "paravane_domain_context_switches_total", "counter", "Times the domain was switched to.",
	  offsetof(struct pv_domctl_dominfo, context_switches), false },
	{ "paravane_domain_console_bytes_total", "counter", "Console bytes the domain wrote.",
	  offsetof(struct pv_domctl_dominfo, console_bytes), false },
	{ "paravane_domain_console_dropped_bytes_total", "counter", "Console bytes dropped.",
	  offsetof(struct pv_domctl_dominfo, console_dropped), false },
};

static void domain_family(struct buf *b, size_t f, const struct pv_domctl_dominfo *v, int n)
{
	metric_family(b, dom_families[f].name, dom_families[f].type, dom_families[f].help);
	for (int i = 0; i < n; i++) {
		uint64_t x;

		memcpy(&x, (const char *)&v[i] + dom_families[f].off, sizeof(x));
		domain_labels(b, dom_families[f].name, &v[i]);
		buf_str(b, " ");
		if (dom_families[f].seconds)
			buf_seconds(b, x);
		else
			buf_printf(b, "%lu", (unsigned long)x);
		buf_str(b, "\n");
	}
}

void metrics_domains(struct buf *b)
{
	struct pv_domctl_dominfo *v;
	int n = hv_domains(&v);
	char hash[65];

	if (n < 0)
		return;
	metric_family(b, "paravane_domain_info", "gauge", "One series per live domain, carrying its state.");
	for (int i = 0; i < n; i++) {
		hex_hash(v[i].image_hash, hash);
		buf_printf(b, "paravane_domain_info{id=\"%u\",name=\"", v[i].domid);
		metric_label(b, v[i].name, sizeof(v[i].name));
		buf_printf(b, "\",state=\"%s\",image_sha256=\"%s\"} 1\n", state_name(v[i].state), hash);
	}
	for (size_t f = 0; f < sizeof(dom_families) / sizeof(dom_families[0]); f++)
		domain_family(b, f, v, n);
	metric_family(b, "paravane_domain_restarts_total", "counter", "Restarts under the domain's name.");
	for (int i = 0; i < n; i++) {
		domain_labels(b, "paravane_domain_restarts_total", &v[i]);
		buf_printf(b, " %u\n", v[i].restarts);
	}
	free(v);
}

/* ---- per switch port --------------------------------------------------------- */

static void port_counter(struct buf *b, const char *name, const char *help, const struct pv_domctl_port *v,
			 uint32_t n, size_t off)
{
	metric_family(b, name, "counter", help);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t x;

		memcpy(&x, (const char *)&v[i] + off, sizeof(x));
		buf_printf(b, "%s{port=\"", name);
		metric_label(b, v[i].name, sizeof(v[i].name));
		buf_printf(b, "\"} %lu\n", (unsigned long)x);
	}
}

static void port_drops(struct buf *b, const struct pv_domctl_port *v, uint32_t n)
{
	static const char *const reasons[] = { "spoof", "ip_spoof", "tx", "invalid", "storm" };
	const char *name = "paravane_net_dropped_frames_total";

	metric_family(b, name, "counter", "Frames dropped at the port, by reason.");
	for (uint32_t i = 0; i < n; i++) {
		const uint64_t drops[] = { v[i].drop_spoof, v[i].drop_ip_spoof, v[i].drop_tx, v[i].drop_invalid,
					   v[i].drop_storm };

		for (int k = 0; k < 5; k++) {
			buf_printf(b, "%s{port=\"", name);
			metric_label(b, v[i].name, sizeof(v[i].name));
			buf_printf(b, "\",reason=\"%s\"} %lu\n", reasons[k], (unsigned long)drops[k]);
		}
	}
}

void metrics_ports(struct buf *b)
{
	static struct pv_domctl_port v[PORTS_MAX];
	struct pv_domctl_ports a;
	uint32_t n;

	memset(&a, 0, sizeof(a));
	a.buf_gva = (uintptr_t)v;
	a.max = PORTS_MAX;
	if (hv_call(&a, PV_DOMCTL_NET_PORTS, sizeof(a), 0))
		return;
	n = a.count < PORTS_MAX ? a.count : PORTS_MAX;
	port_counter(b, "paravane_net_rx_frames_total", "Frames the switch took in from the port.", v, n,
		     offsetof(struct pv_domctl_port, rx_frames));
	port_counter(b, "paravane_net_rx_bytes_total", "Bytes of the frames taken in from the port.", v, n,
		     offsetof(struct pv_domctl_port, rx_bytes));
	port_counter(b, "paravane_net_tx_frames_total", "Frames the switch sent out of the port.", v, n,
		     offsetof(struct pv_domctl_port, tx_frames));
	port_counter(b, "paravane_net_tx_bytes_total", "Bytes of the frames sent out of the port.", v, n,
		     offsetof(struct pv_domctl_port, tx_bytes));
	port_drops(b, v, n);
}
