/* Finding the journal and writing transactions (see journal.h). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pv_ext2.h>

#include "journal.h"

#define STAGE_BLOCKS 32                /* log blocks per device request */
#define MAP_MAX      (1u << 20)        /* journal blocks looked at */
#define LOG_USE_MAX  4096u             /* log blocks used before a checkpoint */

uint32_t journal_crc(uint32_t seed, const void *buf, size_t len)
{
	return ext2fs_crc32c_le(seed, buf, len);
}

size_t journal_tag_size(uint32_t incompat)
{
	if (incompat & JBD2_INCOMPAT_CSUM_V3)
		return sizeof(struct jbd2_tag3);
	return 8 + (incompat & JBD2_INCOMPAT_64BIT ? 4 : 0) +
	       (incompat & JBD2_INCOMPAT_CSUM_V2 ? 2 : 0);
}

static int has_csum(uint32_t incompat)
{
	return !!(incompat & (JBD2_INCOMPAT_CSUM_V2 | JBD2_INCOMPAT_CSUM_V3));
}

/* ---- the map: journal blocks to device blocks -------------------------------- */

static const struct journal_run *run_of(const struct journal *j, uint32_t lblk)
{
	size_t lo = 0, hi = j->nruns;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (lblk < j->runs[mid].lblk)
			hi = mid;
		else if (lblk >= j->runs[mid].lblk + j->runs[mid].count)
			lo = mid + 1;
		else
			return &j->runs[mid];
	}
	return NULL;
}

/* count journal blocks from lblk, split where the device runs end. */
int journal_io(struct journal *j, int write, uint32_t lblk, void *buf, uint32_t count)
{
	uint8_t *p = buf;

	while (count) {
		const struct journal_run *r = run_of(j, lblk);

		if (!r)
			return -EIO;
		uint32_t n = r->lblk + r->count - lblk < count ? r->lblk + r->count - lblk : count;
		int e = j->d.io(j->d.dev, write, (r->pblk + (lblk - r->lblk)) * j->bsize, p,
				(size_t)n * j->bsize);

		if (e)
			return e;
		p += (size_t)n * j->bsize;
		lblk += n;
		count -= n;
	}
	return 0;
}

struct map_state {
	struct journal *j;
	blk64_t limit;
	size_t cap;
	int bad;
};

static int add_block(struct map_state *m, blk64_t lblk, blk64_t pblk)
{
	struct journal *j = m->j;
	struct journal_run *last = j->nruns ? &j->runs[j->nruns - 1] : NULL;

	if (last && lblk == (blk64_t)last->lblk + last->count && pblk == last->pblk + last->count) {
		last->count++;
		return 0;
	}
	if (lblk != (last ? (blk64_t)last->lblk + last->count : 0))
		return -1;                       /* a hole, or out of order */
	if (j->nruns == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 8;
		struct journal_run *r = realloc(j->runs, cap * sizeof(*r));

		if (!r)
			return -1;
		j->runs = r;
		m->cap = cap;
	}
	j->runs[j->nruns++] = (struct journal_run){ (uint32_t)lblk, 1, pblk };
	return 0;
}

static int map_block(ext2_filsys fs, blk64_t *pblk, e2_blkcnt_t lblk, blk64_t ref,
		     int ref_off, void *priv)
{
	struct map_state *m = priv;

	if (lblk < 0 || (blk64_t)lblk >= m->limit)
		return BLOCK_ABORT;
	if (*pblk <= fs->super->s_first_data_block || *pblk >= ext2fs_blocks_count(fs->super) ||
	    add_block(m, (blk64_t)lblk, *pblk)) {
		m->bad = 1;
		return BLOCK_ABORT;
	}
	return 0;
}

static const char *map_journal(ext2_filsys fs, struct journal *j)
{
	struct ext2_inode ino;
	struct map_state m = { .j = j };
	ext2_ino_t jino = fs->super->s_journal_inum;

	if (!jino || jino > fs->super->s_inodes_count)
		return "the journal is on another device (not supported)";
	if (ext2fs_read_inode(fs, jino, &ino))
		return "cannot read the journal's inode";
	m.limit = EXT2_I_SIZE(&ino) / j->bsize;
	if (m.limit > MAP_MAX)
		m.limit = MAP_MAX;
	if (ext2fs_block_iterate3(fs, jino, BLOCK_FLAG_DATA_ONLY | BLOCK_FLAG_READ_ONLY, NULL,
				  map_block, &m) || m.bad)
		return "the journal's blocks are damaged";
	return j->nruns ? NULL : "the journal is empty";
}

