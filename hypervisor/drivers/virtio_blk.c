/* virtio-blk disks (virtio 1.x over PCI, drivers/virtio_pci.c does the
 * transport): every modern block device becomes a disk, "vda", "vdb"...
 *
 * One request queue; one disk_io is one virtio request, a chain of the
 * 16-byte request header, one descriptor per data segment, and the status
 * byte.  With indirect descriptors (VIRTIO_F_INDIRECT_DESC, which QEMU
 * offers) slot k is descriptor k, naming slot k's own table of up to
 * DISK_IO_SEGS_MAX + 2 descriptors, so a 56 KiB guest request is one
 * request to the device and still every ring descriptor is a slot (64
 * in flight).  Without them the ring is cut into slots of three (header,
 * data or the flush's status, status) and an io carries one segment.
 * Headers and status bytes of every slot live in one frame of our own,
 * the tables in TBL_FRAMES more.  As many disk_io run at once as there
 * are slots; the rest wait in order.
 *
 * Completions come by MSI-X (any disk vector, on the boot CPU) and, as a
 * safety net, by the registry's periodic poll and the synchronous waits.
 * Every entry point takes the disk's lock (LOCK_RANK_DISK); finished io
 * are collected under it and their done() called after it is dropped.
 *
 * Nothing the device writes is trusted: a used id must be a slot's first
 * descriptor and name a slot in flight; a status byte the device did not
 * set to OK is an error; an impossible used index stops the device (reset:
 * no more DMA), and everything in flight or waiting fails with -EIO. */
#include <hv/disk.h>
#include <hv/disk_drivers.h>
#include <hv/errno.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/lock.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/pci.h>
#include <hv/virtio.h>

#define VBLK_MAX        4u
#define VBLK_QUEUE      0
#define VBLK_SLOTS_MAX  64u
#define DESC_PER_SLOT   3u         /* without indirect tables: header, data, status */
#define TBL_DESCS       (DISK_IO_SEGS_MAX + 2u)   /* header, segments, status */
#define TBL_BYTES       (TBL_DESCS * (uint32_t)sizeof(struct virtq_desc))
#define TBL_PER_FRAME   (PAGE_SIZE / TBL_BYTES)
#define TBL_FRAMES      ((VBLK_SLOTS_MAX + TBL_PER_FRAME - 1) / TBL_PER_FRAME)
#define STATUS_OFF      2048u      /* status bytes after the headers in the meta frame */

#define VIRTIO_BLK_F_SIZE_MAX (1ULL << 1)
#define VIRTIO_BLK_F_SEG_MAX  (1ULL << 2)
#define VIRTIO_BLK_F_RO     (1ULL << 5)
#define VIRTIO_BLK_F_BLK_SIZE (1ULL << 6)
#define CFG_CAPACITY        0
#define CFG_SIZE_MAX        8
#define CFG_SEG_MAX         12
#define CFG_BLK_SIZE        20
#define VIRTIO_BLK_F_FLUSH  (1ULL << 9)
#define VIRTIO_BLK_T_IN     0u
#define VIRTIO_BLK_T_OUT    1u
#define VIRTIO_BLK_T_FLUSH  4u
#define VIRTIO_BLK_S_OK     0u
#define STATUS_UNSET        0xffu  /* what we leave there: a device that never writes fails */

struct vblk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

_Static_assert(sizeof(struct vblk_hdr) == 16, "virtio_blk_req header layout");
_Static_assert(VBLK_SLOTS_MAX * sizeof(struct vblk_hdr) <= STATUS_OFF, "headers fit");
_Static_assert(STATUS_OFF + VBLK_SLOTS_MAX <= PAGE_SIZE, "status bytes fit");
_Static_assert(TBL_DESCS <= VIRTQ_MAX_SIZE, "a table is no longer than a queue may be");

