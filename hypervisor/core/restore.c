/* domctl RESTORE_BEGIN / RESTORE_WRITE / RESTORE_END (public/domctl.h):
 * a save stream fed in, in any chunking, through the stream reader
 * (hv/save_stream.h), whose checked records build a held domain
 * (core/restore_records.c).  Nothing runs until END commits a stream that
 * ended well; any refusal destroys what was built and closes the handle.
 *
 * restores_lock guards the table of open restores (claiming a slot, or
 * one restore for one call); it is taken before any other lock and never
 * held while a restore is fed. */
#include <public/domctl.h>
#include <hv/domain.h>
#include <hv/domctl.h>
#include <hv/errno.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/lock.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/nospec.h>
#include <hv/save.h>
#include <hv/time.h>
#include <hv/x86.h>

#define ABANDONED_NS (120ull * 1000000000ull)   /* unfed this long: taken back by a new BEGIN */

/* A restore's memory: the context, the reader's record buffer, a bounce. */
#define CTX_BYTES (ALIGN_UP(sizeof(struct restore_ctx), 64) + PV_SAVE_RECORD_MAX + RESTORE_BOUNCE)
#define CTX_PAGES (PAGE_ALIGN_UP(CTX_BYTES) / PAGE_SIZE)

static struct spinlock restores_lock = SPINLOCK_INIT("restores", LOCK_RANK_RESTORES);
static struct restore_ctx *restores[PV_DOMCTL_RESTORE_MAX];
static uint32_t next_handle;

static int64_t fail(struct pv_domctl_hdr *h, int64_t err, const char *msg)
{
	strlcpy(h->message, msg, sizeof(h->message));
	return err;
}

static struct restore_ctx *ctx_new(uint32_t owner, const char *name)
{
	uint64_t pa = frame_alloc_contig_raw(CTX_PAGES);
	struct restore_ctx *x;
	uint8_t *buf;

	if (!pa)
		return NULL;
	x = memset(phys_to_virt(pa), 0, sizeof(*x));
	buf = (uint8_t *)x + ALIGN_UP(sizeof(*x), 64);
	x->owner = owner;
	x->busy = true;
	x->err = -EINVAL;
	x->bounce = buf + PV_SAVE_RECORD_MAX;
	x->last_use_ns = time_ns();
	strlcpy(x->name, name, sizeof(x->name));
	save_reader_init(&x->r, restore_record, x, buf);
	return x;
}

/* The built domain (if any) goes; the context's frames go back. */
static void ctx_drop(struct restore_ctx *x)
{
	if (x->d)
		domain_unhold(x->d, UNHOLD_DESTROY);
	frame_free_contig(virt_to_phys(x), CTX_PAGES);
}

/* ---- the table --------------------------------------------------------------- */

static uint32_t slot_of(uint32_t handle)
{
	return (handle - 1) % PV_DOMCTL_RESTORE_MAX;
}

/* A free slot for x, or an abandoned restore's (*old, to be dropped by
 * the caller outside the lock); false when every slot is in use. */
static bool place(struct restore_ctx *x, struct restore_ctx **old)
{
	uint64_t f = spin_lock(&restores_lock), now = time_ns();
	bool placed = false;

	*old = NULL;
	for (uint32_t i = 0; i < PV_DOMCTL_RESTORE_MAX && !placed; i++) {
		struct restore_ctx *o = restores[i];

		if (o && (o->busy || now - o->last_use_ns < ABANDONED_NS))
			continue;
		*old = o;
		do
			x->handle = ++next_handle;
		while (!x->handle || slot_of(x->handle) != i);
		restores[i] = x;
		placed = true;
	}
	spin_unlock(&restores_lock, f);
	return placed;
}

/* The caller's open restore for handle, claimed; NULL with a message. */
static struct restore_ctx *claim(struct pv_domctl_restore *q, uint32_t caller)
{
	uint64_t f = spin_lock(&restores_lock);
	struct restore_ctx *x = q->handle ? restores[index_nospec(slot_of(q->handle), PV_DOMCTL_RESTORE_MAX)] : NULL;

	if (!x || x->handle != q->handle || x->owner != caller)
		x = NULL, strlcpy(q->hdr.message, "handle: no such restore is open", sizeof(q->hdr.message));
	else if (x->busy)
		x = NULL, strlcpy(q->hdr.message, "handle: another call is using it", sizeof(q->hdr.message));
	else
		x->busy = true;
	spin_unlock(&restores_lock, f);
	return x;
}

static void unclaim(struct restore_ctx *x)
{
	uint64_t f = spin_lock(&restores_lock);

	x->busy = false;
	x->last_use_ns = time_ns();
	spin_unlock(&restores_lock, f);
}

/* Out of the table (claimed, so nobody else has it), then dropped. */
static void close_ctx(struct restore_ctx *x)
{
	uint64_t f = spin_lock(&restores_lock);

	restores[slot_of(x->handle)] = NULL;
	spin_unlock(&restores_lock, f);
	ctx_drop(x);
}

