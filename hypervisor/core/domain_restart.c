/* Restarting ended domains (on_exit / on_crash = restart): a limit on how
 * often, exponential back-off between attempts, and the hypervisor timer
 * that builds the new domain on the boot CPU's normal path.
 *
 * A manifest domain restarts from its manifest section and loaded image,
 * which live for ever; its restarts are counted per section (every copy
 * of a section with instances > 1 shares the count).  A domain created at
 * run time (domctl CREATE) owns its settings and a reference to its stored
 * image: when it ends to be restarted, both pass to a pending restart, and
 * from there to the new domain, which releases them when it ends for good.
 * The count travels with them (the new domain's restart_no), so INFO shows
 * it.  A restart that cannot happen (the limit, no timer slot, a failed
 * build, its name taken meanwhile by a CREATE) releases them: the last
 * user of the image frees it.
 *
 * domains_lock (core/domain.c) guards the counts and the pending slots. */
#include <manifest.h>
#include <hv/boot.h>
#include <hv/domain.h>
#include <hv/image_store.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/sched.h>
#include <hv/time.h>
#include <hv/x86.h>

static uint32_t restarts[MANIFEST_MAX_GUESTS];    /* per manifest section */

/* Run-time domains waiting for their restart timer.  No more restarts can
 * wait than there are hypervisor timers, so this never limits anything
 * the timers would not. */
#define PENDING_MAX 64
struct pending { struct manifest_guest *g; struct image *img; uint32_t restart_no; };
static struct pending pending[PENDING_MAX];
static uint64_t pending_used;      /* bit i: pending[i] is taken */

/* Exponential back-off from the manifest's restart_delay (else the build's
 * default, as for every run-time domain), capped at 1 s or the delay
 * itself when that is longer. */
static uint64_t restart_delay_us(const struct manifest_guest *g, uint32_t n)
{
	uint64_t base = g->restart_delay_us == MANIFEST_RESTART_DELAY_BUILD ?
			CONFIG_RESTART_BACKOFF_MS * 1000ULL : g->restart_delay_us;

	return MIN(base << MIN(n - 1, 20u), MAX(base, 1000000ULL));
}

static uint64_t when_tsc(const struct manifest_guest *g, uint32_t n)
{
	return rdtsc() + ns_to_tsc(restart_delay_us(g, n) * 1000);
}

static void limit_reached(const struct manifest_guest *g)
{
	log_warn("domain %s: restart limit (%u) reached, not restarting", g->name, g->restart_limit);
	log_event("domain-restart-limit name=%s restarts=%u", g->name, g->restart_limit);
}

/* ---- manifest domains ---------------------------------------------------------- */

/* Restart timers carry (instance << 8) | guest index. */
#define RESTART_ARG(gi, inst) (((inst) << 8) | (gi))

static void boot_restart_timer(uint32_t arg)
{
	uint32_t gi = arg & 0xff;

	if (!domain_create(gi, arg >> 8, restarts[gi]))
		domain_check_all_ended(1);
}

/* The restart count after this one, or 0 past the limit. */
static uint32_t count_restart(const struct manifest_guest *g, uint32_t gi)
{
	uint64_t f = spin_lock(&domains_lock);
	uint32_t n = restarts[gi] < g->restart_limit ? ++restarts[gi] : 0;

	spin_unlock(&domains_lock, f);
	return n;
}

static void schedule_boot(uint32_t gi, uint32_t instance)
{
	const struct manifest_guest *g = &boot.manifest->guest[gi];
	uint32_t n = count_restart(g, gi);

	if (!n) {
		limit_reached(g);
		return;
	}
	if (sched_timer_add(when_tsc(g, n), boot_restart_timer, RESTART_ARG(gi, instance)))
		log_err("domain %s: no timer slot for its restart", g->name);
}

/* ---- run-time domains ---------------------------------------------------------- */

static void release(const struct pending *p)
{
	domain_cfg_free(p->g);
	image_put(p->img);
}

/* A free slot holding p, or -1. */
static int park(const struct pending *p)
{
	uint64_t f = spin_lock(&domains_lock);
	int i = pending_used == ~0ULL ? -1 : __builtin_ctzll(~pending_used);

	if (i >= 0) {
		pending_used |= 1ULL << i;
		pending[i] = *p;
	}
	spin_unlock(&domains_lock, f);
	return i;
}

static struct pending unpark(uint32_t i)
{
	uint64_t f = spin_lock(&domains_lock);
	struct pending p = pending[i];

	pending_used &= ~(1ULL << i);
	spin_unlock(&domains_lock, f);
	return p;
}

static void runtime_restart_timer(uint32_t slot)
{
	struct pending p = unpark(slot);
	char err[160];

	if (!domain_create_restart(p.g, p.img, p.restart_no, err, sizeof(err))) {
		release(&p);
		domain_check_all_ended(1);
	}
}

static void schedule_runtime(const struct domain_restart *r)
{
	struct pending p = { r->g, r->img, r->restart_no < r->g->restart_limit ? r->restart_no + 1 : 0 };
	int slot;

	if (!p.restart_no) {
		limit_reached(p.g);
		release(&p);
		return;
	}
	slot = park(&p);
	if (slot >= 0 && !sched_timer_add(when_tsc(p.g, p.restart_no), runtime_restart_timer, (uint32_t)slot))
		return;
	if (slot >= 0)
		unpark((uint32_t)slot);
	log_err("domain %s: no timer slot for its restart", p.g->name);
	release(&p);
}

/* ---- from domain_end ----------------------------------------------------------- */

void domain_restart_keep(struct domain *d, struct domain_restart *r)
{
	r->wanted = true;
	r->gi = d->guest_index;
	r->instance = d->instance;
	r->restart_no = d->restart_no;
	if (d->guest_index != DOMAIN_RUNTIME)
		return;
	r->g = (struct manifest_guest *)d->cfg;
	r->img = d->img;
	d->handed_on = true;      /* domain_release leaves both alone */
}

void domain_restart_schedule(const struct domain_restart *r)
{
	if (r->gi == DOMAIN_RUNTIME)
		schedule_runtime(r);
	else
		schedule_boot(r->gi, r->instance);
}
