/* Block backend: the I/O side.  A request becomes pieces, one disk_io
 * each: as many of its consecutive segments as the disk takes in one I/O
 * (max_segs), never across a volume extent (the sectors would not be
 * contiguous on the disk).  With virtio-blk a 56 KiB request is one
 * device request; split in 4 KiB pieces it was 14, and that per-request
 * cost is what held sequential throughput down (docs/benchmarks.md).
 * The disk only ever sees the backend's own bounce frames, one per
 * segment: a WRITE's bytes are copied from the guest when its piece
 * starts, a READ's to the guest when it is done, so a domain destroyed
 * with I/O in flight never has a disk write into frames it gave back.
 * At most BLKBACK_PIECES pieces and BLKBACK_FRAMES segments per device
 * are in flight, so one guest cannot take every slot of a shared disk. */
#include <hv/domain.h>
#include <hv/errno.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mm.h>
#include "blkback_internal.h"

_Static_assert(BLKBACK_FRAMES <= 256, "a frame index is a uint8_t");
_Static_assert(PV_BLK_MAX_SEGMENTS <= DISK_IO_SEGS_MAX, "a request fits one disk_io");
_Static_assert(DISK_IO_SEGS_MAX <= BLKBACK_FRAMES, "a whole piece's frames can come free");

static void piece_done(struct disk_io *io);

static void count(struct blkback *bb, uint8_t op)
{
	if (op == PV_BLK_READ)
		bb->reads++;
	else if (op == PV_BLK_WRITE)
		bb->writes++;
	else
		bb->flushes++;
}

void blkback_queue(struct blkback *bb, struct blk_req *q, int status)
{
	q->used = true;
	q->status = status;
	q->pending = 0;
	q->seg = q->off = 0;
	q->sector = q->r.sector;
	q->started = false;
	q->next = NULL;
	if (status != PV_BLK_OK) {
		bb->refused++;
		blkback_respond(bb, q);
		return;
	}
	count(bb, q->r.op);
	if (bb->backlog_tail)
		bb->backlog_tail->next = q;
	else
		bb->backlog = q;
	bb->backlog_tail = q;
}

static struct blk_piece *free_piece(struct blkback *bb)
{
	for (uint32_t i = 0; i < BLKBACK_PIECES; i++)
		if (!bb->piece[i].busy)
			return &bb->piece[i];
	return NULL;
}

/* Move q's cursor past len bytes. */
static void advance(struct blk_req *q, uint32_t len)
{
	q->off += len;
	q->sector += len / PV_BLK_SECTOR;
	if (q->off < q->r.seg[q->seg].len)
		return;
	q->off = 0;
	if (++q->seg == q->r.nseg)
		q->started = true;
}

/* p's bounce frames back to the device's stack. */
static void release_frames(struct blkback *bb, struct blk_piece *p)
{
	for (uint32_t i = 0; i < p->io.nseg; i++)
		bb->frame_free[bb->nframe_free++] = p->frame[i];
	p->io.nseg = 0;
}

/* Lock held, a frame free: the request's next bytes, to the end of its
 * segment and at most room, become p's next segment on a bounce frame.
 * The length, or 0 when a WRITE's bytes could not be read (checked at
 * the request: cannot happen) or room is 0. */
static uint32_t add_seg(struct blkback *bb, struct blk_req *q, struct blk_piece *p, uint64_t room)
{
	const struct pv_blk_seg *s = &q->r.seg[q->seg];
	uint32_t len = (uint32_t)MIN((uint64_t)(s->len - q->off), room);
	uint32_t i = p->io.nseg++;
	uint8_t f = bb->frame_free[--bb->nframe_free];

	p->frame[i] = f;
	p->gva[i] = s->addr + q->off;
	p->io.seg[i] = (struct disk_seg){ .pa = bb->bounce[f], .len = len };
	p->io.len += len;
	if (!len || (q->r.op == PV_BLK_WRITE &&
		     guest_copy_from(&bb->d->mem, phys_to_virt(bb->bounce[f]), p->gva[i], len)))
		return 0;
	advance(q, len);
	return len;
}

