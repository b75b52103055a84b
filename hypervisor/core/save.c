/* domctl SAVE_BEGIN / SAVE_READ / SAVE_END (public/domctl.h): a domain's
 * save stream, made record by record as the caller reads it.
 *
 * BEGIN pauses the domain and waits until it is off every CPU (a running
 * one leaves at its next exit, so it is never saved mid-hypercall), then
 * holds it: from here until END nothing runs it, ends it or resumes it,
 * and its backends deliver nothing, so its pages, registers and ring
 * positions stand still while they are read.  The cursor lives in frames
 * of its own, freed at END, so a save costs nothing once it is over. */
#include <manifest.h>
#include <public/domctl.h>
#include <hv/domain.h>
#include <hv/domctl.h>
#include <hv/errno.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/net.h>
#include <hv/save.h>
#include <hv/sched.h>
#include <hv/time.h>
#include <hv/x86.h>

#define OFF_CPU_WAIT_NS 2000000000ull   /* TCG may take a while to deliver the IPI */
#define BLOCK_IDLE_WAIT_NS 10000000000ull   /* a disk's queue under TCG */

/* The stage holds one record: the largest is a PAGES record (its pages,
 * indices and headers), and the first also has the stream's header.  A
 * live save copies a running domain's pages into the bounce first. */
#define STAGE_BYTES (SAVE_STAGE_PAGES * (PAGE_SIZE + 8) + 256)
#define CURSOR_BYTES (PAGE_ALIGN_UP(sizeof(struct save_cursor)) + SAVE_STAGE_PAGES * PAGE_SIZE + STAGE_BYTES)
#define CURSOR_PAGES (PAGE_ALIGN_UP(CURSOR_BYTES) / PAGE_SIZE)

static int64_t fail(struct pv_domctl_hdr *h, int64_t err, const char *msg)
{
	strlcpy(h->message, msg, sizeof(h->message));
	return err;
}

/* ---- holding the domain ------------------------------------------------------ */

struct hold_req {
	uint32_t id;
	const struct save_cursor *mine;   /* a live save's own rounds: d->save is this */
	struct domain *d;         /* once held */
	bool was_paused;
	int64_t err;
	const char *why;
};

static bool refuse_req(struct hold_req *q, int64_t err, const char *why)
{
	q->err = err;
	q->why = why;
	return false;
}

/* Under the domain table's lock: may d be saved?  Then ask it to stop. */
static bool pause_for_save(struct domain *d, void *ctx)
{
	struct hold_req *q = ctx;

	if (d->id != q->id)
		return refuse_req(q, -ENOENT, "no such domain");
	if (d->held || d->save != q->mine)
		return refuse_req(q, -EBUSY, "the domain is already being saved, restored or migrated");
	if (d->privileged)
		return refuse_req(q, -EINVAL, "a privileged domain cannot be saved");
	q->was_paused = d->paused;
	if (d->kill_requested || !sched_pause(d))
		return refuse_req(q, -ENOENT, "the domain is ending");
	return refuse_req(q, 0, NULL);
}

/* Under the domain table's lock: hold d once it is off every CPU. */
static bool hold_if_off_cpu(struct domain *d, void *ctx)
{
	struct hold_req *q = ctx;

	if (d->id != q->id || d->kill_requested)
		return refuse_req(q, -ENOENT, "the domain ended while it was being stopped");
	if (d->held || d->save != q->mine)
		return refuse_req(q, -EBUSY, "the domain is already being saved, restored or migrated");
	if (!sched_off_cpu(d))
		return refuse_req(q, -EAGAIN, "the domain did not leave its CPU in time");
	d->held = true;
	q->d = d;
	return refuse_req(q, 0, NULL);
}

/* Interrupts on while waiting: the CPU that runs d needs this one's
 * answers (IPIs) no more than it needs its own timer. */
