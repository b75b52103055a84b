/* A write-back block cache for the I/O manager (io_pvblk.c): whole
 * blocks of the channel's block size, least recently used evicted.
 * Writes stay in memory until io_cache_writeback() (an fsync, unmount, or
 * a dirty block needed for room), which writes every dirty block in
 * block order, runs of neighbours as one request.  Reads of missing
 * blocks go to the device as runs too, and a read that continues the last
 * one reads ahead.  Errors are negative errno values from the device. */
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
/* Bytes [off, off + len) are about to be read or written around the
 * cache: dirty blocks there are written back first, and all are dropped. */
int io_cache_bypass(struct io_cache *c, uint64_t off, size_t len);

#endif
