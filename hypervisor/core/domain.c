/* Domain lifecycle: create from the manifest, end (exit or crash), apply the
 * on_exit / on_crash policy (destroy, power off, or restart: with back-off
 * and a limit, core/domain_restart.c), and power off when everything has
 * ended if asked to.  Every step prints a stable "@event domain-..." line.
 *
 * domains_lock guards the domain table (all_domains, live_count, next_id)
 * and the restart and exit bookkeeping; it is never held while a domain is
 * built or torn down (that is O(memory)).  A domain is destroyed only by
 * the CPU it runs on (or is queued on): from its own hypercall or fault,
 * or after sched_kill() asked that CPU to. */
#include <boot_info.h>
#include <manifest.h>
#include <hv/boot.h>
#include <hv/console_keep.h>
#include <hv/domctl.h>
#include <hv/domain.h>
#include <hv/image_store.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/netback.h>
#include <hv/power.h>
#include <hv/sched.h>
#include <hv/selftest.h>
#include <hv/snapshot.h>
#include <hv/time.h>
#include <hv/work.h>
#include <hv/x86.h>

#define FPU_ALIGN 64

struct spinlock domains_lock = SPINLOCK_INIT("domains", LOCK_RANK_DOMAINS);
static struct domain *all_domains, *last_linked;   /* in id order; the last one */
static uint32_t live_count, next_id = 1;
static uint32_t ended_ok, ended_failed, ended_crashed;
static uint64_t free_kib_at_start;

uint32_t domain_count(void) { return __atomic_load_n(&live_count, __ATOMIC_RELAXED); }

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

/* struct domain and its FPU area share whole frames, and the console ring
 * has the last one, so that destroying a domain returns exactly what
 * creating it took. */
_Static_assert(CONSOLE_RING_BYTES == PAGE_SIZE, "the console ring is the last page");

static uint64_t struct_pages(void)
{
	return PAGE_ALIGN_UP(ALIGN_UP(sizeof(struct domain), FPU_ALIGN) + fpu_state_size()) / PAGE_SIZE + 1;
}

/* The console ring's page is not zeroed: a ring is read only below its
 * head, which starts at 0. */
static struct domain *domain_alloc(void)
{
	uint64_t pa = frame_alloc_contig_raw(struct_pages());
	struct domain *d;

	if (!pa)
		return NULL;
	d = memset(phys_to_virt(pa), 0, (struct_pages() - 1) * PAGE_SIZE);
	d->fpu = (uint8_t *)d + ALIGN_UP(sizeof(struct domain), FPU_ALIGN);
	fpu_init_state(d->fpu);
	text_ring_init(&d->console.ring, (uint8_t *)d + (struct_pages() - 1) * PAGE_SIZE, CONSOLE_RING_BYTES);
	d->overhead_frames = struct_pages();
	d->heap_index = NO_HEAP;
	spin_init(&d->mem_lock, "guestmem", LOCK_RANK_GUESTMEM);
	return d;
}

/* Run-time settings take a whole frame (the heap keeps pages of its size
 * classes), so that creating and destroying returns every frame. */
_Static_assert(sizeof(struct manifest_guest) <= PAGE_SIZE, "settings fit a frame");

struct manifest_guest *domain_cfg_alloc(void)
{
	uint64_t pa = frame_alloc_contig_raw(1);

	return pa ? memset(phys_to_virt(pa), 0, sizeof(struct manifest_guest)) : NULL;
}

void domain_cfg_free(struct manifest_guest *g)
{
	frame_free(virt_to_phys(g));
}

/* A run-time domain owns its settings and its image reference, unless it
 * handed them on to its restart. */
static void domain_release(struct domain *d)
{
	domain_free_memory(d);
	if (d->snap)
		snapshot_put(d->snap);    /* after: its frames were mapped until now */
	if (d->img && !d->handed_on)
		image_put(d->img);
	if (d->guest_index == DOMAIN_RUNTIME && d->cfg && !d->handed_on)
		domain_cfg_free((struct manifest_guest *)d->cfg);
	frame_free_contig(virt_to_phys(d), struct_pages());
}

