/* Synchronous disk I/O for boot-time readers (the volume layer's
 * metadata): the buffer is split into pieces that never cross a 4 KiB
 * boundary of the disk, each copied through a bounce frame, submitted,
 * and waited for by polling the driver (interrupts may be off).  On a
 * disk of 4096-byte blocks a piece that is part of a block is read whole,
 * and a write of one is read-modify-write.
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
	uint64_t bounce;            /* the frame every piece goes through */
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

/* One I/O on the bounce frame: sector .. sector + len. */
static int sync_piece(struct disk *d, struct sync_io *s, enum disk_op op, uint64_t sector,
		      uint32_t len)
{
	s->io.op = op;
	s->io.sector = sector;
	disk_io_set_buf(&s->io, s->bounce, len);
	s->io.status = 0;
	s->finished = 0;
	disk_submit(d, &s->io);
	return sync_wait(d, s);
}

/* The whole device blocks around [sector, sector + n): the same range
 * on a disk of 512-byte blocks. */
static void block_window(const struct disk *d, uint64_t sector, uint32_t n,
			 uint64_t *first, uint32_t *count)
{
	uint32_t per = d->block_size / DISK_SECTOR;

	*first = sector - sector % per;
	*count = (uint32_t)(((sector + n + per - 1) / per) * per - *first);
}

/* n sectors at `sector`, within one 4 KiB-aligned page of the disk:
 * whole blocks directly, a partial block read whole (and, to write,
 * patched and written back whole). */
static int sync_chunk(struct disk *d, struct sync_io *s, enum disk_op op, uint64_t sector,
		      uint8_t *buf, uint32_t n)
{
	uint8_t *bounce = phys_to_virt(s->bounce);
	uint64_t first;
	uint32_t count, skip;
	int err = 0;

	block_window(d, sector, n, &first, &count);
	skip = (uint32_t)(sector - first) * DISK_SECTOR;
	if (count != n || op == DISK_READ)
		err = sync_piece(d, s, DISK_READ, first, count * DISK_SECTOR);
	if (err || op == DISK_READ) {
		if (!err)
			memcpy(buf, bounce + skip, n * DISK_SECTOR);
		return err;
	}
	memcpy(bounce + skip, buf, n * DISK_SECTOR);
	return sync_piece(d, s, DISK_WRITE, first, count * DISK_SECTOR);
}

static int sync_rw(struct disk *d, enum disk_op op, uint64_t sector, uint8_t *buf, size_t len)
{
	const uint32_t page = PAGE_SIZE / DISK_SECTOR;
	struct sync_io *s;
	int err = 0;

	if (len % DISK_SECTOR || sector > d->sectors || len / DISK_SECTOR > d->sectors - sector)
		return -EIO;
	s = kzalloc(sizeof(*s));
	if (!s || !(s->bounce = frame_alloc())) {
		kfree(s);
		return -ENOMEM;
	}
	s->io.done = sync_done;
	s->io.ctx = s;
	/* Chunks never cross a 4 KiB boundary of the disk, so a block window
	 * always fits the bounce frame. */
	for (size_t done = 0; done < len / DISK_SECTOR && !err;) {
		uint64_t at = sector + done;
		uint32_t n = (uint32_t)MIN(len / DISK_SECTOR - done, page - at % page);

		err = sync_chunk(d, s, op, at, buf + done * DISK_SECTOR, n);
		done += n;
	}
	if (err == -ETIMEDOUT)
		return err;                 /* leaked: see the top of this file */
	frame_free(s->bounce);
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