static void wait_off_cpu(struct hold_req *q)
{
	uint64_t until = time_ns() + OFF_CPU_WAIT_NS;

	sti();
	do {
		refuse_req(q, -ENOENT, "the domain ended while it was being stopped");
		domain_walk(q->id - 1, hold_if_off_cpu, q);
		if (q->err != -EAGAIN)
			break;
		pause();
	} while (time_ns() < until);
	cli();
}

struct unpause_req { uint32_t id; };

static bool unpause_if(struct domain *d, void *ctx)
{
	if (d->id == ((struct unpause_req *)ctx)->id && !d->held)
		sched_unpause(d);
	return false;
}

/* Held: nothing new reaches its block backends; what they consumed
 * before completes (interrupts on: the completions are interrupts). */
static bool blocks_idle(struct domain *d)
{
	uint64_t until = time_ns() + BLOCK_IDLE_WAIT_NS;
	bool idle;

	sti();
	do {
		idle = true;
		for (uint32_t i = 0; i < d->blk_count && idle; i++)
			idle = blkback_idle(d->blk[i]);
		if (!idle)
			pause();
	} while (!idle && time_ns() < until);
	cli();
	return idle;
}

static int64_t hold(uint32_t id, const struct save_cursor *mine, struct hold_req *q)
{
	struct unpause_req u = { id };

	*q = (struct hold_req){ .id = id, .mine = mine, .err = -ENOENT, .why = "no such domain" };
	if (!id || (domain_walk(id - 1, pause_for_save, q), q->err))
		return q->err;
	wait_off_cpu(q);
	if (q->err && !q->was_paused)
		domain_walk(id - 1, unpause_if, &u);   /* as it was */
	return q->err;
}

int64_t save_hold(uint32_t id, struct save_hold *out)
{
	struct hold_req h;

	*out = (struct save_hold){ 0 };
	if (hold(id, NULL, &h)) {
		out->err = h.err;
		out->why = h.why;
		return h.err;
	}
	out->d = h.d;
	out->was_paused = h.was_paused;
	if (blocks_idle(h.d))
		return 0;
	domain_unhold(h.d, h.was_paused ? UNHOLD_PAUSED : UNHOLD_START);
	out->d = NULL;
	out->err = -EAGAIN;
	out->why = "its block I/O in flight did not complete in time";
	return out->err;
}

int64_t save_hold_live(struct save_cursor *s)
{
	struct hold_req h;

	if (!hold(s->d->id, s, &h))
		return 0;
	s->why = h.why;
	return h.err;
}

int64_t save_hold_final(struct save_cursor *s)
{
	domain_net_quiesce(s->d, true);
	if (blocks_idle(s->d))
		return 0;
	domain_net_quiesce(s->d, false);
	domain_unhold_round(s->d, !s->was_paused);
	s->why = "its block I/O in flight did not complete in time";
	return -EAGAIN;
}

/* ---- the cursor ---------------------------------------------------------------- */

static uint64_t map_frames(uint64_t pages)
{
	return PAGE_ALIGN_UP((pages + 63) / 64 * sizeof(uint64_t)) / PAGE_SIZE;
}

/* A live save's cursor also has a bit per page of the domain's. */
static struct save_cursor *cursor_new(uint32_t owner, uint64_t live_pages)
{
	uint64_t pa = frame_alloc_contig_raw(CURSOR_PAGES), map = 0;
	struct save_cursor *s;

	if (live_pages && pa && !(map = frame_alloc_contig_raw(map_frames(live_pages)))) {
		frame_free_contig(pa, CURSOR_PAGES);
		return NULL;
	}
	if (!pa)
		return NULL;
	s = memset(phys_to_virt(pa), 0, sizeof(*s));
	s->owner = owner;
	s->bounce = (uint8_t *)s + PAGE_ALIGN_UP(sizeof(*s));
	s->stage = s->bounce + SAVE_STAGE_PAGES * PAGE_SIZE;
	s->stage_cap = STAGE_BYTES;
	s->live = live_pages != 0;
	s->round_map = map ? memset(phys_to_virt(map), 0, map_frames(live_pages) * PAGE_SIZE) : NULL;
	s->round_map_pages = map ? map_frames(live_pages) : 0;
	return s;
}

