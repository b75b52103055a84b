/* domctl CPU_STATS and NET_PORTS (public/domctl.h): the counters the
 * scheduler keeps per CPU and the virtual switch per port, for the
 * control domain's metrics.  Both write arrays of entries straight into
 * the caller's buffer, which is checked writable (and its lazy pages
 * backed) as a whole first; each entry is a snapshot taken under the lock
 * that guards its counters (a run queue's, net_lock), and no guest bytes
 * are read besides the caller's own structure, already in our copy. */
#include <public/domctl.h>
#include <hv/domain.h>
#include <hv/domctl.h>
#include <hv/errno.h>
#include <hv/lib.h>
#include <hv/netback.h>
#include <hv/percpu.h>
#include <hv/sched.h>
#include <hv/smp.h>

#define CPU_STATS_MAX 256u      /* entries one CPU_STATS call may ask for */
#define NET_PORTS_MAX 1024u     /* entries one NET_PORTS call may ask for */

static int64_t refuse(struct pv_domctl_hdr *h, int64_t err, const char *msg)
{
	strlcpy(h->message, msg, sizeof(h->message));
	return err;
}

/* ---- CPU_STATS ----------------------------------------------------------------- */

static void cpu_entry(uint32_t i, struct pv_domctl_cpu_stat *e)
{
	struct sched_stats s;

	sched_cpu_stats(cpu_get(i), &s);
	memset(e, 0, sizeof(*e));
	e->cpu = i;
	e->idle_ns = s.idle_ns;
	e->context_switches = s.switches;
	e->wakeups = s.wakeups;
	e->steals = s.steals;
	e->timer_irqs = s.timer_irqs;
}

/* One entry per started CPU in CPU order, up to max; a run-queue lock is
 * held only while its CPU's counters are copied, never across the copy
 * out. */
int64_t domctl_cpu_stats(struct domain *caller, struct pv_domctl_cpus *q)
{
	struct pv_domctl_cpu_stat e;
	uint32_t n;

	q->count = 0;
	if (q->max > CPU_STATS_MAX)
		return refuse(&q->hdr, -EINVAL, "max is above 256");
	if (guest_check(&caller->mem, q->buf_gva, (uint64_t)q->max * sizeof(e), true))
		return refuse(&q->hdr, -EFAULT, "the buffer is not writable memory of the caller");
	n = MIN(q->max, cpu_count);
	for (uint32_t i = 0; i < n; i++) {
		cpu_entry(i, &e);
		guest_copy_to(&caller->mem, q->buf_gva + (uint64_t)i * sizeof(e), &e, sizeof(e));
	}
	q->count = n;
	return 0;
}

/* ---- NET_PORTS ------------------------------------------------------------------ */

/* The port's name is "DOMAIN.netN" (or "uplink"), cut to the field: a
 * domain name of more than 26 bytes loses the tail; domid still says
 * whose it is. */
static void port_entry(const struct vswitch_port *p, struct pv_domctl_port *e)
{
	const struct vswitch_counters *c = &p->c;

	memset(e, 0, sizeof(*e));
	strlcpy(e->name, p->name, sizeof(e->name));
	e->domid = p->is_uplink ? 0 : p->owner;
	e->rx_frames = c->rx_frames;
	e->rx_bytes = c->rx_bytes;
	e->tx_frames = c->tx_frames;
	e->tx_bytes = c->tx_bytes;
	e->drop_spoof = c->drop_spoof;
	e->drop_ip_spoof = c->drop_ip_spoof;
	e->drop_tx = c->drop_tx;
	e->drop_invalid = c->drop_invalid;
	e->drop_storm = c->drop_storm;
}

struct port_listing { struct domain *caller; struct pv_domctl_ports *q; };

/* Under net_lock; the buffer's pages were backed by the check, so the
 * copy takes no lock and cannot fail. */
static bool emit_port(const struct vswitch_port *p, void *ctx)
{
	struct port_listing *w = ctx;
	struct pv_domctl_port e;

	w->q->total++;
	if (w->q->count == w->q->max)
		return true;               /* counted, not written */
	port_entry(p, &e);
	guest_copy_to(&w->caller->mem, w->q->buf_gva + (uint64_t)w->q->count++ * sizeof(e), &e, sizeof(e));
	return true;
}

int64_t domctl_net_ports(struct domain *caller, struct pv_domctl_ports *q)
{
	struct port_listing w = { caller, q };

	q->count = q->total = 0;
	if (q->max > NET_PORTS_MAX)
		return refuse(&q->hdr, -EINVAL, "max is above 1024");
	if (q->reserved)
		return refuse(&q->hdr, -EINVAL, "reserved must be 0");
	if (guest_check(&caller->mem, q->buf_gva, (uint64_t)q->max * sizeof(struct pv_domctl_port), true))
		return refuse(&q->hdr, -EFAULT, "the buffer is not writable memory of the caller");
	if (IS_ENABLED(CONFIG_NET))
		net_ports_walk(emit_port, &w);
	return 0;
}
