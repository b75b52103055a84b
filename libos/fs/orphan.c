/* The orphan list, ext4's: inodes whose last name is gone while an open
 * file still holds them.  The superblock's s_last_orphan names the first,
 * each one's i_dtime the next.  An inode joins when its last name goes
 * (node.c), leaves when its last descriptor closes and it is freed
 * (file.c); a crash in between leaves it on the list, and the next
 * read-write mount (or e2fsck, or Linux) frees it.  Without the list such
 * an inode would stay allocated with no name: a file system e2fsck has to
 * repair. */
#include <errno.h>
#include <stdio.h>

#include "fs.h"

static ext2_filsys fsof(const struct fs_node *n)
{
	return n->mnt->fs;
}

/* Whether ino can be on the list at all (a hostile next pointer). */
static int valid_ino(ext2_filsys fs, ext2_ino_t ino)
{
	return ino >= EXT2_FIRST_INODE(fs->super) && ino <= fs->super->s_inodes_count;
}

int fs_orphan_add(const struct fs_node *n)
{
	struct ext2_inode_large ino;
	ext2_filsys fs = fsof(n);
	int r = fs_read_inode(n, &ino);

	if (r)
		return r;
	ino.i_dtime = fs->super->s_last_orphan;
	if ((r = fs_write_inode(n, &ino)))
		return r;
	fs->super->s_last_orphan = n->ino;
	ext2fs_mark_super_dirty(fs);
	return 0;
}

/* n off the list (wherever it is on it; not there: nothing to do). */
int fs_orphan_remove(const struct fs_node *n)
{
	struct ext2_inode_large ino, prev;
	ext2_filsys fs = fsof(n);
	struct fs_node p = { n->mnt, fs->super->s_last_orphan };
	int r = fs_read_inode(n, &ino);

	if (r)
		return r;
	if (p.ino == n->ino) {
		fs->super->s_last_orphan = ino.i_dtime;
		ext2fs_mark_super_dirty(fs);
		return 0;
	}
	for (uint32_t steps = 0; valid_ino(fs, p.ino) && steps < fs->super->s_inodes_count; steps++) {
		if ((r = fs_read_inode(&p, &prev)))
			return r;
		if (prev.i_dtime == n->ino) {
			prev.i_dtime = ino.i_dtime;
			return fs_write_inode(&p, &prev);
		}
		p.ino = prev.i_dtime;
	}
	return 0;
}

/* Every orphan freed (an inode that still has names, which Linux lists
 * while it truncates, is only taken off): at a read-write mount, what a
 * crash left (said on the console); at unmount, files still open.
 * -EIO when the list is damaged. */
int fs_orphans_release(struct fs_mount *m, int say)
{
	ext2_filsys fs = m->fs;
	struct fs_node n = { m, fs->super->s_last_orphan };
	unsigned freed = 0;
	int r = 0;

	for (uint32_t steps = 0; n.ino && !r; steps++) {
		struct ext2_inode_large ino;

		if (!valid_ino(fs, n.ino) || steps >= fs->super->s_inodes_count ||
		    (r = fs_read_inode(&n, &ino)))
			return r ? r : -EIO;
		fs->super->s_last_orphan = ino.i_dtime;
		ext2fs_mark_super_dirty(fs);
		if (!ino.i_links_count && ext2fs_test_inode_bitmap2(fs->inode_map, n.ino) &&
		    !(r = fs_release(&n)))
			freed++;
		n.ino = fs->super->s_last_orphan;
	}
	if (freed && say)
		fprintf(stderr, "fs: %s at %s: %u unlinked files freed (open at a crash)\n",
			m->dev, m->path, freed);
	return r;
}