/* ---- the journal superblock ----------------------------------------------------- */

static uint32_t super_csum(const struct jbd2_super *sb)
{
	struct jbd2_super copy = *sb;

	copy.checksum = 0;
	return journal_crc(~0u, &copy, sizeof(copy));
}

static uint32_t mapped(const struct journal *j)
{
	const struct journal_run *r = &j->runs[j->nruns - 1];

	return r->lblk + r->count;
}

static const char *check_super(struct journal *j)
{
	const struct jbd2_super *sb = &j->sb;
	uint32_t incompat = be32(sb->incompat);

	if (be32(sb->h.magic) != JBD2_MAGIC)
		return "the journal has no superblock (bad magic)";
	if (be32(sb->h.type) != JBD2_SUPERBLOCK_V2)
		return "the journal's format is not JBD2 version 2";
	if (be32(sb->blocksize) != j->bsize)
		return "the journal's block size is not the file system's";
	if (be32(sb->maxlen) > mapped(j) || be32(sb->first) == 0 ||
	    be32(sb->first) + 16 > be32(sb->maxlen))
		return "the journal's geometry is damaged";
	if (sb->start && (be32(sb->start) < be32(sb->first) || be32(sb->start) >= be32(sb->maxlen)))
		return "the journal's start is out of range";
	if (be32(sb->nr_users) > 1)
		return "the journal is shared (not supported)";
	if (incompat & JBD2_INCOMPAT_FAST_COMMIT)
		return "the journal has fast commits (not supported)";
	if (incompat & ~JBD2_INCOMPAT_KNOWN)
		return "the journal has unknown features";
	if (has_csum(incompat) && sb->checksum_type != JBD2_CRC32C)
		return "the journal's checksum type is unknown";
	if (has_csum(incompat) && be32(sb->checksum) != super_csum(sb))
		return "the journal's superblock checksum does not match";
	return NULL;
}

int journal_write_super(struct journal *j)
{
	if (has_csum(be32(j->sb.incompat)))
		j->sb.checksum = be32(super_csum(&j->sb));
	memset(j->block, 0, j->bsize);
	memcpy(j->block, &j->sb, sizeof(j->sb));
	return journal_io(j, 1, 0, j->block, 1);
}

/* ---- open and close ---------------------------------------------------------------- */

static const char *load(ext2_filsys fs, struct journal *j)
{
	const char *why = map_journal(fs, j);

	if (why)
		return why;
	if (!(j->block = malloc(j->bsize)) || !(j->stage = malloc(STAGE_BLOCKS * j->bsize)))
		return "out of memory";
	if (journal_io(j, 0, 0, j->block, 1))
		return "cannot read the journal's superblock";
	memcpy(&j->sb, j->block, sizeof(j->sb));
	if ((why = check_super(j)))
		return why;
	j->maxlen = be32(j->sb.maxlen);
	j->first = be32(j->sb.first);
	j->seq = be32(j->sb.sequence);
	j->incompat = be32(j->sb.incompat);
	j->csum_seed = journal_crc(~0u, j->sb.uuid, sizeof(j->sb.uuid));
	return NULL;
}

int journal_open(ext2_filsys fs, const struct journal_dev *d, struct journal **out,
		 char *why, size_t n)
{
	struct journal *j = calloc(1, sizeof(*j));
	const char *what = j ? NULL : "out of memory";

	*out = NULL;
	if (j) {
		j->d = *d;
		j->bsize = fs->blocksize;
		j->fs_blocks = ext2fs_blocks_count(fs->super);
		what = load(fs, j);
	}
	if (what) {
		snprintf(why, n, "%s", what);
		journal_close(j);
		return -EINVAL;
	}
	*out = j;
	return 0;
}

void journal_close(struct journal *j)
{
	if (!j)
		return;
	free(j->runs);
	free(j->set);
	free(j->revoke);
	free(j->block);
	free(j->stage);
	free(j);
}

/* ---- writing a transaction ---------------------------------------------------------- */

/* Tags per descriptor block as written here: checksum-v3 tags, the first
 * followed by the journal's UUID, and the block's checksum tail. */
static size_t tags_per_block(const struct journal *j)
{
	return (j->bsize - sizeof(struct jbd2_header) - 4) / sizeof(struct jbd2_tag3) - 1;
}

