/* Domain lifecycle: create from the manifest, end (exit or crash), apply the
 * manifest's on_exit / on_crash policy (destroy, restart with back-off and a
 * limit, power off), and power off when everything has ended if asked to.
 * Every step prints a stable "@event domain-..." line. */
#include <boot_info.h>
#include <manifest.h>
#include <hv/boot.h>
#include <hv/domain.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/netback.h>
#include <hv/power.h>
#include <hv/sched.h>
#include <hv/time.h>
#include <hv/x86.h>

#define FPU_ALIGN 64

static struct domain *all_domains;
static uint32_t live_count, next_id = 1;
static uint32_t restarts[MANIFEST_MAX_GUESTS];
static uint32_t ended_ok, ended_failed, ended_crashed;
static uint64_t free_kib_at_start;

uint32_t domain_count(void) { return live_count; }

static uint64_t free_kib(void)
{
	struct frame_stats s;

	frame_stats(&s);
	return s.free * (PAGE_SIZE / 1024);
}

const struct boot_module *boot_module_for(uint32_t guest)
{
	const struct boot_info *bi = boot.info;
	const struct boot_module *mods = phys_to_virt(bi->modules_phys);

	for (uint32_t i = 0; bi->modules_phys && i < bi->module_count; i++)
		if (mods[i].guest_index == guest && mods[i].kind == BOOT_MODULE_IMAGE)
			return &mods[i];
	return NULL;
}

/* struct domain and its FPU area share whole frames, so that destroying a
 * domain returns exactly what creating it took. */
static uint64_t struct_pages(void)
{
	return PAGE_ALIGN_UP(ALIGN_UP(sizeof(struct domain), FPU_ALIGN) + fpu_state_size()) / PAGE_SIZE;
}

static struct domain *domain_alloc(void)
{
	uint64_t pa = frame_alloc_contig(struct_pages());
	struct domain *d;

	if (!pa)
		return NULL;
	d = phys_to_virt(pa);
	d->fpu = (uint8_t *)d + ALIGN_UP(sizeof(struct domain), FPU_ALIGN);
	fpu_init_state(d->fpu);
	d->overhead_frames = struct_pages();
	d->heap_index = NO_HEAP;
	return d;
}

static void domain_release(struct domain *d)
{
	domain_free_memory(d);
	frame_free_contig(virt_to_phys(d), struct_pages());
}

static int attach_devices(struct domain *d, const struct manifest_guest *g, char *err, size_t n)
{
	if (!IS_ENABLED(CONFIG_NET) && g->net_count) {
		snprintf(err, n, "its manifest asks for %u net devices; this hypervisor is built without CONFIG_NET",
			 g->net_count);
		return -1;
	}
	for (uint32_t i = 0; i < g->net_count; i++) {
		uint64_t rings = d->rings_gva + (uint64_t)i * NETBACK_RING_PAGES * PAGE_SIZE;

		if (netback_attach(&d->net[i], d, i, &g->net[i], rings, err, n))
			return -1;
		d->net_count = i + 1;
	}
	return 0;
}

static void detach_devices(struct domain *d)
{
	if (!IS_ENABLED(CONFIG_NET))
		return;
	for (uint32_t i = 0; i < d->net_count; i++)
		netback_detach(&d->net[i]);
	d->net_count = 0;
}

/* Frames this domain owns right now (not shared image pages, not yet
 * touched demand-zero pages). */
static uint64_t private_kib(const struct domain *d)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < d->mem.pages; i++)
		if ((d->mem.frame[i] & ~GF_FLAGS) && !(d->mem.frame[i] & GF_SHARED))
			n++;
	return n * (PAGE_SIZE / 1024);
}

static void refuse(const struct manifest_guest *g, const char *why)
{
	log_err("domain %s not created: %s", g->name, why);
	log_event("domain-refused name=%s", g->name);
}

struct domain *domain_create(uint32_t gi, uint32_t restart_no)
{
	const struct manifest_guest *g = &boot.manifest->guest[gi];
	const struct boot_module *mod = boot_module_for(gi);
	uint64_t t0 = rdtsc();
	struct domain *d;
	char err[160];

	if (!mod)
		return refuse(g, "its image was not loaded"), NULL;
	if (live_count >= CONFIG_MAX_DOMAINS)
		return refuse(g, "too many domains (CONFIG_MAX_DOMAINS)"), NULL;
	d = domain_alloc();
	if (!d)
		return refuse(g, "out of hypervisor memory"), NULL;
	d->created_tsc = t0;
	d->id = next_id++;
	d->guest_index = gi;
	d->privileged = g->privileged;
	strlcpy(d->name, g->name, sizeof(d->name));
	d->image = phys_to_virt(mod->phys);
	d->image_size = mod->size;
	if (domain_build(d, g, err, sizeof(err)) || attach_devices(d, g, err, sizeof(err))) {
		detach_devices(d);
		domain_release(d);
		return refuse(g, err), NULL;
	}
	d->console.tokens = CONFIG_CONSOLE_BURST;
	d->console.refill_tsc = rdtsc();
	d->all_next = all_domains;
	all_domains = d;
	live_count++;
	log_event("domain-created id=%u name=%s memory_kib=%lu private_kib=%lu overhead_kib=%lu build_us=%lu restart=%u",
		  d->id, d->name, (d->mem.pages * PAGE_SIZE) >> 10, private_kib(d),
		  (d->overhead_frames * PAGE_SIZE) >> 10, tsc_to_ns(rdtsc() - t0) / 1000, restart_no);
	sched_add(d);
	return d;
}