/* The next piece of a READ or WRITE: segments while the disk takes more
 * in one io, the extent goes on and bounce frames are free (so a piece
 * may end mid-request and the next continue it).  False when the request
 * failed instead (no piece used). */
static bool prepare_rw(struct blkback *bb, struct blk_req *q, struct blk_piece *p)
{
	uint64_t room = volume_extent_end(&bb->vol, q->sector) * PV_BLK_SECTOR;
	uint32_t len;

	p->io.op = q->r.op == PV_BLK_WRITE ? DISK_WRITE : DISK_READ;
	p->io.sector = q->sector;
	p->io.nseg = 0;
	p->io.len = 0;
	do {
		len = add_seg(bb, q, p, room);
		room -= len;
	} while (len && room && !q->started && p->io.nseg < bb->vol.disk->max_segs &&
		 bb->nframe_free);
	if (len)
		return true;
	release_frames(bb, p);
	q->status = PV_BLK_ERR_IO;
	q->started = true;
	return false;
}

/* A FLUSH goes to the disk as it is started: every WRITE answered before
 * it was submitted has completed at the disk, so the disk's flush covers
 * it (public/io/blk.h's contract). */
static bool prepare(struct blkback *bb, struct blk_req *q, struct blk_piece *p)
{
	if (q->r.op != PV_BLK_FLUSH)
		return prepare_rw(bb, q, p);
	p->io.op = DISK_FLUSH;
	p->io.sector = 0;
	p->io.nseg = 0;
	p->io.len = 0;
	q->started = true;
	return true;
}

static void start_piece(struct blkback *bb, struct blk_req *q, struct blk_piece *p,
			struct blk_piece **list)
{
	p->busy = true;
	p->bb = bb;
	p->req = q;
	p->io.status = 0;
	p->io.done = piece_done;
	p->io.ctx = p;
	p->io.next = NULL;
	p->next = *list;
	*list = p;
	q->pending++;
	bb->refs++;
	if (++bb->busy > bb->busy_max)
		bb->busy_max = bb->busy;
}

/* A disconnected device starts nothing more: what waits is answered
 * PV_BLK_ERR_DISCONNECTED (at once, or when its started pieces are done). */
static void drain(struct blkback *bb)
{
	while (bb->backlog) {
		struct blk_req *q = bb->backlog;

		bb->backlog = q->next;
		q->started = true;
		if (!q->pending)
			blkback_respond(bb, q);
	}
	bb->backlog_tail = NULL;
}

/* A piece starts only with frames for as many segments as it may take
 * (the disk's max_segs, or what is left of the request): cut short, it
 * would be one more disk request, and with requests waiting every
 * completion would cut the next piece short again.  Waiting is safe: a
 * piece needs at most DISK_IO_SEGS_MAX <= BLKBACK_FRAMES frames, and
 * frames missing are in flight and come back.  A FLUSH needs none. */
static bool frames_for(const struct blkback *bb, const struct blk_req *q)
{
	uint32_t left = q->r.nseg - q->seg;
	uint32_t need = q->r.op == PV_BLK_FLUSH ? 0 : MIN(bb->vol.disk->max_segs, left);

	return bb->nframe_free >= need;
}

void blkback_pump(struct blkback *bb, struct blk_piece **list)
{
	struct blk_piece *p;

	if (bb->disconnected)
		return drain(bb);
	while (bb->backlog && frames_for(bb, bb->backlog) && (p = free_piece(bb))) {
		struct blk_req *q = bb->backlog;

		if (prepare(bb, q, p))
			start_piece(bb, q, p, list);
		if (!q->started)
			continue;
		bb->backlog = q->next;
		if (!bb->backlog)
			bb->backlog_tail = NULL;
		if (!q->pending)
			blkback_respond(bb, q);
	}
}

