/* libext2fs I/O manager over the PV block frontend (see pv_ext2.h).
 * libext2fs asks for blocks of its current block size (a negative count
 * means bytes); everything becomes a byte range on the device, checked
 * against the device's end before the device is asked. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <ext2fs/ext2fs.h>
#include <pv_blk.h>
#include <pv_ext2.h>

#include "io_cache.h"
#include "journal.h"

#define PREFIX      "pvblk:"
#define MAX_BLKSIZE 65536            /* ext4's largest block */
#define CACHE_BYTES (2u << 20)       /* per channel (io_cache.h) */

/* A device opened once (pv_blk has no close) and reused by later channels. */
struct dev {
	struct pv_blk *blk;
	struct pv_blk_info info;
	int busy;                        /* a channel is open on it */
	struct pv_ext2_io_stats stats;
	struct struct_io_stats io_stats; /* what io_channel_get_stats() shows */
	struct dev *next;
};

struct chan {
	struct dev *dev;
	int rw;
	struct io_cache *cache;          /* NULL: no memory for one, go direct */
};

static struct dev *devs;
static struct struct_io_manager manager;

static const char *dev_name(const char *name)
{
	return strncmp(name, PREFIX, strlen(PREFIX)) ? name : name + strlen(PREFIX);
}

static struct dev *find_dev(const char *name)
{
	for (struct dev *d = devs; d; d = d->next)
		if (!strcmp(d->info.name, name))
			return d;
	return NULL;
}

/* The device named name, opened now if it never was.  0 or an errno. */
static int get_dev(const char *name, struct dev **out)
{
	struct dev *d = find_dev(name);

	if (!d) {
		struct pv_blk *blk = pv_blk_open(name);

		if (!blk)
			return errno;
		if (!(d = calloc(1, sizeof(*d))))
			return ENOMEM;            /* blk stays open: there is no close */
		d->blk = blk;
		pv_blk_info(blk, &d->info);
		d->next = devs;
		devs = d;
	}
	*out = d;
	return 0;
}

static struct chan *chan_of(io_channel ch)
{
	return ch->private_data;
}

/* ---- byte ranges ------------------------------------------------------------ */

static errcode_t dev_errcode(int e, int write)
{
	if (e == -ERANGE)
		return write ? EXT2_ET_SHORT_WRITE : EXT2_ET_SHORT_READ;
	return (errcode_t)-e;
}

/* [off, off + len) of the device, whole sectors: straight through. */
static int whole(struct dev *d, int write, uint64_t off, void *buf, size_t len)
{
	uint64_t sector = off / d->info.sector_size;

	return write ? pv_blk_write(d->blk, sector, buf, len) :
		       pv_blk_read(d->blk, sector, buf, len);
}

/* A range with a partial sector at an end: the covering sectors through a
 * bounce buffer, read first (and written back merged for a write). */
static int partial(struct dev *d, int write, uint64_t off, void *buf, size_t len)
{
	uint32_t ss = d->info.sector_size;
	uint64_t first = off - off % ss;
	size_t span = (size_t)((off + len + ss - 1) / ss * ss - first);
	uint8_t *b = malloc(span);
	int e;

	if (!b)
		return -ENOMEM;
	e = whole(d, 0, first, b, span);
	if (!e && write) {
		memcpy(b + (off - first), buf, len);
		e = whole(d, 1, first, b, span);
	} else if (!e) {
		memcpy(buf, b + (off - first), len);
	}
	free(b);
	return e;
}

static void count_io(struct dev *d, int write, size_t len)
{
	if (write) {
		d->stats.writes++;
		d->stats.bytes_written += len;
	} else {
		d->stats.reads++;
		d->stats.bytes_read += len;
	}
	d->io_stats.bytes_read = d->stats.bytes_read;
	d->io_stats.bytes_written = d->stats.bytes_written;
}

