/* Open regular files: the descriptor ops (libc/fd.c) over libext2fs.
 * Each call opens an ext2_file_t for the inode and closes it again, so two
 * descriptors of one file (or a rename meanwhile) always see the inode as
 * it is; the position is the open file's own.  Reads do not update atime
 * (as Linux's noatime): a read never writes.  A file whose last name was
 * removed while open lives until its last descriptor closes. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pv_ext2.h>

#include "fs.h"
#include "libos.h"

struct fs_file {
	struct fs_node node;
	uint64_t pos;
	struct fs_file *next;              /* every open file (open_files) */
};

static struct fs_file *open_files;

int fs_file_is_open(const struct fs_node *n)
{
	for (struct fs_file *f = open_files; f; f = f->next)
		if (f->node.mnt == n->mnt && f->node.ino == n->ino)
			return 1;
	return 0;
}

static ext2_filsys fsof(const struct fs_file *f)
{
	return f->node.mnt->fs;
}

/* ---- reading and writing at an offset ------------------------------------ */

/* ---- whole blocks of data: runs of neighbouring physical blocks, one
 * device request each, around the block cache (pv_ext2_io_direct) ----- */

#define RUN_MAX 256                    /* blocks per request (1 MiB of 4 KiB) */

/* The physical block of logical block lblk: 0 for a hole or an unwritten
 * extent (both read as zeros). */
static int map_block(struct fs_file *f, struct ext2_inode_large *ino, uint64_t lblk, blk64_t *p)
{
	int flags = 0;
	errcode_t e = ext2fs_bmap2(fsof(f), f->node.ino, (struct ext2_inode *)ino, NULL, 0,
				   lblk, &flags, p);

	if (e)
		return fs_errno(e);
	if (flags & BMAP_RET_UNINIT)
		*p = 0;
	return 0;
}

/* Blocks mapped one at a time (block-mapped files, holes): the run at
 * lblk of neighbouring physical blocks, or of holes, at most max long. */
static int map_blocks(struct fs_file *f, struct ext2_inode_large *ino, uint64_t lblk,
		      uint64_t max, blk64_t *first, uint64_t *len)
{
	blk64_t p;
	int r = map_block(f, ino, lblk, first);

	for (*len = 1; !r && *len < max && !(r = map_block(f, ino, lblk + *len, &p)) &&
	     p == (*first ? *first + *len : 0); ++*len)
		;
	return r;
}

/* The run at lblk, at most max blocks: its first physical block (0: a
 * hole or an unwritten extent, read as zeros) and its length.  In an
 * extent-mapped file the extent holding lblk says it in one lookup. */
static int map_run(struct fs_file *f, struct ext2_inode_large *ino, uint64_t lblk,
		   uint64_t max, blk64_t *first, uint64_t *len)
{
	ext2_extent_handle_t h;
	struct ext2fs_extent x;
	errcode_t e;
	int found;

	if (!(ino->i_flags & EXT4_EXTENTS_FL))
		return map_blocks(f, ino, lblk, max, first, len);
	if ((e = ext2fs_extent_open2(fsof(f), f->node.ino, (struct ext2_inode *)ino, &h)))
		return fs_errno(e);
	found = !ext2fs_extent_goto(h, lblk) && !ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &x) &&
		x.e_lblk <= lblk && lblk - x.e_lblk < x.e_len;
	ext2fs_extent_free(h);
	if (!found)                        /* a hole: block by block */
		return map_blocks(f, ino, lblk, max, first, len);
	*len = x.e_lblk + x.e_len - lblk < max ? x.e_lblk + x.e_len - lblk : max;
	*first = (x.e_flags & EXT2_EXTENT_FLAGS_UNINIT) ? 0 : x.e_pblk + (lblk - x.e_lblk);
	return 0;
}

