/* domctl SNAPSHOT, SNAPSHOT_DROP and SNAPSHOT_LIST: snapshots kept by the
 * hypervisor under a name (hv/snapshot.h).  Taking one holds the domain as
 * a save does (core/save.c) while its pages are copied into frames of the
 * snapshot's own, so the snapshot never changes after, whatever the
 * domain does next.  Its memory is counted as the hypervisor's (HOST_INFO's
 * memory_free goes down by it) and comes back with SNAPSHOT_DROP and the
 * last clone.
 *
 * snapshots_lock guards the store (the list and its names); it is held
 * only to look up, insert or unlink, never while frames are copied or
 * freed. */
#include <public/domctl.h>
#include <hv/domain.h>
#include <hv/domctl.h>
#include <hv/errno.h>
#include <hv/fpu.h>
#include <hv/image_store.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/lock.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/net.h>
#include <hv/save.h>
#include <hv/snapshot.h>
#include <hv/time.h>
#include <hv/x86.h>

static struct spinlock snapshots_lock = SPINLOCK_INIT("snapshots", LOCK_RANK_SNAPSHOTS);
static struct snapshot *snapshots;     /* in name order */
static uint32_t snapshot_count;

static int64_t fail(struct pv_domctl_hdr *h, int64_t err, const char *msg)
{
	strlcpy(h->message, msg, sizeof(h->message));
	return err;
}

/* ---- memory ------------------------------------------------------------------- */

static uint64_t pages_for(uint64_t bytes)
{
	return PAGE_ALIGN_UP(bytes) / PAGE_SIZE;
}

static void snapshot_free(struct snapshot *s)
{
	for (uint64_t i = 0; s->frame && i < s->mem_pages; i++)
		if (s->frame[i])
			frame_free(s->frame[i] & ~GF_FLAGS);
	if (s->frame)
		frame_free_contig(virt_to_phys(s->frame), s->list_pages);
	if (s->img)
		image_put(s->img);
	frame_free_contig(virt_to_phys(s), s->struct_pages);
}

static struct snapshot *snapshot_alloc(uint64_t mem_pages)
{
	uint64_t n = pages_for(ALIGN_UP(sizeof(struct snapshot), 64) + fpu_state_size());
	uint64_t pa = frame_alloc_contig_raw(n), lpa;
	struct snapshot *s;

	if (!pa)
		return NULL;
	s = memset(phys_to_virt(pa), 0, sizeof(*s));
	s->struct_pages = n;
	s->fpu = (uint8_t *)s + ALIGN_UP(sizeof(*s), 64);
	s->mem_pages = mem_pages;
	s->list_pages = pages_for(mem_pages * sizeof(uint64_t));
	lpa = frame_alloc_contig_raw(s->list_pages);
	if (!lpa) {
		snapshot_free(s);
		return NULL;
	}
	s->frame = memset(phys_to_virt(lpa), 0, mem_pages * sizeof(uint64_t));
	return s;
}

void snapshot_put(struct snapshot *s)
{
	if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0)
		snapshot_free(s);
}

uint32_t snapshot_clones(const struct snapshot *s)
{
	return __atomic_load_n(&s->refs, __ATOMIC_RELAXED) - 1;
}

/* ---- taking one --------------------------------------------------------------- */

/* Every page the domain owns (as a save stream carries them), copied. */
static int copy_pages(struct snapshot *s, const struct domain *d)
{
	for (uint64_t i = 0; i < d->mem.pages; i++) {
		uint64_t f = d->mem.frame[i], pa;

		if (!(f & ~GF_FLAGS) || (f & GF_SHARED))
			continue;
		if (!(pa = frame_alloc()))
			return -ENOMEM;
		memcpy(phys_to_virt(pa), phys_to_virt(f & ~GF_FLAGS), PAGE_SIZE);
		s->frame[i] = pa | (f & (GF_WRITE | GF_EXEC));
		s->pages++;
	}
	return 0;
}

/* d is held, its backends quiet: everything of it into s. */
static int take(struct snapshot *s, struct domain *d)
{
	strlcpy(s->domain, d->name, sizeof(s->domain));
	domain_config_of(d, &s->config);
	s->img = image_find(d->img->hash);
	s->regs = d->regs;
	memcpy(s->fpu, d->fpu, fpu_state_size());
	s->system_ns = time_ns() + d->clock_offset_ns;
	s->created_ns = time_ns();
	s->generation = d->shared_info->generation;
	s->net_count = IS_ENABLED(CONFIG_NET) ? d->net_count : 0;
	for (uint32_t i = 0; i < s->net_count; i++)
		netback_save(&d->net[i], &s->net[i]);
	if (!s->img)
		return -ENOMEM;
	return copy_pages(s, d);
}

static void describe(const struct snapshot *s, struct pv_domctl_snapshot_entry *e)
{
	memset(e, 0, sizeof(*e));
	strlcpy(e->name, s->name, sizeof(e->name));
	strlcpy(e->domain, s->domain, sizeof(e->domain));
	memcpy(e->image_hash, s->img->hash, sizeof(e->image_hash));
	e->memory = s->config.memory;
	e->bytes = (s->pages + s->list_pages + s->struct_pages) * PAGE_SIZE;
	e->created_ns = s->created_ns;
	e->clones = snapshot_clones(s);
	e->net_count = s->net_count;
}

static struct snapshot **find_locked(const char *name)
{
	struct snapshot **pp = &snapshots;