/* len bytes at byte off of the device: 0 or a negative errno (-ERANGE
 * past its end, before the device is asked). */
static int dev_io(void *dev, int write, uint64_t off, void *buf, size_t len)
{
	struct dev *d = dev;
	uint32_t ss = d->info.sector_size;

	if (len == 0)
		return 0;
	if (off > d->info.capacity || len > d->info.capacity - off)
		return -ERANGE;
	count_io(d, write, len);
	if (off % ss == 0 && len % ss == 0)
		return whole(d, write, off, buf, len);
	return partial(d, write, off, buf, len);
}

static int dev_flush(void *dev)
{
	struct dev *d = dev;

	d->stats.flushes++;
	return pv_blk_flush(d->blk);
}

/* len bytes at byte off: whole blocks (blocks > 0) of the size the cache
 * was made for go through it (made now, at the first such access: the
 * file system's block size); other ranges (the superblock) through its
 * blocks too, once it exists, so that the journal sees every change.
 * 0 or a libext2fs/errno code. */
static errcode_t io_bytes(io_channel ch, int write, uint64_t off, void *buf, size_t len,
			  int blocks)
{
	struct chan *c = chan_of(ch);
	uint64_t bs = (uint64_t)ch->block_size;
	int e;

	if (write && !c->rw)
		return EXT2_ET_RO_FILSYS;
	if (off > c->dev->info.capacity || len > c->dev->info.capacity - off)
		return write ? EXT2_ET_SHORT_WRITE : EXT2_ET_SHORT_READ;
	if (blocks && !c->cache)
		c->cache = io_cache_new((unsigned)bs, CACHE_BYTES, dev_io, c->dev);
	if (blocks && c->cache && io_cache_bsize(c->cache) == bs)
		e = write ? io_cache_write(c->cache, off / bs, len / bs, buf) :
			    io_cache_read(c->cache, off / bs, len / bs, buf);
	else if (c->cache)
		e = io_cache_bytes(c->cache, write, off, buf, len);
	else
		e = dev_io(c->dev, write, off, buf, len);
	return e ? dev_errcode(e, write) : 0;
}

/* Every dirty block to the device. */
static errcode_t write_back(struct chan *c)
{
	int e = c->cache ? io_cache_writeback(c->cache) : 0;

	return e ? dev_errcode(e, 1) : 0;
}

/* count blocks at block, or -count bytes when count < 0: the byte range,
 * or an error if it does not fit in 64 bits. */
static errcode_t to_bytes(io_channel ch, unsigned long long block, int count,
			  uint64_t *off, size_t *len)
{
	uint64_t bs = (uint64_t)ch->block_size;

	*len = count < 0 ? (size_t)-(long long)count : (size_t)count * bs;
	if (block > UINT64_MAX / bs)
		return EXT2_ET_INVALID_ARGUMENT;
	*off = block * bs;
	return 0;
}

/* ---- the manager's operations -------------------------------------------- */

static errcode_t pvblk_read_blk64(io_channel ch, unsigned long long block,
				  int count, void *data)
{
	uint64_t off;
	size_t len;
	errcode_t e = to_bytes(ch, block, count, &off, &len);

	if (!e)
		e = io_bytes(ch, 0, off, data, len, count > 0);
	if (e && ch->read_error)      /* e2fsck's hook, as unix_io calls it */
		e = ch->read_error(ch, (unsigned long)block, count, data, len, 0, e);
	return e;
}

static errcode_t pvblk_write_blk64(io_channel ch, unsigned long long block,
				   int count, const void *data)
{
	uint64_t off;
	size_t len;
	errcode_t e = to_bytes(ch, block, count, &off, &len);

	if (!e)
		e = io_bytes(ch, 1, off, (void *)data, len, count > 0);
	if (e && ch->write_error)
		e = ch->write_error(ch, (unsigned long)block, count, data, len, 0, e);
	return e;
}