/* Blocks [lblk, lblk + count) of the file into buf. */
static int read_blocks(struct fs_file *f, struct ext2_inode_large *ino, uint64_t lblk,
		       uint64_t count, char *buf)
{
	uint64_t bs = fsof(f)->blocksize;

	while (count) {
		blk64_t first;
		uint64_t run;
		int r = map_run(f, ino, lblk, count < RUN_MAX ? count : RUN_MAX, &first, &run);
		errcode_t e = r || !first ? 0 : pv_ext2_io_direct(fsof(f)->io, 0, first, run, buf);

		if (r || e)
			return r ? r : fs_errno(e);
		if (!first)
			memset(buf, 0, run * bs);
		buf += run * bs;
		lblk += run;
		count -= run;
	}
	return 0;
}

/* Through libext2fs's file API: partial blocks, inline data. */
static long read_small(struct fs_file *f, void *buf, size_t n, uint64_t off)
{
	ext2_file_t ef;
	unsigned got = 0;
	errcode_t e = ext2fs_file_open(fsof(f), f->node.ino, 0, &ef);

	if (e)
		return fs_errno(e);
	if (!(e = ext2fs_file_llseek(ef, off, EXT2_SEEK_SET, NULL)))
		e = ext2fs_file_read(ef, buf, (unsigned)n, &got);
	ext2fs_file_close(ef);
	return got ? (long)got : e ? fs_errno(e) : 0;
}

/* Up to n bytes at off: a partial first block, whole blocks in runs, a
 * partial last block; short only at the end of the file. */
static long read_at(struct fs_file *f, void *buf, size_t n, uint64_t off)
{
	struct ext2_inode_large ino;
	uint64_t bs = fsof(f)->blocksize, size, whole;
	size_t done = 0;
	long r = fs_read_inode(&f->node, &ino);

	if (r)
		return r;
	size = EXT2_I_SIZE(&ino);
	if (off >= size)
		return 0;
	if (n > size - off)
		n = (size_t)(size - off);
	if (ino.i_flags & EXT4_INLINE_DATA_FL)
		return read_small(f, buf, n, off);
	if (off % bs) {
		if ((r = read_small(f, buf, n < bs - off % bs ? n : (size_t)(bs - off % bs), off)) <= 0)
			return r;
		done = (size_t)r;
	}
	if ((whole = (n - done) / bs)) {
		if ((r = read_blocks(f, &ino, (off + done) / bs, whole, (char *)buf + done)))
			return done ? (long)done : r;
		done += whole * bs;
	}
	if (done < n && (r = read_small(f, (char *)buf + done, n - done, off + done)) > 0)
		done += (size_t)r;
	return done ? (long)done : r;
}

static uint64_t size_of(struct fs_file *f)
{
	struct stat st;

	return fs_stat(&f->node, &st) ? 0 : (uint64_t)st.st_size;
}

/* Through libext2fs's file API: partial blocks, block-mapped (ext2) and
 * inline files.  What was written, even when the disk filled up part way. */
static long write_small(struct fs_file *f, const void *buf, size_t n, uint64_t off)
{
	ext2_file_t ef;
	unsigned put = 0;
	errcode_t e, c;

	if ((e = ext2fs_file_open(fsof(f), f->node.ino, EXT2_FILE_WRITE, &ef)))
		return fs_errno(e);
	if (!(e = ext2fs_file_llseek(ef, off, EXT2_SEEK_SET, NULL)))
		e = ext2fs_file_write(ef, buf, (unsigned)n, &put);
	c = ext2fs_file_close(ef);         /* writes the last block and the size */
	if (!e)
		e = c;
	return (put && !c) || !e ? (long)put : fs_errno(e);
}

/* Blocks [lblk, lblk + count) of an extent-mapped file from buf: the
 * missing ones allocated in one go (ext2fs_fallocate, initialized, not
 * zeroed: the data follows at once), then written in runs around the
 * cache.  The data reaches the disk before the metadata that points to it
 * (which waits in the cache for the next sync). */