	while (*pp && strcmp((*pp)->name, name) < 0)
		pp = &(*pp)->next;
	return pp;
}

/* Into the store, in name order, unless the name was taken meanwhile. */
static bool insert(struct snapshot *s)
{
	uint64_t f = spin_lock(&snapshots_lock);
	struct snapshot **pp = find_locked(s->name);
	bool ok = (!*pp || strcmp((*pp)->name, s->name)) && snapshot_count < PV_DOMCTL_SNAPSHOTS_MAX;

	if (ok) {
		s->next = *pp;
		*pp = s;
		snapshot_count++;
	}
	spin_unlock(&snapshots_lock, f);
	return ok;
}

static int64_t check_take(struct domain *caller, struct pv_domctl_snapshot *q)
{
	struct snapshot *old;

	if (q->hdr.domid == caller->id)
		return fail(&q->hdr, -EINVAL, "a domain cannot snapshot itself");
	if (q->flags > PV_DOMCTL_SAVE_DESTROY || q->reserved)
		return fail(&q->hdr, -EINVAL, "flags: 0 resume, 1 pause, 2 destroy");
	if (!domctl_name_ok(q->entry.name))
		return fail(&q->hdr, -EINVAL, "name: 1..31 of A-Z a-z 0-9 _ . -");
	if ((old = snapshot_get(q->entry.name))) {
		snapshot_put(old);
		return fail(&q->hdr, -EEXIST, "name: a snapshot already has it");
	}
	return 0;
}

int64_t domctl_snapshot(struct domain *caller, struct pv_domctl_snapshot *q)
{
	struct save_hold h;
	struct snapshot *s;
	int64_t r = check_take(caller, q);
	enum unhold how;

	if (r)
		return r;
	if (save_hold(q->hdr.domid, &h))
		return fail(&q->hdr, h.err, h.why);
	how = q->flags == PV_DOMCTL_SAVE_DESTROY ? UNHOLD_DESTROY :
	      q->flags == PV_DOMCTL_SAVE_PAUSE || h.was_paused ? UNHOLD_PAUSED : UNHOLD_START;
	if (h.d->blk_count) {
		domain_unhold(h.d, h.was_paused ? UNHOLD_PAUSED : UNHOLD_START);
		return fail(&q->hdr, -EINVAL, "a domain with block devices cannot be snapshotted (its clones would share a volume)");
	}
	s = snapshot_alloc(h.d->mem.pages);
	if (s) {
		strlcpy(s->name, q->entry.name, sizeof(s->name));
		s->refs = 1;
		domain_net_quiesce(h.d, true);
		sti();                    /* O(memory), as a build */
		r = take(s, h.d);
		cli();
		domain_net_quiesce(h.d, false);
	}
	if (!s || r) {
		domain_unhold(h.d, h.was_paused ? UNHOLD_PAUSED : UNHOLD_START);
		if (s)
			snapshot_free(s);
		return fail(&q->hdr, -ENOMEM, "out of memory for the snapshot's pages");
	}
	log_event("snapshot-taken name=%s domain=%s pages=%lu", s->name, s->domain, s->pages);
	domain_unhold(h.d, how);
	if (!insert(s)) {
		snapshot_free(s);
		return fail(&q->hdr, -EEXIST, "name: taken meanwhile, or too many snapshots");
	}
	describe(s, &q->entry);
	return 0;
}

/* ---- the store ------------------------------------------------------------------ */

struct snapshot *snapshot_get(const char *name)
{
	uint64_t f = spin_lock(&snapshots_lock);
	struct snapshot *s = *find_locked(name);

	if (s && strcmp(s->name, name))
		s = NULL;
	if (s)
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
	spin_unlock(&snapshots_lock, f);
	return s;
}

int64_t domctl_snapshot_drop(struct domain *caller, struct pv_domctl_snapshot *q)
{
	uint64_t f = spin_lock(&snapshots_lock);
	struct snapshot **pp = find_locked(q->entry.name), *s = *pp;

	(void)caller;
	if (s && !strncmp(s->name, q->entry.name, sizeof(s->name))) {
		*pp = s->next;
		snapshot_count--;
	} else {
		s = NULL;
	}
	spin_unlock(&snapshots_lock, f);
	if (!s)
		return fail(&q->hdr, -ENOENT, "no such snapshot");
	describe(s, &q->entry);
	log_event("snapshot-dropped name=%s clones=%u", s->name, snapshot_clones(s));
	snapshot_put(s);          /* the frames go now, or with the last clone */
	return 0;
}

int64_t domctl_snapshot_list(struct domain *caller, struct pv_domctl_snapshot_list *l)
{
	struct pv_domctl_snapshot_entry e;
	uint64_t f;

	if (l->max > PV_DOMCTL_SNAPSHOTS_MAX || l->reserved)
		return fail(&l->hdr, -EINVAL, "max is above PV_DOMCTL_SNAPSHOTS_MAX");
	if (guest_check(&caller->mem, l->buf_gva, (uint64_t)l->max * sizeof(e), true))
		return fail(&l->hdr, -EFAULT, "the list buffer is not writable memory of the caller");
	l->count = 0;
	f = spin_lock(&snapshots_lock);
	for (struct snapshot *s = snapshots; s && l->count < l->max; s = s->next) {
		describe(s, &e);
		guest_copy_to(&caller->mem, l->buf_gva + (uint64_t)l->count++ * sizeof(e), &e, sizeof(e));
	}
	l->total = snapshot_count;
	spin_unlock(&snapshots_lock, f);
	return 0;
}
