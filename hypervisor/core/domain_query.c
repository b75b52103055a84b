/* A domain as the control plane sees it (struct pv_domctl_dominfo).
 * Called under the domain table's lock (domain_walk), so d stays alive;
 * its counters may move meanwhile (it may run on another CPU): each is
 * read once, and a running domain's CPU time includes its current slice. */
#include <public/domctl.h>
#include <hv/domain.h>
#include <hv/image_store.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/time.h>
#include <hv/x86.h>

static uint32_t public_state(const struct domain *d)
{
	enum domain_state s = __atomic_load_n(&d->state, __ATOMIC_RELAXED);

	if (s != DOM_DEAD && !d->kill_requested && (d->paused || s == DOM_PAUSED))
		return PV_DOMCTL_PAUSED;
	switch (s) {
	case DOM_BLOCKED:
		return PV_DOMCTL_BLOCKED;
	case DOM_DEAD:
		return PV_DOMCTL_ENDING;
	default:
		return d->kill_requested ? PV_DOMCTL_ENDING : PV_DOMCTL_RUNNING;
	}
}

static uint64_t cpu_ns_so_far(const struct domain *d)
{
	uint64_t t = __atomic_load_n(&d->cpu_tsc, __ATOMIC_RELAXED);

	if (__atomic_load_n(&d->state, __ATOMIC_RELAXED) == DOM_RUNNING)
		t += rdtsc() - __atomic_load_n(&d->slice_start_tsc, __ATOMIC_RELAXED);
	return tsc_to_ns(t);
}

void domain_describe(const struct domain *d, struct pv_domctl_dominfo *o)
{
	memset(o, 0, sizeof(*o));
	o->domid = d->id;
	o->state = public_state(d);
	strlcpy(o->name, d->name, sizeof(o->name));
	o->memory = d->mem.pages * PAGE_SIZE;
	o->private_bytes = d->private_frames * PAGE_SIZE;
	o->overhead_bytes = d->overhead_frames * PAGE_SIZE;
	o->cpu_ns = cpu_ns_so_far(d);
	o->uptime_ns = tsc_to_ns(rdtsc() - d->created_tsc);
	o->hypercalls = d->hypercalls;
	o->context_switches = d->switches;
	o->console_bytes = d->console.written_total;
	o->console_dropped = d->console.dropped_total;
	o->cpu_mask = d->affinity;
	o->weight = d->fair.weight;
	o->restarts = d->restart_no;
	o->flags = (d->privileged ? PV_DOMCTL_INFO_PRIVILEGED : 0) |
		   (d->guest_index != DOMAIN_RUNTIME ? PV_DOMCTL_INFO_BOOT : 0);
	o->last_cpu = __atomic_load_n(&d->cpu, __ATOMIC_RELAXED);
	if (d->img)
		memcpy(o->image_hash, d->img->hash, sizeof(o->image_hash));
}