static int write_blocks(struct fs_file *f, uint64_t lblk, uint64_t count, const char *buf)
{
	struct ext2_inode_large ino;
	uint64_t bs = fsof(f)->blocksize;
	errcode_t e;
	int r;

	/* Blocks freed since the last sync may be handed out again here, and
	 * the data goes straight to them: the freeing must be on the disk
	 * first, or a crash would leave the old file (still named there)
	 * pointing at the new one's data. */
	if (f->node.mnt->freed && (r = fs_sync_mount(f->node.mnt, 1)))
		return r;
	if ((r = fs_read_inode(&f->node, &ino)))
		return r;
	e = ext2fs_fallocate(fsof(f), EXT2_FALLOCATE_FORCE_INIT | EXT2_FALLOCATE_INIT_BEYOND_EOF,
			     f->node.ino, (struct ext2_inode *)&ino, ~0ULL, lblk, count);
	/* The extent code changed ino in place (its tree's root, i_blocks)
	 * and wrote only some of it: all of it goes back now. */
	if ((r = fs_write_inode(&f->node, &ino)) || e)
		return e ? fs_errno(e) : r;
	while (count) {
		blk64_t first;
		uint64_t run;

		if ((r = map_run(f, &ino, lblk, count < RUN_MAX ? count : RUN_MAX, &first, &run)))
			return r;
		if (!first)
			return -EIO;               /* fallocate left a hole */
		if ((e = pv_ext2_io_direct(fsof(f)->io, 1, first, run, (void *)buf)))
			return fs_errno(e);
		buf += run * bs;
		lblk += run;
		count -= run;
	}
	return 0;
}

static int grow_to(struct fs_file *f, uint64_t end)
{
	struct ext2_inode_large ino;
	int r = fs_read_inode(&f->node, &ino);

	if (r || EXT2_I_SIZE(&ino) >= end)
		return r;
	errcode_t e = ext2fs_inode_size_set(fsof(f), (struct ext2_inode *)&ino, end);

	return e ? fs_errno(e) : fs_write_inode(&f->node, &ino);
}

/* Whole blocks of an extent-mapped file go around libext2fs's per-block
 * file API; the rest through it. */
static long write_parts(struct fs_file *f, const char *buf, size_t n, uint64_t off)
{
	struct ext2_inode_large ino;
	uint64_t bs = fsof(f)->blocksize, whole;
	size_t done = 0;
	long r = fs_read_inode(&f->node, &ino);

	if (r)
		return r;
	if (!(ino.i_flags & EXT4_EXTENTS_FL) || (ino.i_flags & EXT4_INLINE_DATA_FL) || n < bs)
		return write_small(f, buf, n, off);
	if (off % bs) {
		if ((r = write_small(f, buf, (size_t)(bs - off % bs), off)) <= 0)
			return r;
		done = (size_t)r;
	}
	if ((whole = (n - done) / bs)) {
		if ((r = write_blocks(f, (off + done) / bs, whole, buf + done)) ||
		    (r = grow_to(f, off + done + whole * bs)))
			return done ? (long)done : r;
		done += whole * bs;
	}
	if (done < n && (r = write_small(f, buf + done, n - done, off + done)) > 0)
		done += (size_t)r;
	return done ? (long)done : r;
}

/* What was written, even when the device filled up part way (ENOSPC only
 * when nothing was). */
static long write_at(struct fs_file *f, const void *buf, size_t n, uint64_t off)
{
	long r;

	if (!n)
		return 0;
	if (!(n = fs_space_for(&f->node, off, n)))
		return -ENOSPC;
	if ((r = write_parts(f, buf, n, off)) > 0)
		fs_touch(&f->node, FS_MTIME | FS_CTIME);
	return r;
}

/* ---- the ops ----------------------------------------------------------------- */

static long file_pread(void *obj, void *buf, size_t n, int64_t off)
{
	long r;

	fs_lock();
	r = read_at(obj, buf, n, (uint64_t)off);
	fs_unlock();
	return r;
}

static long file_read(void *obj, void *buf, size_t n)
{
	struct fs_file *f = obj;
	long r;

	fs_lock();
	if ((r = read_at(f, buf, n, f->pos)) > 0)
		f->pos += (uint64_t)r;
	fs_unlock();
	return r;
}

