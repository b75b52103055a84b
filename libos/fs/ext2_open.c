/* Open an ext2/3/4 file system on a PV block device with the checks a
 * mount needs (see pv_ext2.h).  libext2fs checks the superblock, the
 * group descriptors and their checksums and the feature sets; what is
 * left here is what only a mount cares about. */
#include <stdio.h>
#include <string.h>
#include <ext2fs/ext2fs.h>
#include <et/com_err.h>
#include <pv_ext2.h>

#include "journal.h"

static errcode_t refuse(errcode_t e, const char *what, char *why, size_t n)
{
	if (why && n)
		snprintf(why, n, "%s", what);
	return e;
}

/* libext2fs's own message, with its first letter in lower case so that
 * it reads after "vol0: ". */
static errcode_t refuse_code(errcode_t e, char *why, size_t n)
{
	if (why && n) {
		snprintf(why, n, "%s", error_message(e));
		if (why[0] >= 'A' && why[0] <= 'Z' && why[1] >= 'a' && why[1] <= 'z')
			why[0] = (char)(why[0] - 'A' + 'a');
	}
	return e;
}

/* e2fsck's rule for the first data block (PR_0_FIRST_DATA_BLOCK): 1
 * with 1 KiB blocks and clusters, else 0.  libext2fs trusts it: a larger
 * one overflows the block bitmap it allocates when it reads the bitmaps
 * (ext2fs_read_bitmaps, before any write; found by make fuzz-ext2). */
static errcode_t check_geometry(ext2_filsys fs, char *why, size_t n)
{
	struct ext2_super_block *sb = fs->super;
	uint32_t want = sb->s_log_block_size == 0 && EXT2FS_CLUSTER_RATIO(fs) == 1;

	if (sb->s_first_data_block != want) {
		if (why && n)
			snprintf(why, n, "bad geometry: first data block is %lu, should be %lu "
				 "(run e2fsck on the host)", (unsigned long)sb->s_first_data_block,
				 (unsigned long)want);
		return EXT2_ET_CORRUPT_SUPERBLOCK;
	}
	return 0;
}

/* A journal with transactions not yet replayed: the blocks the file
 * system points to may be older than what the journal holds.  A
 * read-write open replays it first (recover()); a read-only one cannot. */
static errcode_t check_state(ext2_filsys fs, int rw, char *why, size_t n)
{
	if (ext2fs_has_feature_journal_needs_recovery(fs->super))
		return refuse(EXT2_ET_JOURNAL_FLAGS_WRONG, "journal needs recovery (mount it "
			      "read-write once, or run e2fsck on the host)", why, n);
	if (rw && (fs->super->s_state & EXT2_ERROR_FS))
		return refuse(EXT2_ET_RO_FILSYS,
			      "file system has errors (run e2fsck on the host)", why, n);
	return 0;
}

/* The log written in place (journal_replay.c), then the file system
 * opened again (what it had read may be older than the log) and marked
 * recovered. */
static errcode_t recover(const char *dev, int f, ext2_filsys *fs, char *why, size_t n)
{
	struct journal_dev d;
	struct journal *j;
	unsigned blocks = 0;
	errcode_t e;

	pv_ext2_io_journal_dev((*fs)->io, &d);
	if (journal_open(*fs, &d, &j, why, n) || journal_replay(j, &blocks, why, n)) {
		journal_close(j);
		return EXT2_ET_JOURNAL_FLAGS_WRONG;
	}
	journal_close(j);
	ext2fs_free(*fs);                    /* nothing to write: it read only */
	*fs = NULL;
	if ((e = ext2fs_open2(dev, NULL, f, 0, 0, pv_ext2_io_manager, fs)))
		return refuse_code(e, why, n);
	ext2fs_clear_feature_journal_needs_recovery((*fs)->super);
	ext2fs_mark_super_dirty(*fs);
	if ((e = ext2fs_flush(*fs)))
		return refuse_code(e, why, n);
	fprintf(stderr, "fs: %s: journal replayed (%u blocks)\n", dev, blocks);
	return 0;
}

static errcode_t open_checked(const char *dev, int rw, ext2_filsys *fs, char *why, size_t n)
{
	int f = EXT2_FLAG_64BITS | (rw ? EXT2_FLAG_RW : 0);
	errcode_t e = ext2fs_open2(dev, NULL, f, 0, 0, pv_ext2_io_manager, fs);

	if (e)
		return refuse_code(e, why, n);
	if ((e = check_geometry(*fs, why, n)))
		return e;
	if (rw && ext2fs_has_feature_journal_needs_recovery((*fs)->super) &&
	    (e = recover(dev, f, fs, why, n)))
		return e;
	return check_state(*fs, rw, why, n);
}

errcode_t pv_ext2_open(const char *dev, int flags, ext2_filsys *out,
		       char *why, size_t whylen)
{
	ext2_filsys fs = NULL;
	errcode_t e;

	*out = NULL;
	/* Error tables are registered once; later calls are no-ops. */
	initialize_ext2_error_table();
	if ((e = open_checked(dev, flags & PV_EXT2_RW, &fs, why, whylen))) {
		if (fs)
			ext2fs_close_free(&fs);
		return e;
	}
	*out = fs;
	return 0;
}
