/* The write side of the I/O manager:
 *   fsread write DEV SIZE   through libext2fs: a directory /made-by-guest
 *                           holding pattern.bin of SIZE bytes, then a clean
 *                           close (superblock, descriptors, bitmaps, flush);
 *                           the host checks with e2fsck -fn and debugfs
 *   fsread io DEV MIB       the channel alone on a scratch device of MIB
 *                           MiB: whole
 *                           blocks, byte ranges with partial sectors at
 *                           both ends, ranges past the end, flush */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <et/com_err.h>
#include "fsread.h"

#define DIR_NAME  "made-by-guest"
#define FILE_NAME "pattern.bin"
#define CHUNK     (64 * 1024)

static int bad(const char *what, errcode_t e)
{
	say("fsread: FAIL %s: %s (%ld)\n", what, e ? error_message(e) : "mismatch", (long)e);
	return 1;
}

static void pattern(uint8_t *p, uint64_t from, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = fsread_pattern(from + i);
}

/* A new regular file named name in dir, as e2fsprogs' create_inode.c
 * makes one: inode, link (growing the directory if full), extents. */
static errcode_t new_file(ext2_filsys fs, ext2_ino_t dir, const char *name,
			  uint64_t size, ext2_ino_t *ino)
{
	struct ext2_inode inode = { 0 };
	errcode_t e;

	if ((e = ext2fs_new_inode(fs, dir, 010644, 0, ino)))
		return e;
	e = ext2fs_link(fs, dir, name, *ino, EXT2_FT_REG_FILE);
	if (e == EXT2_ET_DIR_NO_SPACE && !(e = ext2fs_expand_dir(fs, dir)))
		e = ext2fs_link(fs, dir, name, *ino, EXT2_FT_REG_FILE);
	if (e)
		return e;
	ext2fs_inode_alloc_stats2(fs, *ino, +1, 0);
	inode.i_mode = LINUX_S_IFREG | 0644;
	inode.i_atime = inode.i_ctime = inode.i_mtime = (uint32_t)time(NULL);
	inode.i_links_count = 1;
	if ((e = ext2fs_inode_size_set(fs, &inode, size)))
		return e;
	if (ext2fs_has_feature_extents(fs->super))
		inode.i_flags |= EXT4_EXTENTS_FL;
	return ext2fs_write_new_inode(fs, *ino, &inode);
}

static errcode_t fill_file(ext2_filsys fs, ext2_ino_t ino, uint64_t size, uint8_t *buf)
{
	ext2_file_t f = NULL;
	unsigned int wrote;
	errcode_t e = ext2fs_file_open(fs, ino, EXT2_FILE_WRITE, &f), e2;

	for (uint64_t at = 0; !e && at < size; at += wrote) {
		size_t n = size - at < CHUNK ? (size_t)(size - at) : CHUNK;

		pattern(buf, at, n);
		if (!(e = ext2fs_file_write(f, buf, (unsigned int)n, &wrote)) && !wrote)
			e = EXT2_ET_SHORT_WRITE;
	}
	e2 = f ? ext2fs_file_close(f) : 0;
	return e ? e : e2;
}

static errcode_t write_tree(ext2_filsys fs, uint64_t size, uint8_t *buf)
{
	ext2_ino_t dir, ino;
	errcode_t e;

	if ((e = ext2fs_read_bitmaps(fs)) ||
	    (e = ext2fs_mkdir(fs, EXT2_ROOT_INO, 0, DIR_NAME)) ||
	    (e = ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, DIR_NAME, &dir)) ||
	    (e = new_file(fs, dir, FILE_NAME, size, &ino)))
		return e;
	return fill_file(fs, ino, size, buf);
}

int fsread_write(const char *dev, uint64_t size)
{
	char why[160];
	ext2_filsys fs;
	uint8_t *buf = malloc(CHUNK);
	errcode_t e = pv_ext2_open(dev, PV_EXT2_RW, &fs, why, sizeof(why));

	if (e) {
		say("fsread: cannot open %s: %s\n", dev, why);
		return 1;
	}
	e = buf ? write_tree(fs, size, buf) : EXT2_ET_NO_MEMORY;
	free(buf);
	if (e) {
		ext2fs_close_free(&fs);
		return bad("write", e);
	}
	e = ext2fs_close2(fs, 0);          /* writes the metadata, flushes */
	if (e)
		return bad("close", e);
	say("fsread: write ok size=%llu\n", (unsigned long long)size);
	return 0;
}

/* ---- the channel alone -------------------------------------------------- */

static int same(io_channel ch, uint64_t off, size_t n, uint8_t *got, uint8_t *want)
{
	errcode_t e;

	io_channel_set_blksize(ch, 1);      /* so that block = byte offset */
	e = io_channel_read_blk64(ch, off, -(int)n, got);
	if (e)
		return bad("read back", e);
	return memcmp(got, want, n) ? bad("compare", 0) : 0;
}

/* 3 blocks of 4 KiB at 8 KiB, then 1000 bytes at 8 KiB + 100 (a partial
 * sector at each end) overwritten with the pattern shifted by 7. */
static int io_ranges(io_channel ch, uint8_t *a, uint8_t *b)
{
	errcode_t e;

	pattern(a, 8192, 3 * 4096);
	io_channel_set_blksize(ch, 4096);
	if ((e = io_channel_write_blk64(ch, 2, 3, a)))
		return bad("write blocks", e);
	if (same(ch, 8192, 3 * 4096, b, a))
		return 1;
	pattern(a + 100, 8192 + 100 + 7, 1000);
	if ((e = io_channel_write_byte(ch, 8192 + 100, 1000, a + 100)))
		return bad("write bytes", e);
	return same(ch, 8192, 3 * 4096, b, a);
}

static int io_edges(io_channel ch, uint64_t capacity, uint8_t *a)
{
	errcode_t r, w;

	io_channel_set_blksize(ch, 4096);
	r = io_channel_read_blk64(ch, capacity / 4096, 1, a);
	w = io_channel_write_blk64(ch, capacity / 4096 - 1, 2, a);
	say("fsread: past the end: read %ld write %ld\n", (long)r, (long)w);
	if (r != EXT2_ET_SHORT_READ || w != EXT2_ET_SHORT_WRITE)
		return bad("past the end", r);
	return 0;
}

int fsread_io(const char *dev, uint64_t capacity)
{
	io_channel ch;
	uint8_t *a = malloc(3 * 4096), *b = malloc(3 * 4096);
	errcode_t e = pv_ext2_io_manager->open(dev, IO_FLAG_RW, &ch);
	int r;

	if (e || !a || !b)
		return bad("open channel", e);
	r = io_ranges(ch, a, b) || io_edges(ch, capacity, a);
	if (!r && (e = io_channel_flush(ch)))
		r = bad("flush", e);
	io_channel_close(ch);
	free(a);
	free(b);
	if (!r)
		say("fsread: io ok\n");
	return r;
}
