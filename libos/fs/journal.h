/* The libOS's journal: ext4's own JBD2 log (jbd2.h) in the journal inode
 * that mkfs.ext4 makes, so that e2fsck and Linux replay what it writes
 * and it replays what they wrote.
 *
 *   journal.c         finding the log (the journal inode's blocks, its
 *                     superblock checked) and writing transactions
 *   journal_replay.c  replaying a log left by a crash, at mount
 *
 * A transaction is every dirty block of the block cache at a sync point
 * (io_cache.h's io_journal hooks), appended to the log:
 *
 *   1. after a checkpoint, the journal superblock (start = first log
 *      block, this sequence); a descriptor block per 250 or so blocks,
 *      the blocks' copies; flush
 *   2. the commit block; flush                      -- now it happened
 *   3. the blocks in place (the cache writes them; no flush)
 *
 * A crash before 2 completes loses the transaction whole; after it, a
 * replay writes it (and every one before it since the checkpoint) whole.
 * A block the log holds a copy of, about to be written around the
 * journal (file data in a block that was metadata or a partial data
 * block), gets a revoke record in the next transaction, so a replay never
 * writes the old copy over it.  A checkpoint (the log's 4,096 blocks used
 * up, 256 revokes pending, unmount) flushes, then empties the log: its
 * superblock's start 0, flushed.  Functions return 0 or a negative
 * errno. */
#ifndef LIBOS_FS_JOURNAL_H
#define LIBOS_FS_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <ext2fs/ext2fs.h>

#include "io_cache.h"
#include "jbd2.h"

/* The raw device under the cache (io_pvblk.c). */
struct journal_dev {
	io_dev_fn *io;
	int (*flush)(void *dev);
	void *dev;
};

/* A run of the journal's blocks that is contiguous on the device. */
struct journal_run {
	uint32_t lblk, count;
	uint64_t pblk;
};

struct journal {
	struct journal_dev d;
	unsigned bsize;
	uint64_t fs_blocks;                /* the file system's block count */
	struct jbd2_super sb;              /* host byte order where noted */
	uint32_t maxlen, first, seq;       /* seq: the next transaction's */
	uint32_t incompat;                 /* what the log was written with */
	uint32_t csum_seed;                /* crc32c of the UUID */
	struct journal_run *runs;
	size_t nruns;
	uint8_t *block;                    /* one block of scratch */
	uint8_t *stage;                    /* log blocks on their way out */
	uint32_t stage_pos, staged;
	uint32_t head;                     /* the next log block a transaction takes */
	uint64_t *set;                     /* blocks the log holds copies of, + 1 */
	size_t set_cap;
	uint64_t *revoke;                  /* for the next transaction */
	size_t nrevoke, revoke_cap;
	struct io_journal hooks;
};

/* The journal of fs (which must have one), checked.  why says what is
 * wrong when it cannot be used. */
int journal_open(ext2_filsys fs, const struct journal_dev *d, struct journal **out,
		 char *why, size_t n);
void journal_close(struct journal *j);
/* Blocks one transaction may hold. */
size_t journal_capacity(const struct journal *j);
/* The hooks for the block cache: transactions from now on.  fs64: the
 * file system has 64-bit block numbers. */
const struct io_journal *journal_writer(struct journal *j, int fs64);
/* Everything in place made durable and the log emptied (unmount). */
int journal_checkpoint(struct journal *j);

/* Replay what the log holds (journal_replay.c); the log is empty after.
 * replayed (may be NULL) gets the number of blocks written. */
int journal_replay(struct journal *j, unsigned *replayed, char *why, size_t n);

/* ---- the channel's side (io_pvblk.c) ---- */
void pv_ext2_io_journal_dev(io_channel ch, struct journal_dev *out);
int pv_ext2_io_set_journal(io_channel ch, const struct io_journal *j);  /* NULL: none */
size_t pv_ext2_io_dirty(io_channel ch);                /* dirty cached blocks */

/* ---- shared by journal.c and journal_replay.c ---- */
int journal_io(struct journal *j, int write, uint32_t lblk, void *buf, uint32_t count);
int journal_write_super(struct journal *j);
uint32_t journal_crc(uint32_t seed, const void *buf, size_t len);
size_t journal_tag_size(uint32_t incompat);

#endif
