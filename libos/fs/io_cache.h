/* A write-back block cache for the I/O manager (io_pvblk.c): whole
 * blocks of the channel's block size, least recently used clean ones
 * evicted.  Writes stay in memory until io_cache_writeback() (a sync
 * point: fsync, sync, unmount, or the file layer finding too many dirty
 * blocks at an operation's end), which hands every dirty block to the
 * journal, if there is one, then writes them in place in block order,
 * runs of neighbours as one request.  Reads of missing blocks go to the
 * device as runs too, and a read that continues the last one reads
 * ahead.  Errors are negative errno values from the device. */
#ifndef LIBOS_FS_IO_CACHE_H
#define LIBOS_FS_IO_CACHE_H

#include <stddef.h>
#include <stdint.h>

/* The device: len bytes at byte off, 0 or a negative errno. */
typedef int io_dev_fn(void *dev, int write, uint64_t off, void *buf, size_t len);

struct io_cache;

struct io_cache *io_cache_new(unsigned bsize, size_t bytes, io_dev_fn *fn, void *dev);
void io_cache_free(struct io_cache *c);      /* dirty blocks are lost */
unsigned io_cache_bsize(const struct io_cache *c);
int io_cache_read(struct io_cache *c, uint64_t block, size_t count, void *buf);
int io_cache_write(struct io_cache *c, uint64_t block, size_t count, const void *buf);
int io_cache_writeback(struct io_cache *c);
size_t io_cache_dirty(const struct io_cache *c);     /* dirty blocks */
/* A byte range inside the cache's blocks (read, patched, dirty). */
int io_cache_bytes(struct io_cache *c, int write, uint64_t off, void *buf, size_t len);
/* Blocks about to be written around the cache: the journal told (it
 * must not replay older copies over them), their copies forgotten, dirty
 * or not (the new data supersedes them).  0 or a negative errno. */
int io_cache_drop(struct io_cache *c, uint64_t block, size_t count);
/* Whether any of these blocks is dirty here (a read must see it). */
int io_cache_dirty_in(struct io_cache *c, uint64_t block, size_t count);

/* A journal around write-backs (journal.c).  commit() gets the dirty
 * blocks, sorted, before they go in place: 0 (journaled), 1 (not
 * journaled: in place alone) or a negative errno (nothing is written; the
 * blocks stay dirty).  overwrite() hears of blocks about to be written
 * around the cache. */
struct io_journal {
	int (*commit)(void *ctx, size_t n, const uint64_t *blocks, uint8_t *const *data);
	int (*overwrite)(void *ctx, uint64_t block, size_t count);
	void *ctx;
};
void io_cache_set_journal(struct io_cache *c, const struct io_journal *j);  /* NULL: none */
/* Whether a journal transaction committed (and was flushed) since the
 * last call. */
int io_cache_committed(struct io_cache *c);

#endif
