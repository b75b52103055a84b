/* Paravane guest ABI: the block device protocol (split driver).
 *
 * Each block device in start_info.device[] (type PV_DEV_BLOCK) has one
 * ring in guest memory at ring_gva (ring_pages = PV_BLK_RING_PAGES): a
 * struct pv_ring_indices, then PV_BLK_RING_SIZE request slots.  The
 * device's capacity (bytes), sector size (PV_BLK_SECTOR), read-only flag
 * (PV_DEV_READONLY in flags) and name (the manifest's, e.g. "data") are in
 * its start_info entry.
 *
 * The frontend writes a request in slot req_prod & (size - 1), publishes
 * req_prod (pv_ring.h rules) and notifies event_port if
 * pv_ring_need_notify(old, new, req_event).  The backend copies the whole
 * request out of the slot once, checks it, and starts it; requests
 * complete in any order.  For each completed request the backend writes a
 * response {id, status} into the slot rsp_prod & (size - 1) (not the
 * request's own slot: completion is out of order) and advances rsp_prod;
 * the frontend matches responses to requests by id.  A slot may be reused
 * for a new request once as many responses as requests before it have
 * been consumed (at most PV_BLK_RING_SIZE requests in flight).
 *
 * A request: op, the first sector (512-byte units), and nseg segments,
 * each {addr, len} in the domain's own memory, in order; the transfer is
 * the segments' bytes, read from or written to consecutive sectors.
 *
 * What the backend checks, on every request: prod - cons <= size; op
 * known; 1 <= nseg <= PV_BLK_MAX_SEGMENTS (0 for FLUSH); every segment's
 * addr and len multiples of 512, len >= 512, inside one 4 KiB page, inside
 * the domain's memory, backed (and writable for READ).  Refused with a
 * status, not a protocol error: sectors past the device's end (or a sum
 * that overflows) with PV_BLK_ERR_RANGE, a WRITE on a read-only device
 * with PV_BLK_ERR_RDONLY.  A
 * malformed ring or request disconnects the device (every later request
 * PV_BLK_ERR_DISCONNECTED, the hypervisor logs why); the domain and every
 * other device go on.
 *
 * Durability: a WRITE is answered PV_BLK_OK only after the disk reported
 * the data written (it may still be in the disk's volatile cache).  A
 * FLUSH is answered after every WRITE answered before the FLUSH was
 * submitted is on stable storage (virtio-blk FLUSH, NVMe Flush).  After a
 * power cut, a write answered before an answered FLUSH is on the disk;
 * other writes may be there, in whole sectors, or not.  docs/abi.md.
 */
#ifndef PARAVANE_PUBLIC_IO_BLK_H
#define PARAVANE_PUBLIC_IO_BLK_H

#include "../abi.h"
#include "../ring.h"

#define PV_BLK_SECTOR        512u
#define PV_BLK_MAX_SEGMENTS  14u              /* so a request is 256 bytes */
#define PV_BLK_SEG_MAX       4096u            /* a segment stays inside one page */
#define PV_BLK_RING_SIZE     64u              /* slots, so requests in flight */
#define PV_BLK_RING_BYTES    (128u + PV_BLK_RING_SIZE * 256u)
#define PV_BLK_RING_PAGES    ((PV_BLK_RING_BYTES + PV_PAGE_SIZE - 1) / PV_PAGE_SIZE)

enum pv_blk_op {
	PV_BLK_READ = 1,
	PV_BLK_WRITE = 2,
	PV_BLK_FLUSH = 3,
};

struct pv_blk_seg {
	uint64_t addr;      /* guest address, a multiple of 512 */
	uint32_t len;       /* bytes, a multiple of 512, addr + len in one page */
	uint32_t reserved;  /* zero */
};
PV_ASSERT_SIZE(struct pv_blk_seg, 16);

struct pv_blk_request {
	uint64_t id;        /* the frontend's tag, echoed in the response */
	uint64_t sector;    /* first 512-byte sector */
	uint8_t  op;        /* enum pv_blk_op */
	uint8_t  nseg;
	uint16_t reserved0;
	uint32_t reserved1; /* zero */
	struct pv_blk_seg seg[PV_BLK_MAX_SEGMENTS];
	uint64_t reserved2; /* zero */
};
PV_ASSERT_SIZE(struct pv_blk_request, 256);

struct pv_blk_response {
	uint64_t id;
	int32_t  status;    /* PV_BLK_OK or a negative PV_BLK_ERR_* */
	uint32_t reserved;
};
PV_ASSERT_SIZE(struct pv_blk_response, 16);

/* A slot holds a request, or (written by the backend) a response. */
union pv_blk_slot {
	struct pv_blk_request req;
	struct pv_blk_response rsp;
};
PV_ASSERT_SIZE(union pv_blk_slot, 256);

#define PV_BLK_OK                0
#define PV_BLK_ERR_IO          (-1)   /* the disk reported an error */
#define PV_BLK_ERR_RDONLY      (-2)   /* WRITE on a read-only device */
#define PV_BLK_ERR_RANGE       (-3)   /* sectors past the device's end */
#define PV_BLK_ERR_DISCONNECTED (-4)  /* the device was disconnected */
#define PV_BLK_ERR_UNSUPPORTED (-5)   /* FLUSH on a disk without a cache flush */

struct pv_blk_ring {
	struct pv_ring_indices idx;
	union pv_blk_slot slot[PV_BLK_RING_SIZE];
};
PV_ASSERT_SIZE(struct pv_blk_ring, PV_BLK_RING_BYTES);

#endif