static void domain_destroy(struct domain *d)
{
	struct domain **pp = &all_domains;

	sched_remove(d);
	detach_devices(d);
	if (read_cr3() == d->pml4)
		write_cr3(kspace_pml4());   /* never free the tables we run on */
	while (*pp && *pp != d)
		pp = &(*pp)->all_next;
	if (*pp)
		*pp = d->all_next;
	live_count--;
	log_event("domain-destroyed id=%u name=%s", d->id, d->name);
	domain_release(d);
}

static enum power_status final_status(void)
{
	if (ended_crashed)
		return POWER_STATUS_GUEST_CRASHED;
	return ended_failed ? POWER_STATUS_GUEST_FAILED : POWER_STATUS_OK;
}

static void check_all_ended(void)
{
	if (live_count || sched_pending_timers() || !boot.manifest->hv.poweroff_when_idle)
		return;
	log_info("all guests have ended (%u ok, %u failed, %u crashed)", ended_ok, ended_failed,
		 ended_crashed);
	log_event("memory-check free_kib_at_start=%lu free_kib_now=%lu", free_kib_at_start, free_kib());
	if (IS_ENABLED(CONFIG_NET))
		net_report();
	power_off(final_status());
}

static void restart_timer(uint32_t gi)
{
	if (!domain_create(gi, restarts[gi]))
		check_all_ended();
	else
		log_event("domain-restarted name=%s restart=%u", boot.manifest->guest[gi].name, restarts[gi]);
}

static void schedule_restart(const struct manifest_guest *g, uint32_t gi)
{
	uint64_t ms;

	if (restarts[gi] >= g->restart_limit) {
		log_warn("domain %s: restart limit (%u) reached, not restarting", g->name, g->restart_limit);
		log_event("domain-restart-limit name=%s restarts=%u", g->name, restarts[gi]);
		return;
	}
	ms = MIN((uint64_t)CONFIG_RESTART_BACKOFF_MS << MIN(restarts[gi], 20u), 1000UL);
	restarts[gi]++;
	if (sched_timer_add(rdtsc() + ns_to_tsc(ms * 1000000), restart_timer, gi))
		log_err("domain %s: no timer slot for its restart", g->name);
}

static void record(enum domain_end how, int code)
{
	if (how == END_CRASH)
		ended_crashed++;
	else if (code)
		ended_failed++;
	else
		ended_ok++;
}

void domain_end(struct domain *d, enum domain_end how, int code, const char *reason)
{
	uint32_t gi = d->guest_index;
	const struct manifest_guest *g = &boot.manifest->guest[gi];
	enum manifest_action act = how == END_EXIT ? g->on_exit : g->on_crash;

	console_flush(d);
	if (how == END_EXIT)
		log_event("domain-exited id=%u name=%s code=%d", d->id, d->name, code);
	else
		log_event("domain-crashed id=%u name=%s reason=%s code=%d", d->id, d->name, reason, code);
	record(how, code);
	domain_destroy(d);
	if (act == MANIFEST_ACTION_POWEROFF || !strcmp(reason, "poweroff")) {
		log_event("memory-check free_kib_at_start=%lu free_kib_now=%lu", free_kib_at_start, free_kib());
		if (IS_ENABLED(CONFIG_NET))
			net_report();
		power_off(how == END_CRASH ? POWER_STATUS_GUEST_CRASHED :
			  code ? POWER_STATUS_GUEST_FAILED : POWER_STATUS_OK);
	}
	if (act == MANIFEST_ACTION_RESTART)
		schedule_restart(g, gi);
	check_all_ended();
}

void domain_raise_event(struct domain *d, uint32_t port)
{
	uint64_t bit = 1ULL << (port % PV_EVENT_PORTS);

	__atomic_fetch_or(&d->shared_info->events_pending, bit, __ATOMIC_SEQ_CST);
	if (d->state == DOM_BLOCKED && (d->block_mask & bit))
		sched_wake(d, 1);
}

void domains_start(void)
{
	const struct manifest *m = boot.manifest;
	uint32_t created = 0;

	syscall_init();
	fpu_init();
	sched_init(m->hv.time_slice_us);
	trap_set_user_fault(guest_fault);
	if (IS_ENABLED(CONFIG_NET))
		net_init();
	free_kib_at_start = free_kib();
	for (uint32_t i = 0; i < m->guest_count; i++)
		if (m->guest[i].valid && domain_create(i, 0))
			created++;
	log_info("domains: %u of %u guests created", created, m->guest_count);
	if (!created && m->hv.poweroff_when_idle)
		power_off(m->guest_count ? POWER_STATUS_BOOT_ERROR : POWER_STATUS_OK);
	sched_start();
}