/* The part of the log used: [first, log_end). */
static uint32_t log_end(const struct journal *j)
{
	return j->maxlen - j->first > LOG_USE_MAX ? j->first + LOG_USE_MAX : j->maxlen;
}

size_t journal_capacity(const struct journal *j)
{
	size_t per = tags_per_block(j), room = log_end(j) - j->first - 1;   /* the commit */

	return (room - 1) * per / (per + 1);
}

static size_t revokes_per_block(const struct journal *j);

/* Log blocks a transaction of n blocks takes: descriptors, copies,
 * revoke blocks, commit. */
static size_t log_blocks(const struct journal *j, size_t n)
{
	size_t per = tags_per_block(j), rper = revokes_per_block(j);

	return (n + per - 1) / per + n + (j->nrevoke + rper - 1) / rper + 1;
}

static int stage_flush(struct journal *j)
{
	int e = j->staged ? journal_io(j, 1, j->stage_pos, j->stage, j->staged) : 0;

	j->staged = 0;
	return e;
}

/* Log block pos gets src (escaped: its first word zeroed). */
static int stage(struct journal *j, uint32_t pos, const uint8_t *src, int escaped)
{
	int e = 0;

	if (j->staged && (pos != j->stage_pos + j->staged || j->staged == STAGE_BLOCKS))
		e = stage_flush(j);
	if (!j->staged)
		j->stage_pos = pos;
	uint8_t *dst = j->stage + (size_t)j->staged++ * j->bsize;

	memcpy(dst, src, j->bsize);
	if (escaped)
		memset(dst, 0, 4);
	return e;
}

static int escaped(const uint8_t *data)
{
	uint32_t w;

	memcpy(&w, data, 4);
	return be32(w) == JBD2_MAGIC;
}

static void header(void *block, uint32_t type, uint32_t seq)
{
	struct jbd2_header h = { be32(JBD2_MAGIC), be32(type), be32(seq) };

	memcpy(block, &h, sizeof(h));
}

/* The tag's checksum: of the sequence number, then the block as logged. */
static uint32_t tag_csum(const struct journal *j, uint32_t seq, const uint8_t *data, int esc)
{
	uint32_t s = be32(seq), c = journal_crc(j->csum_seed, &s, 4);
	uint32_t zero = 0;

	if (!esc)
		return journal_crc(c, data, j->bsize);
	c = journal_crc(c, &zero, 4);
	return journal_crc(c, data + 4, j->bsize - 4);
}

static void tail_csum(const struct journal *j, uint8_t *block)
{
	uint32_t c;

	memset(block + j->bsize - 4, 0, 4);
	c = be32(journal_crc(j->csum_seed, block, j->bsize));
	memcpy(block + j->bsize - 4, &c, 4);
}

/* The descriptor for blocks[0..n) into j->block. */
static void describe(struct journal *j, const uint64_t *blocks, uint8_t *const *data, size_t n)
{
	uint8_t *p = j->block + sizeof(struct jbd2_header);

	memset(j->block, 0, j->bsize);
	header(j->block, JBD2_DESCRIPTOR, j->seq);
	for (size_t i = 0; i < n; i++) {
		int esc = escaped(data[i]);
		struct jbd2_tag3 t = {
			.block = be32((uint32_t)blocks[i]),
			.block_high = be32((uint32_t)(blocks[i] >> 32)),
			.flags = be32((esc ? JBD2_FLAG_ESCAPE : 0) | (i ? JBD2_FLAG_SAME_UUID : 0) |
				      (i == n - 1 ? JBD2_FLAG_LAST_TAG : 0)),
			.checksum = be32(tag_csum(j, j->seq, data[i], esc)),
		};

		memcpy(p, &t, sizeof(t));
		p += sizeof(t);
		if (!i) {
			memcpy(p, j->sb.uuid, sizeof(j->sb.uuid));
			p += sizeof(j->sb.uuid);
		}
	}
	tail_csum(j, j->block);
}

static int write_commit(struct journal *j, uint32_t pos)
{
	struct jbd2_commit c = { .sec = be64((uint64_t)time(NULL)) };
	uint32_t csum;

	memset(j->block, 0, j->bsize);
	header(&c, JBD2_COMMIT, j->seq);
	memcpy(j->block, &c, sizeof(c));
	csum = be32(journal_crc(j->csum_seed, j->block, j->bsize));
	memcpy(j->block + offsetof(struct jbd2_commit, checksum), &csum, 4);
	return journal_io(j, 1, pos, j->block, 1);
}