/* Block devices: their rings follow the net devices' (domain_build.c);
 * start_info gets each one's capacity once its volume is open. */
static int attach_blocks(struct domain *d, const struct manifest_guest *g, char *err, size_t n)
{
	uint64_t rings = d->rings_gva + (uint64_t)g->net_count * NETBACK_RING_PAGES * PAGE_SIZE;

	for (uint32_t i = 0; i < g->block_count; i++) {
		uint64_t ring = rings + (uint64_t)i * BLKBACK_RING_PAGES * PAGE_SIZE;
		struct blkback *bb = blkback_attach(d, i, &g->block[i], ring, err, n);

		if (!bb)
			return -1;
		d->blk[i] = bb;
		d->blk_count = i + 1;
		blkback_describe(bb, &d->start_info->device[g->net_count + i]);
	}
	return 0;
}

static void detach_blocks(struct domain *d)
{
	for (uint32_t i = 0; i < d->blk_count; i++)
		blkback_detach(d->blk[i]);
	d->blk_count = 0;
}

static int attach_devices(struct domain *d, const struct manifest_guest *g, char *err, size_t n)
{
	if (attach_blocks(d, g, err, n))
		return -1;
	if (!IS_ENABLED(CONFIG_NET) && g->net_count) {
		snprintf(err, n, "its manifest asks for %u net devices; this hypervisor is built without CONFIG_NET",
			 g->net_count);
		return -1;
	}
	for (uint32_t i = 0; i < g->net_count; i++) {
		uint64_t rings = d->rings_gva + (uint64_t)i * NETBACK_RING_PAGES * PAGE_SIZE;
		uint64_t f = spin_lock(&net_lock);
		int r = netback_attach(&d->net[i], d, i, &g->net[i], rings, err, n);

		spin_unlock(&net_lock, f);
		if (r)
			return -1;
		d->net_count = i + 1;
	}
	return 0;
}

void domain_net_quiesce(struct domain *d, bool on)
{
	uint64_t f;

	if (!IS_ENABLED(CONFIG_NET))
		return;
	f = spin_lock(&net_lock);
	for (uint32_t i = 0; i < d->net_count; i++)
		netback_quiesce(&d->net[i], on);
	spin_unlock(&net_lock, f);
}

void domain_net_announce(struct domain *d)
{
	uint64_t f;

	if (!IS_ENABLED(CONFIG_NET))
		return;
	f = spin_lock(&net_lock);
	for (uint32_t i = 0; i < d->net_count; i++)
		netback_announce(&d->net[i]);
	spin_unlock(&net_lock, f);
}

static void detach_devices(struct domain *d)
{
	uint64_t f;

	detach_blocks(d);
	if (!IS_ENABLED(CONFIG_NET))
		return;
	f = spin_lock(&net_lock);
	for (uint32_t i = 0; i < d->net_count; i++)
		netback_detach(&d->net[i]);
	d->net_count = 0;
	spin_unlock(&net_lock, f);
}

/* Frames this domain owns right now (not shared image pages, not yet
 * touched demand-zero pages). */
static uint64_t private_kib(const struct domain *d)
{
	return d->private_frames * (PAGE_SIZE / 1024);
}

static void refuse(const struct manifest_guest *g, const char *why)
{
	log_err("domain %s not created: %s", g->name, why);
	log_event("domain-refused name=%s", g->name);
}

/* A place in the table and an id, or 0 when the table is full. */
static uint32_t reserve_slot(void)
{
	uint64_t f = spin_lock(&domains_lock);
	uint32_t id = 0;

	if (live_count < CONFIG_MAX_DOMAINS) {
		live_count++;
		id = next_id++;
	}
	spin_unlock(&domains_lock, f);
	return id;
}

static void release_slot(void)
{
	uint64_t f = spin_lock(&domains_lock);

	live_count--;
	spin_unlock(&domains_lock, f);
}

