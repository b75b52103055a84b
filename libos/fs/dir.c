/* Directories: opendir, readdir, rewinddir, telldir, seekdir, closedir,
 * dirfd.  A position is the byte offset of an entry in the directory's
 * data (block number x block size + offset in the block), which removing
 * other entries does not move (ext2 merges a removed entry into the one
 * before it), so deleting while reading (rm -r) misses nothing.  Each
 * block is read (and its checksum checked) by libext2fs once per pass and
 * its entries are checked before use: a corrupt block ends the listing
 * with EIO.  Htree index blocks look like empty entries and are skipped.
 * A directory whose entries live in its inode (inline_data) is listed
 * through libext2fs's iterator, its positions being entry numbers (it
 * holds a few entries at most; removing one while listing may skip the
 * next).  A directory above mount points lists ".", ".." and those. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "libos.h"

struct pv_dir {
	struct fs_node node;
	char canon[FS_PATH_MAX];           /* for a synthetic directory's list */
	uint64_t pos;                      /* the next entry */
	uint64_t size;                     /* the directory's bytes */
	uint64_t lblk;                     /* which block buf holds */
	int have;                          /* buf holds lblk */
	char *buf;
	struct dirent ent;
};

static unsigned bsize(const DIR *d)
{
	return d->node.mnt->fs->blocksize;
}

/* ---- opening ------------------------------------------------------------- */

static int open_dir(DIR *d, const char *path)
{
	struct ext2_inode_large ino;
	int r = fs_lookup(path, FS_FOLLOW, &d->node, d->canon);

	if (r || !d->node.mnt)
		return r;
	if ((r = fs_read_inode(&d->node, &ino)))
		return r;
	if (!LINUX_S_ISDIR(ino.i_mode))
		return -ENOTDIR;
	d->size = EXT2_I_SIZE(&ino);
	return (d->buf = malloc(bsize(d))) ? 0 : -ENOMEM;
}

DIR *opendir(const char *path)
{
	DIR *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return libos_fail(ENOMEM), NULL;
	fs_lock();
	r = open_dir(d, path);
	fs_unlock();
	if (r) {
		free(d);
		return libos_fail(-r), NULL;
	}
	return d;
}

int closedir(DIR *d)
{
	if (!d)
		return libos_fail(EBADF);
	free(d->buf);
	free(d);
	return 0;
}

/* ---- entries ------------------------------------------------------------------ */

static unsigned char dtype(int ft)
{
	static const unsigned char t[] = {
		[EXT2_FT_REG_FILE] = DT_REG, [EXT2_FT_DIR] = DT_DIR, [EXT2_FT_CHRDEV] = DT_CHR,
		[EXT2_FT_BLKDEV] = DT_BLK, [EXT2_FT_FIFO] = DT_FIFO, [EXT2_FT_SOCK] = DT_SOCK,
		[EXT2_FT_SYMLINK] = DT_LNK,
	};

	return ft > 0 && ft < (int)sizeof(t) ? t[ft] : DT_UNKNOWN;
}

static struct dirent *fill(DIR *d, ino_t ino, const char *name, size_t len, int type)
{
	d->ent.d_ino = ino;
	d->ent.d_off = (off_t)d->pos;
	d->ent.d_reclen = sizeof(d->ent);
	d->ent.d_type = (unsigned char)type;
	memcpy(d->ent.d_name, name, len);
	d->ent.d_name[len] = '\0';
	return &d->ent;
}

/* Block lblk of the directory into buf; 1 for a hole (no entries). */
static int load(DIR *d, uint64_t lblk)
{
	ext2_filsys fs = d->node.mnt->fs;
	blk64_t pblk = 0;
	errcode_t e;

	if (d->have && d->lblk == lblk)
		return 0;
	d->have = 0;
	if ((e = ext2fs_bmap2(fs, d->node.ino, NULL, NULL, 0, lblk, NULL, &pblk)))
		return fs_errno(e);
	if (!pblk)
		return 1;
	if ((e = ext2fs_read_dir_block4(fs, pblk, d->buf, 0, d->node.ino)))
		return fs_errno(e);
	d->lblk = lblk;
	d->have = 1;
	return 0;
}

