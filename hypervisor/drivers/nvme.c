/* NVMe disks (QEMU's -device nvme, real controllers): namespace 1 of
 * every NVMe controller becomes a disk, "nvme0n1", "nvme1n1"...
 *
 * Bring-up: disable the controller, give it an admin queue pair, enable
 * it, identify the controller (model, volatile write cache) and namespace
 * 1 (size, LBA format), then create one I/O completion and submission
 * queue pair.  Admin commands run one at a time and are polled (boot
 * only).  I/O commands carry one PRP entry: a disk has max_segs 1, so a
 * disk_io is one segment inside one page.  (A PRP list cannot carry the
 * block backend's segments: every entry but the first must start a page
 * and every one but the last end one, and a guest's segment may be 512
 * bytes; SGLs could, but are optional in NVMe.)  The command id is the slot: at most depth - 1 commands are in
 * flight, so the submission queue cannot overflow; the rest wait in order.
 *
 * A namespace with 4096-byte LBAs is registered with its size in 512-byte
 * sectors and block_size 4096: disk_io_check() refuses (-EIO) any I/O
 * that is not whole LBAs; disk_*_sync handle partial blocks.
 *
 * Completions come by MSI-X and, as a safety net, by the registry's poll
 * and the synchronous waits; the disk's lock (LOCK_RANK_DISK) is dropped
 * before any done() runs.  Nothing the controller writes is trusted: a
 * completion must be for queue 1 and name a command id in flight, or the
 * controller is disabled (no more DMA) and everything fails with -EIO. */
#include <hv/disk.h>
#include <hv/disk_drivers.h>
#include <hv/errno.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/lock.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/pci.h>
#include <hv/time.h>
#include <hv/x86.h>

#define NVME_MAX        4u
#define NVME_CLASS      0x01       /* mass storage */
#define NVME_SUBCLASS   0x08       /* non-volatile memory */
#define NVME_PROG_IF    0x02       /* NVM Express */

/* controller registers */
#define REG_CAP   0x00
#define REG_CC    0x14
#define REG_CSTS  0x1c
#define REG_AQA   0x24
#define REG_ASQ   0x28
#define REG_ACQ   0x30
#define REG_DOORBELLS 0x1000

#define CAP_MQES(c)    ((uint32_t)((c) & 0xffff))
#define CAP_TO_MS(c)   ((((c) >> 24) & 0xff) * 500)
#define CAP_DSTRD(c)   ((uint32_t)(((c) >> 32) & 0xf))
#define CAP_CSS_NVM(c) (((c) >> 37) & 1)
#define CAP_MPSMIN(c)  ((uint32_t)(((c) >> 48) & 0xf))

#define CC_EN          (1u << 0)
#define CC_IOSQES_64   (6u << 16)
#define CC_IOCQES_16   (4u << 20)
#define CSTS_RDY       (1u << 0)
#define CSTS_CFS       (1u << 1)

/* commands */
#define ADM_CREATE_SQ  0x01
#define ADM_CREATE_CQ  0x05
#define ADM_IDENTIFY   0x06
#define ADM_SET_FEATURES 0x09
#define FEAT_NUM_QUEUES 0x07
#define CNS_NAMESPACE  0
#define CNS_CONTROLLER 1
#define IO_FLUSH       0x00
#define IO_WRITE       0x01
#define IO_READ        0x02

#define ADMIN_DEPTH    16u
#define IO_DEPTH_MAX   64u          /* 64 x 64-byte entries: one frame */
#define ADMIN_TIMEOUT_MS 2000u
#define BROKEN_WAIT_MS 100u         /* under the lock: bounded well below the hold limit */
#define NSID           1u

/* identify data, by offset */
#define ID_CTRL_MODEL  24
#define ID_CTRL_VWC    525
#define ID_NS_NSZE     0
#define ID_NS_FLBAS    26
#define ID_NS_LBAF     128

