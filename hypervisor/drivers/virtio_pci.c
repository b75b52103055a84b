/* The virtio 1.x PCI transport ("modern" devices) and split virtqueues.
 *
 * The device describes its register blocks with vendor capabilities: the
 * common config (features, status, queue setup), the notify area (one
 * 16-bit doorbell per queue at queue_notify_off * multiplier), the ISR
 * byte and the device-specific config.  We map the first usable one of
 * each, only as many bytes as we use.  The ISR byte is not mapped: with
 * MSI-X every queue has its own message and the ISR is never read.
 *
 * Memory ordering.  The rings live in ordinary write-back RAM that the
 * device reads and writes coherently (QEMU: another thread; hardware:
 * snooped DMA).  x86 is TSO: stores become visible in program order and
 * loads are not reordered with other loads, so
 *   - descriptors and avail entries before avail->idx: compiler barrier;
 *   - used->idx before the used entries it covers: compiler barrier;
 *   - the doorbell (an uncached MMIO store) after avail->idx: stores stay
 *     in order, compiler barrier;
 *   - avail->idx store, THEN the used->flags load that decides whether to
 *     ring the doorbell: x86 may satisfy that load before the store is
 *     visible, and the device could then set NO_NOTIFY, miss our new
 *     buffers and sleep forever.  This is the one place that needs mfence.
 */
#include <hv/errno.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/pci.h>
#include <hv/time.h>
#include <hv/virtio.h>
#include <hv/x86.h>

/* struct virtio_pci_common_cfg, by offset */
#define CC_DEVICE_FEATURE_SELECT 0x00
#define CC_DEVICE_FEATURE        0x04
#define CC_DRIVER_FEATURE_SELECT 0x08
#define CC_DRIVER_FEATURE        0x0c
#define CC_MSIX_CONFIG           0x10
#define CC_STATUS                0x14
#define CC_CONFIG_GENERATION     0x15
#define CC_QUEUE_SELECT          0x16
#define CC_QUEUE_SIZE            0x18
#define CC_QUEUE_MSIX_VECTOR     0x1a
#define CC_QUEUE_ENABLE          0x1c
#define CC_QUEUE_NOTIFY_OFF      0x1e
#define CC_QUEUE_DESC            0x20
#define CC_QUEUE_DRIVER          0x28
#define CC_QUEUE_DEVICE          0x30
#define CC_SIZE                  0x38

/* struct virtio_pci_cap (+ notify_off_multiplier for NOTIFY_CFG) */
#define CAP_LEN       2
#define CAP_CFG_TYPE  3
#define CAP_BAR       4
#define CAP_OFFSET    8
#define CAP_LENGTH    12
#define CAP_NOTIFY_MULT 16
#define CAP_MIN_LEN   16
#define CAP_WALK_MAX  48

#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_DEVICE_CFG 4

#define RESET_TIMEOUT_NS 100000000ULL   /* 100 ms */

static inline void virtio_wmb(void) { __asm__ volatile("" ::: "memory"); }
static inline void virtio_rmb(void) { __asm__ volatile("" ::: "memory"); }
static inline void virtio_mb(void) { __asm__ volatile("mfence" ::: "memory"); }

/* ---- common config registers ---------------------------------------------- */
static uint8_t rd8(const struct virtio_dev *vd, uint32_t off) { return *(volatile uint8_t *)(vd->common + off); }
static uint16_t rd16(const struct virtio_dev *vd, uint32_t off) { return *(volatile uint16_t *)(vd->common + off); }
static uint32_t rd32(const struct virtio_dev *vd, uint32_t off) { return *(volatile uint32_t *)(vd->common + off); }
static void wr8(struct virtio_dev *vd, uint32_t off, uint8_t v) { *(volatile uint8_t *)(vd->common + off) = v; }
static void wr16(struct virtio_dev *vd, uint32_t off, uint16_t v) { *(volatile uint16_t *)(vd->common + off) = v; }
static void wr32(struct virtio_dev *vd, uint32_t off, uint32_t v) { *(volatile uint32_t *)(vd->common + off) = v; }

/* 64-bit fields as two 32-bit writes, low half first: the spec allows it
 * and not every device takes 64-bit MMIO writes. */
static void wr64(struct virtio_dev *vd, uint32_t off, uint64_t v)
{
	wr32(vd, off, (uint32_t)v);
	wr32(vd, off + 4, (uint32_t)(v >> 32));
}

uint8_t virtio_status(const struct virtio_dev *vd)
{
	return rd8(vd, CC_STATUS);
}