struct vblk {
	struct disk disk;
	struct spinlock lock;
	struct pci_dev *pci;
	struct virtio_dev vd;
	struct virtq q;
	bool irq, broken;
	bool indirect;                        /* slot k = descriptor k + its table */
	uint8_t vector;
	uint16_t slots, per_slot;             /* per_slot: ring descriptors a slot owns */
	uint32_t seg_max, size_max;           /* the device's config, if offered */
	uint64_t meta_pa;                     /* headers and status bytes */
	uint64_t tbl_pa[TBL_FRAMES];          /* the slots' indirect tables */
	struct disk_io *slot_io[VBLK_SLOTS_MAX];
	uint16_t free[VBLK_SLOTS_MAX];        /* stack of idle slots */
	uint16_t nfree;
	uint32_t in_flight;
	struct disk_io *wait_head, *wait_tail;
};

static struct vblk vblks[VBLK_MAX];
static uint32_t nvblk;

static struct vblk_hdr *slot_hdr(struct vblk *v, uint16_t slot)
{
	return (struct vblk_hdr *)phys_to_virt(v->meta_pa) + slot;
}

static volatile uint8_t *slot_status(struct vblk *v, uint16_t slot)
{
	return (volatile uint8_t *)phys_to_virt(v->meta_pa) + STATUS_OFF + slot;
}

/* ---- completion lists (lock held) -------------------------------------------- */
static void push(struct disk_io **head, struct disk_io **tail, struct disk_io *io)
{
	io->next = NULL;
	if (*tail)
		(*tail)->next = io;
	else
		*head = io;
	*tail = io;
}

static void count_done(struct vblk *v, struct disk_io *io)
{
	if (io->status)
		v->disk.errors++;
	else if (io->op == DISK_READ)
		v->disk.reads++;
	else if (io->op == DISK_WRITE)
		v->disk.writes++;
	else
		v->disk.flushes++;
}

/* No lock held: the submitter's done() may take its own locks. */
static void run_done(struct disk_io *io)
{
	while (io) {
		struct disk_io *next = io->next;

		io->done(io);
		io = next;
	}
}

/* ---- starting requests (lock held) ------------------------------------------- */
static uint32_t req_type(enum disk_op op)
{
	return op == DISK_READ ? VIRTIO_BLK_T_IN : op == DISK_WRITE ? VIRTIO_BLK_T_OUT
								    : VIRTIO_BLK_T_FLUSH;
}

/* The chain of n buffers for slot: through its table, or in the ring. */
static void post(struct vblk *v, uint16_t slot, const struct virtq_buf *b, unsigned int n)
{
	uint64_t pa;

	if (!v->indirect) {
		virtq_add_chain(&v->q, (uint16_t)(slot * DESC_PER_SLOT), b, n);
		return;
	}
	pa = v->tbl_pa[slot / TBL_PER_FRAME] + (slot % TBL_PER_FRAME) * TBL_BYTES;
	virtq_add_indirect(&v->q, slot, phys_to_virt(pa), pa, b, n);
}

/* io passed disk_io_check: 1 .. max_segs segments, so n <= TBL_DESCS
 * (and 3 without tables, where max_segs is 1). */
static void start(struct vblk *v, uint16_t slot, struct disk_io *io)
{
	struct vblk_hdr *h = slot_hdr(v, slot);
	uint64_t hdr_pa = v->meta_pa + slot * sizeof(*h);
	uint64_t st_pa = v->meta_pa + STATUS_OFF + slot;
	struct virtq_buf b[TBL_DESCS] = { { hdr_pa, sizeof(*h), false } };
	unsigned int n = 1;

	*h = (struct vblk_hdr){ .type = req_type(io->op),
				.sector = io->op == DISK_FLUSH ? 0 : io->sector };
	*slot_status(v, slot) = STATUS_UNSET;
	for (uint32_t i = 0; io->op != DISK_FLUSH && i < io->nseg; i++)
		b[n++] = (struct virtq_buf){ io->seg[i].pa, io->seg[i].len, io->op == DISK_READ };
	b[n++] = (struct virtq_buf){ st_pa, 1, true };
	v->slot_io[slot] = io;
	post(v, slot, b, n);
	if (++v->in_flight > v->disk.in_flight_max)
		v->disk.in_flight_max = v->in_flight;
}

