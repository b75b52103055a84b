/* Block frontend (see pv_blk.h and public/io/blk.h).  The ring is in our
 * own memory, so we use it directly; every id and index the backend
 * writes is still range-checked: a broken backend must not make us
 * scribble over our own memory.  A user request becomes one or more ring
 * requests (id = our table index), issued in order as ring slots free up. */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <paravane.h>
#include <pv_blk.h>
#include <pv_thread.h>
#include <public/errno.h>

#define MASK   (PV_BLK_RING_SIZE - 1)

struct pv_blk {
	const struct pv_device *dev;
	struct pv_blk_ring *ring;
	uint32_t req_prod, rsp_cons;    /* requests made / responses seen */
	struct pv_blk_req *owner[PV_BLK_RING_SIZE];   /* by ring request id */
	uint32_t free_id[PV_BLK_RING_SIZE], nfree;
	struct pv_blk_req *queue, *queue_tail;        /* not wholly on the ring yet */
	struct pv_waitq waiters;
	int disconnected;
	struct pv_blk *next;            /* open devices */
};

static struct pv_blk *open_devs;
static int hook_registered;

static int status_errno(int32_t st)
{
	switch (st) {
	case PV_BLK_OK:               return 0;
	case PV_BLK_ERR_RDONLY:       return -EROFS;
	case PV_BLK_ERR_RANGE:        return -ERANGE;
	case PV_BLK_ERR_DISCONNECTED: return -ENOTCONN;
	case PV_BLK_ERR_UNSUPPORTED:  return -EOPNOTSUPP;
	default:                      return -EIO;
	}
}

static void finish(struct pv_blk *b, struct pv_blk_req *r)
{
	if (r->bounce_) {
		if (r->op == PV_BLK_READ && !r->status)
			memcpy(r->buf, r->bounce_, r->len);
		free(r->bounce_);
		r->bounce_ = NULL;
	}
	r->complete = 1;
	pv_waitq_wake_all(&b->waiters);
	if (r->done)
		r->done(r);
}

static void fail(struct pv_blk *b, struct pv_blk_req *r, int err)
{
	if (!r->status)
		r->status = err;
	finish(b, r);
}

/* The backend said no more: everything outstanding fails, nothing is
 * sent again (the backend writes no more data into our buffers). */
static void disconnect(struct pv_blk *b)
{
	b->disconnected = 1;
	for (uint32_t id = 0; id < PV_BLK_RING_SIZE; id++) {
		struct pv_blk_req *r = b->owner[id];

		b->owner[id] = NULL;
		if (r && --r->pending_ == 0)
			fail(b, r, -ENOTCONN);
	}
	while (b->queue) {
		struct pv_blk_req *r = b->queue;

		b->queue = r->next_;
		if (!r->pending_ && !r->complete)
			fail(b, r, -ENOTCONN);
	}
	b->queue_tail = NULL;
}

/* Fill the next ring request from r: up to 14 segments, each inside one
 * page of the (512-aligned) data. */
static void fill(struct pv_blk_request *q, struct pv_blk_req *r)
{
	uint8_t *data = r->bounce_ ? r->bounce_ : r->buf;

	q->sector = r->sector + r->issued_ / PV_BLK_SECTOR;
	while (q->nseg < PV_BLK_MAX_SEGMENTS && r->issued_ < r->len) {
		uintptr_t a = (uintptr_t)data + r->issued_;
		size_t n = r->len - r->issued_;

		if (n > PV_BLK_SEG_MAX - a % PV_BLK_SEG_MAX)
			n = PV_BLK_SEG_MAX - a % PV_BLK_SEG_MAX;
		q->seg[q->nseg].addr = a;
		q->seg[q->nseg].len = (uint32_t)n;
		q->nseg++;
		r->issued_ += n;
	}
	r->all_issued_ = r->issued_ == r->len;
}

