/* PV_HC_DOMCTL (public/domctl.h): the mechanisms the control domain's
 * toolstack drives.  One boundary for all of them: the privilege check,
 * one copy of the caller's structure into ours, the header check, then
 * the operation on our copy, then one copy back.  Nothing here trusts a
 * byte of the caller's structure before it is in our copy. */
#include <public/domctl.h>
#include <hv/domain.h>
#include <hv/domctl.h>
#include <hv/errno.h>
#include <hv/image_store.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/nospec.h>
#include <hv/percpu.h>
#include <hv/sched.h>
#include <hv/smp.h>
#include <hv/console_keep.h>
#include <hv/text_ring.h>
#include <hv/time.h>
#include <hv/version.h>

/* The largest IN/OUT structure: our copy lives on the stack. */
union domctl_arg {
	struct pv_domctl_hdr hdr;
	struct pv_domctl_info info;
	struct pv_domctl_list list;
	struct pv_domctl_host host;
	struct pv_domctl_read read;
	struct pv_domctl_create create;
	struct pv_domctl_getconfig getconfig;
	struct pv_domctl_image image;
	struct pv_domctl_image_list image_list;
	struct pv_domctl_cpus cpus;
	struct pv_domctl_ports ports;
	struct pv_domctl_save save;
	struct pv_domctl_restore restore;
	struct pv_domctl_snapshot snapshot;
	struct pv_domctl_snapshot_list snapshot_list;
	struct pv_domctl_clone clone;
};

typedef int64_t (*domctl_fn)(struct domain *caller, union domctl_arg *a);

static int64_t fail(union domctl_arg *a, int64_t err, const char *msg)
{
	strlcpy(a->hdr.message, msg, sizeof(a->hdr.message));
	return err;
}

/* ---- read-only operations -------------------------------------------------- */

static int64_t op_host(struct domain *caller, union domctl_arg *a)
{
	struct pv_domctl_host *h = &a->host;
	struct frame_stats s;

	memset((char *)h + sizeof(h->hdr), 0, sizeof(*h) - sizeof(h->hdr));
	frame_stats(&s);
	h->cpus = cpu_count;
	h->cpus_found = smp_cpus_found();
	h->memory_total = s.total * PAGE_SIZE;
	h->memory_free = (s.free - s.reserved) * PAGE_SIZE;
	h->uptime_ns = time_ns();
	h->domains = domain_count();
	h->domains_max = CONFIG_MAX_DOMAINS;
	h->tsc_khz = tsc_hz / 1000;
	strlcpy(h->version, PARAVANE_VERSION, sizeof(h->version));
	h->abi_version = PV_ABI_VERSION;
	image_name_stats(&h->images, &h->image_bytes);
	h->image_limit = image_limit();
	return 0;
}

/* domain_walk callbacks: stop at the wanted id (the walk starts after
 * id - 1, so the first domain seen is it or a later one). */
struct find { uint32_t id; struct pv_domctl_dominfo *out; bool found, ok; };

static bool describe_if(struct domain *d, void *ctx)
{
	struct find *q = ctx;

	q->found = d->id == q->id;
	if (q->found)
		domain_describe(d, q->out);
	return false;
}

static int64_t op_info(struct domain *caller, union domctl_arg *a)
{
	struct find q = { a->hdr.domid, &a->info.info, false, false };

	memset(&a->info.info, 0, sizeof(a->info.info));
	if (!a->hdr.domid || (domain_walk(a->hdr.domid - 1, describe_if, &q), !q.found))
		return fail(a, -ENOENT, "no such domain");
	return 0;
}

struct listing { struct domain *caller; struct pv_domctl_list *l; };

/* Straight into the caller's buffer, checked writable beforehand. */
static bool emit(struct domain *d, void *ctx)
{
	struct listing *w = ctx;
	struct pv_domctl_dominfo e;

	if (w->l->count == w->l->max)
		return false;
	domain_describe(d, &e);
	guest_copy_to(&w->caller->mem, w->l->buf_gva + (uint64_t)w->l->count++ * sizeof(e), &e, sizeof(e));
	return true;
}

