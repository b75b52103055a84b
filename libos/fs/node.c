/* Namespace changes on libext2fs: names made, linked, removed and moved,
 * as fuse2fs (e2fsprogs' FUSE driver) maps them, with POSIX's checks.
 * Callers hold fs_lock, have checked that the mount is writable, and pass
 * names already checked (fs_lookup_parent).  Owner 0:0; permission bits
 * as given, less the fixed umask 022. */
#include <errno.h>
#include <string.h>

#include "fs.h"

#define LINKS_MAX 65000                /* EXT4_LINK_MAX */

static ext2_filsys fsof(const struct fs_node *n)
{
	return n->mnt->fs;
}

int fs_find(const struct fs_node *dir, const char *name, struct fs_node *out)
{
	ext2_ino_t ino;
	int r = dcache_lookup(dir, name, &ino);

	if (r == 1) {                      /* not cached: libext2fs scans */
		errcode_t e = ext2fs_lookup(fsof(dir), dir->ino, name, (int)strlen(name), NULL, &ino);

		r = e ? fs_errno(e) : 0;
	}
	if (!r)
		*out = (struct fs_node){ dir->mnt, ino };
	return r;
}

/* A libext2fs change of dir's names: kept in the directory cache when it
 * worked, the cached names forgotten when it did not (half done?). */
static int named(const struct fs_node *dir, const char *name, ext2_ino_t ino, errcode_t e)
{
	if (e)
		dcache_forget(dir);
	else if (ino)
		dcache_add(dir, name, ino);
	else
		dcache_remove(dir, name);
	return e ? fs_errno(e) : 0;
}

/* libext2fs can fail half way through an extent-tree change when the
 * disk fills up, leaving the tree damaged; so no call starts unless the
 * blocks it needs are free with a margin (as fuse2fs does).  Root may use
 * the blocks reserved for root: the app is the only user. */
#define SPACE_MARGIN 32

/* Free blocks the allocator may hand out: those held since the last
 * commit (held.c) are not, until a sync point lets them go, which is
 * made here when they are what is missing. */
static uint64_t usable(const struct fs_node *n, uint64_t need)
{
	struct fs_mount *m = n->mnt;
	uint64_t free = ext2fs_free_blocks_count(fsof(n)->super);

	if (m->held_blocks && (free <= m->held_blocks || free - m->held_blocks <= need + SPACE_MARGIN))
		fs_sync_mount(m, 1);
	free = ext2fs_free_blocks_count(fsof(n)->super);
	return free > m->held_blocks ? free - m->held_blocks : 0;
}

int fs_space(const struct fs_node *n, uint64_t blocks)
{
	return usable(n, blocks) > blocks + SPACE_MARGIN ? 0 : -ENOSPC;
}

/* How many of n bytes at off fit the free space (0: none). */
uint64_t fs_space_for(const struct fs_node *n, uint64_t off, uint64_t len)
{
	uint64_t bs = fsof(n)->blocksize, free = usable(n, (off % bs + len + bs - 1) / bs);
	uint64_t room = free > SPACE_MARGIN ? free - SPACE_MARGIN : 0;
	uint64_t blocks = (off % bs + len + bs - 1) / bs;

	room -= room / 256;            /* extent blocks, roughly */
	if (blocks <= room)
		return len;
	return room * bs > off % bs ? room * bs - off % bs : 0;
}

static int file_type(mode_t mode)
{
	return LINUX_S_ISDIR(mode) ? EXT2_FT_DIR : LINUX_S_ISLNK(mode) ? EXT2_FT_SYMLINK :
	       LINUX_S_ISREG(mode) ? EXT2_FT_REG_FILE : EXT2_FT_UNKNOWN;
}

/* ext2fs_link(), growing the directory by a block when it is full. */
static int add_name(const struct fs_node *dir, const char *name, ext2_ino_t ino, mode_t mode)
{
	errcode_t e = ext2fs_link(fsof(dir), dir->ino, name, ino, file_type(mode));

	if (e == EXT2_ET_DIR_NO_SPACE && !(e = ext2fs_expand_dir(fsof(dir), dir->ino)))
		e = ext2fs_link(fsof(dir), dir->ino, name, ino, file_type(mode));
	return named(dir, name, ino, e);
}

static int no_name(const struct fs_node *dir, const char *name)
{
	struct fs_node n;
	int r = fs_find(dir, name, &n);

	return r == -ENOENT ? 0 : r ? r : -EEXIST;
}

/* ---- making names --------------------------------------------------------- */