struct nvme_sqe {
	uint32_t cdw0;                  /* opcode | command id << 16 */
	uint32_t nsid;
	uint64_t rsvd;
	uint64_t mptr;
	uint64_t prp1, prp2;
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

struct nvme_cqe {
	uint32_t dw0, dw1;
	uint16_t sq_head, sq_id;
	uint16_t cid;
	uint16_t status;                /* phase bit 0, status field 15:1 */
};

_Static_assert(sizeof(struct nvme_sqe) == 64, "submission entry layout");
_Static_assert(sizeof(struct nvme_cqe) == 16, "completion entry layout");
_Static_assert(IO_DEPTH_MAX * sizeof(struct nvme_sqe) <= PAGE_SIZE, "I/O SQ fits a frame");

/* One queue pair: submission tail, completion head and phase. */
struct qpair {
	uint16_t qid, depth;
	uint64_t sq_pa, cq_pa;
	struct nvme_sqe *sq;
	volatile struct nvme_cqe *cq;
	uint16_t sq_tail, cq_head;
	uint16_t phase;
};

struct nvme {
	struct disk disk;
	struct spinlock lock;
	struct pci_dev *pci;
	volatile uint8_t *regs;
	uint32_t stride;                /* doorbell stride, bytes */
	uint64_t cap;
	bool irq, broken;
	uint8_t vector;
	uint32_t lba_shift;             /* 9 or 12 */
	uint64_t ident_pa;              /* identify data (boot only) */
	struct qpair admin, io;
	struct disk_io *slot_io[IO_DEPTH_MAX];
	uint16_t free[IO_DEPTH_MAX];
	uint16_t nfree;
	uint32_t in_flight;
	struct disk_io *wait_head, *wait_tail;
};

static struct nvme ctrls[NVME_MAX];
static uint32_t nctrl;

/* ---- registers ------------------------------------------------------------------- */
static uint32_t rd32(struct nvme *c, uint32_t off) { return *(volatile uint32_t *)(c->regs + off); }
static void wr32(struct nvme *c, uint32_t off, uint32_t v) { *(volatile uint32_t *)(c->regs + off) = v; }

/* 64-bit registers as two 32-bit accesses, low half first. */
static uint64_t rd64(struct nvme *c, uint32_t off)
{
	return rd32(c, off) | (uint64_t)rd32(c, off + 4) << 32;
}

static void wr64(struct nvme *c, uint32_t off, uint64_t v)
{
	wr32(c, off, (uint32_t)v);
	wr32(c, off + 4, (uint32_t)(v >> 32));
}

static void ring_sq(struct nvme *c, struct qpair *q)
{
	__asm__ volatile("" ::: "memory");  /* the entry before the doorbell (x86: stores in order) */
	wr32(c, REG_DOORBELLS + (2u * q->qid) * c->stride, q->sq_tail);
}

static void ring_cq(struct nvme *c, struct qpair *q)
{
	wr32(c, REG_DOORBELLS + (2u * q->qid + 1) * c->stride, q->cq_head);
}

/* Wait up to ms until CSTS.RDY is `ready`; false on timeout or a fatal
 * status. */
static bool wait_ready_ms(struct nvme *c, bool ready, uint64_t ms)
{
	uint64_t deadline = time_ns() + ms * 1000000ULL;

	for (;;) {
		uint32_t st = rd32(c, REG_CSTS);

		if (st == 0xffffffffu || (ready && (st & CSTS_CFS)))
			return false;
		if (!!(st & CSTS_RDY) == ready)
			return true;
		if (time_ns() > deadline)
			return false;
		pause();
	}
}

/* As long as the controller says it may take (CAP.TO), 500 ms at least. */
static bool wait_ready(struct nvme *c, bool ready)
{
	return wait_ready_ms(c, ready, MAX(CAP_TO_MS(c->cap), 500));
}

/* ---- queue pairs ----------------------------------------------------------------------- */
static void qpair_free(struct qpair *q)
{
	if (q->sq_pa)
		frame_free(q->sq_pa);
	if (q->cq_pa)
		frame_free(q->cq_pa);
	*q = (struct qpair){ 0 };
}

static int qpair_alloc(struct qpair *q, uint16_t qid, uint16_t depth)
{
	*q = (struct qpair){ .qid = qid, .depth = depth, .phase = 1 };
	q->sq_pa = frame_alloc();
	q->cq_pa = frame_alloc();
	if (!q->sq_pa || !q->cq_pa) {
		qpair_free(q);
		return -ENOMEM;
	}
	q->sq = phys_to_virt(q->sq_pa);
	q->cq = phys_to_virt(q->cq_pa);
	return 0;
}

/* Queue a command (its cid already in cdw0); the doorbell is separate. */
static void sq_add(struct qpair *q, const struct nvme_sqe *e)
{
	q->sq[q->sq_tail] = *e;
	q->sq_tail = (uint16_t)((q->sq_tail + 1) % q->depth);
}

/* The next completion entry if the controller has posted it: copied out
 * once, then the head moves (phase flips on wrap). */
static bool cq_next(struct qpair *q, struct nvme_cqe *out)
{
	volatile struct nvme_cqe *e = &q->cq[q->cq_head];

	if ((e->status & 1) != q->phase)
		return false;
	__asm__ volatile("" ::: "memory");  /* the phase before the rest (x86: loads in order) */
	out->dw0 = e->dw0;
	out->sq_head = e->sq_head;
	out->sq_id = e->sq_id;
	out->cid = e->cid;
	out->status = e->status;
	if (++q->cq_head == q->depth) {
		q->cq_head = 0;
		q->phase ^= 1;
	}
	return true;
}

/* ---- admin commands (boot only, polled, one at a time) -------------------------------- */
static int admin(struct nvme *c, struct nvme_sqe *e, uint32_t *dw0)
{
	uint64_t deadline = time_ns() + ADMIN_TIMEOUT_MS * 1000000ULL;
	uint16_t cid = c->admin.sq_tail;
	struct nvme_cqe r;

	e->cdw0 |= (uint32_t)cid << 16;
	sq_add(&c->admin, e);
	ring_sq(c, &c->admin);
	while (!cq_next(&c->admin, &r)) {
		if (time_ns() > deadline)
			return -ETIMEDOUT;
		pause();
	}
	ring_cq(c, &c->admin);
	if (r.cid != cid || (r.status >> 1))
		return -EIO;
	if (dw0)
		*dw0 = r.dw0;
	return 0;
}

static int identify(struct nvme *c, uint32_t cns, uint32_t nsid)
{
	struct nvme_sqe e = { .cdw0 = ADM_IDENTIFY, .nsid = nsid, .prp1 = c->ident_pa,
			      .cdw10 = cns };

	memset(phys_to_virt(c->ident_pa), 0, PAGE_SIZE);
	return admin(c, &e, NULL);
}

static int create_io_queues(struct nvme *c)
{
	uint32_t qsize = (uint32_t)(c->io.depth - 1) << 16;
	struct nvme_sqe nq = { .cdw0 = ADM_SET_FEATURES, .cdw10 = FEAT_NUM_QUEUES, .cdw11 = 0 };
	struct nvme_sqe cq = { .cdw0 = ADM_CREATE_CQ, .prp1 = c->io.cq_pa, .cdw10 = qsize | 1,
			       .cdw11 = 1u | (c->irq ? 2u : 0u) };   /* contiguous, interrupts; entry 0 */
	struct nvme_sqe sq = { .cdw0 = ADM_CREATE_SQ, .prp1 = c->io.sq_pa, .cdw10 = qsize | 1,
			       .cdw11 = 1u | (1u << 16) };          /* contiguous, completions to CQ 1 */
	int err = admin(c, &nq, NULL);

	if (!err)
		err = admin(c, &cq, NULL);
	if (!err)
		err = admin(c, &sq, NULL);
	return err;
}

/* ---- identify data ------------------------------------------------------------------------ */
/* The controller's model string: sanitized, trailing spaces trimmed. */
static void read_model(struct nvme *c)
{
	const char *id = phys_to_virt(c->ident_pa);
	size_t n = 40;

	while (n && (id[ID_CTRL_MODEL + n - 1] == ' ' || !id[ID_CTRL_MODEL + n - 1]))
		n--;
	sanitize(c->disk.model, sizeof(c->disk.model), id + ID_CTRL_MODEL, n);
	c->disk.volatile_cache = id[ID_CTRL_VWC] & 1;
}

/* Namespace 1's size and LBA size: 512 or 4096 bytes without metadata. */
static int read_namespace(struct nvme *c)
{
	const uint8_t *id = phys_to_virt(c->ident_pa);
	uint64_t nsze;
	uint32_t lbaf;
	uint8_t lbads;

	memcpy(&nsze, id + ID_NS_NSZE, 8);
	memcpy(&lbaf, id + ID_NS_LBAF + 4 * (id[ID_NS_FLBAS] & 0xf), 4);
	lbads = (uint8_t)(lbaf >> 16);
	if ((lbaf & 0xffff) || (lbads != 9 && lbads != 12) || !nsze) {
		log_warn("disk: nvme " PCI_BDF_FMT " namespace 1: LBA format 0x%x, size %lu "
			 "not supported (512 or 4096 bytes, no metadata)", PCI_BDF_ARGS(c->pci), lbaf, nsze);
		return -ENODEV;
	}
	c->lba_shift = lbads;
	c->disk.block_size = 1u << lbads;
	c->disk.max_segs = 1;                        /* PRP1 only: see the top */
	if (nsze > (UINT64_MAX >> (lbads - 9)))
		return -ENODEV;
	c->disk.sectors = nsze << (lbads - 9);
	return 0;
}

/* ---- I/O (lock held) ---------------------------------------------------------------------- */
static uint8_t io_opcode(enum disk_op op)
{
	return op == DISK_READ ? IO_READ : op == DISK_WRITE ? IO_WRITE : IO_FLUSH;
}

static void start(struct nvme *c, uint16_t slot, struct disk_io *io)
{
	uint32_t per = c->lba_shift - 9;
	struct nvme_sqe e = { .cdw0 = io_opcode(io->op) | (uint32_t)slot << 16, .nsid = NSID };

	if (io->op != DISK_FLUSH) {
		uint64_t lba = io->sector >> per;

		e.prp1 = io->seg[0].pa;
		e.cdw10 = (uint32_t)lba;
		e.cdw11 = (uint32_t)(lba >> 32);
		e.cdw12 = (io->len >> c->lba_shift) - 1;   /* 0-based block count */
	}
	c->slot_io[slot] = io;
	sq_add(&c->io, &e);
	if (++c->in_flight > c->disk.in_flight_max)
		c->disk.in_flight_max = c->in_flight;
}

static void push(struct disk_io **head, struct disk_io **tail, struct disk_io *io)
{
	io->next = NULL;
	if (*tail)
		(*tail)->next = io;
	else
		*head = io;
	*tail = io;
}

static void start_waiting(struct nvme *c)
{
	bool started = false;

	while (c->nfree && c->wait_head && !c->broken) {
		struct disk_io *io = c->wait_head;

		c->wait_head = io->next;
		if (!c->wait_head)
			c->wait_tail = NULL;
		start(c, c->free[--c->nfree], io);
		started = true;
	}
	if (started)
		ring_sq(c, &c->io);
}

static void count_done(struct nvme *c, struct disk_io *io)
{
	if (io->status)
		c->disk.errors++;
	else if (io->op == DISK_READ)
		c->disk.reads++;
	else if (io->op == DISK_WRITE)
		c->disk.writes++;
	else
		c->disk.flushes++;
}

static void run_done(struct disk_io *io)
{
	while (io) {
		struct disk_io *next = io->next;

		io->done(io);
		io = next;
	}
}

/* The controller broke the protocol: disable it (no more DMA), fail all. */
static void ctrl_broken(struct nvme *c, const char *why, struct disk_io **h, struct disk_io **t)
{
	c->broken = true;
	wr32(c, REG_CC, rd32(c, REG_CC) & ~CC_EN);
	wait_ready_ms(c, false, BROKEN_WAIT_MS);
	log_err("disk: %s (" PCI_BDF_FMT ") %s; controller disabled", c->disk.name,
		PCI_BDF_ARGS(c->pci), why);
	for (uint16_t s = 0; s < IO_DEPTH_MAX; s++) {
		struct disk_io *io = c->slot_io[s];

		if (!io)
			continue;
		c->slot_io[s] = NULL;
		io->status = -EIO;
		count_done(c, io);
		push(h, t, io);
	}
	c->in_flight = 0;
	for (struct disk_io *io = c->wait_head, *next; io; io = next) {
		next = io->next;
		io->status = -EIO;
		push(h, t, io);
	}
	c->wait_head = c->wait_tail = NULL;
}

static void complete(struct nvme *c, const struct nvme_cqe *r, struct disk_io **h, struct disk_io **t)
{
	struct disk_io *io = c->slot_io[r->cid];

	c->slot_io[r->cid] = NULL;
	c->free[c->nfree++] = r->cid;
	c->in_flight--;
	io->status = (r->status >> 1) ? -EIO : 0;
	count_done(c, io);
	push(h, t, io);
}

static unsigned int reap(struct nvme *c, struct disk_io **h, struct disk_io **t)
{
	unsigned int n = 0;
	struct nvme_cqe r;

	while (n < c->io.depth && !c->broken && cq_next(&c->io, &r)) {
		if (r.sq_id != c->io.qid || r.cid >= c->io.depth || !c->slot_io[r.cid]) {
			ctrl_broken(c, "completed a command it was not given", h, t);
			break;
		}
		complete(c, &r, h, t);
		n++;
	}
	if (n && !c->broken)
		ring_cq(c, &c->io);
	return n;
}

static unsigned int service(struct nvme *c)
{
	struct disk_io *h = NULL, *t = NULL;
	uint64_t f = spin_lock(&c->lock);
	unsigned int n = c->broken ? 0 : reap(c, &h, &t);

	start_waiting(c);
	spin_unlock(&c->lock, f);
	run_done(h);
	return n;
}

static void nvme_irq(void *arg)
{
	struct nvme *c = arg;

	if (service(c))
		__atomic_fetch_add(&c->disk.irqs, 1, __ATOMIC_RELAXED);
}

static void nvme_poll(struct disk *d)
{
	service(d->priv);
}

static void nvme_submit(struct disk *d, struct disk_io *io)
{
	struct nvme *c = d->priv;
	uint64_t f;

	if (disk_io_check(d, io)) {         /* whole LBAs included */
		disk_finish_later(io, -EIO);
		return;
	}
	f = spin_lock(&c->lock);
	if (c->broken) {
		spin_unlock(&c->lock, f);
		disk_finish_later(io, -EIO);
		return;
	}
	push(&c->wait_head, &c->wait_tail, io);
	start_waiting(c);
	spin_unlock(&c->lock, f);
}

static const struct disk_ops nvme_ops = {
	.submit = nvme_submit, .poll = nvme_poll, .driver = "nvme",
};

/* ---- bring-up ------------------------------------------------------------------------------- */
static int map_regs(struct nvme *c)
{
	c->regs = pci_map_bar(c->pci, 0, 0, REG_DOORBELLS);
	if (!c->regs)
		return -ENODEV;
	c->cap = rd64(c, REG_CAP);
	c->stride = 4u << CAP_DSTRD(c->cap);
	if (!CAP_CSS_NVM(c->cap) || CAP_MPSMIN(c->cap) != 0)
		return -ENODEV;            /* no NVM command set, or no 4 KiB pages */
	/* Map again to cover the two queue pairs' doorbells. */
	c->regs = pci_map_bar(c->pci, 0, 0, REG_DOORBELLS + 4 * c->stride);
	return c->regs ? 0 : -ENODEV;
}

/* Disable, hand over the admin queues, enable (MPS 4 KiB, NVM set). */
static int enable(struct nvme *c)
{
	wr32(c, REG_CC, rd32(c, REG_CC) & ~CC_EN);
	if (!wait_ready(c, false))
		return -EIO;
	wr32(c, REG_AQA, (ADMIN_DEPTH - 1) | (ADMIN_DEPTH - 1) << 16);
	wr64(c, REG_ASQ, c->admin.sq_pa);
	wr64(c, REG_ACQ, c->admin.cq_pa);
	wr32(c, REG_CC, CC_EN | CC_IOSQES_64 | CC_IOCQES_16);
	return wait_ready(c, true) ? 0 : -EIO;
}

static int setup_irq(struct nvme *c)
{
	uint8_t vectors[1];

	c->vector = disk_irq_vector(nvme_irq, c);
	vectors[0] = c->vector;
	/* Entry 0 serves the admin queue (polled) and the I/O queue. */
	c->irq = c->vector && !pci_msix_enable(c->pci, vectors, 1);
	return 0;
}

static int nvme_start(struct nvme *c)
{
	uint16_t depth;
	int err;

	pci_enable(c->pci);
	err = map_regs(c);
	depth = (uint16_t)MIN(CAP_MQES(c->cap) + 1u, IO_DEPTH_MAX);
	if (!err && depth < 2)
		err = -ENODEV;
	if (!err && (err = qpair_alloc(&c->admin, 0, ADMIN_DEPTH)) == 0)
		err = qpair_alloc(&c->io, 1, depth);
	if (!err)
		err = (c->ident_pa = frame_alloc()) ? 0 : -ENOMEM;
	if (!err)
		err = enable(c);
	if (!err)
		err = setup_irq(c);
	if (!err && (err = identify(c, CNS_CONTROLLER, 0)) == 0)
		read_model(c);
	if (!err && (err = identify(c, CNS_NAMESPACE, NSID)) == 0)
		err = read_namespace(c);
	if (!err)
		err = create_io_queues(c);
	return err;
}

/* Undo a failed start: disable first so the controller lets go. */
static void nvme_stop(struct nvme *c)
{
	if (c->regs) {
		wr32(c, REG_CC, rd32(c, REG_CC) & ~CC_EN);
		wait_ready(c, false);
	}
	qpair_free(&c->admin);
	qpair_free(&c->io);
	if (c->ident_pa)
		frame_free(c->ident_pa);
	c->ident_pa = 0;
}

static void nvme_add(struct pci_dev *p)
{
	struct nvme *c = &ctrls[nctrl];
	int err;

	*c = (struct nvme){ .pci = p };
	spin_init(&c->lock, "nvme", LOCK_RANK_DISK);
	snprintf(c->disk.name, sizeof(c->disk.name), "nvme%un1", nctrl);
	c->disk.ops = &nvme_ops;
	c->disk.priv = c;
	err = nvme_start(c);
	if (err) {
		log_warn("disk: " PCI_BDF_FMT " nvme not started (%d)", PCI_BDF_ARGS(p), err);
		nvme_stop(c);
		return;
	}
	for (uint16_t s = 0; s < c->io.depth - 1; s++)
		c->free[c->nfree++] = (uint16_t)(c->io.depth - 2 - s);
	frame_free(c->ident_pa);
	c->ident_pa = 0;
	log_info("pci: " PCI_BDF_FMT " %04x:%04x nvme %s queue %u (%u in flight) %u-byte LBAs %s",
		 PCI_BDF_ARGS(p), p->vendor, p->device, c->disk.name, c->io.depth, c->io.depth - 1,
		 1u << c->lba_shift, c->irq ? "msi-x" : "polled");
	nctrl++;
	if (disk_register(&c->disk) < 0) {
		c->broken = true;                /* nobody can reach it */
		nvme_stop(c);
	}
}

void nvme_probe(void)
{
	struct pci_dev *p;

	for (unsigned int n = 0; (p = pci_find(0xffff, 0xffff, n)) && nctrl < NVME_MAX; n++)
		if (p->class_code == NVME_CLASS && p->subclass == NVME_SUBCLASS &&
		    p->prog_if == NVME_PROG_IF)
			nvme_add(p);
}