static int64_t op_list(struct domain *caller, union domctl_arg *a)
{
	struct pv_domctl_list *l = &a->list;
	struct listing w = { caller, l };

	l->count = 0;
	if (l->max > PV_DOMCTL_LIST_MAX)
		return fail(a, -EINVAL, "max is above PV_DOMCTL_LIST_MAX");
	if (guest_check(&caller->mem, l->buf_gva, (uint64_t)l->max * sizeof(struct pv_domctl_dominfo), true))
		return fail(a, -EFAULT, "the list buffer is not writable memory of the caller");
	domain_walk(l->after_id, emit, &w);
	l->total = domain_count();
	return 0;
}

/* ---- streams read by offset ------------------------------------------------------ */

#define BOUNCE 512

/* From ring into the caller's buffer through a small bounce buffer: the
 * ring is read without a lock (hv/text_ring.h), guest memory only through
 * guest_copy_to.  Stops early if bytes were lost between chunks. */
static void read_stream(struct domain *caller, const struct text_ring *ring, struct pv_domctl_read *q)
{
	char b[BOUNCE];
	uint64_t at = q->offset, start;
	size_t n;

	uint64_t head = text_ring_head(ring);

	q->count = 0;
	at = MIN(MAX(at, head > ring->size ? head - ring->size : 0), head);   /* kept bytes only */
	q->start = at;
	while (q->count < q->len &&
	       (n = text_ring_read(ring, at, b, MIN((size_t)BOUNCE, (size_t)(q->len - q->count)), &start))) {
		if (q->count && start != at)
			break;            /* overwritten between chunks: the caller asks again */
		if (!q->count)
			q->start = start;
		guest_copy_to(&caller->mem, q->buf_gva + q->count, b, n);
		q->count += (uint32_t)n;
		at = start + n;
	}
	q->next = q->start + q->count;
	q->written = text_ring_head(ring);
}

static int64_t check_read(struct domain *caller, union domctl_arg *a)
{
	struct pv_domctl_read *q = &a->read;

	if (q->len > PV_DOMCTL_READ_MAX)
		return fail(a, -EINVAL, "len is above PV_DOMCTL_READ_MAX");
	if (guest_check(&caller->mem, q->buf_gva, q->len, true))
		return fail(a, -EFAULT, "the read buffer is not writable memory of the caller");
	return 0;
}

static int64_t op_events(struct domain *caller, union domctl_arg *a)
{
	int64_t r = check_read(caller, a);

	if (!r)
		read_stream(caller, log_events(), &a->read);
	return r;
}

struct console_read { uint32_t id; struct domain *caller; struct pv_domctl_read *q; bool found; };

/* Under the domain table's lock: the domain and its ring stay. */
static bool console_if(struct domain *d, void *ctx)
{
	struct console_read *c = ctx;

	c->found = d->id == c->id;
	if (c->found)
		read_stream(c->caller, &d->console.ring, c->q);
	return false;
}

static void read_kept(const struct text_ring *ring, void *ctx)
{
	struct console_read *c = ctx;

	read_stream(c->caller, ring, c->q);
}

/* A live domain's ring, or the copy kept when it ended (hv/console_keep.h). */
static int64_t op_console(struct domain *caller, union domctl_arg *a)
{
	struct console_read c = { a->hdr.domid, caller, &a->read, false };
	int64_t r = check_read(caller, a);

	if (r)
		return r;
	if (a->hdr.domid)
		domain_walk(a->hdr.domid - 1, console_if, &c);
	if (!c.found && !console_kept(a->hdr.domid, read_kept, &c))
		return fail(a, -ENOENT, "no such domain, and no console kept for that id");
	return 0;
}

/* ---- changes ----------------------------------------------------------------- */

static int64_t op_create(struct domain *caller, union domctl_arg *a)
{
	return domctl_create(caller, &a->create);
}

