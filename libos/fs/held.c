/* Blocks freed since the last commit, held out of the allocator's reach
 * (journaled mounts; as ext4 does).  File data goes straight to the
 * blocks a write allocates (file.c), before the transaction that gives
 * them their new owner commits; a block freed in that same transaction
 * may still belong to its old file after a crash, so it must not be
 * handed out before the freeing commits.
 *
 * libext2fs reports every freed block through its allocation-statistics
 * callbacks; the block is marked in use again in the in-memory bitmap
 * (the free counts keep it free) and listed.  Before each commit
 * (fs_sync_mount) the list is let go: the bitmaps written into the
 * transaction say what is true.  Without a journal, or when the list has
 * no memory, the mount falls back to committing before any write that
 * may reuse freed blocks (m->freed, file.c). */
#include <stdlib.h>

#include "fs.h"

#define HELD_MAX 4096                  /* ranges; then a sync point at the call's end */

static struct fs_mount *mount_of(ext2_filsys fs)
{
	for (int i = 0; i < fs_mount_count; i++)
		if (fs_mounts[i].fs == fs)
			return &fs_mounts[i];
	return NULL;
}

static int append(struct fs_mount *m, blk64_t blk, blk64_t num)
{
	struct fs_held *last = m->nheld ? &m->held[m->nheld - 1] : NULL;

	if (last && last->start + last->count == blk) {
		last->count += num;
		return 0;
	}
	if (m->nheld == m->held_cap) {
		size_t cap = m->held_cap ? 2 * m->held_cap : 64;
		struct fs_held *h = cap <= 2 * HELD_MAX ? realloc(m->held, cap * sizeof(*h)) : NULL;

		if (!h)
			return -1;
		m->held = h;
		m->held_cap = cap;
	}
	m->held[m->nheld++] = (struct fs_held){ blk, num };
	return 0;
}

static void hold(ext2_filsys fs, blk64_t blk, blk64_t num)
{
	struct fs_mount *m = mount_of(fs);

	if (!m || !m->holding)
		return;
	if (append(m, blk, num)) {
		m->freed = 1;                  /* the fallback: sync before reuse */
		return;
	}
	ext2fs_mark_block_bitmap_range2(fs->block_map, blk, (unsigned)num);
	m->held_blocks += num;
}

static void on_stats(ext2_filsys fs, blk64_t blk, int inuse)
{
	if (inuse < 0)
		hold(fs, blk, 1);
}

static void on_stats_range(ext2_filsys fs, blk64_t blk, blk_t num, int inuse)
{
	if (inuse < 0)
		hold(fs, blk, num);
}

void fs_hold_frees(struct fs_mount *m)
{
	ext2fs_set_block_alloc_stats_callback(m->fs, on_stats, NULL);
	ext2fs_set_block_alloc_stats_range_callback(m->fs, on_stats_range, NULL);
	m->holding = 1;
}

void fs_release_held(struct fs_mount *m)
{
	for (size_t i = 0; i < m->nheld; i++)
		ext2fs_unmark_block_bitmap_range2(m->fs->block_map, m->held[i].start,
						  (unsigned)m->held[i].count);
	m->nheld = 0;
	m->held_blocks = 0;
}

int fs_held_many(const struct fs_mount *m)
{
	return m->nheld > HELD_MAX;
}

void fs_forget_held(struct fs_mount *m)
{
	free(m->held);
	m->held = NULL;
	m->nheld = m->held_cap = 0;
	m->held_blocks = 0;
	m->holding = 0;
}