/* ---- revoke records: logged blocks that now hold data written around
 * the journal (a replay must not write the old copies over it) ---- */

static size_t revoke_size(const struct journal *j)
{
	return j->incompat & JBD2_INCOMPAT_64BIT ? 8 : 4;
}

static size_t revokes_per_block(const struct journal *j)
{
	return (j->bsize - sizeof(struct jbd2_revoke) - 4) / revoke_size(j);
}

/* Revoke records [from, from + per) of the pending ones into j->block. */
static void describe_revokes(struct journal *j, size_t from)
{
	size_t per = revokes_per_block(j), k = j->nrevoke - from < per ? j->nrevoke - from : per;
	size_t rs = revoke_size(j), used = sizeof(struct jbd2_revoke) + k * rs;
	uint32_t count = be32((uint32_t)used);

	memset(j->block, 0, j->bsize);
	header(j->block, JBD2_REVOKE, j->seq);
	memcpy(j->block + offsetof(struct jbd2_revoke, count), &count, 4);
	for (size_t i = 0; i < k; i++) {
		uint64_t b = be64(j->revoke[from + i]);
		uint32_t b32 = be32((uint32_t)j->revoke[from + i]);

		memcpy(j->block + sizeof(struct jbd2_revoke) + i * rs, rs == 8 ? (void *)&b : &b32, rs);
	}
	tail_csum(j, j->block);
}

/* Descriptors, copies and revoke records from the log's head on; the
 * position after them in *pos. */
static int write_log(struct journal *j, size_t n, const uint64_t *blocks, uint8_t *const *data,
		     uint32_t *pos)
{
	size_t per = tags_per_block(j);
	int e = 0;

	*pos = j->head;
	for (size_t i = 0; !e && i < n; i += per) {
		size_t k = n - i < per ? n - i : per;

		describe(j, blocks + i, data + i, k);
		e = stage(j, (*pos)++, j->block, 0);
		for (size_t m = 0; !e && m < k; m++)
			e = stage(j, (*pos)++, data[i + m], escaped(data[i + m]));
	}
	for (size_t i = 0; !e && i < j->nrevoke; i += revokes_per_block(j)) {
		describe_revokes(j, i);
		e = stage(j, (*pos)++, j->block, 0);
	}
	return e ? e : stage_flush(j);
}

/* ---- the set of logged blocks: what a replay would write ------------------- */

static size_t slot_of(const struct journal *j, uint64_t block)
{
	return (size_t)((block * 0x9E3779B97F4A7C15ull) >> 20) & (j->set_cap - 1);
}

static void set_add(struct journal *j, uint64_t block)
{
	size_t i = slot_of(j, block);

	while (j->set[i] && j->set[i] != block + 1)
		i = (i + 1) & (j->set_cap - 1);
	if (!j->set[i])
		j->set[i] = block + 1;           /* 0 marks a free slot */
}

/* Whether the log holds a copy of block: taken out of the set if so. */
static int set_take(struct journal *j, uint64_t block)
{
	size_t i = slot_of(j, block);

	for (; j->set[i]; i = (i + 1) & (j->set_cap - 1))
		if (j->set[i] == block + 1)
			break;
	if (!j->set[i])
		return 0;
	/* Linear probing: re-place the run after the hole. */
	j->set[i] = 0;
	for (size_t k = (i + 1) & (j->set_cap - 1); j->set[k]; k = (k + 1) & (j->set_cap - 1)) {
		uint64_t v = j->set[k];

		j->set[k] = 0;
		set_add(j, v - 1);
	}
	return 1;
}

/* ---- transactions and checkpoints ------------------------------------------ */

static int crash_after_commit;

void pv_ext2_test_crash_after_commit(void)
{
	crash_after_commit = 1;
}

/* Everything written in place so far made durable, then the log emptied
 * (its superblock's start 0, written and flushed): no replay can write an
 * old copy any more. */
int journal_checkpoint(struct journal *j)
{
	int e;

	if (!j->sb.start)
		return 0;
	if ((e = j->d.flush(j->d.dev)))
		return e;
	j->sb.start = 0;
	j->sb.sequence = be32(j->seq);
	if ((e = journal_write_super(j)) || (e = j->d.flush(j->d.dev)))
		return e;
	j->head = j->first;
	j->nrevoke = 0;                   /* nothing left to revoke */
	memset(j->set, 0, j->set_cap * sizeof(*j->set));
	return 0;
}