/* An empty inode's fields; extents where the file system has them. */
static int init_inode(const struct fs_node *n, mode_t mode, struct ext2_inode_large *ino)
{
	ext2_filsys fs = fsof(n);

	memset(ino, 0, sizeof(*ino));
	ino->i_mode = mode;
	ino->i_links_count = 1;
	if (EXT2_INODE_SIZE(fs->super) > EXT2_GOOD_OLD_INODE_SIZE)
		ino->i_extra_isize = sizeof(*ino) - EXT2_GOOD_OLD_INODE_SIZE;
	fs_init_times(ino);
	if (ext2fs_has_feature_extents(fs->super)) {
		ext2_extent_handle_t h;
		errcode_t e = ext2fs_extent_open2(fs, n->ino, (struct ext2_inode *)ino, &h);

		if (e)
			return fs_errno(e);
		ext2fs_extent_free(h);     /* it wrote an empty extent header */
	}
	return 0;
}

int fs_create(const struct fs_node *dir, const char *name, mode_t mode, struct fs_node *out)
{
	struct ext2_inode_large ino;
	ext2_ino_t i;
	int r;

	mode = LINUX_S_IFREG | (mode & 07777 & ~fs_umask);
	if ((r = fs_space(dir, 2)) || (r = no_name(dir, name)))
		return r;
	errcode_t e = ext2fs_new_inode(fsof(dir), dir->ino, mode, 0, &i);

	if (e)
		return fs_errno(e);
	*out = (struct fs_node){ dir->mnt, i };
	if ((r = init_inode(out, mode, &ino)))
		return r;
	if ((e = ext2fs_write_new_inode(fsof(dir), i, (struct ext2_inode *)&ino)))
		return fs_errno(e);
	if ((r = fs_write_inode(out, &ino)))   /* the large fields, too */
		return r;
	ext2fs_inode_alloc_stats2(fsof(dir), i, +1, 0);
	if ((r = add_name(dir, name, i, mode)))
		return fs_release(out), r;
	return fs_touch(dir, FS_MTIME | FS_CTIME);
}

int fs_mkdir(const struct fs_node *dir, const char *name, mode_t mode)
{
	struct ext2_inode_large ino;
	struct fs_node child = { dir->mnt, 0 };
	int r = fs_space(dir, 3);
	errcode_t e;

	if (r || (r = no_name(dir, name)))
		return r;
	if ((e = ext2fs_new_inode(fsof(dir), dir->ino, LINUX_S_IFDIR | 0755, 0, &child.ino)))
		return fs_errno(e);
	e = ext2fs_mkdir(fsof(dir), dir->ino, child.ino, name);
	if (e == EXT2_ET_DIR_NO_SPACE && !(e = ext2fs_expand_dir(fsof(dir), dir->ino)))
		e = ext2fs_mkdir(fsof(dir), dir->ino, child.ino, name);
	if ((r = named(dir, name, child.ino, e)) || (r = fs_read_inode(&child, &ino)))
		return r;
	ino.i_mode = LINUX_S_IFDIR | (mode & 07777 & ~fs_umask);
	fs_init_times(&ino);
	if ((r = fs_write_inode(&child, &ino)))
		return r;
	return fs_touch(dir, FS_MTIME | FS_CTIME);
}

int fs_symlink(const struct fs_node *dir, const char *name, const char *target)
{
	size_t n = strlen(target);
	ext2_ino_t ino;
	errcode_t e;
	int r;

	if (!n)
		return -ENOENT;
	if (n >= FS_PATH_MAX || n >= fsof(dir)->blocksize)
		return -ENAMETOOLONG;
	if ((r = fs_space(dir, 3)) || (r = no_name(dir, name)))
		return r;
	if ((e = ext2fs_new_inode(fsof(dir), dir->ino, LINUX_S_IFLNK | 0777, 0, &ino)))
		return fs_errno(e);
	e = ext2fs_symlink(fsof(dir), dir->ino, ino, name, target);
	if (e == EXT2_ET_DIR_NO_SPACE && !(e = ext2fs_expand_dir(fsof(dir), dir->ino)))
		e = ext2fs_symlink(fsof(dir), dir->ino, ino, name, target);
	return (r = named(dir, name, ino, e)) ? r : fs_touch(dir, FS_MTIME | FS_CTIME);
}

/* ---- link counts -------------------------------------------------------------- */

static int add_links(const struct fs_node *n, int delta, struct ext2_inode_large *ino)
{
	int r = fs_read_inode(n, ino);

	if (r)
		return r;
	if (delta > 0 && ino->i_links_count >= LINKS_MAX)
		return -EMLINK;
	ino->i_links_count = delta < 0 && ino->i_links_count < (unsigned)-delta ? 0 :
			     (uint16_t)(ino->i_links_count + delta);
	return fs_write_inode(n, ino);
}