static void set_status(struct virtio_dev *vd, uint8_t bits)
{
	wr8(vd, CC_STATUS, rd8(vd, CC_STATUS) | bits);
}

/* Writing 0 resets; the reset is complete when status reads back 0. */
static int reset(struct virtio_dev *vd)
{
	uint64_t deadline = time_ns() + RESET_TIMEOUT_NS;

	wr8(vd, CC_STATUS, 0);
	while (rd8(vd, CC_STATUS)) {
		if (time_ns() > deadline)
			return -EIO;
		pause();
	}
	return 0;
}

/* ---- capabilities ------------------------------------------------------------ */
/* Map `want` bytes of the region a capability describes; NULL when the
 * region is shorter or does not lie inside its BAR. */
static void *map_cap(struct pci_dev *pd, uint8_t cap, uint32_t want)
{
	if (!want || pci_read32(pd, cap + CAP_LENGTH) < want)
		return NULL;
	return pci_map_bar(pd, pci_read8(pd, cap + CAP_BAR), pci_read32(pd, cap + CAP_OFFSET), want);
}

static void use_cap(struct virtio_dev *vd, struct pci_dev *pd, uint8_t cap)
{
	uint8_t type = pci_read8(pd, cap + CAP_CFG_TYPE), cap_len = pci_read8(pd, cap + CAP_LEN);
	uint32_t len = (uint32_t)MIN(pci_read32(pd, cap + CAP_LENGTH), PAGE_SIZE);

	if (cap_len < CAP_MIN_LEN)
		return;
	if (type == VIRTIO_PCI_CAP_COMMON_CFG && !vd->common) {
		vd->common = map_cap(pd, cap, CC_SIZE);
	} else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG && !vd->notify && cap_len >= CAP_MIN_LEN + 4) {
		vd->notify = map_cap(pd, cap, len);
		vd->notify_len = vd->notify ? len : 0;
		vd->notify_mult = pci_read32(pd, cap + CAP_NOTIFY_MULT);
	} else if (type == VIRTIO_PCI_CAP_DEVICE_CFG && !vd->device_cfg) {
		vd->device_cfg = map_cap(pd, cap, len);
		vd->device_cfg_len = vd->device_cfg ? len : 0;
	}
}

static void parse_caps(struct virtio_dev *vd, struct pci_dev *pd)
{
	uint8_t cap = pci_find_cap(pd, PCI_CAP_VENDOR, 0);

	for (int i = 0; cap && i < CAP_WALK_MAX; i++) {
		use_cap(vd, pd, cap);
		cap = pci_find_cap(pd, PCI_CAP_VENDOR, cap);
	}
}

int virtio_pci_init(struct virtio_dev *vd, struct pci_dev *pd)
{
	*vd = (struct virtio_dev){ .pci = pd };
	pci_enable(pd);
	parse_caps(vd, pd);
	if (!vd->common || !vd->notify) {
		log_warn("virtio: " PCI_BDF_FMT " has no usable virtio 1.x capabilities",
			 PCI_BDF_ARGS(pd));
		return -ENODEV;
	}
	if (reset(vd)) {
		log_warn("virtio: " PCI_BDF_FMT " did not come out of reset", PCI_BDF_ARGS(pd));
		return -ENODEV;
	}
	set_status(vd, VIRTIO_STATUS_ACKNOWLEDGE);
	set_status(vd, VIRTIO_STATUS_DRIVER);
	wr16(vd, CC_MSIX_CONFIG, VIRTIO_NO_VECTOR);   /* no config-change interrupts */
	return 0;
}

/* ---- features ---------------------------------------------------------------- */
static uint64_t device_features(struct virtio_dev *vd)
{
	uint64_t f;

	wr32(vd, CC_DEVICE_FEATURE_SELECT, 0);
	f = rd32(vd, CC_DEVICE_FEATURE);
	wr32(vd, CC_DEVICE_FEATURE_SELECT, 1);
	return f | (uint64_t)rd32(vd, CC_DEVICE_FEATURE) << 32;
}

