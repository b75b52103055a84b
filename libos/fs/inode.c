/* Inode attributes: stat, times, size, symlink targets.  Inodes are read
 * whole (struct ext2_inode_large: the nanosecond and creation times live
 * past the old 128 bytes when the file system's inodes are larger). */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "fs.h"

int fs_read_inode(const struct fs_node *n, struct ext2_inode_large *ino)
{
	memset(ino, 0, sizeof(*ino));
	errcode_t e = ext2fs_read_inode_full(n->mnt->fs, n->ino, (struct ext2_inode *)ino,
					     sizeof(*ino));

	return e ? fs_errno(e) : 0;
}

int fs_write_inode(const struct fs_node *n, struct ext2_inode_large *ino)
{
	errcode_t e = ext2fs_write_inode_full(n->mnt->fs, n->ino, (struct ext2_inode *)ino,
					      sizeof(*ino));

	return e ? fs_errno(e) : 0;
}

/* ---- times: seconds in the old fields, nanoseconds and epoch bits in the
 * *_extra ones where the inode has them ------------------------------------ */

static int has_extra(const struct ext2_inode_large *ino, size_t end)
{
	return (size_t)EXT2_GOOD_OLD_INODE_SIZE + ino->i_extra_isize >= end;
}

#define HAS(ino, field) has_extra(ino, offsetof(struct ext2_inode_large, field) + 4)

static uint32_t extra_of(int64_t sec, long nsec)
{
	return (uint32_t)(((uint64_t)(sec - (int32_t)sec) >> 32) & EXT4_EPOCH_MASK) |
	       (uint32_t)nsec << EXT4_EPOCH_BITS;
}

static struct timespec time_of(uint32_t sec, uint32_t extra, int has)
{
	struct timespec t = { (int32_t)sec, 0 };

	if (has) {
		t.tv_sec += (int64_t)(extra & EXT4_EPOCH_MASK) << 32;
		t.tv_nsec = extra >> EXT4_EPOCH_BITS;
	}
	return t;
}

static struct timespec now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return t;
}

static void set_atime(struct ext2_inode_large *ino, struct timespec t)
{
	ino->i_atime = (uint32_t)t.tv_sec;
	if (HAS(ino, i_atime_extra))
		ino->i_atime_extra = extra_of(t.tv_sec, t.tv_nsec);
}

static void set_mtime(struct ext2_inode_large *ino, struct timespec t)
{
	ino->i_mtime = (uint32_t)t.tv_sec;
	if (HAS(ino, i_mtime_extra))
		ino->i_mtime_extra = extra_of(t.tv_sec, t.tv_nsec);
}

static void set_ctime(struct ext2_inode_large *ino, struct timespec t)
{
	ino->i_ctime = (uint32_t)t.tv_sec;
	if (HAS(ino, i_ctime_extra))
		ino->i_ctime_extra = extra_of(t.tv_sec, t.tv_nsec);
}

/* A new inode's times, creation time included. */
void fs_init_times(struct ext2_inode_large *ino)
{
	struct timespec t = now();

	set_atime(ino, t);
	set_mtime(ino, t);
	set_ctime(ino, t);
	if (HAS(ino, i_crtime_extra)) {
		ino->i_crtime = (uint32_t)t.tv_sec;
		ino->i_crtime_extra = extra_of(t.tv_sec, t.tv_nsec);
	}
}

int fs_touch(const struct fs_node *n, int what)
{
	struct ext2_inode_large ino;
	struct timespec t = now();
	int r = fs_read_inode(n, &ino);

	if (r)
		return r;
	if (what & FS_ATIME)
		set_atime(&ino, t);
	if (what & FS_MTIME)
		set_mtime(&ino, t);
	if (what & FS_CTIME)
		set_ctime(&ino, t);
	return fs_write_inode(n, &ino);
}

/* UTIME_NOW / UTIME_OMIT as utimensat() has them; ctime is always now. */
int fs_set_times(const struct fs_node *n, const struct timespec ts[2])
{
	struct ext2_inode_large ino;
	struct timespec t = now();
	int r = fs_read_inode(n, &ino);

	if (r)
		return r;
	if (ts[0].tv_nsec != UTIME_OMIT)
		set_atime(&ino, ts[0].tv_nsec == UTIME_NOW ? t : ts[0]);
	if (ts[1].tv_nsec != UTIME_OMIT)
		set_mtime(&ino, ts[1].tv_nsec == UTIME_NOW ? t : ts[1]);
	set_ctime(&ino, t);
	return fs_write_inode(n, &ino);
}

/* ---- owner and mode ----------------------------------------------------------- */

/* The permission bits (the file type stays); ctime moves. */
int fs_set_mode(const struct fs_node *n, mode_t mode)
{
	struct ext2_inode_large ino;
	int r = fs_read_inode(n, &ino);

	if (r)
		return r;
	ino.i_mode = (uint16_t)((ino.i_mode & LINUX_S_IFMT) | (mode & 07777));
	set_ctime(&ino, now());
	return fs_write_inode(n, &ino);
}