/* Start waiting io in order while slots are free; one doorbell. */
static void start_waiting(struct vblk *v)
{
	bool started = false;

	while (v->nfree && v->wait_head && !v->broken) {
		struct disk_io *io = v->wait_head;

		v->wait_head = io->next;
		if (!v->wait_head)
			v->wait_tail = NULL;
		start(v, v->free[--v->nfree], io);
		started = true;
	}
	if (started) {
		virtq_publish(&v->q);
		virtq_kick(&v->q);
	}
}

/* ---- failure (lock held) ----------------------------------------------------- */
/* The device broke the ring protocol: reset it (no more DMA), fail all. */
static void device_broken(struct vblk *v, const char *why, struct disk_io **h, struct disk_io **t)
{
	v->broken = true;
	virtio_give_up(&v->vd);
	log_err("disk: %s (" PCI_BDF_FMT ") %s; device reset and abandoned", v->disk.name,
		PCI_BDF_ARGS(v->pci), why);
	for (uint16_t s = 0; s < v->slots; s++) {
		struct disk_io *io = v->slot_io[s];

		if (!io)
			continue;
		v->slot_io[s] = NULL;
		io->status = -EIO;
		count_done(v, io);
		push(h, t, io);
	}
	v->in_flight = 0;
	for (struct disk_io *io = v->wait_head, *next; io; io = next) {
		next = io->next;
		io->status = -EIO;
		push(h, t, io);
	}
	v->wait_head = v->wait_tail = NULL;
}

/* ---- completions (lock held) ------------------------------------------------- */
static void complete(struct vblk *v, uint16_t slot, struct disk_io **h, struct disk_io **t)
{
	struct disk_io *io = v->slot_io[slot];

	v->slot_io[slot] = NULL;
	v->free[v->nfree++] = slot;
	v->in_flight--;
	io->status = *slot_status(v, slot) == VIRTIO_BLK_S_OK ? 0 : -EIO;
	count_done(v, io);
	push(h, t, io);
}

/* Reap the used ring; returns completions found. */
static unsigned int reap(struct vblk *v, struct disk_io **h, struct disk_io **t)
{
	unsigned int n = 0;
	uint16_t id;
	uint32_t len;

	for (unsigned int i = 0; i < v->q.size && !v->broken; i++) {
		int r = virtq_next_used(&v->q, &id, &len);

		if (r == 0)
			break;
		if (r == -EIO)
			device_broken(v, "wrote an impossible used index", h, t);
		else if (r < 0 || id % v->per_slot || id / v->per_slot >= v->slots ||
			 !v->slot_io[id / v->per_slot])
			device_broken(v, "completed a request it was not given", h, t);
		else
			complete(v, id / v->per_slot, h, t), n++;
	}
	return n;
}

/* Reap, refill, then done() with the lock dropped. */
static unsigned int service(struct vblk *v)
{
	struct disk_io *h = NULL, *t = NULL;
	uint64_t f = spin_lock(&v->lock);
	unsigned int n = v->broken ? 0 : reap(v, &h, &t);

	start_waiting(v);
	spin_unlock(&v->lock, f);
	run_done(h);
	return n;
}

static void vblk_irq(void *arg)
{
	struct vblk *v = arg;

	if (service(v))
		__atomic_fetch_add(&v->disk.irqs, 1, __ATOMIC_RELAXED);
}

static void vblk_poll(struct disk *d)
{
	service(d->priv);
}