static long file_pwrite(void *obj, const void *buf, size_t n, int64_t off)
{
	struct fs_file *f = obj;
	long r;

	fs_lock();
	r = (r = fs_writable(&f->node)) ? r : write_at(f, buf, n, (uint64_t)off);
	fs_unlock();
	return r;
}

static long file_write(void *obj, const void *buf, size_t n, int flags)
{
	struct fs_file *f = obj;
	long r;

	fs_lock();
	if (!(r = fs_writable(&f->node))) {
		if (flags & O_APPEND)
			f->pos = size_of(f);
		if ((r = write_at(f, buf, n, f->pos)) > 0)
			f->pos += (uint64_t)r;
	}
	fs_unlock();
	return r;
}

static int64_t file_lseek(void *obj, int64_t off, int whence)
{
	struct fs_file *f = obj;
	int64_t base;

	fs_lock();
	base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int64_t)f->pos :
	       whence == SEEK_END ? (int64_t)size_of(f) : -1;
	fs_unlock();
	if (base < 0 || (off > 0 && base > INT64_MAX - off) || base + off < 0)
		return -EINVAL;
	f->pos = (uint64_t)(base + off);
	return (int64_t)f->pos;
}

static int file_fstat(void *obj, struct stat *st)
{
	int r;

	fs_lock();
	r = fs_stat(&((struct fs_file *)obj)->node, st);
	fs_unlock();
	return r;
}

static int file_ftruncate(void *obj, int64_t len)
{
	struct fs_file *f = obj;
	int r;

	fs_lock();
	r = (r = fs_writable(&f->node)) ? r : fs_truncate(&f->node, (uint64_t)len);
	fs_unlock();
	return r;
}

static int file_fsync(void *obj, int datasync)
{
	struct fs_file *f = obj;
	int r;

	fs_lock();
	r = f->node.mnt->readonly ? 0 : fs_sync_mount(f->node.mnt, 1);
	fs_unlock();
	return r;
}

static void unlist(struct fs_file *f)
{
	for (struct fs_file **p = &open_files; *p; p = &(*p)->next)
		if (*p == f) {
			*p = f->next;
			return;
		}
}

/* The last descriptor: an unlinked file goes now. */
static int file_close(void *obj)
{
	struct fs_file *f = obj;
	struct ext2_inode_large ino;
	int r = 0;

	fs_lock();
	unlist(f);
	if (f->node.mnt->fs && !f->node.mnt->readonly && !fs_file_is_open(&f->node) &&
	    !fs_read_inode(&f->node, &ino) && ino.i_links_count == 0 &&
	    !(r = fs_orphan_remove(&f->node)))
		r = fs_release(&f->node);
	fs_unlock();
	free(f);
	return r;
}

static const struct libos_file_ops file_ops = {
	.read = file_read,
	.write = file_write,
	.pread = file_pread,
	.pwrite = file_pwrite,
	.lseek = file_lseek,
	.fstat = file_fstat,
	.ftruncate = file_ftruncate,
	.fsync = file_fsync,
	.close = file_close,
};

/* A descriptor for node n (a regular file, checked by the caller). */
int fs_file_open(const struct fs_node *n, int flags)
{
	struct fs_file *f = calloc(1, sizeof(*f));
	int fd;

	if (!f)
		return -ENOMEM;
	f->node = *n;
	if ((fd = libos_fd_install(&file_ops, f, flags & (O_ACCMODE | O_APPEND | O_NONBLOCK))) < 0) {
		free(f);
		return fd;
	}
	f->next = open_files;
	open_files = f;
	return fd;
}

/* The node behind a file descriptor (fstatvfs). */
int fs_file_node(int fd, struct fs_node *out)
{
	struct fs_file *f = libos_fd_object(fd, &file_ops);

	if (!f)
		return -EBADF;
	*out = f->node;
	return 0;
}
