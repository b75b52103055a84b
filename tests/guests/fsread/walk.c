/* Walk a file system from its root with libext2fs, printing one record per
 * entry.  What is on disk is not trusted: a corrupt directory may name an
 * ancestor (a loop) or the same directory many times (exponentially many
 * paths), a corrupt size may be terabytes of holes.  So the depth, the
 * path length, the entries visited and the bytes read per file are
 * bounded, a directory on the current path is not entered again, a file
 * must read back exactly its size, and a fast symlink's length must fit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <et/com_err.h>
#include "fsread.h"

#define MAX_DEPTH  64
#define PATH_MAX_  4096
#define PIECE      100            /* console lines are at most 160 chars */
#define CHUNK      (64 * 1024)
#define MAX_ENTRIES 100000
#define MAX_FILE   (64ull << 20)  /* the tests' files are a few MiB */

struct walk {
	ext2_filsys fs;
	struct walk_totals *t;
	char path[PATH_MAX_];
	size_t len;
	int depth;
	ext2_ino_t on_path[MAX_DEPTH];  /* the directories being walked */
	uint64_t entries;
	uint8_t *buf;
};

static void print_path(const char *p)
{
	size_t n = strlen(p);

	for (size_t i = 0; i < n; i += PIECE)
		say("fsread: +%.*s\n", (int)(n - i < PIECE ? n - i : PIECE), p + i);
}

static int fail(struct walk *w, const char *what, long code)
{
	print_path(w->path);
	say("fsread: FAIL %s (%ld)\n", what, code);
	w->t->failed = 1;
	return -1;
}

/* A libext2fs (or errno) code, with its message. */
static int fail_e(struct walk *w, const char *what, errcode_t e)
{
	print_path(w->path);
	say("fsread: FAIL %s: %s (%ld)\n", what, error_message(e), (long)e);
	w->t->failed = 1;
	return -1;
}

/* The whole content of ino through ext2fs_file_read: its CRC-32, and the
 * byte count, which must be the inode's size. */
static int read_file(struct walk *w, ext2_ino_t ino, struct ext2_inode *inode,
		     uint64_t *size, uint32_t *crc)
{
	ext2_file_t f;
	unsigned int got;
	errcode_t e = ext2fs_file_open2(w->fs, ino, inode, 0, &f);

	*size = 0;
	*crc = 0;
	if (!e && EXT2_I_SIZE(inode) > MAX_FILE) {
		ext2fs_file_close(f);
		return fail(w, "file larger than fsread reads", (long)(MAX_FILE >> 20));
	}
	if (e)
		return fail_e(w, "file open", e);
	do {
		if ((e = ext2fs_file_read(f, w->buf, CHUNK, &got)))
			break;
		*crc = fsread_crc32(*crc, w->buf, got);
		*size += got;
	} while (got);
	ext2fs_file_close(f);
	if (e)
		return fail_e(w, "file read", e);
	if (*size != EXT2_I_SIZE(inode))
		return fail(w, "size read != inode size", (long)*size);
	return 0;
}

static int do_file(struct walk *w, ext2_ino_t ino, struct ext2_inode *inode)
{
	uint64_t size;
	uint32_t crc;

	if (read_file(w, ino, inode, &size, &crc))
		return -1;
	print_path(w->path);
	say("fsread: file size=%llu crc=%08lx\n", (unsigned long long)size,
	       (unsigned long)crc);
	w->t->files++;
	w->t->bytes += size;
	return 0;
}

/* A fast symlink keeps its target in i_block; a slow one (or an inline
 * one) reads like a file. */
static int do_link(struct walk *w, ext2_ino_t ino, struct ext2_inode *inode)
{
	uint64_t size = EXT2_I_SIZE(inode);
	uint32_t crc;

	if (ext2fs_is_fast_symlink(inode)) {
		if (size >= sizeof(inode->i_block))
			return fail(w, "fast symlink too long", (long)size);
		crc = fsread_crc32(0, inode->i_block, (size_t)size);
	} else if (read_file(w, ino, inode, &size, &crc)) {
		return -1;
	}
	print_path(w->path);
	say("fsread: link size=%llu crc=%08lx\n", (unsigned long long)size,
	       (unsigned long)crc);
	w->t->links++;
	return 0;
}

static int walk_dir(struct walk *w, ext2_ino_t dir);

static int do_entry(struct walk *w, ext2_ino_t ino)
{
	struct ext2_inode inode;
	errcode_t e = ext2fs_read_inode(w->fs, ino, &inode);

	if (e)
		return fail_e(w, "read inode", e);
	if (LINUX_S_ISDIR(inode.i_mode))
		return walk_dir(w, ino);
	if (LINUX_S_ISREG(inode.i_mode))
		return do_file(w, ino, &inode);
	if (LINUX_S_ISLNK(inode.i_mode))
		return do_link(w, ino, &inode);
	return 0;                       /* devices, fifos: nothing to read */
}

static int is_dot(const char *name, int n)
{
	return (n == 1 && name[0] == '.') || (n == 2 && name[0] == '.' && name[1] == '.');
}

static int entry_cb(ext2_ino_t dir, int entry, struct ext2_dir_entry *de, int offset,
		    int blocksize, char *buf, void *priv)
{
	struct walk *w = priv;
	int n = ext2fs_dirent_name_len(de);
	size_t old = w->len;

	if (is_dot(de->name, n))
		return 0;
	if (++w->entries > MAX_ENTRIES) {
		fail(w, "too many entries", MAX_ENTRIES);
		return DIRENT_ABORT;
	}
	if (old + 1 + (size_t)n >= sizeof(w->path)) {
		fail(w, "path too long", n);
		return DIRENT_ABORT;
	}
	w->path[old] = '/';
	memcpy(w->path + old + 1, de->name, (size_t)n);
	w->len = old + 1 + (size_t)n;
	w->path[w->len] = 0;
	do_entry(w, de->inode);
	w->len = old;
	w->path[old] = 0;
	return w->t->failed ? DIRENT_ABORT : 0;
}

static int on_path(const struct walk *w, ext2_ino_t dir)
{
	for (int i = 0; i < w->depth; i++)
		if (w->on_path[i] == dir)
			return 1;
	return 0;
}

static int walk_dir(struct walk *w, ext2_ino_t dir)
{
	errcode_t e;

	if (w->depth == MAX_DEPTH)
		return fail(w, "directories nested too deep", MAX_DEPTH);
	if (on_path(w, dir))
		return fail(w, "directory loop", (long)dir);
	w->on_path[w->depth++] = dir;
	print_path(w->len ? w->path : "/");
	say("fsread: dir\n");
	w->t->dirs++;
	e = ext2fs_dir_iterate2(w->fs, dir, 0, NULL, entry_cb, w);
	w->depth--;
	if (e && !w->t->failed)
		return fail_e(w, "dir iterate", e);
	return w->t->failed ? -1 : 0;
}

int fsread_walk(ext2_filsys fs, struct walk_totals *t)
{
	struct walk *w = calloc(1, sizeof(*w));
	int r;

	if (!w || !(w->buf = malloc(CHUNK))) {
		say("fsread: FAIL out of memory\n");
		free(w);
		return -1;
	}
	w->fs = fs;
	w->t = t;
	r = walk_dir(w, EXT2_ROOT_INO);
	free(w->buf);
	free(w);
	return r;
}
