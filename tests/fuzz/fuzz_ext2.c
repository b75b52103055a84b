/* libFuzzer target for the libOS's mount path on hostile volumes: the
 * input is a disk holding an ext2/3/4 file system (seeds made by
 * mke2fs -d at build time, tests/fuzz/ext2_seeds.py), run through the
 * libOS's own libos/fs/ext2_open.c and io_pvblk.c over an in-memory
 * pv_blk (blk_mem.c), with e2fsprogs' libext2fs built from the same
 * Debian source as the guests' (sdk/deps/e2fsprogs.sh, host variant).
 *
 * Input byte 0 is flags, the rest the disk's first bytes (zeros after):
 *   bit 0  recompute the superblock's metadata_csum checksum, so that
 *          mutated superblock fields get past it
 *   bit 1  journal mode: the disk is a fixed journaled volume
 *          (FUZZ_EXT2_JOURNAL_BASE, made with the seeds) marked "needs
 *          recovery", and the rest of the input is its journal from the
 *          journal's superblock on: the read-write open replays it
 *          (libos/fs/journal_replay.c)
 * Then pv_ext2_open() read-only and read-write; what opens is walked
 * (every directory with ext2fs_dir_iterate2, every file read, every
 * symlink's target) with bounds, and the read-write one gets a new file
 * written and is closed.  Anything may be refused; nothing may crash,
 * hang, leak or trip a sanitizer, and no channel may stay open.
 * Run by `make fuzz-ext2`. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ext2fs/ext2fs.h>
#include <et/com_err.h>
#include <pv_ext2.h>
#include "blk_mem.h"

#define DISK_BYTES  (4u << 20)      /* the journal base is 3 MiB */
#define MAX_DEPTH   16
#define MAX_ENTRIES 2000
#define MAX_READ    (256u << 10)     /* bytes read per input, all files */
#define CHUNK       4096

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

struct walk {
	ext2_filsys fs;
	int depth;
	unsigned entries;
	size_t read;                 /* bytes read so far */
	ext2_ino_t on_path[MAX_DEPTH];
	char buf[CHUNK];
};

/* Limits that match a small guest: big allocations fail instead of
 * reporting, leaks are reported. */
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1:max_allocation_size_mb=64";
}

/* Referenced by mkjournal.c's journal creation, which the mount path
 * never calls: guests link with --gc-sections, which drops it; this link
 * keeps it.  ismounted.c (host probes) is not built. */
errcode_t ext2fs_check_mount_point(const char *file, int *mount_flags,
				   char *mtpt, int mtlen)
{
	*mount_flags = 0;
	return 0;
}

/* FUZZ_EXT2_VERBOSE=1: what each input did (to replay one);
 * FUZZ_EXT2_DUMP=FILE: the disk after the read-write run, for e2fsck. */
static int verbose;

static void dump(void)
{
	const char *path = getenv("FUZZ_EXT2_DUMP");
	FILE *f = path ? fopen(path, "wb") : NULL;

	if (f) {
		fwrite(blk_mem_bytes(), 1, DISK_BYTES, f);
		fclose(f);
	}
}

/* libext2fs reports some damage through com_err's hook (stderr by
 * default): quiet unless verbose. */