/* ---- submit ------------------------------------------------------------------ */
static void vblk_submit(struct disk *d, struct disk_io *io)
{
	struct vblk *v = d->priv;
	uint64_t f;

	if (disk_io_check(d, io)) {
		disk_finish_later(io, -EIO);
		return;
	}
	if (io->op == DISK_FLUSH && !d->volatile_cache) {
		disk_finish_later(io, 0);        /* nothing cached: already stable */
		return;
	}
	f = spin_lock(&v->lock);
	if (v->broken) {
		spin_unlock(&v->lock, f);
		disk_finish_later(io, -EIO);
		return;
	}
	push(&v->wait_head, &v->wait_tail, io);
	start_waiting(v);
	spin_unlock(&v->lock, f);
}

static const struct disk_ops vblk_ops = {
	.submit = vblk_submit, .poll = vblk_poll, .driver = "virtio-blk",
};

/* ---- bring-up ---------------------------------------------------------------- */
static bool is_vblk(const struct pci_dev *p)
{
	if (p->vendor != VIRTIO_PCI_VENDOR)
		return false;
	return p->device == VIRTIO_PCI_MODERN_BASE + VIRTIO_ID_BLOCK ||
	       (p->device == VIRTIO_PCI_LEGACY_BLOCK && p->subsys_id == VIRTIO_ID_BLOCK);
}

static int alloc_tables(struct vblk *v)
{
	for (uint32_t i = 0; v->indirect && i < TBL_FRAMES; i++)
		if (!(v->tbl_pa[i] = frame_alloc()))
			return -ENOMEM;
	return 0;
}

/* Segments per io: one without tables; else a table's worth within the
 * device's seg_max (data segments, as Linux reads it).  A size_max under
 * a page (no device we know offers one) gets one segment, as before the
 * tables: a segment is up to a page and we cannot cut it. */
static uint32_t seg_limit(const struct vblk *v)
{
	uint32_t n = DISK_IO_SEGS_MAX;

	if (!v->indirect ||
	    ((v->vd.features & VIRTIO_BLK_F_SIZE_MAX) && v->size_max < PAGE_SIZE))
		return 1;
	if ((v->vd.features & VIRTIO_BLK_F_SEG_MAX) && v->seg_max < n)
		n = v->seg_max ? v->seg_max : 1;
	return n;
}

static int setup_queue(struct vblk *v)
{
	uint8_t vectors[1];
	int err;

	v->vector = disk_irq_vector(vblk_irq, v);
	vectors[0] = v->vector;
	v->irq = v->vector && !pci_msix_enable(v->pci, vectors, 1);
	err = virtio_queue_setup(&v->vd, &v->q, VBLK_QUEUE, VIRTQ_MAX_SIZE,
				 v->irq ? 0 : VIRTIO_NO_VECTOR);
	if (err)
		return err;
	v->indirect = (v->vd.features & VIRTIO_F_INDIRECT_DESC) && v->q.size >= TBL_DESCS;
	v->per_slot = v->indirect ? 1 : DESC_PER_SLOT;
	v->slots = (uint16_t)MIN(v->q.size / v->per_slot, VBLK_SLOTS_MAX);
	v->meta_pa = frame_alloc();
	if (!v->slots || !v->meta_pa || alloc_tables(v))
		return -ENOMEM;
	v->disk.max_segs = seg_limit(v);
	for (uint16_t s = 0; s < v->slots; s++)
		v->free[v->nfree++] = (uint16_t)(v->slots - 1 - s);
	return 0;
}

/* Capacity (always in 512-byte sectors) and the logical block size:
 * 512, or 4096 when the device says so (it then refuses partial blocks). */