/* The log's superblock points at the first transaction still needed;
 * written with the log blocks of the first one after a checkpoint. */
static int open_log(struct journal *j)
{
	if (j->sb.start)
		return 0;
	j->sb.start = be32(j->first);
	j->sb.sequence = be32(j->seq);
	return journal_write_super(j);
}

static int in_sorted(const uint64_t *blocks, size_t n, uint64_t b)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (blocks[mid] == b)
			return 1;
		if (blocks[mid] < b)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* A block logged again in this transaction is not revoked by it (a
 * replay would skip the new copy too). */
static void cancel_revokes(struct journal *j, size_t n, const uint64_t *blocks)
{
	size_t k = 0;

	for (size_t i = 0; i < j->nrevoke; i++)
		if (!in_sorted(blocks, n, j->revoke[i]))
			j->revoke[k++] = j->revoke[i];
	j->nrevoke = k;
}

static int commit(void *ctx, size_t n, const uint64_t *blocks, uint8_t *const *data)
{
	struct journal *j = ctx;
	uint32_t pos;
	int e;

	cancel_revokes(j, n, blocks);
	if (!n && !j->nrevoke)
		return 1;                    /* nothing to log */
	if (n > journal_capacity(j)) {
		fprintf(stderr, "fs: a transaction of %zu blocks does not fit the journal "
			"(%zu): written without it\n", n, journal_capacity(j));
		return (e = journal_checkpoint(j)) ? e : 1;
	}
	if (j->head + log_blocks(j, n) > log_end(j) && (e = journal_checkpoint(j)))
		return e;
	if ((e = open_log(j)) || (e = write_log(j, n, blocks, data, &pos)) ||
	    (e = j->d.flush(j->d.dev)) || (e = write_commit(j, pos)))
		return e;
	j->seq++;                         /* used, even if what follows fails */
	j->head = pos + 1;
	j->nrevoke = 0;
	for (size_t i = 0; i < n; i++)
		set_add(j, blocks[i]);
	e = j->d.flush(j->d.dev);
	if (crash_after_commit)
		__builtin_trap();            /* a test's crash: nothing in place yet */
	return e;
}

/* Blocks about to get data around the journal.  If the log holds a copy
 * of one, a replay would write it over the new data: the next
 * transaction revokes it (the same one that commits the block's new
 * owner; until it commits, a replay rightly writes the old copy, since
 * the block is still the old owner's).  With no room for more revoke
 * records, a checkpoint. */
static int overwrite(void *ctx, uint64_t block, size_t count)
{
	struct journal *j = ctx;

	for (size_t i = 0; j->sb.start && i < count; i++) {
		if (!set_take(j, block + i))
			continue;
		if (j->nrevoke == j->revoke_cap)
			return journal_checkpoint(j);
		j->revoke[j->nrevoke++] = block + i;
	}
	return 0;
}

/* From now on transactions are written with checksum-v3 tags (and 64-bit
 * block numbers when the file system has them), whatever the log held
 * before (a replay reads it with what it was written with).  NULL: no
 * memory. */
const struct io_journal *journal_writer(struct journal *j, int fs64)
{
	uint32_t keep = 0;

	for (j->set_cap = 16; j->set_cap < 2 * (size_t)(log_end(j) - j->first); j->set_cap <<= 1)
		;
	j->revoke_cap = 256;              /* then a checkpoint instead */
	if (!(j->set = calloc(j->set_cap, sizeof(*j->set))) ||
	    !(j->revoke = calloc(j->revoke_cap, sizeof(*j->revoke))))
		return NULL;
	j->incompat = keep | JBD2_INCOMPAT_REVOKE | JBD2_INCOMPAT_CSUM_V3 |
		      (fs64 ? JBD2_INCOMPAT_64BIT : 0);
	j->sb.incompat = be32(j->incompat);
	j->sb.compat &= ~be32(JBD2_COMPAT_CHECKSUM);
	j->sb.checksum_type = JBD2_CRC32C;
	j->head = j->first;
	j->hooks = (struct io_journal){ .commit = commit, .overwrite = overwrite, .ctx = j };
	return &j->hooks;
}