static void cursor_free(struct save_cursor *s)
{
	if (s->round_map)
		frame_free_contig(virt_to_phys(s->round_map), s->round_map_pages);
	frame_free_contig(virt_to_phys(s), CURSOR_PAGES);
}

static void unclaim(struct save_cursor *s)
{
	__atomic_store_n(&s->busy, false, __ATOMIC_RELEASE);
}

static int64_t save_begin_held(struct domain *caller, struct pv_domctl_save *q)
{
	struct save_hold h;
	struct save_cursor *s;
	uint64_t t0 = rdtsc();

	if (save_hold(q->hdr.domid, &h))
		return fail(&q->hdr, h.err, h.why);
	s = cursor_new(caller->id, 0);
	if (!s) {
		domain_unhold(h.d, h.was_paused ? UNHOLD_PAUSED : UNHOLD_START);
		return fail(&q->hdr, -ENOMEM, "out of hypervisor memory");
	}
	s->d = h.d;
	s->was_paused = h.was_paused;
	domain_net_quiesce(h.d, true);
	save_records_begin(s);
	s->work_tsc = rdtsc() - t0;
	/* published last: a claim (another caller's SAVE_END) may look from now */
	__atomic_store_n(&h.d->save, s, __ATOMIC_RELEASE);
	q->pages = s->pages;
	q->bytes = s->size;
	log_event("domain-save-begin id=%u name=%s pages=%lu bytes=%lu", h.d->id, h.d->name, s->pages, s->size);
	return 0;
}

/* ---- a live save's beginning ---------------------------------------------------- */

struct live_req { uint32_t id; struct save_cursor *s; uint64_t pages; int64_t err; const char *why; };

static bool live_refuse(struct live_req *q, int64_t err, const char *why)
{
	q->err = err;
	q->why = why;
	return false;
}

/* Under the domain table's lock: its size, if it may be saved. */
static bool live_check(struct domain *d, void *ctx)
{
	struct live_req *q = ctx;

	if (d->id != q->id || d->kill_requested)
		return live_refuse(q, -ENOENT, "no such domain");
	if (d->held || d->save)
		return live_refuse(q, -EBUSY, "the domain is already being saved, restored or migrated");
	if (d->privileged)
		return live_refuse(q, -EINVAL, "a privileged domain cannot be saved");
	q->pages = d->mem.pages;
	if (q->s) {               /* claimed by this call until BEGIN returns */
		q->s->d = d;
		q->s->was_paused = d->paused;
		d->save = q->s;
	}
	return live_refuse(q, 0, NULL);
}

static int64_t live_attach(uint32_t id, struct live_req *q)
{
	*q = (struct live_req){ .id = id, .err = -ENOENT, .why = "no such domain" };
	if (id)
		domain_walk(id - 1, live_check, q);
	if (q->err)
		return q->err;
	q->s = cursor_new(0, q->pages);
	if (!q->s)
		return live_refuse(q, -ENOMEM, "out of hypervisor memory"), -ENOMEM;
	q->s->busy = true;
	domain_walk(id - 1, live_check, q);
	if (q->err)
		cursor_free(q->s);
	return q->err;
}

static void finish(struct save_cursor *s, enum unhold how, const char *then);

/* The domain runs on while its pages go out (core/save_live.c). */
static int64_t save_begin_live(struct domain *caller, struct pv_domctl_save *q)
{
	struct live_req l;
	struct save_cursor *s;
	uint64_t t0 = rdtsc();

	if (live_attach(q->hdr.domid, &l))
		return fail(&q->hdr, l.err, l.why);
	s = l.s;
	s->owner = caller->id;
	if (save_live_first_round(s)) {
		fail(&q->hdr, -EAGAIN, s->why);
		finish(s, s->was_paused ? UNHOLD_PAUSED : UNHOLD_START, "resume");
		return -EAGAIN;
	}
	save_records_begin(s);
	s->work_tsc = rdtsc() - t0;
	q->pages = s->pages;
	q->bytes = 0;
	log_event("domain-save-begin id=%u name=%s pages=%lu live=yes", s->d->id, s->d->name, s->pages);
	unclaim(s);
	return 0;
}