/* The entry at d->pos, and d->pos moved past it; NULL at the end. */
static struct dirent *next_entry(DIR *d, int *err)
{
	unsigned bs = bsize(d);

	while (d->pos < d->size) {
		uint64_t lblk = d->pos / bs;
		unsigned off = (unsigned)(d->pos % bs), rec;
		int r = load(d, lblk);

		if (r) {
			d->pos = (lblk + 1) * bs;     /* a hole: the next block */
			if (r < 0)
				return *err = r, NULL;
			continue;
		}
		struct ext2_dir_entry *de = (struct ext2_dir_entry *)(d->buf + off);
		unsigned len = ext2fs_dirent_name_len(de);

		if (off + 8 > bs || ext2fs_get_rec_len(d->node.mnt->fs, de, &rec) ||
		    rec < 8 || rec % 4 || off + rec > bs || len + 8 > rec)
			return *err = -EIO, NULL;
		d->pos += rec;
		if (de->inode)
			return fill(d, de->inode, de->name, len, dtype(ext2fs_dirent_file_type(de)));
	}
	return NULL;
}

/* ---- inline directories ---------------------------------------------------------- */

struct nth {
	uint64_t want, at;
	struct ext2_dir_entry found;
	char name[EXT2_NAME_LEN + 1];
	int hit;
};

static int nth_entry(ext2_ino_t dir, int entry, struct ext2_dir_entry *de, int offset,
		     int blocksize, char *buf, void *priv)
{
	struct nth *n = priv;
	unsigned len = ext2fs_dirent_name_len(de);

	if (!de->inode || n->at++ != n->want)
		return 0;
	n->found = *de;
	memcpy(n->name, de->name, len);
	n->name[len] = '\0';
	n->hit = 1;
	return DIRENT_ABORT;
}

static int is_inline(DIR *d)
{
	struct ext2_inode_large ino;

	return !fs_read_inode(&d->node, &ino) && (ino.i_flags & EXT4_INLINE_DATA_FL);
}

/* Entry number d->pos of an inline directory. */
static struct dirent *next_inline(DIR *d, int *err)
{
	struct nth n = { .want = d->pos };
	errcode_t e = ext2fs_dir_iterate2(d->node.mnt->fs, d->node.ino, 0, NULL, nth_entry, &n);

	if (e)
		return *err = fs_errno(e), NULL;
	if (!n.hit)
		return NULL;
	d->pos++;
	return fill(d, n.found.inode, n.name, ext2fs_dirent_name_len(&n.found),
		    dtype(ext2fs_dirent_file_type(&n.found)));
}

/* ".", "..", then the mounts under it. */
static struct dirent *next_synthetic(DIR *d)
{
	const char *name;
	size_t len;
	uint64_t i = d->pos++;

	if (i < 2)
		return fill(d, 1, "..", i + 1, DT_DIR);
	if (!fs_child_mount(d->canon, (int)(i - 2), &name, &len))
		return NULL;
	return fill(d, 2 + i, name, len, DT_DIR);
}

struct dirent *readdir(DIR *d)
{
	struct dirent *ent;
	int err = 0;

	if (!d)
		return libos_fail(EBADF), NULL;
	fs_lock();
	if (!d->node.mnt)
		ent = next_synthetic(d);
	else if (!d->node.mnt->fs)
		ent = NULL;
	else
		ent = is_inline(d) ? next_inline(d, &err) : next_entry(d, &err);
	fs_unlock();
	if (err)
		libos_fail(-err);
	return ent;
}

void rewinddir(DIR *d)
{
	if (d)
		d->pos = 0;
}

long telldir(DIR *d)
{
	return d ? (long)d->pos : -1;
}

/* Only positions telldir() gave (or 0) are valid: an entry's start. */
void seekdir(DIR *d, long pos)
{
	if (d && pos >= 0)
		d->pos = (uint64_t)pos;
}