/* The caller that opened these restores is gone: they are dropped with
 * what they built. */
void restore_owner_gone(uint32_t owner)
{
	struct restore_ctx *gone[PV_DOMCTL_RESTORE_MAX];
	uint32_t n = 0;
	uint64_t f = spin_lock(&restores_lock);

	for (uint32_t i = 0; i < PV_DOMCTL_RESTORE_MAX; i++) {
		struct restore_ctx *x = restores[i];

		if (x && x->owner == owner && !x->busy) {
			restores[i] = NULL;
			gone[n++] = x;
		}
	}
	spin_unlock(&restores_lock, f);
	while (n)
		ctx_drop(gone[--n]);
}

/* ---- the operations ------------------------------------------------------------ */

int64_t domctl_restore_begin(struct domain *caller, struct pv_domctl_restore *q)
{
	struct restore_ctx *x, *old;

	if (q->flags || q->reserved || q->handle)
		return fail(&q->hdr, -EINVAL, "flags, handle and reserved must be 0");
	if (q->name[0] && !domctl_name_ok(q->name))
		return fail(&q->hdr, -EINVAL, "name: 1..31 of A-Z a-z 0-9 _ . -");
	if (!(x = ctx_new(caller->id, q->name)))
		return fail(&q->hdr, -ENOMEM, "out of hypervisor memory");
	if (!place(x, &old)) {
		ctx_drop(x);
		return fail(&q->hdr, -EBUSY, "too many restores are open (PV_DOMCTL_RESTORE_MAX)");
	}
	if (old) {
		log_warn("restore: handle %u was abandoned; its domain is destroyed", old->handle);
		ctx_drop(old);
	}
	q->handle = x->handle;
	q->bytes = 0;
	unclaim(x);
	return 0;
}

/* A refusal: what was built goes, the handle closes. */
static int64_t refused(struct pv_domctl_restore *q, struct restore_ctx *x)
{
	int64_t err = x->err;

	strlcpy(q->hdr.message, x->r.error, sizeof(q->hdr.message));
	log_event("domain-restore-refused handle=%u bytes=%lu", x->handle, x->fed);
	close_ctx(x);
	return err;
}

/* The caller's bytes through the bounce buffer (guest memory is only
 * read by guest_copy_from); interrupts on, as a CREATE's build, since a
 * DOMAIN record builds a domain and PAGES records copy a MiB. */
static int feed(struct domain *caller, struct restore_ctx *x, uint64_t gva, uint64_t len)
{
	int r = 0;

	sti();
	for (uint64_t done = 0; done < len && !r;) {
		uint64_t n = MIN(len - done, (uint64_t)RESTORE_BOUNCE);

		guest_copy_from(&caller->mem, x->bounce, gva + done, n);   /* checked readable */
		r = save_reader_feed(&x->r, x->bounce, n);
		done += n;
		x->fed += n;
	}
	cli();
	return r;
}

int64_t domctl_restore_write(struct domain *caller, struct pv_domctl_restore *q)
{
	struct restore_ctx *x;
	uint64_t t0;

	if (q->len > PV_DOMCTL_SAVE_CHUNK)
		return fail(&q->hdr, -EINVAL, "len is above PV_DOMCTL_SAVE_CHUNK");
	if (guest_check(&caller->mem, q->buf_gva, q->len, false))
		return fail(&q->hdr, -EFAULT, "the buffer is not memory of the caller");
	if (!(x = claim(q, caller->id)))
		return -ENOENT;
	t0 = rdtsc();
	if (feed(caller, x, q->buf_gva, q->len))
		return refused(q, x);
	x->work_tsc += rdtsc() - t0;
	q->bytes = x->fed;
	q->hdr.domid = x->d ? x->d->id : 0;
	unclaim(x);
	return 0;
}

int64_t domctl_restore_end(struct domain *caller, struct pv_domctl_restore *q)
{
	struct restore_ctx *x;
	struct domain *d;
	uint64_t t0 = rdtsc();

	if (q->flags & ~PV_DOMCTL_RESTORE_COMMIT)
		return fail(&q->hdr, -EINVAL, "flags: only PV_DOMCTL_RESTORE_COMMIT");
	if (!(x = claim(q, caller->id)))
		return -ENOENT;
	if (!(q->flags & PV_DOMCTL_RESTORE_COMMIT)) {
		close_ctx(x);
		return 0;
	}
	if (save_reader_finish(&x->r) || restore_finish(x))
		return refused(q, x);
	d = x->d;
	x->d = NULL;              /* it is the domain's own now */
	q->hdr.domid = d->id;
	x->work_tsc += rdtsc() - t0;
	log_event("domain-restored id=%u name=%s bytes=%lu clock_offset_ms=%lu work_us=%lu", d->id, d->name,
		  x->fed, d->clock_offset_ns / 1000000, tsc_to_ns(x->work_tsc) / 1000);
	close_ctx(x);
	domain_net_announce(d);   /* while held: it cannot go meanwhile */
	domain_unhold(d, UNHOLD_START);
	return 0;
}
