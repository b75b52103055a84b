/* Block backends: one per guest block device, the hypervisor side of
 * public/io/blk.h, on a volume (hv/volume.h).  A backend is allocated
 * apart from its domain and reference counted: the domain holds one
 * reference, every piece of I/O in flight holds one, so a domain destroyed
 * with I/O in flight leaves the backend (and its bounce frames, the only
 * memory the disk ever touches) until the last piece completes.
 *
 * A piece is one disk_io: as many consecutive segments of one request as
 * the disk takes in one I/O (its max_segs), up to the end of the volume's
 * extent, each segment on a bounce frame of its own. */
#ifndef HV_BLKBACK_H
#define HV_BLKBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <public/io/blk.h>
#include <public/start_info.h>

struct domain;
struct blkback;
struct manifest_block;

/* Event port of block device i (after the net devices' ports). */
#define BLKBACK_PORT(i)      (1u + PV_MAX_DEVICES / 2 + (i))
#define BLKBACK_RING_PAGES   PV_BLK_RING_PAGES
/* Two bounds per device, both fairness: pieces (disk I/Os, so the disk's
 * slots: virtio-blk has 64) in flight, and bounce frames (segments, so
 * bytes: 4 KiB each) in flight, which is also the backend's memory per
 * device.  4 KiB random I/O meets the first, 56 KiB requests the second. */
#define BLKBACK_PIECES       32u
#define BLKBACK_FRAMES       128u  /* 512 KiB a device: nine 56 KiB requests (docs/benchmarks.md) */

/* Open and claim the volume cfg names, for device index of d, whose ring
 * (zeroed) is at ring_gva.  NULL with err on failure. */
struct blkback *blkback_attach(struct domain *d, uint32_t index, const struct manifest_block *cfg,
			       uint64_t ring_gva, char *err, size_t n);
/* The domain lets go: no more responses, events or guest memory access. */
void blkback_detach(struct blkback *bb);
/* The guest notified the device's port: consume its requests.  0, or
 * -EIO once the device is disconnected. */
int blkback_kick(struct blkback *bb);
uint32_t blkback_port(const struct blkback *bb);
/* What start_info says about the device. */
void blkback_describe(const struct blkback *bb, struct pv_device *dev);

/* Save and restore (io/blkback_save.c): every consumed request answered;
 * the volume's size and the device's name; the ring positions as a
 * DEVICE record, and a restored backend (nothing in flight) taking them. */
struct pv_save_device;
bool blkback_idle(struct blkback *bb);
uint64_t blkback_sectors(const struct blkback *bb);
const char *blkback_name(const struct blkback *bb);
void blkback_save(struct blkback *bb, struct pv_save_device *out);
int blkback_restore(struct blkback *bb, const struct pv_save_device *in, char *err, size_t n);

/* The manifest's block entry: its volume spec and device name. */
const char *blkback_cfg_spec(const struct manifest_block *b);
void blkback_cfg_name(const struct manifest_block *b, uint32_t index, char *out, size_t n);

#endif