/* The table is kept in id order (ids only grow, so this is nearly always
 * an append) for listings that resume after an id. */
/* Names are unique among linked domains: checked here, under the lock
 * that links, so two creators racing for one name cannot both win. */
static bool name_linked(const char *name)
{
	for (struct domain *d = all_domains; d; d = d->all_next)
		if (!strcmp(d->name, name))
			return true;
	return false;
}

static bool link_domain(struct domain *d)
{
	uint64_t f = spin_lock(&domains_lock);
	struct domain **pp = &all_domains;

	if (name_linked(d->name)) {
		spin_unlock(&domains_lock, f);
		return false;
	}
	if (last_linked && last_linked->id < d->id)
		pp = &last_linked->all_next;
	while (*pp && (*pp)->id < d->id)
		pp = &(*pp)->all_next;
	d->all_next = *pp;
	*pp = d;
	if (!d->all_next)
		last_linked = d;
	spin_unlock(&domains_lock, f);
	return true;
}

bool domain_walk(uint32_t after_id, bool (*fn)(struct domain *d, void *ctx), void *ctx)
{
	uint64_t f = spin_lock(&domains_lock);
	struct domain *d = all_domains;
	bool stopped = false;

	while (d && d->id <= after_id)
		d = d->all_next;
	for (; d && !stopped; d = d->all_next)
		stopped = !fn(d, ctx);
	spin_unlock(&domains_lock, f);
	return stopped;
}

static void unlink_domain(struct domain *d)
{
	uint64_t f = spin_lock(&domains_lock);
	struct domain **pp = &all_domains;

	struct domain *prev = NULL;

	while (*pp && *pp != d) {
		prev = *pp;
		pp = &(*pp)->all_next;
	}
	if (*pp)
		*pp = d->all_next;
	if (last_linked == d)
		last_linked = prev;
	d->unlinked = true;
	spin_unlock(&domains_lock, f);
}

static uint64_t online_mask(void)
{
	return cpu_count >= 64 ? ~0ULL : (1ULL << cpu_count) - 1;
}

/* The manifest's CPU set, within the CPUs that started. */
static void set_scheduling(struct domain *d, const struct manifest_guest *g)
{
	d->affinity = (g->cpu_mask ? g->cpu_mask : ~0ULL) & online_mask();
	if (!d->affinity) {
		log_warn("domain %s: none of its CPUs (mask 0x%lx) started; it may run on any",
			 g->name, g->cpu_mask);
		d->affinity = online_mask();
	}
	fair_entity_init(&d->fair, g->weight);
}

/* NAME, or NAME-N for copy N of a section with instances > 1. */
static void set_name(struct domain *d, const struct manifest_guest *g, uint32_t instance)
{
	if (g->instances > 1)
		snprintf(d->name, sizeof(d->name), "%s-%u", g->name, instance + 1);
	else
		strlcpy(d->name, g->name, sizeof(d->name));
}

/* Where a new domain comes from: a manifest section, or (gi ==
 * DOMAIN_RUNTIME) a domctl CREATE's settings, then owned by the domain;
 * and a stored image whose reference passes to the domain. */
struct domain_source {
	const struct manifest_guest *g;
	uint32_t gi, instance;
	const void *image;
	uint64_t image_size;
	struct image *img;         /* the reference handed to the domain */
	bool held;                 /* a restore's: made paused and held (domain_create_held) */
};

/* A built domain that is not wanted after all: what create_in_slot took
 * goes back; its settings and image stay the caller's. */
static void unbuild(struct domain *d)
{
	detach_devices(d);
	d->cfg = NULL;
	domain_release(d);
}

