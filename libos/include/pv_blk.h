/* Paravane library OS: block devices (the guest side of public/io/blk.h).
 *
 * A block device is named in the manifest (`block = SPEC [, ro] [, name=NAME]`;
 * without name=, the LV's or partition's name) and found here by that name.  Sectors are 512 bytes; lengths are multiples
 * of 512; buffers may have any alignment (unaligned ones go through a
 * bounce buffer) and any length (split into ring requests of at most 14
 * in-page segments).  Errors are negative errno values:
 *
 *   -EINVAL   a length not a multiple of 512, 0, or an unknown op
 *   -ERANGE   sectors past the device's end (nothing of the request is
 *             guaranteed: parts of a long request inside the device may
 *             have been read or written)
 *   -EROFS    a write on a read-only device
 *   -EIO      the disk reported an error
 *   -ENOTCONN the hypervisor disconnected the device (a malformed ring);
 *             every later request fails the same way
 *
 * Durability (docs/abi.md): a write that returned 0 is on the disk, maybe
 * only in its volatile cache; after pv_blk_flush() returns 0, every write
 * that returned 0 before it was called survives a power cut.
 *
 * Synchronous calls block the calling thread only (pv_thread.h): other
 * threads run meanwhile, and a domain whose threads all wait sleeps in
 * the hypervisor until the device answers.  Single vCPU, cooperative
 * threads: no locking is needed or done.
 */
#ifndef PV_BLK_H
#define PV_BLK_H

#include <stddef.h>
#include <stdint.h>
#include <public/io/blk.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pv_blk;

struct pv_blk_info {
	uint64_t capacity;        /* bytes */
	uint64_t sectors;         /* capacity / sector_size */
	uint32_t sector_size;     /* PV_BLK_SECTOR */
	int readonly;             /* writes fail with -EROFS */
	char name[16];            /* the manifest's device name */
};

/* Open the block device the manifest named name.  NULL with errno ENODEV
 * (no such device), EBUSY (already open) or ENOMEM. */
struct pv_blk *pv_blk_open(const char *name);
void pv_blk_info(const struct pv_blk *dev, struct pv_blk_info *out);

/* Synchronous: len bytes at sector.  0 or a negative errno. */
int pv_blk_read(struct pv_blk *dev, uint64_t sector, void *buf, size_t len);
int pv_blk_write(struct pv_blk *dev, uint64_t sector, const void *buf, size_t len);
/* Every write that completed before this call is on stable storage. */
int pv_blk_flush(struct pv_blk *dev);

/* ---- asynchronous -------------------------------------------------------- */

/* One request.  The caller fills the IN fields and keeps the struct (and
 * buf) untouched until it completes; requests complete in any order. */
struct pv_blk_req {
	/* IN */
	uint8_t op;               /* PV_BLK_READ, PV_BLK_WRITE or PV_BLK_FLUSH */
	uint64_t sector;
	void *buf;                /* not for FLUSH */
	size_t len;               /* bytes, a multiple of 512; 0 for FLUSH */
	/* Called once when it completes (NULL: none), from pv_blk_poll(),
	 * pv_blk_wait() or the thread scheduler's I/O poll: must not block. */
	void (*done)(struct pv_blk_req *req);
	void *arg;                /* the caller's */
	/* OUT */
	int status;               /* 0 or a negative errno, once complete */
	int complete;             /* set to 1 when it completed */
	/* the frontend's */
	struct pv_blk_req *next_;
	void *bounce_;
	size_t issued_;
	uint32_t pending_;
	int all_issued_;
};

/* Queue req (it goes on the ring as slots free up: any number may be
 * outstanding).  0, or a negative errno and req is not queued. */
int pv_blk_submit(struct pv_blk *dev, struct pv_blk_req *req);
/* Handle the device's responses (callbacks run here), without blocking.
 * Returns how many ring responses were handled. */
int pv_blk_poll(struct pv_blk *dev);
/* Block the calling thread until req completes; returns req->status. */
int pv_blk_wait(struct pv_blk *dev, struct pv_blk_req *req);

#ifdef __cplusplus
}
#endif

#endif