int virtio_negotiate(struct virtio_dev *vd, uint64_t required, uint64_t optional)
{
	uint64_t offered = device_features(vd), want = offered & (required | optional);

	if ((offered & required) != required) {
		log_warn("virtio: " PCI_BDF_FMT " lacks required features 0x%lx (offers 0x%lx)",
			 PCI_BDF_ARGS(vd->pci), required & ~offered, offered);
		return -ENODEV;
	}
	wr32(vd, CC_DRIVER_FEATURE_SELECT, 0);
	wr32(vd, CC_DRIVER_FEATURE, (uint32_t)want);
	wr32(vd, CC_DRIVER_FEATURE_SELECT, 1);
	wr32(vd, CC_DRIVER_FEATURE, (uint32_t)(want >> 32));
	set_status(vd, VIRTIO_STATUS_FEATURES_OK);
	if (!(virtio_status(vd) & VIRTIO_STATUS_FEATURES_OK)) {
		log_warn("virtio: " PCI_BDF_FMT " refused features 0x%lx", PCI_BDF_ARGS(vd->pci), want);
		return -ENODEV;
	}
	vd->features = want;
	log_debug("virtio: " PCI_BDF_FMT " offers 0x%lx, accepted 0x%lx", PCI_BDF_ARGS(vd->pci),
		  offered, want);
	return 0;
}

/* Fields are read with their natural width (the spec asks for it);
 * anything else byte by byte. */
static void copy_config(const volatile uint8_t *src, uint8_t *dst, uint32_t off, uint32_t len)
{
	if (len == 4 && !(off & 3)) {
		uint32_t v = *(const volatile uint32_t *)(src + off);

		memcpy(dst, &v, 4);
	} else if (len == 2 && !(off & 1)) {
		uint16_t v = *(const volatile uint16_t *)(src + off);

		memcpy(dst, &v, 2);
	} else {
		for (uint32_t i = 0; i < len; i++)
			dst[i] = src[off + i];
	}
}

int virtio_read_config(struct virtio_dev *vd, uint32_t off, void *buf, uint32_t len)
{
	if (!vd->device_cfg || off > vd->device_cfg_len || len > vd->device_cfg_len - off)
		return -EINVAL;
	/* Retry while the device changes the config under us. */
	for (int tries = 0; tries < 16; tries++) {
		uint8_t gen = rd8(vd, CC_CONFIG_GENERATION);

		copy_config(vd->device_cfg, buf, off, len);
		if (rd8(vd, CC_CONFIG_GENERATION) == gen)
			return 0;
	}
	return -EIO;
}

/* ---- queue setup --------------------------------------------------------------- */
static uint16_t pow2_floor(uint16_t n)
{
	uint16_t p = 1;

	while ((uint32_t)p * 2 <= n)
		p *= 2;
	return p;
}

void virtio_queue_free(struct virtq *q)
{
	if (q->desc_pa)
		frame_free(q->desc_pa);
	if (q->avail_pa)
		frame_free(q->avail_pa);
	if (q->used_pa)
		frame_free(q->used_pa);
	*q = (struct virtq){ 0 };
}

/* One zeroed frame each for the descriptor table, avail and used rings. */
static int queue_alloc(struct virtq *q)
{
	q->desc_pa = frame_alloc();
	q->avail_pa = frame_alloc();
	q->used_pa = frame_alloc();
	if (!q->desc_pa || !q->avail_pa || !q->used_pa) {
		virtio_queue_free(q);
		return -ENOMEM;
	}
	q->desc = phys_to_virt(q->desc_pa);
	q->avail = phys_to_virt(q->avail_pa);
	q->used = phys_to_virt(q->used_pa);
	return 0;
}

/* Vector and doorbell for the selected queue; the device may refuse the
 * vector (it reads back NO_VECTOR) and must name a doorbell we mapped. */
static int queue_wire(struct virtio_dev *vd, struct virtq *q, uint16_t msix_entry)
{
	uint64_t doorbell;

	wr16(vd, CC_QUEUE_MSIX_VECTOR, msix_entry);
	if (rd16(vd, CC_QUEUE_MSIX_VECTOR) != msix_entry)
		return -ENODEV;
	doorbell = (uint64_t)rd16(vd, CC_QUEUE_NOTIFY_OFF) * vd->notify_mult;
	if (doorbell + 2 > vd->notify_len)
		return -ENODEV;
	q->notify = (volatile uint16_t *)(vd->notify + doorbell);
	return 0;
}

