/* Synchronous disk I/O for boot-time readers (the volume layer's
 * metadata): the buffer is split into page-sized pieces, each copied
 * through a bounce frame, submitted, and waited for by polling the driver
 * (interrupts may be off).
 *
 * A piece that times out is still the device's: its io record and bounce
 * frame are leaked on purpose, so a late completion or DMA lands in
 * memory nobody else uses. */
#include <hv/disk.h>
#include <hv/disk_drivers.h>
#include <hv/errno.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/time.h>
#include <hv/x86.h>

#define SYNC_TIMEOUT_NS (5ULL * 1000000000ULL)

struct sync_io {
	struct disk_io io;
	int finished;
};

static void sync_done(struct disk_io *io)
{
	struct sync_io *s = io->ctx;

	__atomic_store_n(&s->finished, 1, __ATOMIC_RELEASE);
}

static int sync_wait(struct disk *d, struct sync_io *s)
{
	uint64_t deadline = time_ns() + SYNC_TIMEOUT_NS;

	while (!__atomic_load_n(&s->finished, __ATOMIC_ACQUIRE)) {
		d->ops->poll(d);
		disk_run_later();
		if (time_ns() > deadline) {
			log_err("disk: %s: %s at sector %lu timed out", d->name,
				s->io.op == DISK_WRITE ? "write" : "read", s->io.sector);
			return -ETIMEDOUT;
		}
		pause();
	}
	return s->io.status;
}

/* One piece of at most a page through the bounce frame. */
static int sync_piece(struct disk *d, struct sync_io *s, enum disk_op op, uint64_t sector,
		      uint32_t len)
{
	s->io.op = op;
	s->io.sector = sector;
	s->io.len = len;
	s->io.status = 0;
	s->finished = 0;
	disk_submit(d, &s->io);
	return sync_wait(d, s);
}

static int sync_rw(struct disk *d, enum disk_op op, uint64_t sector, uint8_t *buf, size_t len)
{
	struct sync_io *s;
	uint8_t *bounce;
	int err = 0;

	if (len % DISK_SECTOR)
		return -EIO;
	s = kzalloc(sizeof(*s));
	if (!s || !(s->io.pa = frame_alloc())) {
		kfree(s);
		return -ENOMEM;
	}
	s->io.done = sync_done;
	s->io.ctx = s;
	bounce = phys_to_virt(s->io.pa);
	for (size_t off = 0; off < len && !err; off += PAGE_SIZE) {
		uint32_t n = (uint32_t)MIN(len - off, PAGE_SIZE);

		if (op == DISK_WRITE)
			memcpy(bounce, buf + off, n);
		err = sync_piece(d, s, op, sector + off / DISK_SECTOR, n);
		if (!err && op == DISK_READ)
			memcpy(buf + off, bounce, n);
	}
	if (err == -ETIMEDOUT)
		return err;                 /* leaked: see the top of this file */
	frame_free(s->io.pa);
	kfree(s);
	return err;
}

int disk_read_sync(struct disk *d, uint64_t sector, void *buf, size_t len)
{
	return sync_rw(d, DISK_READ, sector, buf, len);
}

int disk_write_sync(struct disk *d, uint64_t sector, const void *buf, size_t len)
{
	return sync_rw(d, DISK_WRITE, sector, (uint8_t *)buf, len);
}
