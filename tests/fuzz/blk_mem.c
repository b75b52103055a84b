/* pv_blk.h over memory (see blk_mem.h).  The same contract as
 * libos/drivers/blkfront.c for what the I/O manager uses: whole sectors,
 * -ERANGE past the end, -EINVAL for a length not in sectors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <pv_blk.h>
#include "blk_mem.h"

struct pv_blk {
	uint8_t *bytes;
	uint64_t capacity;
	uint64_t dirty;          /* bytes [0, dirty) may be non-zero */
};

static struct pv_blk disk;

void blk_mem_init(uint64_t bytes)
{
	disk.bytes = calloc(1, bytes);
	disk.capacity = disk.bytes ? bytes : 0;
}

/* Only what the last input or write touched needs zeroing. */
void blk_mem_load(const uint8_t *data, size_t len)
{
	if (len > disk.capacity)
		len = disk.capacity;
	memset(disk.bytes, 0, disk.dirty);
	memcpy(disk.bytes, data, len);
	disk.dirty = len;
}

uint8_t *blk_mem_bytes(void)
{
	return disk.bytes;
}

struct pv_blk *pv_blk_open(const char *name)
{
	if (strcmp(name, BLK_MEM_NAME) || !disk.bytes) {
		errno = ENODEV;
		return NULL;
	}
	return &disk;
}

void pv_blk_info(const struct pv_blk *dev, struct pv_blk_info *out)
{
	memset(out, 0, sizeof(*out));
	out->capacity = dev->capacity;
	out->sector_size = PV_BLK_SECTOR;
	out->sectors = dev->capacity / PV_BLK_SECTOR;
	strcpy(out->name, BLK_MEM_NAME);
}

static int check(const struct pv_blk *dev, uint64_t sector, size_t len)
{
	if (len == 0 || len % PV_BLK_SECTOR)
		return -EINVAL;
	if (sector > dev->capacity / PV_BLK_SECTOR ||
	    len / PV_BLK_SECTOR > dev->capacity / PV_BLK_SECTOR - sector)
		return -ERANGE;
	return 0;
}

int pv_blk_read(struct pv_blk *dev, uint64_t sector, void *buf, size_t len)
{
	int e = check(dev, sector, len);

	if (!e)
		memcpy(buf, dev->bytes + sector * PV_BLK_SECTOR, len);
	return e;
}

int pv_blk_write(struct pv_blk *dev, uint64_t sector, const void *buf, size_t len)
{
	int e = check(dev, sector, len);
	uint64_t end = sector * PV_BLK_SECTOR + len;

	if (e)
		return e;
	memcpy(dev->bytes + sector * PV_BLK_SECTOR, buf, len);
	if (end > dev->dirty)
		dev->dirty = end;
	return 0;
}

int pv_blk_flush(struct pv_blk *dev)
{
	return 0;
}