/* Each in its own file (hv/domctl.h). */
static int64_t op_get_config(struct domain *c, union domctl_arg *a) { return domctl_get_config(c, &a->getconfig); }
static int64_t op_image_add(struct domain *c, union domctl_arg *a) { return domctl_image_add(c, &a->image); }
static int64_t op_image_remove(struct domain *c, union domctl_arg *a) { return domctl_image_remove(c, &a->image); }
static int64_t op_image_list(struct domain *c, union domctl_arg *a) { return domctl_image_list(c, &a->image_list); }
static int64_t op_save_begin(struct domain *c, union domctl_arg *a) { return domctl_save_begin(c, &a->save); }
static int64_t op_save_read(struct domain *c, union domctl_arg *a) { return domctl_save_read(c, &a->save); }
static int64_t op_save_end(struct domain *c, union domctl_arg *a) { return domctl_save_end(c, &a->save); }
static int64_t op_restore_begin(struct domain *c, union domctl_arg *a) { return domctl_restore_begin(c, &a->restore); }
static int64_t op_restore_write(struct domain *c, union domctl_arg *a) { return domctl_restore_write(c, &a->restore); }
static int64_t op_restore_end(struct domain *c, union domctl_arg *a) { return domctl_restore_end(c, &a->restore); }
static int64_t op_snapshot(struct domain *c, union domctl_arg *a) { return domctl_snapshot(c, &a->snapshot); }
static int64_t op_snapshot_drop(struct domain *c, union domctl_arg *a) { return domctl_snapshot_drop(c, &a->snapshot); }
static int64_t op_snapshot_list(struct domain *c, union domctl_arg *a) { return domctl_snapshot_list(c, &a->snapshot_list); }
static int64_t op_clone(struct domain *c, union domctl_arg *a) { return domctl_clone(c, &a->clone); }

static bool kill_if(struct domain *d, void *ctx)
{
	struct find *q = ctx;

	q->found = d->id == q->id;
	q->ok = !d->held && !d->save;
	if (q->found && q->ok && !d->kill_requested) {
		d->destroy_requested = true;      /* read by its CPU once the kill is seen */
		sched_kill(d);
	}
	return false;
}

struct pause_req { uint32_t id; bool pause, found, ok, held; };

static bool pause_if(struct domain *d, void *ctx)
{
	struct pause_req *q = ctx;

	q->found = d->id == q->id;
	if (!q->found)
		return false;
	q->held = d->held || d->save;
	if (q->held)
		q->ok = false;
	else if (q->pause)
		q->ok = sched_pause(d);
	else
		sched_unpause(d);
	if (q->ok)
		log_event("domain-%s id=%u name=%s", q->pause ? "paused" : "resumed", d->id, d->name);
	return false;
}

/* PAUSE and UNPAUSE: the scheduler's (hv/sched.h); a paused domain keeps
 * its memory and devices, and frames for it wait in its rings. */
static int64_t pause_op(struct domain *caller, union domctl_arg *a, bool pause)
{
	struct pause_req q = { a->hdr.domid, pause, false, true, false };

	if (a->hdr.domid == caller->id)
		return fail(a, -EINVAL, "a domain cannot pause itself");
	if (!a->hdr.domid || (domain_walk(a->hdr.domid - 1, pause_if, &q), !q.found))
		return fail(a, -ENOENT, "no such domain");
	if (q.held)
		return fail(a, -EBUSY, "the domain is being saved, restored or migrated; end that first");
	return q.ok ? 0 : fail(a, -ENOENT, "the domain is ending");
}

static int64_t op_pause(struct domain *caller, union domctl_arg *a)
{
	return pause_op(caller, a, true);
}

static int64_t op_unpause(struct domain *caller, union domctl_arg *a)
{
	return pause_op(caller, a, false);
}

/* Asynchronous: the domain's own CPU ends it; until then INFO says ENDING. */
static int64_t op_destroy(struct domain *caller, union domctl_arg *a)
{
	struct find q = { a->hdr.domid, NULL, false, false };

	if (a->hdr.domid == caller->id)
		return fail(a, -EINVAL, "a domain cannot destroy itself this way (use shutdown)");
	if (!a->hdr.domid || (domain_walk(a->hdr.domid - 1, kill_if, &q), !q.found))
		return fail(a, -ENOENT, "no such domain");
	return q.ok ? 0 : fail(a, -EBUSY, "the domain is being saved, restored or migrated; end that first");
}

/* Counters for metrics: core/domctl_stats.c. */
static int64_t op_cpu_stats(struct domain *caller, union domctl_arg *a)
{
	return domctl_cpu_stats(caller, &a->cpus);
}

static int64_t op_net_ports(struct domain *caller, union domctl_arg *a)
{
	return domctl_net_ports(caller, &a->ports);
}

/* ---- the boundary -------------------------------------------------------------- */