int fs_link(const struct fs_node *dir, const char *name, const struct fs_node *n)
{
	struct ext2_inode_large ino;
	int r;

	if (dir->mnt != n->mnt)
		return -EXDEV;
	if ((r = fs_is_dir(n)) != 0)
		return r < 0 ? r : -EPERM;
	if ((r = fs_space(dir, 2)) || (r = no_name(dir, name)) || (r = add_links(n, +1, &ino)))
		return r;
	if ((r = add_name(dir, name, n->ino, ino.i_mode))) {
		add_links(n, -1, &ino);
		return r;
	}
	fs_touch(n, FS_CTIME);
	return fs_touch(dir, FS_MTIME | FS_CTIME);
}

int fs_release(const struct fs_node *n)
{
	struct ext2_inode_large ino;
	ext2_filsys fs = fsof(n);
	errcode_t e;
	int r = fs_read_inode(n, &ino);

	if (r)
		return r;
	ino.i_links_count = 0;
	ino.i_dtime = fs_now();
	if ((e = ext2fs_free_ext_attr(fs, n->ino, &ino)))
		return fs_errno(e);
	if (!n->mnt->holding)
		n->mnt->freed = 1;
	if (ext2fs_inode_has_valid_blocks2(fs, (struct ext2_inode *)&ino) &&
	    (e = ext2fs_punch(fs, n->ino, (struct ext2_inode *)&ino, NULL, 0, ~0ULL)))
		return fs_errno(e);
	if ((r = fs_write_inode(n, &ino)))
		return r;
	ext2fs_inode_alloc_stats2(fs, n->ino, -1, LINUX_S_ISDIR(ino.i_mode));
	return 0;
}

/* One name fewer: freed now when it was the last and no file holds it
 * open (else when the last descriptor closes: file.c; on the orphan list
 * until then). */
static int drop_link(const struct fs_node *n)
{
	struct ext2_inode_large ino;
	int r = add_links(n, -1, &ino);

	if (r)
		return r;
	if (!ino.i_links_count && fs_file_is_open(n) && (r = fs_orphan_add(n)))
		return r;
	if (ino.i_links_count || fs_file_is_open(n))
		return fs_touch(n, FS_CTIME);
	return fs_release(n);
}

/* ---- removing names -------------------------------------------------------------- */

struct dir_scan {
	int entries;                   /* other than . and .. */
};

static int count_entry(ext2_ino_t dir, int entry, struct ext2_dir_entry *d,
		       int offset, int blocksize, char *buf, void *priv)
{
	struct dir_scan *s = priv;
	int len = ext2fs_dirent_name_len(d);

	if (d->inode && !(len == 1 && d->name[0] == '.') &&
	    !(len == 2 && d->name[0] == '.' && d->name[1] == '.'))
		s->entries++;
	return s->entries ? DIRENT_ABORT : 0;
}

int fs_dir_empty(const struct fs_node *n)
{
	struct dir_scan s = { 0 };
	errcode_t e = ext2fs_dir_iterate2(fsof(n), n->ino, 0, NULL, count_entry, &s);

	return e ? fs_errno(e) : s.entries ? -ENOTEMPTY : 0;
}

/* A directory's two links (its name and its "."), and its ".." in the
 * parent (which never drops below its own two: 1 means "many", dir_nlink). */
static int drop_dir(const struct fs_node *parent, const struct fs_node *n)
{
	struct ext2_inode_large ino;
	int r = fs_release(n);

	dcache_forget(n);                  /* its number may name a new one */
	if (r || (r = fs_read_inode(parent, &ino)))
		return r;
	if (ino.i_links_count > 2)
		ino.i_links_count--;
	return fs_write_inode(parent, &ino);
}

int fs_unlink(const struct fs_node *dir, const char *name, int want_dir)
{
	struct fs_node n;
	int r, is_dir;

	if ((r = fs_find(dir, name, &n)) || (is_dir = fs_is_dir(&n)) < 0)
		return r ? r : is_dir;
	if (want_dir && !is_dir)
		return -ENOTDIR;
	if (!want_dir && is_dir)
		return -EISDIR;
	if (is_dir && (r = fs_dir_empty(&n)))
		return r;
	if ((r = named(dir, name, 0, ext2fs_unlink(fsof(dir), dir->ino, name, n.ino, 0))))
		return r;
	if ((r = fs_drop_name(dir, &n, is_dir)))
		return r;
	return fs_touch(dir, FS_MTIME | FS_CTIME);
}

/* After n's name in dir is gone: its link counts, and maybe n itself. */
int fs_drop_name(const struct fs_node *dir, const struct fs_node *n, int is_dir)
{
	return is_dir ? drop_dir(dir, n) : drop_link(n);
}