static void issue_one(struct pv_blk *b, struct pv_blk_req *r)
{
	struct pv_blk_request *q = &b->ring->slot[b->req_prod & MASK].req;
	uint32_t id = b->free_id[--b->nfree];

	memset(q, 0, sizeof(*q));
	q->id = id;
	q->op = r->op;
	if (r->op == PV_BLK_FLUSH)
		r->all_issued_ = 1;
	else
		fill(q, r);
	b->owner[id] = r;
	r->pending_++;
	b->req_prod++;
}

/* Put queued requests on the ring while it has room; notify the backend
 * if it asked to be told. */
static void issue(struct pv_blk *b)
{
	uint32_t old = b->req_prod;

	while (b->queue && b->nfree && b->req_prod - b->rsp_cons < PV_BLK_RING_SIZE) {
		struct pv_blk_req *r = b->queue;

		issue_one(b, r);
		if (r->all_issued_ && !(b->queue = r->next_))
			b->queue_tail = NULL;
	}
	if (b->req_prod == old)
		return;
	pv_wmb();
	b->ring->idx.req_prod = b->req_prod;
	pv_mb();                             /* publish before reading req_event */
	if (pv_ring_need_notify(old, b->req_prod, b->ring->idx.req_event) &&
	    pv_event_notify(b->dev->event_port) == -PV_EIO)
		disconnect(b);
}

static void one_response(struct pv_blk *b, const struct pv_blk_response *rsp)
{
	uint64_t id = rsp->id;
	int32_t st = rsp->status;
	struct pv_blk_req *r;

	if (id >= PV_BLK_RING_SIZE || !(r = b->owner[id]))
		return;                      /* not ours */
	b->owner[id] = NULL;
	b->free_id[b->nfree++] = (uint32_t)id;
	if (st != PV_BLK_OK && !r->status)
		r->status = status_errno(st);
	if (--r->pending_ == 0 && r->all_issued_)
		finish(b, r);
	if (st == PV_BLK_ERR_DISCONNECTED)
		disconnect(b);
}

int pv_blk_poll(struct pv_blk *b)
{
	uint32_t prod;
	int n = 0;

	pv_events_clear(1ull << b->dev->event_port);   /* before looking: no lost wake-up */
	prod = b->ring->idx.rsp_prod;
	pv_rmb();
	if (prod - b->rsp_cons > PV_BLK_RING_SIZE)
		return 0;                              /* backend broken: leave it */
	for (; b->rsp_cons != prod; b->rsp_cons++, n++)
		one_response(b, &b->ring->slot[b->rsp_cons & MASK].rsp);
	if (!b->disconnected)
		issue(b);
	return n;
}

static int poll_all(void *unused)
{
	int n = 0;

	for (struct pv_blk *b = open_devs; b; b = b->next)
		n += pv_blk_poll(b);
	return n;
}

static int check_req(const struct pv_blk *b, const struct pv_blk_req *r)
{
	if (r->op == PV_BLK_FLUSH)
		return r->len ? -EINVAL : 0;
	if (r->op != PV_BLK_READ && r->op != PV_BLK_WRITE)
		return -EINVAL;
	if (!r->len || r->len % PV_BLK_SECTOR || !r->buf)
		return -EINVAL;
	return b->disconnected ? -ENOTCONN : 0;
}

int pv_blk_submit(struct pv_blk *b, struct pv_blk_req *r)
{
	int e = check_req(b, r);

	if (e)
		return e;
	r->status = r->complete = 0;
	r->next_ = NULL;
	r->bounce_ = NULL;
	r->issued_ = r->pending_ = r->all_issued_ = 0;
	if (r->op != PV_BLK_FLUSH && (uintptr_t)r->buf % PV_BLK_SECTOR) {
		if (!(r->bounce_ = memalign(PV_BLK_SECTOR, r->len)))
			return -ENOMEM;
		if (r->op == PV_BLK_WRITE)
			memcpy(r->bounce_, r->buf, r->len);
	}
	if (b->queue_tail)
		b->queue_tail->next_ = r;
	else
		b->queue = r;
	b->queue_tail = r;
	issue(b);
	return 0;
}