int64_t domctl_save_begin(struct domain *caller, struct pv_domctl_save *q)
{
	if (q->hdr.domid == caller->id)
		return fail(&q->hdr, -EINVAL, "a domain cannot save itself");
	if ((q->flags & ~PV_DOMCTL_SAVE_LIVE) || q->round)
		return fail(&q->hdr, -EINVAL, "flags: 0 or SAVE_LIVE; round must be 0");
	return q->flags ? save_begin_live(caller, q) : save_begin_held(caller, q);
}

/* A live save whose domain ended by itself (its CPU, once it is out of
 * the table): the save ends here, once no call uses it, and the calls
 * after find no save. */
void save_domain_gone(struct domain *d)
{
	struct save_cursor *s;
	bool mine = false;

	for (;;) {
		uint64_t f = spin_lock(&domains_lock);

		s = d->save;
		mine = s && !__atomic_exchange_n(&s->busy, true, __ATOMIC_ACQUIRE);
		if (mine)
			d->save = NULL;
		spin_unlock(&domains_lock, f);
		if (!s || mine)
			break;
		pause();
	}
	if (!s)
		return;
	log_event("domain-save-end id=%u name=%s bytes=%lu complete=no then=domain-ended", d->id, d->name,
		  s->offset);
	cursor_free(s);
}

/* ---- finding a save in progress ---------------------------------------------- */

struct claim_req { uint32_t id, caller; bool any_owner; struct save_cursor *s; const char *why; };

static bool claim_if(struct domain *d, void *ctx)
{
	struct claim_req *q = ctx;
	struct save_cursor *s = d->id == q->id ? d->save : NULL;

	if (d->id != q->id || !s)
		q->why = "no save of that domain is in progress";
	else if (s->owner != q->caller && !q->any_owner)
		q->why = "another domain began that save";
	else if (__atomic_exchange_n(&s->busy, true, __ATOMIC_ACQUIRE))
		q->why = "another call is using that save";
	else
		q->s = s;
	return false;
}

static struct save_cursor *claim(struct pv_domctl_hdr *h, uint32_t caller, bool any_owner)
{
	struct claim_req q = { h->domid, caller, any_owner, NULL, "no such domain" };

	if (h->domid)
		domain_walk(h->domid - 1, claim_if, &q);
	if (!q.s)
		strlcpy(h->message, q.why, sizeof(h->message));
	return q.s;
}

/* ---- reading ------------------------------------------------------------------- */

static uint64_t hand_out(struct domain *caller, struct save_cursor *s, uint64_t gva, uint64_t room)
{
	uint64_t n = MIN(room, s->stage_len - s->stage_off);

	guest_copy_to(&caller->mem, gva, s->stage + s->stage_off, n);   /* checked writable */
	s->stage_off += n;
	s->offset += n;
	return n;
}

