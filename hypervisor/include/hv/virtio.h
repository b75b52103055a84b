/* virtio 1.x over PCI ("modern" devices only) and split virtqueues
 * (drivers/virtio_pci.c).  Every multi-byte field is little-endian, which
 * is x86's order, so no conversions appear anywhere. */
#ifndef HV_VIRTIO_H
#define HV_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>
#include <hv/pci.h>

#define VIRTIO_PCI_VENDOR       0x1af4
#define VIRTIO_PCI_MODERN_BASE  0x1040  /* device id = base + virtio type */
#define VIRTIO_PCI_LEGACY_NET   0x1000  /* transitional net: subsystem id 1 */
#define VIRTIO_ID_NET           1
#define VIRTIO_ID_BLOCK         2
#define VIRTIO_PCI_LEGACY_BLOCK 0x1001  /* transitional block: subsystem id 2 */

/* device_status bits */
#define VIRTIO_STATUS_ACKNOWLEDGE  1u
#define VIRTIO_STATUS_DRIVER       2u
#define VIRTIO_STATUS_DRIVER_OK    4u
#define VIRTIO_STATUS_FEATURES_OK  8u
#define VIRTIO_STATUS_NEEDS_RESET  64u
#define VIRTIO_STATUS_FAILED       128u

#define VIRTIO_F_INDIRECT_DESC  (1ULL << 28)
#define VIRTIO_F_VERSION_1      (1ULL << 32)
#define VIRTIO_NET_F_MAC        (1ULL << 5)

#define VIRTIO_NO_VECTOR        0xffffu

/* ---- split virtqueue layout (virtio 1.x, 2.6) ----------------------------- */
#define VIRTQ_MAX_SIZE          256u    /* one frame each for desc/avail/used */
#define VIRTQ_DESC_F_NEXT       1u
#define VIRTQ_DESC_F_WRITE      2u      /* device writes this buffer */
#define VIRTQ_DESC_F_INDIRECT   4u      /* the buffer is a table of descriptors */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u
#define VIRTQ_USED_F_NO_NOTIFY  1u

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];
};

_Static_assert(sizeof(struct virtq_desc) == 16, "virtq_desc layout");
_Static_assert(sizeof(struct virtq_used_elem) == 8, "virtq_used_elem layout");
_Static_assert(VIRTQ_MAX_SIZE * sizeof(struct virtq_desc) <= 4096, "desc table fits a frame");
_Static_assert(6 + 8 * VIRTQ_MAX_SIZE <= 4096, "used ring fits a frame");

/* One queue.  Descriptor i is only ever buffer i of its driver: the driver
 * keeps its own table of buffers and never reads a descriptor back, so
 * nothing the device can write leads to an address. */
struct virtq {
	uint16_t index;                 /* queue number on the device */
	uint16_t size;                  /* a power of two, <= VIRTQ_MAX_SIZE */
	struct virtq_desc *desc;
	volatile struct virtq_avail *avail;
	volatile struct virtq_used *used;
	volatile uint16_t *notify;
	uint16_t avail_idx;             /* our producer index (published by virtq_publish) */
	uint16_t used_idx;              /* next used entry to consume */
	uint64_t desc_pa, avail_pa, used_pa;
};

/* ---- the transport --------------------------------------------------------- */
struct virtio_dev {
	struct pci_dev *pci;
	volatile uint8_t *common;       /* struct virtio_pci_common_cfg */
	volatile uint8_t *notify;
	uint32_t notify_len, notify_mult;
	volatile uint8_t *device_cfg;   /* NULL when the device has none */
	uint32_t device_cfg_len;
	uint64_t features;              /* negotiated */
};

/* Find the modern capabilities, map them, enable the PCI function, reset
 * the device and set ACKNOWLEDGE | DRIVER.  0 or -ENODEV. */
int virtio_pci_init(struct virtio_dev *vd, struct pci_dev *pd);
/* Accept every `required` bit (else fail) and whichever `optional` bits
 * the device offers, nothing else; then FEATURES_OK.  0 or -ENODEV. */
int virtio_negotiate(struct virtio_dev *vd, uint64_t required, uint64_t optional);
/* A consistent copy of device-specific config (config_generation). */
int virtio_read_config(struct virtio_dev *vd, uint32_t off, void *buf, uint32_t len);
/* Set up queue `index`: min(device max, max_size) entries rounded down to
 * a power of two, interrupts on MSI-X table entry msix_entry (or
 * VIRTIO_NO_VECTOR).  0, -ENODEV or -ENOMEM. */
int virtio_queue_setup(struct virtio_dev *vd, struct virtq *q, uint16_t index,
		       uint16_t max_size, uint16_t msix_entry);
/* Only after a reset (the device no longer touches the rings). */
void virtio_queue_free(struct virtq *q);
void virtio_driver_ok(struct virtio_dev *vd);
/* Reset: the device stops all DMA; then mark it FAILED. */
void virtio_give_up(struct virtio_dev *vd);
uint8_t virtio_status(const struct virtio_dev *vd);

/* ---- queue operations (single producer, single consumer, IF=0) ------------ */
/* Post buffer `id` (descriptor id) at pa/len; not visible until publish. */
void virtq_add(struct virtq *q, uint16_t id, uint64_t pa, uint32_t len, bool device_writes);
/* One buffer of a chain. */
struct virtq_buf {
	uint64_t pa;
	uint32_t len;
	bool device_writes;
};
/* Post a chain of n buffers on descriptors first .. first + n - 1 (the
 * driver's fixed layout: they are its own, never read back); the used
 * ring names `first` when the device is done with all of them. */
void virtq_add_chain(struct virtq *q, uint16_t first, const struct virtq_buf *b, unsigned int n);
/* Post a chain of n buffers (n <= the queue's size) through an indirect
 * table of the driver's own (table, at table_pa, room for n descriptors)
 * on the one descriptor id; the used ring names id.  Needs
 * VIRTIO_F_INDIRECT_DESC. */
void virtq_add_indirect(struct virtq *q, uint16_t id, struct virtq_desc *table, uint64_t table_pa,
			const struct virtq_buf *b, unsigned int n);
void virtq_publish(struct virtq *q);
/* Notify the device unless it said it does not need it.  True if sent. */
bool virtq_kick(struct virtq *q);
/* Ask the device not to interrupt for this queue (a hint). */
void virtq_suppress_interrupts(struct virtq *q);
/* Take the next used entry: 1 with *id < size and *len as the device wrote
 * it, 0 when there is none, -EINVAL for an out-of-range id (entry
 * consumed), -EIO when the used index is impossible (stop the device). */
int virtq_next_used(struct virtq *q, uint16_t *id, uint32_t *len);

#endif