int pv_blk_wait(struct pv_blk *b, struct pv_blk_req *r)
{
	while (!r->complete)
		if (!pv_blk_poll(b) && !r->complete)
			pv_waitq_wait(&b->waiters, PV_THREAD_FOREVER);
	return r->status;
}

static int sync_io(struct pv_blk *b, uint8_t op, uint64_t sector, void *buf, size_t len)
{
	struct pv_blk_req r = { .op = op, .sector = sector, .buf = buf, .len = len };
	int e = pv_blk_submit(b, &r);

	return e ? e : pv_blk_wait(b, &r);
}

int pv_blk_read(struct pv_blk *b, uint64_t sector, void *buf, size_t len)
{
	return sync_io(b, PV_BLK_READ, sector, buf, len);
}

int pv_blk_write(struct pv_blk *b, uint64_t sector, const void *buf, size_t len)
{
	return sync_io(b, PV_BLK_WRITE, sector, (void *)buf, len);
}

int pv_blk_flush(struct pv_blk *b)
{
	return sync_io(b, PV_BLK_FLUSH, 0, NULL, 0);
}

void pv_blk_info(const struct pv_blk *b, struct pv_blk_info *out)
{
	memset(out, 0, sizeof(*out));
	out->capacity = b->dev->capacity;
	out->sector_size = b->dev->sector_size ? b->dev->sector_size : PV_BLK_SECTOR;
	out->sectors = out->capacity / out->sector_size;
	out->readonly = !!(b->dev->flags & PV_DEV_READONLY);
	memcpy(out->name, b->dev->name, sizeof(out->name) - 1);
}

static const struct pv_device *find_device(const char *name)
{
	const struct pv_start_info *si = pv_start_info();

	for (uint32_t i = 0; i < si->device_count && i < PV_MAX_DEVICES; i++) {
		const struct pv_device *d = &si->device[i];

		if (d->type == PV_DEV_BLOCK && !strncmp(d->name, name, sizeof(d->name)))
			return d;
	}
	return NULL;
}

/* One poll hook for every block device: woken by any of their ports. */
static uint64_t all_ports(void)
{
	const struct pv_start_info *si = pv_start_info();
	uint64_t mask = 0;

	for (uint32_t i = 0; i < si->device_count && i < PV_MAX_DEVICES; i++)
		if (si->device[i].type == PV_DEV_BLOCK && si->device[i].event_port < PV_EVENT_PORTS)
			mask |= 1ull << si->device[i].event_port;
	return mask;
}

static struct pv_blk *open_errno(int e)
{
	errno = e;
	return NULL;
}

struct pv_blk *pv_blk_open(const char *name)
{
	const struct pv_device *dev = name ? find_device(name) : NULL;
	struct pv_blk *b;

	if (!dev || dev->ring_pages < PV_BLK_RING_PAGES || dev->event_port >= PV_EVENT_PORTS)
		return open_errno(ENODEV);
	for (b = open_devs; b; b = b->next)
		if (b->dev == dev)
			return open_errno(EBUSY);
	if (!hook_registered && pv_thread_poll_register(poll_all, NULL, all_ports()))
		return open_errno(ENOMEM);
	hook_registered = 1;
	if (!(b = calloc(1, sizeof(*b))))
		return open_errno(ENOMEM);
	b->dev = dev;
	b->ring = (struct pv_blk_ring *)(uintptr_t)dev->ring_gva;
	for (uint32_t i = 0; i < PV_BLK_RING_SIZE; i++)
		b->free_id[b->nfree++] = PV_BLK_RING_SIZE - 1 - i;
	pv_waitq_init(&b->waiters);
	b->next = open_devs;
	open_devs = b;
	return b;
}
