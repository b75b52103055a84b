/* Physical disks (drivers/virtio_blk.c, drivers/nvme.c): each driver
 * registers the disks it finds at PCI probe; the volume layer (io/) and
 * through it the block backend submit I/O to them.
 *
 * One I/O is a read or write of consecutive 512-byte sectors, or a cache
 * flush.  Its data is a scatter list of nseg segments, each pa .. pa + len
 * inside one 4 KiB frame (len a multiple of 512), read from or written to
 * the sectors in order: one device request, however many segments (up to
 * the disk's max_segs; a driver that can only take one says 1).  Drivers queue what they
 * cannot start at once (queue depth > 1: many I/Os in flight), complete
 * in any order, and call done exactly once per I/O, from their interrupt
 * handler (or the polling safety net), on any CPU, with no lock of the
 * caller's held: done must be short and take only locks ranked above
 * LOCK_RANK_DISK.  A write is done only when the device reported it
 * written; a flush only when the device's volatile cache is on stable
 * storage (or at once, if the device has no volatile cache). */
#ifndef HV_DISK_H
#define HV_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISK_SECTOR   512u
#define DISK_MAX      8u          /* disks registered at most */
/* Segments one io carries at most: a whole guest block request
 * (PV_BLK_MAX_SEGMENTS), and 14 + header + status = 16 virtio descriptors,
 * a 256-byte indirect table (drivers/virtio_blk.c). */
#define DISK_IO_SEGS_MAX 14u

enum disk_op { DISK_READ = 1, DISK_WRITE = 2, DISK_FLUSH = 3 };

/* One piece of an io's data: physical, inside one frame. */
struct disk_seg {
	uint64_t pa;
	uint32_t len;               /* bytes, a multiple of DISK_SECTOR, <= 4096 */
};

struct disk_io {
	enum disk_op op;
	uint64_t sector;            /* first sector on the disk */
	uint32_t len;               /* bytes in all: the sum of the segments' (FLUSH: 0) */
	uint32_t nseg;              /* READ/WRITE: 1 .. the disk's max_segs; FLUSH: unused */
	struct disk_seg seg[DISK_IO_SEGS_MAX];
	int status;                 /* OUT: 0, or -EIO */
	void (*done)(struct disk_io *io);
	void *ctx;                  /* the submitter's */
	struct disk_io *next;       /* the driver's queue while it waits */
};

struct disk;
struct disk_ops {
	/* Start io or queue it; never blocks, never fails (a bad io is the
	 * caller's bug: the driver completes it with -EIO). */
	void (*submit)(struct disk *d, struct disk_io *io);
	/* Reap completions without waiting for an interrupt (the boot-time
	 * synchronous readers, the periodic safety net); any CPU, no lock of
	 * the caller's held (it may call done). */
	void (*poll)(struct disk *d);
	const char *driver;         /* "virtio-blk", "nvme": logs and events */
};

struct disk {
	char name[16];              /* "vda", "nvme0n1": for logs and disk:N order */
	char model[40];             /* what the device says it is (sanitized) */
	uint32_t index;             /* disk:N, in registration order */
	uint64_t sectors;           /* capacity in 512-byte sectors */
	uint32_t block_size;        /* the device's block: 512 or 4096 bytes; an io must
	                             * start and end on whole blocks (disk_io_check) */
	bool volatile_cache;        /* FLUSH does something */
	bool readonly;              /* the device refuses writes */
	uint32_t max_segs;          /* segments one io may carry: 1 .. DISK_IO_SEGS_MAX */
	const struct disk_ops *ops;
	void *priv;                 /* the driver's */
	/* counters (the driver's lock) */
	uint64_t reads, writes, flushes, errors, in_flight_max;
	uint64_t irqs;              /* interrupts that found completions */
};

/* A driver hands over a disk it found; returns its index, or -1 (full). */
int disk_register(struct disk *d);
uint32_t disk_count(void);
struct disk *disk_get(uint32_t index);

/* The io's data is one segment: pa .. pa + len (one frame). */
static inline void disk_io_set_buf(struct disk_io *io, uint64_t pa, uint32_t len)
{
	io->nseg = 1;
	io->seg[0] = (struct disk_seg){ .pa = pa, .len = len };
	io->len = len;
}

static inline void disk_submit(struct disk *d, struct disk_io *io)
{
	d->ops->submit(d, io);
}

/* Synchronous I/O for boot-time readers (the volume layer's metadata):
 * waits (polling the driver's completions) up to a few seconds.  buf is
 * hypervisor memory, any length multiple of 512 (split into pages).  On
 * a disk with 4096-byte blocks a partial block is read whole, and written
 * by read-modify-write (not atomic against other writers of that block).
 * Returns 0 or -EIO / -ETIMEDOUT. */
int disk_read_sync(struct disk *d, uint64_t sector, void *buf, size_t len);
int disk_write_sync(struct disk *d, uint64_t sector, const void *buf, size_t len);

/* ---- io/disk.c, for the drivers and boot ------------------------------------ */
/* Probe every disk driver (at boot, boot CPU, before domains start) and
 * arm the periodic poll that is every driver's safety net. */
void disk_init(void);
/* 0 if io is well formed for d (op; 1 .. max_segs segments, each whole
 * sectors at a sector-aligned address inside one frame; their sum len;
 * whole device blocks; range; a write to a read-only disk), else -EIO:
 * the checks every driver makes first. */
int disk_io_check(const struct disk *d, const struct disk_io *io);
/* Complete io with status soon, from the poll or a synchronous wait:
 * what submit uses for an io it refuses (it must not call done itself,
 * the submitter may hold its own locks).  Takes the disk-later lock. */
void disk_finish_later(struct disk_io *io, int status);
/* An interrupt vector for a driver's MSI-X messages; fn(arg) runs on
 * each (then EOI).  0 when none is left. */
uint8_t disk_irq_vector(void (*fn)(void *arg), void *arg);

#endif
