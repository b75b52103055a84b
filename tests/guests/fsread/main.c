/* fsread: an ext2/3/4 volume read with libext2fs through the libOS's I/O
 * manager (pv_ext2.h), for tests/system/test_files.py.
 *   fsread walk DEV    open DEV read-only, print every file's path, size
 *                      and CRC-32, every symlink's target's, every dir
 *   fsread rules DEV   (a read-only device) a write open is refused, a
 *                      second open while one is open is refused, a reopen
 *                      after close works
 *   fsread write DEV SIZE, fsread io DEV MIB   the write side (write.c)
 * Paths are printed in pieces ("fsread: +PIECE" lines, then the record
 * line) because the console splits lines longer than 160 characters.
 * Every mode ends with "fsread: <mode> ok ..." and exit 0, or
 * "fsread: cannot open DEV: WHY" / "fsread: FAIL ..." and exit 1. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <paravane.h>
#include "fsread.h"

PV_REQUIRE_DEVICES(0, 1);

static int open_or_say(const char *dev, int flags, ext2_filsys *fs)
{
	char why[160];
	errcode_t e = pv_ext2_open(dev, flags, fs, why, sizeof(why));

	if (e)
		say("fsread: cannot open %s: %s\n", dev, why);
	return e ? -1 : 0;
}

static void say_fs(const char *dev, ext2_filsys fs)
{
	say("fsread: opened %s blocks=%llu block_size=%u inodes=%u 64bit=%d csum=%d\n",
	       dev, (unsigned long long)ext2fs_blocks_count(fs->super), fs->blocksize,
	       fs->super->s_inodes_count, ext2fs_has_feature_64bit(fs->super),
	       ext2fs_has_feature_metadata_csum(fs->super));
}

static int do_walk(const char *dev)
{
	struct walk_totals t = { 0 };
	struct pv_ext2_io_stats st;
	ext2_filsys fs;
	int r;

	if (open_or_say(dev, 0, &fs))
		return 1;
	say_fs(dev, fs);
	r = fsread_walk(fs, &t);
	pv_ext2_io_stats(dev, &st);
	ext2fs_close_free(&fs);
	if (r || t.failed)
		return 1;
	say("fsread: io reads=%llu bytes_read=%llu writes=%llu\n",
	       (unsigned long long)st.reads, (unsigned long long)st.bytes_read,
	       (unsigned long long)st.writes);
	say("fsread: walk ok files=%llu dirs=%llu links=%llu bytes=%llu\n",
	       (unsigned long long)t.files, (unsigned long long)t.dirs,
	       (unsigned long long)t.links, (unsigned long long)t.bytes);
	return 0;
}

static int expect_refusal(const char *what, const char *dev, int flags, errcode_t want)
{
	ext2_filsys fs;
	char why[160];
	errcode_t e = pv_ext2_open(dev, flags, &fs, why, sizeof(why));

	say("fsread: %s -> %ld (%s)\n", what, (long)e, e ? why : "opened");
	if (e == want)
		return 0;
	if (!e)
		ext2fs_close_free(&fs);
	say("fsread: FAIL %s: wanted %ld\n", what, (long)want);
	return 1;
}

static int do_rules(const char *dev)
{
	ext2_filsys fs;

	if (expect_refusal("write open", dev, PV_EXT2_RW, EROFS) ||
	    open_or_say(dev, 0, &fs))
		return 1;
	if (expect_refusal("second open", dev, 0, EBUSY))
		return 1;
	ext2fs_close_free(&fs);
	if (open_or_say(dev, 0, &fs))
		return 1;
	ext2fs_close_free(&fs);
	say("fsread: rules ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "walk"))
		return do_walk(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "rules"))
		return do_rules(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "write"))
		return fsread_write(argv[2], strtoull(argv[3], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "io"))
		return fsread_io(argv[2], strtoull(argv[3], NULL, 0) << 20);
	say("fsread: FAIL usage: fsread walk|rules DEV, write DEV SIZE, io DEV MIB\n");
	return 1;
}
