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

static long read_at(struct fs_file *f, void *buf, size_t n, uint64_t off)
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

static uint64_t size_of(struct fs_file *f)
{
	struct stat st;

	return fs_stat(&f->node, &st) ? 0 : (uint64_t)st.st_size;
}

/* What was written, even when the device filled up part way (ENOSPC only
 * when nothing was). */
static long write_at(struct fs_file *f, const void *buf, size_t n, uint64_t off)
{
	ext2_file_t ef;
	unsigned put = 0;
	errcode_t e, c;

	if (!n)
		return 0;
	if (!(n = fs_space_for(&f->node, off, n)))
		return -ENOSPC;
	if ((e = ext2fs_file_open(fsof(f), f->node.ino, EXT2_FILE_WRITE, &ef)))
		return fs_errno(e);
	if (!(e = ext2fs_file_llseek(ef, off, EXT2_SEEK_SET, NULL)))
		e = ext2fs_file_write(ef, buf, (unsigned)n, &put);
	c = ext2fs_file_close(ef);         /* writes the last block and the size */
	if (!e)
		e = c;
	if (put)
		fs_touch(&f->node, FS_MTIME | FS_CTIME);
	return (put && !c) || !e ? (long)put : fs_errno(e);
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
	    !fs_read_inode(&f->node, &ino) && ino.i_links_count == 0)
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
