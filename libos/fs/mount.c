/* Mounts: the start_info's list (manifest `mount = PATH:DEVICE`), mounted
 * before main() by a constructor, unmounted cleanly when the domain exits
 * (libos_exit_hook, after stdio is flushed).
 *
 * A read-write mount of a file system with a journal (what mkfs.ext4
 * makes) writes every change through it (journal.h) and marks the file
 * system "needs recovery" while mounted, as Linux does: after a crash the
 * next read-write mount here, e2fsck or Linux replays the log, and the
 * file system is consistent without a check.  Without a journal (ext2, or
 * a journal this code cannot use) the mount marks the file system "not
 * clean" instead, so that e2fsck checks it after a crash.  A clean unmount
 * clears either mark.  Files unlinked while open at a crash (the orphan
 * list) are freed.  A file system already marked not clean (a crash
 * before, never checked) is mounted read-only: its bitmaps may be wrong,
 * and allocating from them would overwrite data.  A mount
 * that fails is reported on the console and left out: its path does not
 * exist for the app. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <et/com_err.h>
#include <pv_ext2.h>

#include "fs.h"
#include "journal.h"
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
	return !!(fs->super->s_state & EXT2_VALID_FS);
}

/* Blocks ext2fs_flush() adds to a transaction: the superblock, the group
 * descriptors and both bitmaps of every group. */
static size_t flush_blocks(ext2_filsys fs)
{
	return 1 + fs->desc_blocks + 2 * (size_t)fs->group_desc_count;
}

/* The journal, if the file system has one this code can use: changes go
 * through it from now on (a refusal says why and leaves it unused). */
static void start_journal(const struct pv_mount *pm, struct fs_mount *m)
{
	struct journal_dev d;
	const struct io_journal *hooks;
	char why[120];
	size_t cap, extra = flush_blocks(m->fs);

	if (!ext2fs_has_feature_journal(m->fs->super))
		return;
	pv_ext2_io_journal_dev(m->fs->io, &d);
	if (journal_open(m->fs, &d, &m->journal, why, sizeof(why))) {
		say(pm, "journal not used", why);
		return;
	}
	cap = journal_capacity(m->journal);
	hooks = cap < extra + 32 ? NULL :
		journal_writer(m->journal, ext2fs_has_feature_64bit(m->fs->super));
	if (!hooks || pv_ext2_io_set_journal(m->fs->io, hooks)) {
		say(pm, "journal not used", cap < extra + 32 ? "too small" : "out of memory");
		journal_close(m->journal);
		m->journal = NULL;
		return;
	}
	m->commit_at = (cap - extra) / 2;
}

/* Mark it in use on disk before the first change (see above); the
 * allocation bitmaps are read once, here. */
static errcode_t begin_writing(const struct pv_mount *pm, struct fs_mount *m)
{
	ext2_filsys fs = m->fs;
	errcode_t e = ext2fs_read_bitmaps(fs);

	if (e)
		return e;
	start_journal(pm, m);
	if (m->journal)
		fs_hold_frees(m);
	if (fs->super->s_last_orphan && fs_orphans_release(m, 1))
		return EXT2_ET_BAD_INODE_NUM;     /* a damaged list: e2fsck's job */
	fs->super->s_mnt_count++;
	fs->super->s_mtime = fs_now();
	if (m->journal)
		ext2fs_set_feature_journal_needs_recovery(fs->super);
	else
		fs->super->s_state &= ~EXT2_VALID_FS;
	ext2fs_mark_super_dirty(fs);
	return ext2fs_flush2(fs, 0);
}

static int open_rw(const struct pv_mount *pm, struct fs_mount *m, char *why, size_t n)
{
	errcode_t e = pv_ext2_open(pm->device, PV_EXT2_RW, &m->fs, why, n);

	if (e)
		return -1;
	if (was_clean(m->fs) && !(e = begin_writing(pm, m)))
		return 0;
	ext2fs_close_free(&m->fs);
	journal_close(m->journal);
	m->journal = NULL;
	if (e) {
		snprintf(why, n, "%s", error_message(e));
		return -1;
	}
	say(pm, "not cleanly unmounted (run e2fsck -fp on the host)", "mounted read-only");
	return 1;
}

static void mount_one(const struct pv_mount *pm)
{
	struct fs_mount *m = &fs_mounts[fs_mount_count];
	int ro = !!(pm->flags & PV_MOUNT_READONLY);
	char why[160] = "";
	int r;

	memcpy(m->path, pm->path, sizeof(m->path));
	m->path[sizeof(m->path) - 1] = '\0';
	m->len = strcmp(m->path, "/") ? strlen(m->path) : 0;
	memcpy(m->dev, pm->device, sizeof(m->dev));
	m->dev[sizeof(m->dev) - 1] = '\0';
	r = ro ? 1 : open_rw(pm, m, why, sizeof(why));
	if (r < 0 || (r == 1 && pv_ext2_open(pm->device, 0, &m->fs, why, sizeof(why)))) {
		say(pm, "cannot mount", why);
		return;
	}
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

void fs_commit_if_full(void)
{
	for (int i = 0; i < fs_mount_count; i++) {
		struct fs_mount *m = &fs_mounts[i];

		if (m->journal && (pv_ext2_io_dirty(m->fs->io) > m->commit_at || fs_held_many(m)))
			fs_sync_mount(m, 1);       /* failing, it is tried again */
	}
}

/* Every change committed, the log empty: the journal is let go, and the
 * last superblock write (clean) goes in place, as Linux's unmount does. */
static int stop_journal(struct fs_mount *m)
{
	int r = fs_sync_mount(m, 1);

	if (r || (r = journal_checkpoint(m->journal)))
		return r;
	pv_ext2_io_set_journal(m->fs->io, NULL);
	journal_close(m->journal);
	m->journal = NULL;
	ext2fs_clear_feature_journal_needs_recovery(m->fs->super);
	return 0;
}

static void unmount(struct fs_mount *m)
{
	ext2_filsys fs = m->fs;

	dcache_forget_mount(m);
	if (!m->readonly && fs->super->s_last_orphan)
		fs_orphans_release(m, 0);      /* files still open: the domain ends */
	if (!m->readonly && (m->journal ? stop_journal(m) : fs_sync_mount(m, 0)) == 0) {
		fs->super->s_state |= EXT2_VALID_FS;
		if (fs->super->s_error_count)
			fs->super->s_state |= EXT2_ERROR_FS;
		ext2fs_mark_super_dirty(fs);
	}
	fs_release_held(m);                  /* (after a failed sync) */
	fs_forget_held(m);
	/* ext2fs_close writes the superblock, the group descriptors and the
	 * bitmaps, then flushes the device. */
	if (ext2fs_close_free(&m->fs))
		fprintf(stderr, "fs: %s at %s: unmount failed\n", m->dev, m->path);
	m->fs = NULL;
	journal_close(m->journal);           /* still here if a sync failed */
	m->journal = NULL;
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