static int read_config(struct vblk *v)
{
	uint64_t cap;
	uint32_t bs = DISK_SECTOR;

	if (virtio_read_config(&v->vd, CFG_CAPACITY, &cap, sizeof(cap)))
		return -ENODEV;
	if ((v->vd.features & VIRTIO_BLK_F_BLK_SIZE) &&
	    virtio_read_config(&v->vd, CFG_BLK_SIZE, &bs, sizeof(bs)))
		return -ENODEV;
	if ((v->vd.features & VIRTIO_BLK_F_SEG_MAX) &&
	    virtio_read_config(&v->vd, CFG_SEG_MAX, &v->seg_max, sizeof(v->seg_max)))
		return -ENODEV;
	if ((v->vd.features & VIRTIO_BLK_F_SIZE_MAX) &&
	    virtio_read_config(&v->vd, CFG_SIZE_MAX, &v->size_max, sizeof(v->size_max)))
		return -ENODEV;
	if ((bs != DISK_SECTOR && bs != PAGE_SIZE) || cap % (bs / DISK_SECTOR)) {
		log_warn("disk: virtio-blk " PCI_BDF_FMT " block size %u, capacity %lu: not supported",
			 PCI_BDF_ARGS(v->pci), bs, cap);
		return -ENODEV;
	}
	v->disk.sectors = cap;
	v->disk.block_size = bs;
	return 0;
}

static int vblk_start(struct vblk *v)
{
	int err = virtio_pci_init(&v->vd, v->pci);

	if (!err)
		err = virtio_negotiate(&v->vd, VIRTIO_F_VERSION_1,
				       VIRTIO_BLK_F_RO | VIRTIO_BLK_F_FLUSH | VIRTIO_BLK_F_BLK_SIZE |
				       VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_SIZE_MAX |
				       VIRTIO_F_INDIRECT_DESC);
	if (!err)
		err = read_config(v);
	if (!err)
		err = setup_queue(v);
	if (err)
		return err;
	v->disk.readonly = v->vd.features & VIRTIO_BLK_F_RO;
	v->disk.volatile_cache = v->vd.features & VIRTIO_BLK_F_FLUSH;
	virtio_driver_ok(&v->vd);
	return 0;
}

/* Undo a failed start: reset first so the device lets go of everything. */
static void vblk_stop(struct vblk *v)
{
	virtio_give_up(&v->vd);
	virtio_queue_free(&v->q);
	if (v->meta_pa)
		frame_free(v->meta_pa);
	v->meta_pa = 0;
	for (uint32_t i = 0; i < TBL_FRAMES; i++)
		if (v->tbl_pa[i])
			frame_free(v->tbl_pa[i]);
	memset(v->tbl_pa, 0, sizeof(v->tbl_pa));
}

static void vblk_add(struct pci_dev *p)
{
	struct vblk *v = &vblks[nvblk];
	int err;

	*v = (struct vblk){ .pci = p };
	spin_init(&v->lock, "virtio-blk", LOCK_RANK_DISK);
	snprintf(v->disk.name, sizeof(v->disk.name), "vd%c", 'a' + nvblk);
	strlcpy(v->disk.model, "virtio-blk", sizeof(v->disk.model));
	v->disk.ops = &vblk_ops;
	v->disk.priv = v;
	err = vblk_start(v);
	if (err) {
		log_warn("disk: " PCI_BDF_FMT " virtio-blk not started (%d)", PCI_BDF_ARGS(p), err);
		vblk_stop(v);
		return;
	}
	log_info("pci: " PCI_BDF_FMT " %04x:%04x virtio-blk %s queue %u (%u in flight) %s%s",
		 PCI_BDF_ARGS(p), p->vendor, p->device, v->disk.name, v->q.size, v->slots,
		 v->irq ? "msi-x" : "polled", v->indirect ? ", indirect descriptors" : "");
	nvblk++;
	if (disk_register(&v->disk) < 0) {
		v->broken = true;                /* nobody can reach it */
		vblk_stop(v);
	}
}

void virtio_blk_probe(void)
{
	struct pci_dev *p;

	for (unsigned int n = 0; (p = pci_find(0xffff, 0xffff, n)) && nvblk < VBLK_MAX; n++)
		if (is_vblk(p))
			vblk_add(p);
}
