/* Mounts: the start_info's list (manifest `mount = PATH:DEVICE`), mounted
 * before main() by a constructor, unmounted cleanly when the domain exits
 * (libos_exit_hook, after stdio is flushed).
 *
 * A read-write mount marks the file system "not clean" on disk first, as
 * Linux does, so that e2fsck checks it after a crash; a clean unmount
 * marks it clean again.  A file system already marked not clean (a crash
 * before, never checked) or with orphans is mounted read-only: its
 * bitmaps may be wrong, and allocating from them would overwrite data.
 * A mount that fails is reported on the console and left out: its path
 * does not exist for the app. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <et/com_err.h>
#include <pv_ext2.h>

#include "fs.h"
#include "libos.h"

struct fs_mount fs_mounts[FS_MOUNTS];
int fs_mount_count;

uint32_t fs_now(void)
{
	return (uint32_t)time(NULL);
}

static void say(const struct pv_mount *pm, const char *what, const char *why)
{
	fprintf(stderr, "fs: %s at %s: %s%s%s\n", pm->device, pm->path, what,
		why ? ": " : "", why ? why : "");
}

static int was_clean(ext2_filsys fs)
{
	return (fs->super->s_state & EXT2_VALID_FS) && !fs->super->s_last_orphan;
}

/* Mark it in use on disk before the first change (see above); the
 * allocation bitmaps are read once, here. */
static errcode_t begin_writing(ext2_filsys fs)
{
	errcode_t e = ext2fs_read_bitmaps(fs);

	if (e)
		return e;
	fs->super->s_mnt_count++;
	fs->super->s_mtime = fs_now();
	fs->super->s_state &= ~EXT2_VALID_FS;
	ext2fs_mark_super_dirty(fs);
	return ext2fs_flush2(fs, 0);
}

static int open_rw(const struct pv_mount *pm, ext2_filsys *fs, char *why, size_t n)
{
	errcode_t e = pv_ext2_open(pm->device, PV_EXT2_RW, fs, why, n);

	if (e)
		return -1;
	if (was_clean(*fs))
		return (e = begin_writing(*fs)) ? (snprintf(why, n, "%s", error_message(e)), -1) : 0;
	ext2fs_close_free(fs);
	say(pm, "not cleanly unmounted (run e2fsck -fp on the host)", "mounted read-only");
	return 1;
}

static void mount_one(const struct pv_mount *pm)
{
	struct fs_mount *m = &fs_mounts[fs_mount_count];
	int ro = !!(pm->flags & PV_MOUNT_READONLY);
	char why[160] = "";
	int r = ro ? 1 : open_rw(pm, &m->fs, why, sizeof(why));

	if (r < 0 || (r == 1 && pv_ext2_open(pm->device, 0, &m->fs, why, sizeof(why)))) {
		say(pm, "cannot mount", why);
		return;
	}
	memcpy(m->path, pm->path, sizeof(m->path));
	m->path[sizeof(m->path) - 1] = '\0';
	m->len = strcmp(m->path, "/") ? strlen(m->path) : 0;
	memcpy(m->dev, pm->device, sizeof(m->dev));
	m->dev[sizeof(m->dev) - 1] = '\0';
	m->readonly = r == 1;
	fs_mount_count++;
}

/* libext2fs reports some damage through com_err ("Illegal block number
 * passed to ext2fs_mark_block_bitmap ..."), as often as a damaged volume
 * makes it: the first COM_ERR_MAX reach the console, then one line says
 * the rest are dropped. */
#define COM_ERR_MAX 20

static void com_err_quietly(const char *who, long code, const char *fmt, va_list ap)
{
	static unsigned said;

	if (said++ > COM_ERR_MAX)
		return;
	if (said > COM_ERR_MAX) {
		fprintf(stderr, "fs: more libext2fs messages dropped\n");
		return;
	}
	fprintf(stderr, "fs: %s: %s ", who ? who : "libext2fs", code ? error_message(code) : "");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

__attribute__((constructor(101))) static void mount_all(void)
{
	const struct pv_start_info *si = libos_si;

	set_com_err_hook(com_err_quietly);
	for (uint32_t i = 0; i < si->mount_count && i < FS_MOUNTS; i++)
		mount_one(&si->mount[i]);
}

static void unmount(struct fs_mount *m)
{
	ext2_filsys fs = m->fs;

	dcache_forget_mount(m);
	if (!m->readonly && fs_sync_mount(m, 0) == 0) {
		fs->super->s_state |= EXT2_VALID_FS;
		if (fs->super->s_error_count)
			fs->super->s_state |= EXT2_ERROR_FS;
		ext2fs_mark_super_dirty(fs);
	}
	/* ext2fs_close writes the superblock, the group descriptors and the
	 * bitmaps, then flushes the device. */
	if (ext2fs_close_free(&m->fs))
		fprintf(stderr, "fs: %s at %s: unmount failed\n", m->dev, m->path);
	m->fs = NULL;
}

/* The domain is ending normally: every file system clean. */
void libos_exit_hook(void)
{
	fs_lock();
	for (int i = 0; i < fs_mount_count; i++)
		if (fs_mounts[i].fs)
			unmount(&fs_mounts[i]);
	fs_mount_count = 0;
	fs_unlock();
}
