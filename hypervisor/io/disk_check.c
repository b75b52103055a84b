/* The checks every disk driver makes on an io before it goes near the
 * device (hv/disk.h): the one place a disk_io is validated, so a driver
 * can take every field as it is.  Apart from io/disk.c so the host unit
 * tests (test_blkback) run the very same checks on what the block backend
 * builds. */
#include <hv/disk.h>
#include <hv/errno.h>
#include <hv/layout.h>

/* Each segment whole sectors inside one frame; *sum gets their total.
 * nseg is checked first, so seg[] is only read inside the array. */
static int check_segs(const struct disk *d, const struct disk_io *io, uint64_t *sum)
{
	*sum = 0;
	if (!io->nseg || io->nseg > d->max_segs || io->nseg > DISK_IO_SEGS_MAX)
		return -EIO;
	for (uint32_t i = 0; i < io->nseg; i++) {
		const struct disk_seg *s = &io->seg[i];

		if (!s->len || s->len % DISK_SECTOR || s->pa % DISK_SECTOR ||
		    (s->pa & (PAGE_SIZE - 1)) + s->len > PAGE_SIZE)
			return -EIO;
		*sum += s->len;
	}
	return 0;
}

int disk_io_check(const struct disk *d, const struct disk_io *io)
{
	uint64_t n, sum;

	if (io->op == DISK_FLUSH)
		return 0;
	if (io->op != DISK_READ && io->op != DISK_WRITE)
		return -EIO;
	if (check_segs(d, io, &sum) || sum != io->len)
		return -EIO;
	n = io->len / DISK_SECTOR;
	if (io->sector > d->sectors || n > d->sectors - io->sector)
		return -EIO;
	if (io->sector % (d->block_size / DISK_SECTOR) || io->len % d->block_size)
		return -EIO;               /* part of a 4096-byte block */
	return io->op == DISK_WRITE && d->readonly ? -EIO : 0;
}