/* Pieces hold references, so bb outlives this loop whatever completes. */
void blkback_submit(struct blkback *bb, struct blk_piece *list)
{
	while (list) {
		struct blk_piece *next = list->next;

		volume_submit(&bb->vol, &list->io);
		list = next;
	}
}

/* A READ piece's bytes into the guest, segment by segment, from our own
 * record of the frames (not the io the driver had). */
static int copy_back(struct blkback *bb, const struct blk_piece *p)
{
	for (uint32_t i = 0; i < p->io.nseg; i++)
		if (guest_copy_to(&bb->d->mem, p->gva[i], phys_to_virt(bb->bounce[p->frame[i]]),
				  p->io.seg[i].len))
			return -EIO;
	return 0;
}

/* Lock held, domain attached: p's outcome into its request, whose answer
 * goes once its last piece is done.  A disconnected device's reads are
 * not copied (its frontend has given up on them and may reuse the
 * buffers). */
static void settle(struct blkback *bb, struct blk_piece *p)
{
	struct blk_req *q = p->req;

	if (p->io.status && q->status == PV_BLK_OK)
		bb->errors++;
	if (p->io.status)
		q->status = PV_BLK_ERR_IO;
	else if (q->r.op == PV_BLK_READ && q->status == PV_BLK_OK && !bb->disconnected &&
		 copy_back(bb, p))
		q->status = PV_BLK_ERR_IO;
	if (--q->pending == 0 && q->started)
		blkback_respond(bb, q);
}

/* Lock held.  A detached domain's pieces only give their frames back. */
static void complete(struct blkback *bb, struct blk_piece *p)
{
	p->busy = false;
	bb->busy--;
	if (bb->d)
		settle(bb, p);
	release_frames(bb, p);
}

/* From the driver's interrupt (or poll), on any CPU, no lock held. */
static void piece_done(struct disk_io *io)
{
	struct blk_piece *p = io->ctx;
	struct blkback *bb = p->bb;
	struct blk_piece *start = NULL;
	uint64_t f = spin_lock(&bb->lock);
	bool last;

	complete(bb, p);
	if (bb->d)
		blkback_pump(bb, &start);
	last = --bb->refs == 0;
	spin_unlock(&bb->lock, f);
	blkback_submit(bb, start);
	if (last)
		blkback_free(bb);
}

/* Lock held, domain attached: what the device did, as one @event. */
static void report(const struct blkback *bb)
{
	log_event("blk-stats id=%u name=%s dev=%s reads=%lu writes=%lu flushes=%lu refused=%lu "
		  "errors=%lu in_flight_max=%lu disconnected=%u", bb->d->id, bb->d->name, bb->name,
		  bb->reads, bb->writes, bb->flushes, bb->refused, bb->errors, bb->busy_max,
		  bb->disconnected);
}

void blkback_detach(struct blkback *bb)
{
	uint64_t f = spin_lock(&bb->lock);
	bool last;

	report(bb);
	bb->d = NULL;
	bb->backlog = bb->backlog_tail = NULL;
	last = --bb->refs == 0;
	spin_unlock(&bb->lock, f);
	if (last)
		blkback_free(bb);
}

int blkback_bounces_alloc(struct blkback *bb)
{
	for (uint32_t i = 0; i < BLKBACK_FRAMES; i++) {
		if (!(bb->bounce[i] = frame_alloc()))
			return -ENOMEM;
		bb->frame_free[bb->nframe_free++] = (uint8_t)i;
	}
	return 0;
}

/* The last reference: the claim goes (another domain may now write the
 * extents), then the frames. */
void blkback_free(struct blkback *bb)
{
	if (bb->claimed)
		volume_release(&bb->vol);
	for (uint32_t i = 0; i < BLKBACK_FRAMES; i++)
		if (bb->bounce[i])
			frame_free(bb->bounce[i]);
	kfree(bb);
}