static const struct { domctl_fn fn; uint32_t size; } ops[PV_DOMCTL_OP_MAX] = {
	[PV_DOMCTL_CREATE] = { op_create, sizeof(struct pv_domctl_create) },
	[PV_DOMCTL_DESTROY] = { op_destroy, sizeof(struct pv_domctl_hdr) },
	[PV_DOMCTL_PAUSE] = { op_pause, sizeof(struct pv_domctl_hdr) },
	[PV_DOMCTL_UNPAUSE] = { op_unpause, sizeof(struct pv_domctl_hdr) },
	[PV_DOMCTL_INFO] = { op_info, sizeof(struct pv_domctl_info) },
	[PV_DOMCTL_LIST] = { op_list, sizeof(struct pv_domctl_list) },
	[PV_DOMCTL_HOST_INFO] = { op_host, sizeof(struct pv_domctl_host) },
	[PV_DOMCTL_CONSOLE_READ] = { op_console, sizeof(struct pv_domctl_read) },
	[PV_DOMCTL_EVENTS_READ] = { op_events, sizeof(struct pv_domctl_read) },
	[PV_DOMCTL_GET_CONFIG] = { op_get_config, sizeof(struct pv_domctl_getconfig) },
	[PV_DOMCTL_IMAGE_ADD] = { op_image_add, sizeof(struct pv_domctl_image) },
	[PV_DOMCTL_IMAGE_REMOVE] = { op_image_remove, sizeof(struct pv_domctl_image) },
	[PV_DOMCTL_IMAGE_LIST] = { op_image_list, sizeof(struct pv_domctl_image_list) },
	[PV_DOMCTL_CPU_STATS] = { op_cpu_stats, sizeof(struct pv_domctl_cpus) },
	[PV_DOMCTL_NET_PORTS] = { op_net_ports, sizeof(struct pv_domctl_ports) },
	[PV_DOMCTL_SAVE_BEGIN] = { op_save_begin, sizeof(struct pv_domctl_save) },
	[PV_DOMCTL_SAVE_READ] = { op_save_read, sizeof(struct pv_domctl_save) },
	[PV_DOMCTL_SAVE_END] = { op_save_end, sizeof(struct pv_domctl_save) },
	[PV_DOMCTL_RESTORE_BEGIN] = { op_restore_begin, sizeof(struct pv_domctl_restore) },
	[PV_DOMCTL_RESTORE_WRITE] = { op_restore_write, sizeof(struct pv_domctl_restore) },
	[PV_DOMCTL_RESTORE_END] = { op_restore_end, sizeof(struct pv_domctl_restore) },
	[PV_DOMCTL_SNAPSHOT] = { op_snapshot, sizeof(struct pv_domctl_snapshot) },
	[PV_DOMCTL_SNAPSHOT_DROP] = { op_snapshot_drop, sizeof(struct pv_domctl_snapshot) },
	[PV_DOMCTL_SNAPSHOT_LIST] = { op_snapshot_list, sizeof(struct pv_domctl_snapshot_list) },
	[PV_DOMCTL_CLONE] = { op_clone, sizeof(struct pv_domctl_clone) },
};

/* 0, -EINVAL for a malformed header, -ENOSYS for an operation this
 * hypervisor does not offer. */
static int64_t header_check(const struct pv_domctl_hdr *h, uint64_t size)
{
	uint64_t op = index_nospec(h->op, PV_DOMCTL_OP_MAX);

	if (h->magic != PV_DOMCTL_MAGIC || h->version != PV_DOMCTL_VERSION || h->op >= PV_DOMCTL_OP_MAX ||
	    !h->op || h->size != size)
		return -EINVAL;
	if (!ops[op].fn)
		return -ENOSYS;
	return size == ops[op].size ? 0 : -EINVAL;
}

int64_t hc_domctl(struct domain *d, struct trap_frame *f)
{
	union domctl_arg a;
	uint64_t gva = f->rdi, size = f->rsi;
	int64_t r;

	if (!d->privileged)
		return -EPERM;
	if (size < sizeof(a.hdr) || size > sizeof(a))
		return -EINVAL;
	if (guest_check(&d->mem, gva, size, true) || guest_copy_from(&d->mem, &a, gva, size))
		return -EFAULT;
	r = header_check(&a.hdr, size);
	if (r)
		return r;
	memset(a.hdr.message, 0, sizeof(a.hdr.message));
	r = ops[index_nospec(a.hdr.op, PV_DOMCTL_OP_MAX)].fn(d, &a);
	if (guest_copy_to(&d->mem, gva, &a, size))
		return -EFAULT;
	return r;
}
