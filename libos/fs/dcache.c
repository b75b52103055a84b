/* The directory cache: a directory's names, hashed, so that a lookup
 * does not scan the directory block by block (ext2fs_lookup does, and
 * checks every block's checksum: a create in a directory of n entries
 * would cost several scans of n).  A directory is read whole on its first
 * lookup; from then its table is complete, so a name missing from it does
 * not exist.  Every change of a name goes through node.c and rename.c,
 * which keep the table in step (or forget it, when unsure).  At most
 * DC_DIRS directories and DC_NAMES names are kept; the least recently used
 * directory goes first. */
#include <stdlib.h>
#include <string.h>

#include "fs.h"

#define DC_DIRS  16
#define DC_NAMES 50000

struct dc_name {
	struct dc_name *next;
	ext2_ino_t ino;
	uint16_t len;
	char name[];
};

struct dc_dir {
	const struct fs_mount *mnt;      /* NULL: free */
	ext2_ino_t ino;
	size_t count, nbuckets;
	struct dc_name **bucket;
	uint64_t used;                   /* LRU stamp */
};

static struct dc_dir dirs[DC_DIRS];
static size_t total;
static uint64_t clock_;

static uint32_t hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static void drop(struct dc_dir *d)
{
	for (size_t i = 0; i < d->nbuckets; i++)
		for (struct dc_name *n = d->bucket[i], *next; n; n = next) {
			next = n->next;
			free(n);
		}
	total -= d->count;
	free(d->bucket);
	memset(d, 0, sizeof(*d));
}

static struct dc_dir *find_dir(const struct fs_mount *m, ext2_ino_t ino)
{
	for (int i = 0; i < DC_DIRS; i++)
		if (dirs[i].mnt == m && dirs[i].ino == ino) {
			dirs[i].used = ++clock_;
			return &dirs[i];
		}
	return NULL;
}

static int grow(struct dc_dir *d)
{
	size_t nb = d->nbuckets ? d->nbuckets * 2 : 64;
	struct dc_name **b = calloc(nb, sizeof(*b));

	if (!b)
		return -1;
	for (size_t i = 0; i < d->nbuckets; i++)
		for (struct dc_name *n = d->bucket[i], *next; n; n = next) {
			next = n->next;
			n->next = b[hash(n->name, n->len) & (nb - 1)];
			b[hash(n->name, n->len) & (nb - 1)] = n;
		}
	free(d->bucket);
	d->bucket = b;
	d->nbuckets = nb;
	return 0;
}

/* 0, or -1 when out of memory or past DC_NAMES (then the directory is
 * dropped: a partial table would give wrong "no such name" answers). */
static int put(struct dc_dir *d, const char *name, size_t len, ext2_ino_t ino)
{
	struct dc_name *n;

	if (total >= DC_NAMES || ((d->count >= d->nbuckets) && grow(d)) ||
	    !(n = malloc(sizeof(*n) + len + 1)))
		return drop(d), -1;
	n->ino = ino;
	n->len = (uint16_t)len;
	memcpy(n->name, name, len);
	n->name[len] = '\0';
	n->next = d->bucket[hash(name, len) & (d->nbuckets - 1)];
	d->bucket[hash(name, len) & (d->nbuckets - 1)] = n;
	d->count++;
	total++;
	return 0;
}

static struct dc_name **slot(struct dc_dir *d, const char *name, size_t len)
{
	struct dc_name **p = &d->bucket[hash(name, len) & (d->nbuckets - 1)];

	while (*p && ((*p)->len != len || memcmp((*p)->name, name, len)))
		p = &(*p)->next;
	return p;
}

/* ---- filling ---------------------------------------------------------------- */

static int add_entry(ext2_ino_t dir, int entry, struct ext2_dir_entry *de,
		     int offset, int blocksize, char *buf, void *priv)
{
	struct dc_dir *d = priv;

	if (!de->inode)
		return 0;
	return put(d, de->name, ext2fs_dirent_name_len(de), de->inode) ? DIRENT_ABORT : 0;
}

static struct dc_dir *fill(const struct fs_node *dir)
{
	struct dc_dir *d = &dirs[0];
	errcode_t e;

	for (int i = 1; i < DC_DIRS; i++)
		if (!dirs[i].mnt || dirs[i].used < d->used)
			d = &dirs[i];
	if (d->mnt)
		drop(d);
	*d = (struct dc_dir){ .mnt = dir->mnt, .ino = dir->ino, .used = ++clock_ };
	if (grow(d))
		return drop(d), NULL;
	e = ext2fs_dir_iterate2(dir->mnt->fs, dir->ino, 0, NULL, add_entry, d);
	if (e || !d->mnt) {
		if (d->mnt)
			drop(d);
		return NULL;
	}
	return d;
}

/* ---- the interface -------------------------------------------------------------- */

/* 0 and *ino; -ENOENT (certain); or 1: not known, ask libext2fs. */
int dcache_lookup(const struct fs_node *dir, const char *name, ext2_ino_t *ino)
{
	struct dc_dir *d = find_dir(dir->mnt, dir->ino);
	struct dc_name *n;

	if (!d && !(d = fill(dir)))
		return 1;
	n = *slot(d, name, strlen(name));
	if (!n)
		return -ENOENT;
	*ino = n->ino;
	return 0;
}

void dcache_add(const struct fs_node *dir, const char *name, ext2_ino_t ino)
{
	struct dc_dir *d = find_dir(dir->mnt, dir->ino);
	size_t len = strlen(name);

	if (!d)
		return;
	struct dc_name *n = *slot(d, name, len);

	if (n)
		n->ino = ino;
	else
		put(d, name, len, ino);
}

void dcache_remove(const struct fs_node *dir, const char *name)
{
	struct dc_dir *d = find_dir(dir->mnt, dir->ino);

	if (!d)
		return;
	struct dc_name **p = slot(d, name, strlen(name)), *n = *p;

	if (n) {
		*p = n->next;
		free(n);
		d->count--;
		total--;
	}
}

/* Unsure what a directory holds now (an error half way), or it is gone. */
void dcache_forget(const struct fs_node *dir)
{
	struct dc_dir *d = find_dir(dir->mnt, dir->ino);

	if (d)
		drop(d);
}

/* A mount goes away: all of its directories. */
void dcache_forget_mount(const struct fs_mount *m)
{
	for (int i = 0; i < DC_DIRS; i++)
		if (dirs[i].mnt == m)
			drop(&dirs[i]);
}
