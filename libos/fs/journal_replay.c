/* Replaying a log left by a crash (see journal.h), whoever wrote it: the
 * libOS, Linux or debugfs.  Three walks from the journal superblock's
 * start, as JBD2's recovery does them:
 *
 *   SCAN    where the complete transactions end: the first sequence
 *           number without a valid commit block
 *   REVOKE  the revoke records of those transactions (a block revoked
 *           by transaction T is not replayed from T or an earlier one)
 *   REPLAY  every tagged block of them, in order, in place
 *
 * Nothing in the log is trusted: block headers, tag counts, revoke
 * counts and block numbers are checked, checksums (v2, v3) verified, the
 * walk bounded by the log's length.  A logged block whose checksum fails
 * is skipped (as Linux does) and counted. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"

enum pass { SCAN, REVOKE, REPLAY };

struct revoked {
	uint64_t block;
	uint32_t seq;                    /* the latest transaction revoking it */
	struct revoked *next;
};

#define REVOKE_BUCKETS 1024

struct replay {
	struct journal *j;
	enum pass pass;
	uint32_t end;                    /* the first sequence without a commit */
	struct revoked *table[REVOKE_BUCKETS];
	uint8_t *desc, *data;            /* a descriptor block, a logged block */
	unsigned written, skipped;       /* skipped: damaged (not revoked) */
};

/* A tag, whatever format the log uses. */
struct tag {
	uint64_t block;
	uint32_t flags, csum;
};

static int has_csum(const struct journal *j)
{
	return !!(j->incompat & (JBD2_INCOMPAT_CSUM_V2 | JBD2_INCOMPAT_CSUM_V3));
}

static uint32_t next_pos(const struct journal *j, uint32_t pos)
{
	return pos + 1 >= j->maxlen ? j->first : pos + 1;
}

static uint32_t word(const uint8_t *p, size_t off)
{
	uint32_t w;

	memcpy(&w, p + off, 4);
	return be32(w);
}

/* A descriptor's or revoke block's checksum tail. */
static int tail_ok(const struct journal *j, uint8_t *block)
{
	uint32_t want = word(block, j->bsize - 4), got;

	memset(block + j->bsize - 4, 0, 4);
	got = journal_crc(j->csum_seed, block, j->bsize);
	return got == want;
}

static int commit_ok(const struct journal *j, uint8_t *block)
{
	size_t at = offsetof(struct jbd2_commit, checksum);
	uint32_t want = word(block, at);

	if (!has_csum(j))
		return 1;
	memset(block + at, 0, 4);
	return journal_crc(j->csum_seed, block, j->bsize) == want;
}

/* ---- revoke records ---------------------------------------------------------- */

static struct revoked **bucket(struct replay *r, uint64_t block)
{
	return &r->table[(block * 0x9E3779B97F4A7C15ull >> 32) % REVOKE_BUCKETS];
}

static int add_revoke(struct replay *r, uint64_t block, uint32_t seq)
{
	struct revoked *v;

	for (v = *bucket(r, block); v; v = v->next)
		if (v->block == block) {
			v->seq = seq;            /* walked in order: the latest */
			return 0;
		}
	if (!(v = malloc(sizeof(*v))))
		return -ENOMEM;
	*v = (struct revoked){ block, seq, *bucket(r, block) };
	*bucket(r, block) = v;
	return 0;
}

static int is_revoked(struct replay *r, uint64_t block, uint32_t seq)
{
	for (struct revoked *v = *bucket(r, block); v; v = v->next)
		if (v->block == block)
			return (int32_t)(v->seq - seq) >= 0;
	return 0;
}

static void free_revokes(struct replay *r)
{
	for (size_t i = 0; i < REVOKE_BUCKETS; i++)
		for (struct revoked *v = r->table[i], *next; v; v = next) {
			next = v->next;
			free(v);
		}
}

/* The revoke block in j->block: 0, 1 (damaged: the log ends) or -errno. */
static int revoke_block(struct replay *r, uint32_t seq)
{
	struct journal *j = r->j;
	size_t rec = j->incompat & JBD2_INCOMPAT_64BIT ? 8 : 4;
	size_t used = word(j->block, offsetof(struct jbd2_revoke, count));
	size_t room = j->bsize - (has_csum(j) ? 4 : 0);

	if (used > room || used < sizeof(struct jbd2_revoke) || (has_csum(j) && !tail_ok(j, j->block)))
		return 1;
	for (size_t off = sizeof(struct jbd2_revoke); r->pass == REVOKE && off + rec <= used; off += rec) {
		uint64_t b = rec == 8 ? (uint64_t)word(j->block, off) << 32 | word(j->block, off + 4) :
					word(j->block, off);
		int e = add_revoke(r, b, seq);

		if (e)
			return e;
	}
	return 0;
}

/* ---- descriptors and their blocks -------------------------------------------- */

static struct tag read_tag(const struct journal *j, const uint8_t *p)
{
	struct tag t;

	if (j->incompat & JBD2_INCOMPAT_CSUM_V3) {
		t.block = word(p, 0);
		t.flags = word(p, 4);
		if (j->incompat & JBD2_INCOMPAT_64BIT)
			t.block |= (uint64_t)word(p, 8) << 32;
		t.csum = word(p, 12);
		return t;
	}
	t.block = word(p, 0);
	t.csum = word(p, 4) >> 16;
	t.flags = word(p, 4) & 0xFFFF;
	if (j->incompat & JBD2_INCOMPAT_64BIT)
		t.block |= (uint64_t)word(p, 8) << 32;
	return t;
}

