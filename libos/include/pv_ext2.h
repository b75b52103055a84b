/* Paravane library OS: ext2/3/4 volumes through e2fsprogs' libext2fs
 * (apps built with PV_FS := 1; docs/files.md).
 *
 * pv_ext2_io_manager is a libext2fs I/O manager over the PV block frontend
 * (pv_blk.h).  Its channel names are block devices' manifest names, with
 * or without a "pvblk:" prefix: ext2fs_open2("pvblk:vol0", ...).  It:
 *   - reads and writes through pv_blk_read/pv_blk_write, synchronously
 *     (other threads run meanwhile), with no cache of its own: libext2fs
 *     caches inodes, the caller caches what else it wants;
 *   - takes any byte range: whole sectors go straight to the device, a
 *     partial sector at either end is read whole (and, for a write,
 *     written back merged);
 *   - refuses a range past the device's end (EXT2_ET_SHORT_READ/_WRITE,
 *     nothing is asked of the device), a write channel on a read-only
 *     device (EROFS) and a second channel on a device already in use
 *     (EBUSY): one writer per volume;
 *   - io_channel_flush() is pv_blk_flush(): every write that returned
 *     before it is on stable storage when it returns 0;
 *   - reports device errors as errno values (EIO, ENOTCONN, ...), which
 *     com_err's error_message() prints like strerror().
 * pv_blk has no close: a device, once opened here, stays open (and a later
 * channel reuses it); the same device cannot also be opened with
 * pv_blk_open() by the app.
 *
 * pv_ext2_open() is ext2fs_open2() with the checks a mount needs; the
 * POSIX file layer and apps that use libext2fs directly both start there.
 */
#ifndef PV_EXT2_H
#define PV_EXT2_H

#include <stddef.h>
#include <stdint.h>
#include <ext2fs/ext2fs.h>

#ifdef __cplusplus
extern "C" {
#endif

extern io_manager pv_ext2_io_manager;

/* What a channel on dev has moved since it was opened (0s if none is). */
struct pv_ext2_io_stats {
	uint64_t reads, writes, flushes;      /* device requests */
	uint64_t bytes_read, bytes_written;
};
void pv_ext2_io_stats(const char *dev, struct pv_ext2_io_stats *out);

/* count whole blocks (of the channel's block size) at block, straight
 * between the device and buf, around the channel's cache (a write drops
 * its copies of those blocks; a read of blocks with dirty copies reads
 * through it).  For long runs of file data; libext2fs's own reads and
 * writes go through the cache. */
errcode_t pv_ext2_io_direct(io_channel ch, int write, unsigned long long block,
			    size_t count, void *buf);

/* For tests of the journal only (tests/system/test_fs_journal.py): the
 * next transaction a mount commits is followed at once by a crash of the
 * domain (an invalid instruction), before any of its blocks goes in
 * place, so that only a replay can bring them. */
void pv_ext2_test_crash_after_commit(void);

#define PV_EXT2_RW  1   /* open for writing (else read-only) */

/* Open the file system on block device dev (a manifest name).  With
 * PV_EXT2_RW, a journal that needs recovery (a crash) is replayed first
 * ("fs: DEV: journal replayed (N blocks)" on stderr; docs/files.md).
 * Refused, with what was wrong written to why (a complete sentence
 * fragment such as "bad magic number in super-block"; why may be NULL):
 *   - whatever ext2fs_open2 refuses: no ext2/3/4 superblock, a bad
 *     checksum (metadata_csum), an incompatible feature libext2fs does
 *     not know (or, with PV_EXT2_RW, a read-only-compatible one);
 *   - a journal that needs recovery: read-only, always; read-write, when
 *     the journal cannot be read (its superblock damaged, fast commits);
 *   - a geometry e2fsck refuses and libext2fs trusts: a first data
 *     block other than 1 (1 KiB blocks) or 0 (larger);
 *   - with PV_EXT2_RW: a file system marked as having errors, or a
 *     read-only device.
 * 0 and *out set, or the libext2fs/errno code.  Close with ext2fs_close2. */
errcode_t pv_ext2_open(const char *dev, int flags, ext2_filsys *out,
		       char *why, size_t whylen);

#ifdef __cplusplus
}
#endif

#endif