static struct domain *create_in_slot(const struct domain_source *src, uint32_t id, uint64_t t0,
				     char *err, size_t n)
{
	const struct manifest_guest *g = src->g;
	struct domain *d = domain_alloc();

	if (!d)
		return snprintf(err, n, "out of hypervisor memory"), NULL;
	d->created_tsc = t0;
	d->id = id;
	d->guest_index = src->gi;
	d->instance = src->instance;
	d->cfg = g;
	d->privileged = g->privileged;
	set_name(d, g, src->instance);
	d->image = src->image;
	d->image_size = src->image_size;
	set_scheduling(d, g);
	d->held = src->held;      /* a restore's: its net backends start quiesced */
	if (domain_build(d, g, src->img && src->img->elf_ok ? &src->img->elf : NULL, err, n) ||
	    attach_devices(d, g, err, n)) {
		unbuild(d);
		return NULL;
	}
	d->console.tokens = CONFIG_CONSOLE_BURST;
	d->console.refill_tsc = rdtsc();
	return d;
}

static struct domain *create(const struct domain_source *src, uint32_t restart_no, uint32_t *id_out,
			     char *err, size_t n)
{
	uint64_t t0 = rdtsc();
	uint32_t id = reserve_slot();
	struct domain *d;

	if (!id)
		return snprintf(err, n, "too many domains (CONFIG_MAX_DOMAINS)"), NULL;
	d = create_in_slot(src, id, t0, err, n);
	if (d && !link_domain(d)) {
		snprintf(err, n, "name: a live domain already has it");
		unbuild(d);
		d = NULL;
	}
	if (!d) {
		release_slot();
		return NULL;
	}
	d->restart_no = restart_no;
	d->img = src->img;
	log_event("domain-created id=%u name=%s memory_kib=%lu private_kib=%lu overhead_kib=%lu build_us=%lu restart=%u",
		  d->id, d->name, (d->mem.pages * PAGE_SIZE) >> 10, private_kib(d),
		  (d->overhead_frames * PAGE_SIZE) >> 10, tsc_to_ns(rdtsc() - t0) / 1000, restart_no);
	if (restart_no)
		log_event("domain-restarted name=%s restart=%u", d->name, restart_no);
	if (id_out)
		*id_out = d->id;
	if (src->held) {          /* held since create_in_slot: nothing can end it until domain_unhold */
		sched_add_paused(d);
		return d;
	}
	sched_add(d);    /* from here it may run, end and be gone on another CPU */
	return d;
}

struct domain *domain_create(uint32_t gi, uint32_t instance, uint32_t restart_no)
{
	const struct manifest_guest *g = &boot.manifest->guest[gi];
	struct image *img = image_boot_get(gi);
	struct domain_source src = { g, gi, instance, NULL, 0, img, false };
	char err[160];
	struct domain *d;

	if (!img)
		return refuse(g, "its image was not loaded"), NULL;
	src.image = img->bytes;
	src.image_size = img->size;
	d = create(&src, restart_no, NULL, err, sizeof(err));
	if (!d) {
		refuse(g, err);
		image_put(img);
	}
	return d;
}

uint32_t domain_create_runtime(const struct manifest_guest *g, struct image *img, char *err, size_t n)
{
	return domain_create_restart(g, img, 0, err, n);
}

static bool same_name(struct domain *d, void *ctx)
{
	return strcmp(d->name, ctx) != 0;
}

/* A restart never takes a name a live domain has (a CREATE may have taken
 * it while the restart waited). */
uint32_t domain_create_restart(const struct manifest_guest *g, struct image *img, uint32_t restart_no,
			       char *err, size_t n)
{
	struct domain_source src = { g, DOMAIN_RUNTIME, 0, img->bytes, img->size, img, false };
	uint32_t id = 0;

	if (restart_no && domain_walk(0, same_name, (void *)g->name))
		snprintf(err, n, "name: a live domain already has it");
	else
		create(&src, restart_no, &id, err, n);
	if (!id)
		refuse(g, err);
	return id;
}

struct domain *domain_create_held(const struct manifest_guest *g, struct image *img, char *err, size_t n)
{
	struct domain_source src = { g, DOMAIN_RUNTIME, 0, img->bytes, img->size, img, true };
	struct domain *d = create(&src, 0, NULL, err, n);

	if (!d)
		refuse(g, err);
	return d;
}

/* Under the table's lock, so that a DESTROY (which looks at held under
 * it) either came before, and was refused, or comes after. */