static errcode_t pvblk_read_blk(io_channel ch, unsigned long block, int count, void *data)
{
	return pvblk_read_blk64(ch, block, count, data);
}

static errcode_t pvblk_write_blk(io_channel ch, unsigned long block, int count,
				 const void *data)
{
	return pvblk_write_blk64(ch, block, count, data);
}

/* Not for the primary superblock: libext2fs would write it field by
 * field, and a crash between two fields (without a journal) leaves a
 * superblock whose checksum fails (e2fsck then refuses to open the
 * volume).  Unimplemented there, so libext2fs writes it whole. */
#define SB_START 1024
#define SB_END   2048

static errcode_t pvblk_write_byte(io_channel ch, unsigned long offset, int count,
				  const void *data)
{
	if (count < 0)
		return EXT2_ET_INVALID_ARGUMENT;
	if (offset < SB_END && offset + (unsigned long)count > SB_START)
		return EXT2_ET_UNIMPLEMENTED;
	return io_bytes(ch, 1, offset, (void *)data, (size_t)count, 0);
}

/* The cache keeps its own block size: libext2fs switches to 1024 for a
 * moment to write the superblock, which then goes around it. */
static errcode_t pvblk_set_blksize(io_channel ch, int blksize)
{
	if (blksize <= 0 || blksize > MAX_BLKSIZE)
		return EXT2_ET_INVALID_ARGUMENT;
	ch->block_size = blksize;
	return 0;
}

/* Nothing to flush on a read-only channel (and a read-only device may
 * refuse the request).  When the write-back committed a transaction, its
 * flush covered everything written before the commit block; the blocks
 * written in place after it can wait (the log has them). */
static errcode_t pvblk_flush(io_channel ch)
{
	struct chan *c = chan_of(ch);
	int e;

	if (!c->rw)
		return 0;
	if (c->cache)
		io_cache_committed(c->cache);   /* only this write-back's counts */
	if (write_back(c))
		return EIO;
	e = c->cache && io_cache_committed(c->cache) ? 0 : dev_flush(c->dev);
	return e ? (errcode_t)-e : 0;
}

static errcode_t pvblk_set_option(io_channel ch, const char *option, const char *arg)
{
	return EXT2_ET_INVALID_ARGUMENT;       /* none known */
}

static errcode_t pvblk_get_stats(io_channel ch, io_stats *out)
{
	if (out)
		*out = &chan_of(ch)->dev->io_stats;
	return 0;
}

/* Dirty blocks are written back (a channel closed without a flush keeps
 * what it wrote, as a file descriptor would). */
static errcode_t pvblk_close(io_channel ch)
{
	errcode_t e;

	if (--ch->refcount > 0)
		return 0;
	e = write_back(chan_of(ch));
	io_cache_free(chan_of(ch)->cache);
	chan_of(ch)->dev->busy = 0;
	free(ch->private_data);
	free(ch->name);
	free(ch);
	return e;
}

static errcode_t check_open(const struct dev *d, int flags)
{
	if (d->busy)
		return EBUSY;
	if ((flags & IO_FLAG_RW) && d->info.readonly)
		return EROFS;
	return 0;
}

static io_channel new_channel(const char *name, struct dev *d, int flags)
{
	io_channel ch = calloc(1, sizeof(*ch));
	struct chan *c = calloc(1, sizeof(*c));
	char *n = strdup(name);

	if (!ch || !c || !n) {
		free(ch);
		free(c);
		free(n);
		return NULL;
	}
	c->dev = d;
	c->rw = !!(flags & IO_FLAG_RW);
	ch->magic = EXT2_ET_MAGIC_IO_CHANNEL;
	ch->manager = &manager;
	ch->name = n;
	ch->block_size = 1024;               /* libext2fs's default, as unix_io's */
	ch->refcount = 1;
	ch->private_data = c;
	return ch;
}

