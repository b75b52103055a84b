/* Finding the journal and writing transactions (see journal.h). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal.h"

#define STAGE_BLOCKS 32                /* log blocks per device request */
#define MAP_MAX      (1u << 20)        /* journal blocks looked at */

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

size_t journal_capacity(const struct journal *j)
{
	size_t per = tags_per_block(j), room = j->maxlen - j->first - 1;   /* the commit */

	return (room - 1) * per / (per + 1);
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

/* Descriptors and copies from the first log block on; the position
 * after them in *pos. */
static int write_log(struct journal *j, size_t n, const uint64_t *blocks, uint8_t *const *data,
		     uint32_t *pos)
{
	size_t per = tags_per_block(j);
	int e = 0;

	*pos = j->first;
	for (size_t i = 0; !e && i < n; i += per) {
		size_t k = n - i < per ? n - i : per;

		describe(j, blocks + i, data + i, k);
		e = stage(j, (*pos)++, j->block, 0);
		for (size_t m = 0; !e && m < k; m++)
			e = stage(j, (*pos)++, data[i + m], escaped(data[i + m]));
	}
	return e ? e : stage_flush(j);
}

static int commit(void *ctx, size_t n, const uint64_t *blocks, uint8_t *const *data)
{
	struct journal *j = ctx;
	uint32_t pos;
	int e;

	if (n > journal_capacity(j)) {
		fprintf(stderr, "fs: a transaction of %zu blocks does not fit the journal "
			"(%zu): written without it\n", n, journal_capacity(j));
		return 1;
	}
	j->sb.start = be32(j->first);
	j->sb.sequence = be32(j->seq);
	if ((e = journal_write_super(j)) || (e = write_log(j, n, blocks, data, &pos)) ||
	    (e = j->d.flush(j->d.dev)) || (e = write_commit(j, pos)))
		return e;
	j->seq++;                         /* used, even if what follows fails */
	return j->d.flush(j->d.dev);
}

/* The blocks are in place: once they are durable, the log is empty. */
static int done(void *ctx)
{
	struct journal *j = ctx;
	int e = j->d.flush(j->d.dev);

	if (e)
		return e;
	j->sb.start = 0;
	j->sb.sequence = be32(j->seq);
	return (e = journal_write_super(j)) ? e : j->d.flush(j->d.dev);
}

/* From now on transactions are written with checksum-v3 tags (and 64-bit
 * block numbers when the file system has them), whatever the log held
 * before (a replay reads it with what it was written with). */
const struct io_journal *journal_writer(struct journal *j, int fs64)
{
	uint32_t keep = be32(j->sb.incompat) & JBD2_INCOMPAT_REVOKE;

	j->incompat = keep | JBD2_INCOMPAT_CSUM_V3 | (fs64 ? JBD2_INCOMPAT_64BIT : 0);
	j->sb.incompat = be32(j->incompat);
	j->sb.compat &= ~be32(JBD2_COMPAT_CHECKSUM);
	j->sb.checksum_type = JBD2_CRC32C;
	j->hooks = (struct io_journal){ .commit = commit, .done = done, .ctx = j };
	return &j->hooks;
}