/* Owner and group ((uid_t)-1, (gid_t)-1: unchanged; newlib's ids are 16
 * bits).  A change drops set-user-ID and set-group-ID, as Linux does. */
int fs_set_owner(const struct fs_node *n, uid_t uid, gid_t gid)
{
	struct ext2_inode_large ino;
	int r = fs_read_inode(n, &ino);

	if (r)
		return r;
	if (uid != (uid_t)-1) {
		ino.i_uid = (uint16_t)uid;
		ext2fs_set_i_uid_high(ino, (uint32_t)uid >> 16);
	}
	if (gid != (gid_t)-1) {
		ino.i_gid = (uint16_t)gid;
		ext2fs_set_i_gid_high(ino, (uint32_t)gid >> 16);
	}
	if (!LINUX_S_ISDIR(ino.i_mode))
		ino.i_mode &= (uint16_t)~06000;
	set_ctime(&ino, now());
	return fs_write_inode(n, &ino);
}

/* ---- stat ------------------------------------------------------------------ */

static void stat_synthetic(struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFDIR | 0555;
	st->st_nlink = 2;
	st->st_blksize = 4096;
}

static dev_t dev_of(const struct fs_mount *m)
{
	return (dev_t)(1 + (m - fs_mounts));
}

int fs_stat(const struct fs_node *n, struct stat *st)
{
	struct ext2_inode_large ino;
	int r;

	if (!n->mnt)
		return stat_synthetic(st), 0;
	if ((r = fs_read_inode(n, &ino)))
		return r;
	memset(st, 0, sizeof(*st));
	st->st_dev = dev_of(n->mnt);
	st->st_ino = n->ino;
	st->st_mode = ino.i_mode;
	st->st_nlink = ino.i_links_count;
	st->st_uid = inode_uid(ino);
	st->st_gid = inode_gid(ino);
	st->st_size = EXT2_I_SIZE(&ino);
	st->st_blksize = n->mnt->fs->blocksize;
	st->st_blocks = ext2fs_get_stat_i_blocks(n->mnt->fs, (struct ext2_inode *)&ino);
	st->st_atim = time_of(ino.i_atime, ino.i_atime_extra, HAS(&ino, i_atime_extra));
	st->st_mtim = time_of(ino.i_mtime, ino.i_mtime_extra, HAS(&ino, i_mtime_extra));
	st->st_ctim = time_of(ino.i_ctime, ino.i_ctime_extra, HAS(&ino, i_ctime_extra));
	return 0;
}

int fs_is_dir(const struct fs_node *n)
{
	struct ext2_inode_large ino;
	int r;

	if (!n->mnt)
		return 1;
	return (r = fs_read_inode(n, &ino)) ? r : LINUX_S_ISDIR(ino.i_mode);
}

/* ---- symlink targets ---------------------------------------------------------- */

static int read_file_bytes(const struct fs_node *n, char *buf, unsigned len)
{
	ext2_file_t f;
	unsigned got = 0;
	errcode_t e = ext2fs_file_open(n->mnt->fs, n->ino, 0, &f);

	if (e)
		return fs_errno(e);
	e = ext2fs_file_read(f, buf, len, &got);
	ext2fs_file_close(f);
	return e ? fs_errno(e) : got == len ? 0 : -EIO;
}

/* The target, not NUL terminated, at most size bytes; its length. */
int fs_readlink(const struct fs_node *n, char *buf, size_t size)
{
	struct ext2_inode_large ino;
	int r;

	if (!n->mnt)
		return -EINVAL;
	if ((r = fs_read_inode(n, &ino)))
		return r;
	if (!LINUX_S_ISLNK(ino.i_mode))
		return -EINVAL;
	uint64_t len = EXT2_I_SIZE(&ino);

	if (!len || len >= FS_PATH_MAX)
		return -EIO;               /* no symlink made by Linux is like that */
	if (len > size)
		len = size;
	if (ext2fs_is_fast_symlink((struct ext2_inode *)&ino)) {
		memcpy(buf, ino.i_block, len);
		return (int)len;
	}
	return (r = read_file_bytes(n, buf, (unsigned)len)) ? r : (int)len;
}

/* ---- size ------------------------------------------------------------------------ */

int fs_truncate(const struct fs_node *n, uint64_t size)
{
	ext2_file_t f;
	errcode_t e;

	if (!n->mnt->holding)
		n->mnt->freed = 1;
	e = ext2fs_file_open(n->mnt->fs, n->ino, EXT2_FILE_WRITE, &f);

	if (e)
		return fs_errno(e);
	e = ext2fs_file_set_size2(f, size);
	errcode_t c = ext2fs_file_close(f);

	if (e || c)
		return fs_errno(e ? e : c);
	return fs_touch(n, FS_MTIME | FS_CTIME);
}
