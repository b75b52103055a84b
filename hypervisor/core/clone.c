/* domctl CLONE (public/domctl.h): a new domain from a snapshot that shares
 * its pages copy-on-write.  The clone is built like any domain from the
 * snapshot's settings with its own name, MACs and addresses; then:
 *
 * - pages the build gave frames of their own (image data, rings, the
 *   stack's first page, shared_info) get the snapshot's bytes: they are
 *   few, and a backend writes the rings and shared_info from any CPU;
 * - start_info stays the build's: it says who the clone is;
 * - every other page the snapshot has (a demand-zero page of the build)
 *   maps the snapshot's frame read-only (domain_map_cow).  It keeps the
 *   reservation the build made for it, which its first write uses: the
 *   clone's reservation is what it may write, its private memory what it
 *   wrote, and a write never fails for want of memory.
 *
 * The clone's generation in shared_info is new, so its libOS knows it is
 * a copy (another MAC and address, fresh randomness). */
#include <manifest.h>
#include <public/domctl.h>
#include <hv/domain.h>
#include <hv/domctl.h>
#include <hv/errno.h>
#include <hv/fpu.h>
#include <hv/image_store.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/net.h>
#include <hv/save.h>
#include <hv/snapshot.h>
#include <hv/time.h>
#include <hv/x86.h>

static uint32_t last_generation;

static int64_t fail(struct pv_domctl_hdr *h, int64_t err, const char *msg)
{
	strlcpy(h->message, msg, sizeof(h->message));
	return err;
}

/* The snapshot's settings with the clone's name and net devices. */
static int64_t settings(const struct snapshot *s, struct pv_domctl_clone *q, struct manifest_guest *g)
{
	struct pv_domctl_config c = s->config;

	if (q->net_count != s->net_count)
		return fail(&q->hdr, -EINVAL, "net_count: give as many net devices as the snapshot has");
	memcpy(c.name, q->name, sizeof(c.name));
	memcpy(c.net, q->net, sizeof(c.net));
	if (c.on_exit == PV_DOMCTL_ACTION_POWEROFF)
		c.on_exit = PV_DOMCTL_ACTION_DESTROY;
	if (c.on_crash == PV_DOMCTL_ACTION_POWEROFF)
		c.on_crash = PV_DOMCTL_ACTION_DESTROY;
	return domctl_settings(&c, g, q->hdr.message, sizeof(q->hdr.message)) ? 0 : -EINVAL;
}

/* Pages a backend writes from any CPU (the device rings) and the info
 * pages stay the clone's own: a copy-on-write page could not be copied
 * while the clone runs elsewhere. */
static bool own_page(const struct domain *d, uint64_t i)
{
	uint64_t va = d->mem.base + i * PAGE_SIZE;

	return (va >= d->rings_gva && va < d->heap_gva) || i >= d->mem.pages - 2;
}

/* Page i of the snapshot (frame sf) into the clone; the number of pages
 * it shares (1) or copied (0), or -1. */
static int page(struct domain *d, uint64_t i, uint64_t sf, struct pte_cursor *c)
{
	uint64_t f = d->mem.frame[i];
	void *to = phys_to_virt(f & ~GF_FLAGS);

	if (i == d->mem.pages - 2)
		return 0;                 /* start_info: the clone's own */
	if ((f & GF_SHARED) || (!(f & ~GF_FLAGS) && !(f & GF_LAZY)))
		return -1;                /* another layout: cannot happen with the same image */
	if (!own_page(d, i) && domain_map_cow(d, i, sf & ~GF_FLAGS, sf, domain_pte(d, i, c)))
		return 1;
	if (!(f & ~GF_FLAGS))
		return -1;                /* a lazy ring page: cannot happen */
	memcpy(to, phys_to_virt(sf & ~GF_FLAGS), PAGE_SIZE);
	return 0;
}

static int64_t pages(struct domain *d, const struct snapshot *s, uint64_t *shared)
{
	struct pte_cursor c = { 1, NULL };

	*shared = 0;
	if (d->mem.pages != s->mem_pages)
		return -1;
	for (uint64_t i = 0; i < s->mem_pages; i++) {
		int r = s->frame[i] ? page(d, i, s->frame[i], &c) : 0;

		if (r < 0)
			return -1;
		*shared += (uint64_t)r;
	}
	return 0;
}

/* Registers, FPU, devices, clock and identity: the snapshot's, but who it is. */
static void state(struct domain *d, const struct snapshot *s, uint32_t generation)
{
	d->regs = s->regs;
	d->regs.vector = 0;       /* back through iretq, every register as taken */
	memcpy(d->fpu, s->fpu, fpu_state_size());
	for (uint32_t i = 0; IS_ENABLED(CONFIG_NET) && i < d->net_count; i++) {
		uint64_t f = spin_lock(&net_lock);

		netback_clone(&d->net[i], &s->net[i]);
		spin_unlock(&net_lock, f);
	}
	domain_clock_continue(d, s->system_ns);
	d->shared_info->generation = generation;
	domain_devices_look_again(d);
}

static uint32_t new_generation(const struct snapshot *s)
{
	uint32_t g;

	do
		g = __atomic_add_fetch(&last_generation, 1, __ATOMIC_RELAXED);
	while (g == s->generation || !g);
	return g;
}

/* *owned once the domain exists: g and the reference are its from then. */
static int64_t build(struct pv_domctl_clone *q, struct snapshot *s, struct manifest_guest *g, bool *owned)
{
	struct image *img = image_find(s->img->hash);
	struct domain *d;
	uint64_t shared, t0 = rdtsc();

	if (!img)
		return fail(&q->hdr, -ENOMEM, "out of hypervisor memory");
	sti();
	d = domain_create_held(g, img, q->hdr.message, sizeof(q->hdr.message));
	cli();
	if (!d) {
		image_put(img);
		return !strncmp(q->hdr.message, "out of", 6) ? -ENOMEM :
		       !strncmp(q->hdr.message, "too many", 8) ? -ENOSPC : -EEXIST;
	}
	d->snap = s;              /* its reference: released with the domain */
	*owned = true;
	sti();
	if (pages(d, s, &shared)) {
		cli();
		domain_unhold(d, UNHOLD_DESTROY);
		return fail(&q->hdr, -EINVAL, "the clone's layout is not the snapshot's");
	}
	cli();
	q->generation = new_generation(s);
	state(d, s, q->generation);
	q->hdr.domid = d->id;
	log_event("domain-cloned id=%u name=%s snapshot=%s shared_pages=%lu generation=%u work_us=%lu", d->id,
		  d->name, s->name, shared, q->generation, tsc_to_ns(rdtsc() - t0) / 1000);
	domain_unhold(d, UNHOLD_START);
	return 0;
}

int64_t domctl_clone(struct domain *caller, struct pv_domctl_clone *q)
{
	struct manifest_guest *g;
	struct snapshot *s;
	bool owned = false;
	int64_t r;

	(void)caller;
	q->generation = 0;
	if (strnlen(q->snapshot, sizeof(q->snapshot)) == sizeof(q->snapshot) || !(s = snapshot_get(q->snapshot)))
		return fail(&q->hdr, -ENOENT, "no such snapshot");
	if (!(g = domain_cfg_alloc())) {
		snapshot_put(s);
		return fail(&q->hdr, -ENOMEM, "out of hypervisor memory");
	}
	r = settings(s, q, g);
	if (!r)
		r = build(q, s, g, &owned);
	if (!owned) {
		domain_cfg_free(g);
		snapshot_put(s);
	}
	return r;
}