void domain_unhold(struct domain *d, enum unhold how)
{
	uint64_t f = spin_lock(&domains_lock);

	d->held = false;
	d->save = NULL;
	if (d->unlinked) {          /* a live save's domain, ending by itself: nothing to resume */
		spin_unlock(&domains_lock, f);
		return;
	}
	if (how != UNHOLD_DESTROY)
		domain_net_quiesce(d, false);   /* net_lock (20) inside domains (10) */
	if (how == UNHOLD_START) {
		sched_unpause(d);
	} else if (how == UNHOLD_DESTROY && !d->kill_requested) {
		d->destroy_requested = true;
		sched_kill(d);
	}
	spin_unlock(&domains_lock, f);
}

void domain_unhold_round(struct domain *d, bool start)
{
	uint64_t f = spin_lock(&domains_lock);

	d->held = false;
	if (start && !d->unlinked)
		sched_unpause(d);
	spin_unlock(&domains_lock, f);
}

/* Devices first: once detached, nothing can wake the domain again; then
 * off the scheduler's queues (dead); then the memory. */
static void domain_destroy(struct domain *d)
{
	detach_devices(d);
	sched_remove(d);
	if (read_cr3() == d->pml4)
		write_cr3(kspace_pml4());   /* never free the tables we run on */
	console_keep(d);        /* first: a reader by id finds it live or kept, never neither */
	unlink_domain(d);
	save_domain_gone(d);      /* a live save's: ended before the memory goes */
	log_event("domain-destroyed id=%u name=%s", d->id, d->name);
	if (d->privileged) {      /* what it left half done goes on or goes */
		save_owner_gone(d->id);
		restore_owner_gone(d->id);
	}
	domain_release(d);
	release_slot();   /* only now: "all ended" must see its memory back */
}

static enum power_status final_status(void)
{
	if (ended_crashed)
		return POWER_STATUS_GUEST_CRASHED;
	return ended_failed ? POWER_STATUS_GUEST_FAILED : POWER_STATUS_OK;
}

/* own_timers: hypervisor timers the caller itself is (a restart that
 * failed must not count itself as pending). */
static volatile bool creating_boot_domains = true;

void domain_check_all_ended(uint32_t own_timers)
{
	if (creating_boot_domains || domain_count() || sched_pending_timers() > own_timers ||
	    !boot.manifest->hv.poweroff_when_idle)
		return;
	log_info("all guests have ended (%u ok, %u failed, %u crashed)", ended_ok, ended_failed,
		 ended_crashed);
	log_event("memory-check free_kib_at_start=%lu free_kib_now=%lu", free_kib_at_start, free_kib());
	if (IS_ENABLED(CONFIG_NET))
		net_report();
	sched_report();
	power_off(final_status());
}

static void check_all_ended(void)
{
	domain_check_all_ended(0);
}

static void record(enum domain_end how, int code)
{
	uint64_t f = spin_lock(&domains_lock);

	if (how == END_CRASH)
		ended_crashed++;
	else if (code)
		ended_failed++;
	else
		ended_ok++;
	spin_unlock(&domains_lock, f);
}

