/* The on-disk format of ext4's journal (JBD2), as Linux, e2fsck and
 * debugfs's logdump read it; written from the format's description
 * (Linux's Documentation/filesystems/ext4/journal.rst).  Every field is
 * big-endian.  Block 0 of the journal is its superblock; the log is the
 * blocks [s_first, s_maxlen), used as a ring: descriptor blocks (tags
 * naming the file-system blocks whose copies follow), revoke blocks and
 * commit blocks, each with the transaction's sequence number. */
#ifndef LIBOS_FS_JBD2_H
#define LIBOS_FS_JBD2_H

#include <stdint.h>

#define JBD2_MAGIC          0xC03B3998u

#define JBD2_DESCRIPTOR     1
#define JBD2_COMMIT         2
#define JBD2_SUPERBLOCK_V1  3
#define JBD2_SUPERBLOCK_V2  4
#define JBD2_REVOKE         5

#define JBD2_COMPAT_CHECKSUM        0x01   /* v1 checksums (not written) */
#define JBD2_INCOMPAT_REVOKE        0x01
#define JBD2_INCOMPAT_64BIT         0x02
#define JBD2_INCOMPAT_ASYNC_COMMIT  0x04
#define JBD2_INCOMPAT_CSUM_V2       0x08
#define JBD2_INCOMPAT_CSUM_V3       0x10
#define JBD2_INCOMPAT_FAST_COMMIT   0x20
#define JBD2_INCOMPAT_KNOWN         0x1F   /* all but fast commits */

#define JBD2_CRC32C         4              /* s_checksum_type */

#define JBD2_FLAG_ESCAPE    1              /* data began with the magic */
#define JBD2_FLAG_SAME_UUID 2              /* else 16 bytes of UUID follow */
#define JBD2_FLAG_LAST_TAG  8

struct jbd2_header {
	uint32_t magic, type, sequence;
};

struct jbd2_super {
	struct jbd2_header h;
	uint32_t blocksize, maxlen, first;
	uint32_t sequence, start;              /* start 0: the log is empty */
	int32_t error;
	uint32_t compat, incompat, ro_compat;
	uint8_t uuid[16];
	uint32_t nr_users, dynsuper, max_transaction, max_trans_data;
	uint8_t checksum_type, pad[3];
	uint32_t fc_blocks;
	uint32_t pad2[41];
	uint32_t checksum;                     /* crc32c of these 1024 bytes */
	uint8_t users[16 * 48];
};

/* Tag formats: csum v3 (16 bytes); otherwise 8 bytes, + 4 with 64-bit
 * block numbers, + 2 with csum v2 (a 16-bit checksum). */
struct jbd2_tag3 {
	uint32_t block, flags, block_high, checksum;
};

struct jbd2_tag {
	uint32_t block;
	uint16_t checksum, flags;
	uint32_t block_high;
};

struct jbd2_commit {
	struct jbd2_header h;
	uint8_t checksum_type, checksum_size, pad[2];
	uint32_t checksum[8];                  /* v2/v3: [0] = crc32c of the block */
	uint64_t sec;
	uint32_t nsec;
};

struct jbd2_revoke {
	struct jbd2_header h;
	uint32_t count;                        /* bytes used, this header included */
};

_Static_assert(sizeof(struct jbd2_super) == 1024, "journal superblock");
_Static_assert(sizeof(struct jbd2_tag3) == 16 && sizeof(struct jbd2_tag) == 12, "tags");

static inline uint32_t be32(uint32_t v)
{
	return __builtin_bswap32(v);
}

static inline uint16_t be16(uint16_t v)
{
	return __builtin_bswap16(v);
}

static inline uint64_t be64(uint64_t v)
{
	return __builtin_bswap64(v);
}

#endif