/* The logged block (as stored, escaped or not) against its tag. */
static int data_ok(const struct journal *j, const struct tag *t, uint32_t seq,
		   const uint8_t *data)
{
	uint32_t s = be32(seq), c;

	if (!has_csum(j))
		return 1;
	c = journal_crc(journal_crc(j->csum_seed, &s, 4), data, j->bsize);
	return j->incompat & JBD2_INCOMPAT_CSUM_V3 ? c == t->csum : (c & 0xFFFF) == t->csum;
}

static int replay_block(struct replay *r, const struct tag *t, uint32_t pos, uint32_t seq)
{
	struct journal *j = r->j;
	uint32_t magic = be32(JBD2_MAGIC);
	int e;

	if (is_revoked(r, t->block, seq))
		return 0;
	if ((e = journal_io(j, 0, pos, r->data, 1)))
		return e;
	if (t->block >= j->fs_blocks || !data_ok(j, t, seq, r->data)) {
		r->skipped++;
		return 0;
	}
	if (t->flags & JBD2_FLAG_ESCAPE)
		memcpy(r->data, &magic, 4);
	r->written++;
	return j->d.io(j->d.dev, 1, t->block * j->bsize, r->data, j->bsize);
}

/* The descriptor in j->block and its tags (their blocks replayed in the
 * REPLAY pass); *pos ends on its last block.  0, 1 (damaged) or -errno. */
static int descriptor(struct replay *r, uint32_t *pos, uint32_t seq, uint32_t *steps)
{
	struct journal *j = r->j;
	size_t tsz = journal_tag_size(j->incompat), end = j->bsize - (has_csum(j) ? 4 : 0);

	memcpy(r->desc, j->block, j->bsize);
	if (has_csum(j) && !tail_ok(j, j->block))
		return 1;
	for (size_t off = sizeof(struct jbd2_header); off + tsz <= end && *steps < j->maxlen;) {
		struct tag t = read_tag(j, r->desc + off);
		int e;

		off += tsz + (t.flags & JBD2_FLAG_SAME_UUID ? 0 : 16);
		*pos = next_pos(j, *pos);
		++*steps;
		if (r->pass == REPLAY && (e = replay_block(r, &t, *pos, seq)))
			return e;
		if (t.flags & JBD2_FLAG_LAST_TAG)
			break;
	}
	return 0;
}

/* ---- the walks ---------------------------------------------------------------- */

/* The block in j->block, of transaction seq: 0 (walk on), 1 (the log
 * ends here) or -errno. */
static int one_block(struct replay *r, uint32_t *pos, uint32_t *seq, uint32_t *steps)
{
	struct journal *j = r->j;
	int e;

	if (word(j->block, 0) != JBD2_MAGIC || word(j->block, 8) != *seq)
		return 1;
	switch (word(j->block, 4)) {
	case JBD2_DESCRIPTOR:
		return descriptor(r, pos, *seq, steps);
	case JBD2_COMMIT:
		if (!commit_ok(j, j->block))
			return 1;
		++*seq;
		return 0;
	case JBD2_REVOKE:
		return (e = revoke_block(r, *seq)) ? e : 0;
	default:
		return 1;
	}
}

static int walk(struct replay *r)
{
	struct journal *j = r->j;
	uint32_t pos = be32(j->sb.start), seq = be32(j->sb.sequence), steps = 0;
	int e = 0;

	while (steps++ < j->maxlen && (r->pass == SCAN || seq != r->end)) {
		if ((e = journal_io(j, 0, pos, j->block, 1)) < 0 ||
		    (e = one_block(r, &pos, &seq, &steps)))
			break;
		pos = next_pos(j, pos);
	}
	if (e < 0)
		return e;
	if (r->pass == SCAN)
		r->end = seq;
	return r->pass == SCAN || seq == r->end ? 0 : -EIO;
}

static int empty_log(struct journal *j, uint32_t seq)
{
	int e;

	j->sb.start = 0;
	j->sb.sequence = be32(seq);
	j->seq = seq;
	if ((e = j->d.flush(j->d.dev)))
		return e;
	return (e = journal_write_super(j)) ? e : j->d.flush(j->d.dev);
}

int journal_replay(struct journal *j, unsigned *replayed, char *why, size_t n)
{
	struct replay *r = calloc(1, sizeof(*r));
	int e = r ? 0 : -ENOMEM;

	if (r && (!(r->desc = malloc(j->bsize)) || !(r->data = malloc(j->bsize))))
		e = -ENOMEM;
	if (!e && j->sb.start) {
		r->j = j;
		for (r->pass = SCAN; !e && r->pass <= REPLAY; r->pass++)
			e = walk(r);
	}
	/* The next transaction's number is past every one the log held, an
	 * incomplete one too: its blocks must never pass for a later one's. */
	if (!e)
		e = empty_log(j, j->sb.start ? r->end + 1 : be32(j->sb.sequence));
	if (e)
		snprintf(why, n, "journal replay failed: %s", strerror(-e));
	if (!e && replayed)
		*replayed = r->written;
	if (!e && r->skipped)
		fprintf(stderr, "fs: journal replay skipped %u damaged blocks\n",
			r->skipped);
	if (r) {
		free_revokes(r);
		free(r->desc);
		free(r->data);
	}
	free(r);
	return e;
}