void domain_end(struct domain *d, enum domain_end how, int code, const char *reason)
{
	struct manifest_guest g_copy = *d->cfg;    /* d and a run-time d's settings go below */
	const struct manifest_guest *g = &g_copy;
	enum manifest_action act = how == END_EXIT ? g->on_exit : how == END_CRASH ? g->on_crash :
				   MANIFEST_ACTION_DESTROY;
	bool poweroff = act == MANIFEST_ACTION_POWEROFF || !strcmp(reason, "poweroff");
	struct domain_restart restart = { 0 };

	console_flush(d);
	if (how == END_EXIT)
		log_event("domain-exited id=%u name=%s code=%d cpu_us=%lu ran_on=0x%lx", d->id, d->name, code,
			  domain_cpu_ns(d) / 1000, d->cpus_used);
	else if (how == END_DESTROYED)
		log_event("domain-stopped id=%u name=%s reason=%s cpu_us=%lu ran_on=0x%lx", d->id, d->name, reason,
			  domain_cpu_ns(d) / 1000, d->cpus_used);
	else
		log_event("domain-crashed id=%u name=%s reason=%s code=%d cpu_us=%lu ran_on=0x%lx", d->id,
			  d->name, reason, code, domain_cpu_ns(d) / 1000, d->cpus_used);
	record(how, code);
	if (act == MANIFEST_ACTION_RESTART && !poweroff)
		domain_restart_keep(d, &restart);    /* before d and what it owns go */
	domain_destroy(d);
	if (poweroff) {
		log_event("memory-check free_kib_at_start=%lu free_kib_now=%lu", free_kib_at_start, free_kib());
		if (IS_ENABLED(CONFIG_NET))
			net_report();
		sched_report();
		power_off(how == END_CRASH ? POWER_STATUS_GUEST_CRASHED :
			  code ? POWER_STATUS_GUEST_FAILED : POWER_STATUS_OK);
	}
	if (restart.wanted)
		domain_restart_schedule(&restart);
	check_all_ended();
}

/* CPU time so far; d is current on this CPU (its own hypercall or end). */
uint64_t domain_cpu_ns(const struct domain *d)
{
	return tsc_to_ns(d->cpu_tsc + (rdtsc() - d->slice_start_tsc));
}

/* Ask every domain whose name starts with prefix to end (sched_kill: its
 * own CPU ends it).  The table lock keeps each alive while it is asked. */
uint32_t domain_kill_matching(const char *prefix)
{
	uint64_t f = spin_lock(&domains_lock);
	size_t n = strlen(prefix);
	uint32_t killed = 0;

	for (struct domain *d = all_domains; d; d = d->all_next) {
		if (!strncmp(d->name, prefix, n) && !d->kill_requested && !d->held) {
			sched_kill(d);
			killed++;
		}
	}
	spin_unlock(&domains_lock, f);
	return killed;
}

bool domain_visit_first(const char *prefix, void (*fn)(struct domain *))
{
	uint64_t f = spin_lock(&domains_lock);
	size_t n = strlen(prefix);
	struct domain *d = all_domains;

	while (d && strncmp(d->name, prefix, n))
		d = d->all_next;
	if (d)
		fn(d);
	spin_unlock(&domains_lock, f);
	return d != NULL;
}

void domain_raise_event(struct domain *d, uint32_t port)
{
	uint64_t bit = 1ULL << (port % PV_EVENT_PORTS);

	__atomic_fetch_or(&d->shared_info->events_pending, bit, __ATOMIC_SEQ_CST);
	sched_wake_event(d, bit);
}

/* The manifest's domains, built as deferred work on the boot CPU: with
 * interrupts on, while the other CPUs already run what is built. */
static void create_all(void *unused)
{
	const struct manifest *m = boot.manifest;
	uint32_t created = 0;

	for (uint32_t i = 0; i < m->guest_count; i++)
		for (uint32_t k = 0; m->guest[i].valid && k < m->guest[i].instances; k++)
			created += domain_create(i, k, 0) != NULL;
	log_info("domains: %u created from %u guest sections", created, m->guest_count);
	selftest_after_start(m->hv.selftest);
	if (!created && m->hv.poweroff_when_idle)
		power_off(m->guest_count ? POWER_STATUS_BOOT_ERROR : POWER_STATUS_OK);
	creating_boot_domains = false;
	check_all_ended();        /* the quick ones may be gone already */
}

static struct work create_all_work = { .fn = create_all };

void domains_start(void)
{
	const struct manifest *m = boot.manifest;

	syscall_init();
	fpu_init();
	trap_set_user_fault(guest_fault);
	console_init();
	if (IS_ENABLED(CONFIG_NET))
		net_init();
	sched_init(m->hv.time_slice_us);
	image_boot_init();        /* may give duplicate images' frames back: before the count */
	free_kib_at_start = free_kib();
	work_queue(0, &create_all_work);
	sched_start();
}
