/* Block backend: the ring side (see public/io/blk.h for the protocol).
 * Every index and request is copied out of guest memory once, then
 * checked, then used; the backend keeps no pointer into the guest.  A
 * broken ring disconnects this device with a log line and nothing else.
 * The I/O side (pieces, bounce frames, completion) is io/blkback_io.c. */
#include <manifest.h>
#include <hv/blkback.h>
#include <hv/domain.h>
#include <hv/errno.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/nospec.h>
#include "blkback_internal.h"

_Static_assert(BLKBACK_PORT(0) > MANIFEST_MAX_NETS, "block ports follow the net ports");
_Static_assert(BLKBACK_PORT(MANIFEST_MAX_BLOCKS - 1) < PV_EVENT_PORTS, "block ports exist");

#define IDX(field) (bb->ring + __builtin_offsetof(struct pv_ring_indices, field))
#define SLOT(i)    (bb->ring + __builtin_offsetof(struct pv_blk_ring, slot) + \
		    (uint64_t)pv_ring_slot(i, PV_BLK_RING_SIZE) * sizeof(union pv_blk_slot))
#define BAD 1      /* check_*: a protocol error; the device is disconnected */

/* A reason is one of our own constant strings; the detail a number. */
static int malformed(struct blkback *bb, const char *why, uint64_t detail)
{
	char token[48];

	if (bb->disconnected || !bb->d)
		return BAD;
	bb->disconnected = true;
	log_warn("blk: domain %u (%s) %s disconnected: %s (0x%lx)", bb->d->id, bb->d->name,
		 bb->name, why, detail);
	strlcpy(token, why, sizeof(token));
	for (char *c = token; *c; c++)          /* one key=value token for the event */
		if (*c == ' ')
			*c = '-';
	log_event("blk-disconnected id=%u name=%s dev=%s reason=%s", bb->d->id, bb->d->name,
		  bb->name, token);
	return BAD;
}

static int write_idx(struct blkback *bb, uint64_t gva, uint32_t v)
{
	return guest_copy_to(&bb->d->mem, gva, &v, sizeof(v));
}

/* The frontend's producer index, once; it may be at most a ring ahead of
 * our responses (a slot is reused only after its response). */
static int read_prod(struct blkback *bb, uint32_t *prod)
{
	uint32_t room = PV_BLK_RING_SIZE - (bb->req_cons - bb->rsp_prod);

	if (guest_copy_from(&bb->d->mem, prod, IDX(req_prod), sizeof(*prod)))
		return malformed(bb, "ring not readable", bb->ring);
	pv_rmb();
	if (*prod - bb->req_cons > room)
		return malformed(bb, "producer index out of range", *prod);
	return 0;
}

/* One segment of our copy: aligned, inside one page, backed, and
 * writable when we are to write into it (READ). */
static int check_segment(struct blkback *bb, const struct pv_blk_seg *s, bool write)
{
	if (s->reserved)
		return malformed(bb, "segment reserved field set", s->reserved);
	if (s->addr % PV_BLK_SECTOR || s->len % PV_BLK_SECTOR || s->len < PV_BLK_SECTOR)
		return malformed(bb, "segment not in whole sectors", s->len);
	if (s->addr % PV_PAGE_SIZE + s->len > PV_PAGE_SIZE)
		return malformed(bb, "segment crosses a page", s->addr);
	if (guest_check(&bb->d->mem, s->addr, s->len, write))
		return malformed(bb, write ? "segment outside guest memory or read-only" :
				 "segment outside guest memory", s->addr);
	return 0;
}

static int check_segments(struct blkback *bb, const struct pv_blk_request *r, uint64_t *sectors)
{
	*sectors = 0;
	if (r->nseg < 1 || r->nseg > PV_BLK_MAX_SEGMENTS)
		return malformed(bb, "bad segment count", r->nseg);
	for (uint32_t i = 0; i < r->nseg; i++) {
		const struct pv_blk_seg *s = &r->seg[index_nospec(i, PV_BLK_MAX_SEGMENTS)];

		if (check_segment(bb, s, r->op == PV_BLK_READ))
			return BAD;
		*sectors += s->len / PV_BLK_SECTOR;
	}
	return 0;
}

/* PV_BLK_OK: start it; a PV_BLK_ERR_* status: answer it at once; BAD. */
static int check_request(struct blkback *bb, const struct pv_blk_request *r)
{
	uint64_t sectors;

	if (r->reserved0 || r->reserved1 || r->reserved2)
		return malformed(bb, "request reserved field set", r->op);
	if (r->op == PV_BLK_FLUSH)
		return r->nseg ? malformed(bb, "FLUSH with segments", r->nseg) : PV_BLK_OK;
	if (r->op != PV_BLK_READ && r->op != PV_BLK_WRITE)
		return malformed(bb, "unknown op", r->op);
	if (check_segments(bb, r, &sectors))
		return BAD;
	if (r->sector >= bb->vol.sectors || sectors > bb->vol.sectors - r->sector)
		return PV_BLK_ERR_RANGE;
	if (r->op == PV_BLK_WRITE && bb->vol.readonly)
		return PV_BLK_ERR_RDONLY;
	return PV_BLK_OK;
}