static void quiet(const char *who, long code, const char *fmt, va_list ap)
{
	if (verbose) {
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
}

static void read_file(struct walk *w, ext2_ino_t ino, struct ext2_inode *inode)
{
	ext2_file_t f;
	unsigned int got;

	if (ext2fs_file_open2(w->fs, ino, inode, 0, &f))
		return;
	while (w->read < MAX_READ && !ext2fs_file_read(f, w->buf, CHUNK, &got) && got)
		w->read += got;
	ext2fs_file_close(f);
}

/* As fuse2fs's readlink: inline data, a fast symlink's i_block, or the
 * link's one block read like a file. */
static void read_link(struct walk *w, ext2_ino_t ino, struct ext2_inode *inode)
{
	size_t n = 0;

	if (inode->i_flags & EXT4_INLINE_DATA_FL) {
		if (!ext2fs_inline_data_size(w->fs, ino, &n) && n < sizeof(w->buf))
			ext2fs_inline_data_get(w->fs, ino, inode, w->buf, &n);
	} else if (ext2fs_is_fast_symlink(inode)) {
		n = EXT2_I_SIZE(inode);
		if (n < sizeof(inode->i_block))
			memcpy(w->buf, inode->i_block, n);
	} else {
		read_file(w, ino, inode);
	}
}

static void walk_dir(struct walk *w, ext2_ino_t dir);

static int entry(ext2_ino_t dir, int n, struct ext2_dir_entry *de, int off,
		 int bs, char *buf, void *priv)
{
	struct walk *w = priv;
	struct ext2_inode inode;
	int len = ext2fs_dirent_name_len(de);

	if ((len == 1 && de->name[0] == '.') ||
	    (len == 2 && de->name[0] == '.' && de->name[1] == '.'))
		return 0;
	if (++w->entries > MAX_ENTRIES)
		return DIRENT_ABORT;
	if (ext2fs_read_inode(w->fs, de->inode, &inode))
		return 0;
	if (LINUX_S_ISDIR(inode.i_mode))
		walk_dir(w, de->inode);
	else if (LINUX_S_ISREG(inode.i_mode))
		read_file(w, de->inode, &inode);
	else if (LINUX_S_ISLNK(inode.i_mode))
		read_link(w, de->inode, &inode);
	return 0;
}

/* A directory already on the path would loop. */
static void walk_dir(struct walk *w, ext2_ino_t dir)
{
	if (w->depth == MAX_DEPTH)
		return;
	for (int i = 0; i < w->depth; i++)
		if (w->on_path[i] == dir)
			return;
	w->on_path[w->depth++] = dir;
	ext2fs_dir_iterate2(w->fs, dir, 0, NULL, entry, w);
	w->depth--;
}

static void walk(ext2_filsys fs)
{
	struct walk *w = calloc(1, sizeof(*w));

	if (!w)
		return;
	w->fs = fs;
	walk_dir(w, EXT2_ROOT_INO);
	if (verbose)
		fprintf(stderr, "walked: %u entries, %zu bytes\n", w->entries, w->read);
	free(w);
}

/* A new file in the root, made as fsread's write.c makes one. */
static errcode_t new_file(ext2_filsys fs, ext2_ino_t *ino)
{
	struct ext2_inode inode = { 0 };
	errcode_t e;

	if ((e = ext2fs_new_inode(fs, EXT2_ROOT_INO, 010644, 0, ino)))
		return e;
	e = ext2fs_link(fs, EXT2_ROOT_INO, "fuzz", *ino, EXT2_FT_REG_FILE);
	if (e == EXT2_ET_DIR_NO_SPACE && !(e = ext2fs_expand_dir(fs, EXT2_ROOT_INO)))
		e = ext2fs_link(fs, EXT2_ROOT_INO, "fuzz", *ino, EXT2_FT_REG_FILE);
	if (e)
		return e;
	ext2fs_inode_alloc_stats2(fs, *ino, +1, 0);
	inode.i_mode = LINUX_S_IFREG | 0644;
	inode.i_links_count = 1;
	if (ext2fs_has_feature_extents(fs->super))
		inode.i_flags |= EXT4_EXTENTS_FL;
	return ext2fs_write_new_inode(fs, *ino, &inode);
}

static void write_some(ext2_filsys fs)
{
	static char data[3000];
	ext2_file_t f;
	ext2_ino_t ino;
	unsigned int wrote;

	errcode_t e;

	if ((e = ext2fs_read_bitmaps(fs)) || (e = new_file(fs, &ino)) ||
	    (e = ext2fs_file_open(fs, ino, EXT2_FILE_WRITE, &f)))
		goto out;
	memset(data, 'z', sizeof(data));
	e = ext2fs_file_write(f, data, sizeof(data), &wrote);
	ext2fs_file_close(f);
	if (!e)
		e = ext2fs_mkdir(fs, EXT2_ROOT_INO, 0, "fuzzdir");
out:
	if (verbose)
		fprintf(stderr, "write: %s\n", e ? error_message(e) : "ok");
}

/* superblock: s_feature_ro_compat at 0x64, s_checksum at 0x3fc */
static void fix_sb_csum(uint8_t *disk)
{
	uint8_t *sb = disk + SUPERBLOCK_OFFSET;
	uint32_t ro, c;

	memcpy(&ro, sb + 0x64, 4);
	if (!(ro & EXT4_FEATURE_RO_COMPAT_METADATA_CSUM))
		return;
	c = ext2fs_crc32c_le(~0u, sb, 0x3fc);
	memcpy(sb + 0x3fc, &c, 4);
}

static void no_channel_left(void)
{
	io_channel ch;

	REQUIRE(pv_ext2_io_manager->open(BLK_MEM_NAME, IO_FLAG_RW, &ch) == 0);
	io_channel_close(ch);
}

static void run(int flags)
{
	ext2_filsys fs;
	char why[160];

	if (pv_ext2_open(BLK_MEM_NAME, flags, &fs, why, sizeof(why)) == 0) {
		REQUIRE(fs);
		walk(fs);
		if (flags & PV_EXT2_RW)
			write_some(fs);
		ext2fs_close_free(&fs);      /* frees even when the close fails */
	} else {
		REQUIRE(why[0]);             /* a refusal says why */
		if (verbose)
			fprintf(stderr, "%s: refused: %s\n", flags ? "rw" : "ro", why);
	}
	no_channel_left();
}

/* ---- journal mode ---------------------------------------------------------- */

static uint8_t *jbase;
static size_t jbase_len;
static uint64_t jlog_at;                 /* byte offset of the journal's block 0 */

/* The base volume and where its journal starts (found with libext2fs). */
static void load_journal_base(void)
{
	const char *path = getenv("FUZZ_EXT2_JOURNAL_BASE");
	FILE *f = path ? fopen(path, "rb") : NULL;
	ext2_filsys fs;
	blk64_t pblk = 0;
	char why[160];

	if (!f)
		return;
	jbase = malloc(DISK_BYTES);
	jbase_len = fread(jbase, 1, DISK_BYTES, f);
	fclose(f);
	blk_mem_load(jbase, jbase_len);
	REQUIRE(pv_ext2_open(BLK_MEM_NAME, 0, &fs, why, sizeof(why)) == 0);
	REQUIRE(ext2fs_bmap2(fs, fs->super->s_journal_inum, NULL, NULL, 0, 0, NULL, &pblk) == 0);
	jlog_at = pblk * fs->blocksize;
	ext2fs_close_free(&fs);
}

/* The base with data as its journal, marked as needing recovery. */
static void load_journal_input(const uint8_t *data, size_t len)
{
	uint8_t *sb;
	uint32_t incompat;

	blk_mem_load(jbase, jbase_len);
	sb = blk_mem_bytes() + SUPERBLOCK_OFFSET;
	if (len > DISK_BYTES - jlog_at)
		len = DISK_BYTES - jlog_at;
	memcpy(blk_mem_bytes() + jlog_at, data, len);
	memcpy(&incompat, sb + 0x60, 4);
	incompat |= EXT3_FEATURE_INCOMPAT_RECOVER;
	memcpy(sb + 0x60, &incompat, 4);
	fix_sb_csum(blk_mem_bytes());
}

static void load(const uint8_t *data, size_t size)
{
	if ((data[0] & 2) && jbase) {
		load_journal_input(data + 1, size - 1);
		return;
	}
	blk_mem_load(data + 1, size - 1);
	if (data[0] & 1)
		fix_sb_csum(blk_mem_bytes());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;

	if (!ready) {
		blk_mem_init(DISK_BYTES);
		verbose = getenv("FUZZ_EXT2_VERBOSE") != NULL;
		set_com_err_hook(quiet);
		load_journal_base();
		ready = 1;
	}
	if (size < 1)
		return 0;
	load(data, size);
	run(0);
	load(data, size);                    /* as the read-only run saw it */
	run(PV_EXT2_RW);
	if (verbose)
		dump();
	return 0;
}