static errcode_t pvblk_open(const char *name, int flags, io_channel *out)
{
	struct dev *d = NULL;
	errcode_t e;

	if (!name || !*dev_name(name))
		return EXT2_ET_BAD_DEVICE_NAME;
	if ((e = get_dev(dev_name(name), &d)) || (e = check_open(d, flags)))
		return e;
	if (!(*out = new_channel(name, d, flags)))
		return EXT2_ET_NO_MEMORY;
	d->busy = 1;
	memset(&d->stats, 0, sizeof(d->stats));
	d->io_stats = (struct struct_io_stats){ .num_fields = 2 };
	return 0;
}

static struct struct_io_manager manager = {
	.magic = EXT2_ET_MAGIC_IO_MANAGER,
	.name = "Paravane PV block I/O manager",
	.open = pvblk_open,
	.close = pvblk_close,
	.set_blksize = pvblk_set_blksize,
	.read_blk = pvblk_read_blk,
	.write_blk = pvblk_write_blk,
	.flush = pvblk_flush,
	.write_byte = pvblk_write_byte,
	.set_option = pvblk_set_option,
	.get_stats = pvblk_get_stats,
	.read_blk64 = pvblk_read_blk64,
	.write_blk64 = pvblk_write_blk64,
};

io_manager pv_ext2_io_manager = &manager;

void pv_ext2_io_stats(const char *dev, struct pv_ext2_io_stats *out)
{
	struct dev *d = find_dev(dev_name(dev));

	memset(out, 0, sizeof(*out));
	if (d && d->busy)
		*out = d->stats;
}

/* Whole blocks straight between the device and buf, for file data in
 * long runs (libos/fs/file.c).  A write makes cached copies of those
 * blocks stale: they are dropped (dirty ones too: the new data
 * supersedes them, and writing them would need a sync point).  A read of
 * blocks with dirty copies reads through the cache. */
errcode_t pv_ext2_io_direct(io_channel ch, int write, unsigned long long block,
			    size_t count, void *buf)
{
	struct chan *c = chan_of(ch);
	uint64_t bs = (uint64_t)ch->block_size, off = block * bs, len = count * bs;
	int e;

	if (write && !c->rw)
		return EXT2_ET_RO_FILSYS;
	if (block > UINT64_MAX / bs || off > c->dev->info.capacity ||
	    len > c->dev->info.capacity - off)
		return write ? EXT2_ET_SHORT_WRITE : EXT2_ET_SHORT_READ;
	if (c->cache && io_cache_bsize(c->cache) != bs)
		return EXT2_ET_INVALID_ARGUMENT;
	if (c->cache && write && (e = io_cache_drop(c->cache, block, count)))
		return dev_errcode(e, write);
	if (c->cache && !write && io_cache_dirty_in(c->cache, block, count))
		e = io_cache_read(c->cache, block, count, buf);
	else
		e = dev_io(c->dev, write, off, buf, len);
	return e ? dev_errcode(e, write) : 0;
}

/* ---- for the journal (journal.h) ------------------------------------------- */

void pv_ext2_io_journal_dev(io_channel ch, struct journal_dev *out)
{
	*out = (struct journal_dev){ .io = dev_io, .flush = dev_flush, .dev = chan_of(ch)->dev };
}

int pv_ext2_io_set_journal(io_channel ch, const struct io_journal *j)
{
	struct chan *c = chan_of(ch);

	if (!c->cache)
		c->cache = io_cache_new((unsigned)ch->block_size, CACHE_BYTES, dev_io, c->dev);
	if (!c->cache || io_cache_bsize(c->cache) != (unsigned)ch->block_size)
		return -ENOMEM;
	io_cache_set_journal(c->cache, j);
	return 0;
}

size_t pv_ext2_io_dirty(io_channel ch)
{
	struct chan *c = chan_of(ch);

	return c->cache ? io_cache_dirty(c->cache) : 0;
}