static struct blk_req *free_req(struct blkback *bb)
{
	for (uint32_t i = 0; i < PV_BLK_RING_SIZE; i++)
		if (!bb->req[i].used)
			return &bb->req[i];
	return NULL;    /* cannot happen: read_prod bounds requests in flight */
}

/* Lock held, domain attached.  The response goes in the next response
 * slot (its request was consumed long ago), then rsp_prod, then the event. */
void blkback_respond(struct blkback *bb, struct blk_req *q)
{
	struct pv_blk_response rsp = { .id = q->r.id, .status = q->status };

	q->used = false;
	if (bb->disconnected)
		rsp.status = PV_BLK_ERR_DISCONNECTED;
	if (guest_copy_to(&bb->d->mem, SLOT(bb->rsp_prod), &rsp, sizeof(rsp)))
		malformed(bb, "ring not writable", bb->ring);
	bb->rsp_prod++;
	pv_wmb();
	write_idx(bb, IDX(rsp_prod), bb->rsp_prod);
	domain_raise_event(bb->d, bb->port);
}

/* Copy the next request out of its slot once and check the copy. */
static int take_one(struct blkback *bb)
{
	struct blk_req *q = free_req(bb);
	int st;

	if (!q || guest_copy_from(&bb->d->mem, &q->r, SLOT(bb->req_cons), sizeof(q->r)))
		return malformed(bb, "ring not readable", bb->ring);
	bb->req_cons++;
	st = check_request(bb, &q->r);
	if (st == BAD)
		return BAD;
	blkback_queue(bb, q, st);
	return 0;
}

/* Lock held.  Consume until the ring is empty, asking to be notified for
 * the next request, then looking once more (no lost notification). */
static int consume(struct blkback *bb)
{
	uint32_t prod;

	for (;;) {
		if (read_prod(bb, &prod))
			return -EIO;
		while (bb->req_cons != prod)
			if (take_one(bb))
				return -EIO;
		write_idx(bb, IDX(req_event), bb->req_cons + 1);
		pv_mb();
		if (read_prod(bb, &prod))
			return -EIO;
		if (prod == bb->req_cons)
			return 0;
	}
}

int blkback_kick(struct blkback *bb)
{
	struct blk_piece *start = NULL;
	uint64_t f = spin_lock(&bb->lock);
	int r = bb->disconnected ? -EIO : consume(bb);

	blkback_pump(bb, &start);
	spin_unlock(&bb->lock, f);
	blkback_submit(bb, start);
	return r;
}

uint32_t blkback_port(const struct blkback *bb)
{
	return bb->port;
}

void blkback_describe(const struct blkback *bb, struct pv_device *dev)
{
	dev->capacity = bb->vol.sectors * PV_BLK_SECTOR;
	if (bb->vol.readonly)
		dev->flags |= PV_DEV_READONLY;
}

/* ---- the manifest's block entry ---------------------------------------- */
const char *blkback_cfg_spec(const struct manifest_block *b)
{
	return b->spec;
}

void blkback_cfg_name(const struct manifest_block *b, uint32_t index, char *out, size_t n)
{
	if (b->name[0])
		strlcpy(out, b->name, n);
	else
		snprintf(out, n, "blk%u", index);
}

static int open_volume(struct blkback *bb, const struct manifest_block *cfg, char *err, size_t n)
{
	char why[128];

	if (volume_open(blkback_cfg_spec(cfg), cfg->readonly, &bb->vol, why, sizeof(why)) ||
	    volume_claim(&bb->vol, bb->d->id, why, sizeof(why))) {
		snprintf(err, n, "block device %s: %s", bb->name, why);
		return -ENODEV;
	}
	bb->claimed = true;
	if (bb->vol.disk->block_size > PV_BLK_SECTOR) {   /* a 512-byte write would be refused */
		snprintf(err, n, "block device %s: %s is on a disk with %u-byte blocks; "
			 "block devices need 512-byte blocks", bb->name, bb->vol.spec,
			 bb->vol.disk->block_size);
		return -ENODEV;
	}
	return 0;
}

struct blkback *blkback_attach(struct domain *d, uint32_t index, const struct manifest_block *cfg,
			       uint64_t ring_gva, char *err, size_t n)
{
	struct blkback *bb = kzalloc(sizeof(*bb));

	if (!bb)
		return snprintf(err, n, "out of hypervisor memory"), NULL;
	spin_init(&bb->lock, "blkback", LOCK_RANK_BLKBACK);
	bb->d = d;
	bb->index = index;
	bb->port = BLKBACK_PORT(index);
	bb->ring = ring_gva;
	bb->refs = 1;
	blkback_cfg_name(cfg, index, bb->name, sizeof(bb->name));
	if (blkback_bounces_alloc(bb)) {
		snprintf(err, n, "block device %s: out of memory for its bounce frames", bb->name);
		blkback_free(bb);
		return NULL;
	}
	if (open_volume(bb, cfg, err, n)) {
		blkback_free(bb);
		return NULL;
	}
	write_idx(bb, IDX(req_event), 1);   /* notify us for the first request */
	log_event("blk-attached id=%u name=%s dev=%s sectors=%lu readonly=%u", d->id, d->name,
		  bb->name, bb->vol.sectors, bb->vol.readonly);
	return bb;
}