int64_t domctl_save_read(struct domain *caller, struct pv_domctl_save *q)
{
	struct save_cursor *s;
	uint64_t t0 = rdtsc();

	if (q->len > PV_DOMCTL_SAVE_CHUNK)
		return fail(&q->hdr, -EINVAL, "len is above PV_DOMCTL_SAVE_CHUNK");
	if (guest_check(&caller->mem, q->buf_gva, q->len, true))
		return fail(&q->hdr, -EFAULT, "the buffer is not writable memory of the caller");
	if (!(s = claim(&q->hdr, caller->id, false)))
		return -ENOENT;
	q->count = 0;
	if (q->offset != s->offset) {
		snprintf(q->hdr.message, sizeof(q->hdr.message), "offset: the stream is at %lu", s->offset);
		unclaim(s);
		return -EINVAL;
	}
	while (q->count < q->len && !s->w.error && !s->why) {
		if (s->stage_off == s->stage_len) {
			if (s->done)
				break;
			s->stage_len = s->stage_off = 0;
			save_records_next(s);
		}
		q->count += (uint32_t)hand_out(caller, s, q->buf_gva + q->count, q->len - q->count);
	}
	q->flags = (s->done && s->stage_off == s->stage_len ? PV_DOMCTL_SAVE_DONE : 0) |
		   (s->final ? PV_DOMCTL_SAVE_HELD : 0);
	q->bytes = s->offset;
	q->round = s->round;
	q->pages = s->sent_pages;
	s->work_tsc += rdtsc() - t0;
	unclaim(s);
	if (s->why)               /* a live save's round failed: it stays so until END */
		return fail(&q->hdr, -EIO, s->why);
	return s->w.error ? fail(&q->hdr, -EIO, "the stream could not be made") : 0;
}

/* ---- ending -------------------------------------------------------------------- */

static const char *then_name(uint32_t then)
{
	return then == PV_DOMCTL_SAVE_DESTROY ? "destroy" : then == PV_DOMCTL_SAVE_PAUSE ? "pause" : "resume";
}

/* A claimed save ends: the domain is let go as how says; d may be gone
 * after, and s is freed. */
static void finish(struct save_cursor *s, enum unhold how, const char *then)
{
	struct domain *d = s->d;
	uint64_t stopped_us = s->final ? tsc_to_ns(rdtsc() - s->stop_tsc) / 1000 : 0;

	log_event("domain-save-end id=%u name=%s bytes=%lu complete=%s then=%s work_us=%lu live=%s rounds=%u "
		  "pages_sent=%lu stopped_us=%lu", d->id, d->name, s->offset,
		  s->done && s->stage_off == s->stage_len ? "yes" : "no", then, tsc_to_ns(s->work_tsc) / 1000,
		  s->live ? "yes" : "no", s->round, s->sent_pages, stopped_us);
	domain_unhold(d, how);    /* d->save goes with the hold (its nets deliver again); d may be gone after */
	cursor_free(s);           /* only now: a claim may have looked at d->save until then */
}

struct owned { uint32_t owner; struct save_cursor *s; };

/* Under the domain table's lock: claim one save the owner began. */
static bool claim_owned(struct domain *d, void *ctx)
{
	struct owned *o = ctx;
	struct save_cursor *s = d->save;

	if (!s || s->owner != o->owner || __atomic_exchange_n(&s->busy, true, __ATOMIC_ACQUIRE))
		return true;
	o->s = s;
	return false;
}

void save_owner_gone(uint32_t owner)
{
	struct owned o = { owner, NULL };

	while ((domain_walk(0, claim_owned, &o), o.s)) {
		finish(o.s, o.s->was_paused ? UNHOLD_PAUSED : UNHOLD_START, "resume-owner-gone");
		o.s = NULL;
	}
}

/* Any privileged caller may end a save (a restarted control domain ends
 * the one its predecessor left). */
int64_t domctl_save_end(struct domain *caller, struct pv_domctl_save *q)
{
	struct save_cursor *s;
	enum unhold how;

	if (q->flags > PV_DOMCTL_SAVE_DESTROY)
		return fail(&q->hdr, -EINVAL, "flags: 0 resume, 1 pause, 2 destroy");
	if (!(s = claim(&q->hdr, caller->id, true)))
		return -ENOENT;
	how = q->flags == PV_DOMCTL_SAVE_DESTROY ? UNHOLD_DESTROY :
	      q->flags == PV_DOMCTL_SAVE_PAUSE || s->was_paused ? UNHOLD_PAUSED : UNHOLD_START;
	q->bytes = s->offset;
	finish(s, how, then_name(q->flags));
	return 0;
}
