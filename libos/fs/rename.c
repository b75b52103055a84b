/* rename(): POSIX's atomic replace.  When the new name exists, its
 * directory entry is pointed at the moved inode in place (one directory
 * block written), so the name never goes missing, not even after a crash
 * in the middle; the replaced inode loses that link afterwards, then the
 * old name goes.  A crash between leaves the moved inode with one name
 * too many, which e2fsck -p fixes by itself (a link count). */
#include <errno.h>
#include <string.h>

#include "fs.h"

struct repoint {
	const char *name;
	size_t len;
	ext2_ino_t ino;
	int type;
	int done;
};

static int repoint_entry(ext2_ino_t dir, int entry, struct ext2_dir_entry *d,
			 int offset, int blocksize, char *buf, void *priv)
{
	struct repoint *rp = priv;

	if (!d->inode || (size_t)ext2fs_dirent_name_len(d) != rp->len ||
	    memcmp(d->name, rp->name, rp->len))
		return 0;
	d->inode = rp->ino;
	ext2fs_dirent_set_file_type(d, rp->type);
	rp->done = 1;
	return DIRENT_CHANGED | DIRENT_ABORT;
}

/* Point dir's entry name at ino (of file type type). */
static int repoint(const struct fs_node *dir, const char *name, ext2_ino_t ino, int type)
{
	struct repoint rp = { name, strlen(name), ino, type, 0 };
	errcode_t e = ext2fs_dir_iterate2(dir->mnt->fs, dir->ino, 0, NULL, repoint_entry, &rp);

	if (e || !rp.done)
		dcache_forget(dir);
	else
		dcache_add(dir, name, ino);
	return e ? fs_errno(e) : rp.done ? 0 : -ENOENT;
}

/* Is n dir or above it?  (Moving a directory under itself is EINVAL.) */
static int is_above(const struct fs_node *n, const struct fs_node *dir)
{
	struct fs_node at = *dir;

	for (int depth = 0; depth < FS_PATH_MAX; depth++) {
		if (at.ino == n->ino)
			return 1;
		if (at.ino == EXT2_ROOT_INO)
			return 0;
		if (fs_find(&at, "..", &at))
			return 1;                  /* unreadable: refuse the move */
	}
	return 1;
}

struct move {
	const struct fs_node *odir, *ndir;
	const char *oname, *nname;
	struct fs_node src, dst;           /* dst.ino 0: the new name is free */
	int src_dir, dst_dir;
	mode_t mode;
};

static int check_move(struct move *m)
{
	struct stat st;
	int r;

	if (m->odir->mnt != m->ndir->mnt)
		return -EXDEV;
	if ((r = fs_find(m->odir, m->oname, &m->src)) || (r = fs_stat(&m->src, &st)))
		return r;
	m->mode = st.st_mode;
	m->src_dir = S_ISDIR(st.st_mode);
	r = fs_find(m->ndir, m->nname, &m->dst);
	if (r == -ENOENT)
		m->dst.ino = 0;
	else if (r)
		return r;
	if (m->src_dir && is_above(&m->src, m->ndir))
		return -EINVAL;
	if (!m->dst.ino || m->dst.ino == m->src.ino)
		return 0;
	if ((m->dst_dir = fs_is_dir(&m->dst)) < 0)
		return m->dst_dir;
	if (m->src_dir != m->dst_dir)
		return m->src_dir ? -ENOTDIR : -EISDIR;
	return m->dst_dir ? fs_dir_empty(&m->dst) : 0;
}

/* A moved directory's ".." names its new parent, whose link count grows. */
static int reparent(struct move *m)
{
	struct ext2_inode_large ino;
	int r;

	if (!m->src_dir || m->odir->ino == m->ndir->ino)
		return 0;
	if ((r = repoint(&m->src, "..", m->ndir->ino, EXT2_FT_DIR)))
		return r;
	if ((r = fs_read_inode(m->ndir, &ino)))
		return r;
	if (ino.i_links_count > 1 && ino.i_links_count < 65000)
		ino.i_links_count++;
	if ((r = fs_write_inode(m->ndir, &ino)) || (r = fs_read_inode(m->odir, &ino)))
		return r;
	if (ino.i_links_count > 2)
		ino.i_links_count--;
	return fs_write_inode(m->odir, &ino);
}

static int new_name(struct move *m)
{
	int type = S_ISDIR(m->mode) ? EXT2_FT_DIR : S_ISLNK(m->mode) ? EXT2_FT_SYMLINK :
		   EXT2_FT_REG_FILE;
	errcode_t e;

	if (m->dst.ino)
		return repoint(m->ndir, m->nname, m->src.ino, type);
	e = ext2fs_link(m->ndir->mnt->fs, m->ndir->ino, m->nname, m->src.ino, type);
	if (e == EXT2_ET_DIR_NO_SPACE && !(e = ext2fs_expand_dir(m->ndir->mnt->fs, m->ndir->ino)))
		e = ext2fs_link(m->ndir->mnt->fs, m->ndir->ino, m->nname, m->src.ino, type);
	if (e)
		dcache_forget(m->ndir);
	else
		dcache_add(m->ndir, m->nname, m->src.ino);
	return e ? fs_errno(e) : 0;
}

int fs_rename(const struct fs_node *odir, const char *oname,
	      const struct fs_node *ndir, const char *nname)
{
	struct move m = { .odir = odir, .ndir = ndir, .oname = oname, .nname = nname };
	errcode_t e;
	int r;

	if ((r = fs_space(odir, 2)) || (r = check_move(&m)))
		return r;
	if (m.dst.ino == m.src.ino)        /* two names of one file: nothing */
		return 0;
	if ((r = new_name(&m)))
		return r;
	if (m.dst.ino && (r = fs_drop_name(ndir, &m.dst, m.dst_dir)))
		return r;
	if ((e = ext2fs_unlink(odir->mnt->fs, odir->ino, oname, m.src.ino, 0))) {
		dcache_forget(odir);
		return fs_errno(e);
	}
	dcache_remove(odir, oname);
	if ((r = reparent(&m)))
		return r;
	fs_touch(&m.src, FS_CTIME);
	fs_touch(odir, FS_MTIME | FS_CTIME);
	return odir->ino == ndir->ino ? 0 : fs_touch(ndir, FS_MTIME | FS_CTIME);
}