int virtio_queue_setup(struct virtio_dev *vd, struct virtq *q, uint16_t index,
		       uint16_t max_size, uint16_t msix_entry)
{
	uint16_t dev_max;
	int err;

	*q = (struct virtq){ .index = index };
	wr16(vd, CC_QUEUE_SELECT, index);
	dev_max = rd16(vd, CC_QUEUE_SIZE);
	if (!dev_max || rd16(vd, CC_QUEUE_ENABLE))
		return -ENODEV;
	q->size = pow2_floor(MIN(MIN(dev_max, max_size), VIRTQ_MAX_SIZE));
	err = queue_alloc(q);
	if (err)
		return err;
	wr16(vd, CC_QUEUE_SIZE, q->size);
	wr64(vd, CC_QUEUE_DESC, q->desc_pa);
	wr64(vd, CC_QUEUE_DRIVER, q->avail_pa);
	wr64(vd, CC_QUEUE_DEVICE, q->used_pa);
	err = queue_wire(vd, q, msix_entry);
	if (err) {
		virtio_queue_free(q);
		return err;
	}
	wr16(vd, CC_QUEUE_ENABLE, 1);
	return 0;
}

void virtio_driver_ok(struct virtio_dev *vd)
{
	set_status(vd, VIRTIO_STATUS_DRIVER_OK);
}

void virtio_give_up(struct virtio_dev *vd)
{
	if (!vd->common)
		return;
	reset(vd);
	wr8(vd, CC_STATUS, VIRTIO_STATUS_FAILED);
}

/* ---- split virtqueue operations ------------------------------------------------- */
void virtq_add(struct virtq *q, uint16_t id, uint64_t pa, uint32_t len, bool device_writes)
{
	struct virtq_desc *d = &q->desc[id];

	HV_ASSERT(id < q->size);
	d->addr = pa;
	d->len = len;
	d->flags = device_writes ? VIRTQ_DESC_F_WRITE : 0;
	d->next = 0;
	q->avail->ring[q->avail_idx & (q->size - 1)] = id;
	q->avail_idx++;
}

/* Descriptors d[0 .. n) of one chain; `first` is d[0]'s index in its table. */
static void fill_chain(struct virtq_desc *d, uint16_t first, const struct virtq_buf *b,
		       unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		d[i].addr = b[i].pa;
		d[i].len = b[i].len;
		d[i].flags = (b[i].device_writes ? VIRTQ_DESC_F_WRITE : 0) |
			     (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
		d[i].next = i + 1 < n ? (uint16_t)(first + i + 1) : 0;
	}
}

static void avail_push(struct virtq *q, uint16_t id)
{
	q->avail->ring[q->avail_idx & (q->size - 1)] = id;
	q->avail_idx++;
}

void virtq_add_chain(struct virtq *q, uint16_t first, const struct virtq_buf *b, unsigned int n)
{
	HV_ASSERT(n && (uint32_t)first + n <= q->size);
	fill_chain(&q->desc[first], first, b, n);
	avail_push(q, first);
}

/* The spec (2.7.5.3.1): no chain longer than the queue, no INDIRECT
 * inside a table; the device ignores WRITE on the table's descriptor. */
void virtq_add_indirect(struct virtq *q, uint16_t id, struct virtq_desc *table, uint64_t table_pa,
			const struct virtq_buf *b, unsigned int n)
{
	struct virtq_desc *d = &q->desc[id];

	HV_ASSERT(id < q->size && n && n <= q->size);
	fill_chain(table, 0, b, n);
	d->addr = table_pa;
	d->len = (uint32_t)(n * sizeof(*table));
	d->flags = VIRTQ_DESC_F_INDIRECT;
	d->next = 0;
	avail_push(q, id);
}

void virtq_publish(struct virtq *q)
{
	virtio_wmb();                    /* descriptors and ring entries first */
	q->avail->idx = q->avail_idx;
}

bool virtq_kick(struct virtq *q)
{
	virtio_mb();                     /* avail->idx visible before we read flags */
	if (q->used->flags & VIRTQ_USED_F_NO_NOTIFY)
		return false;
	*q->notify = q->index;
	return true;
}

void virtq_suppress_interrupts(struct virtq *q)
{
	q->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
}

int virtq_next_used(struct virtq *q, uint16_t *id, uint32_t *len)
{
	uint16_t produced = q->used->idx;
	volatile struct virtq_used_elem *e;
	uint32_t raw_id;

	if (produced == q->used_idx)
		return 0;
	/* The device can have completed at most every buffer we gave it. */
	if ((uint16_t)(produced - q->used_idx) > q->size)
		return -EIO;
	virtio_rmb();                    /* the index before the entries it covers */
	e = &q->used->ring[q->used_idx & (q->size - 1)];
	raw_id = e->id;
	*len = e->len;
	q->used_idx++;
	if (raw_id >= q->size)
		return -EINVAL;
	*id = (uint16_t)raw_id;
	return 1;
}
