/* The POSIX file layer's internals (libos/fs, apps with PV_FS := 1):
 *
 *   calls.c, dir.c, file.c   newlib's path, directory and descriptor calls
 *   path.c                   names to nodes: the mount table, symlinks, cwd
 *   mount.c                  mounts from start_info, unmount at exit
 *   node.c                   namespace changes on libext2fs (create, link,
 *                            unlink, rename, mkdir, rmdir, symlink)
 *   orphan.c                 unlinked files still open, listed for a crash
 *   held.c                   freed blocks kept from reuse until committed
 *   journal.c, journal_replay.c   the JBD2 journal (journal.h)
 *   inode.c                  attributes: stat, times, size, reading links
 *   dcache.c                 directories' names, hashed (lookups without scans)
 *   errcode.c                libext2fs error codes to errno
 *
 * Every call takes the one file-system lock (fs_lock): libext2fs is not
 * reentrant, and a thread blocked on the block device lets the others
 * run.  Functions here return 0 (or a count) or a negative errno. */
#ifndef LIBOS_FS_FS_H
#define LIBOS_FS_FS_H

#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <ext2fs/ext2fs.h>
#include <public/start_info.h>

#define FS_NAME_MAX  255               /* EXT2_NAME_LEN */
#define FS_PATH_MAX  1024              /* PATH_MAX: longer is ENAMETOOLONG */
#define FS_LINK_MAX  40                /* symlinks followed in one lookup */
#define FS_MOUNTS    PV_MAX_MOUNTS

struct fs_held {
	blk64_t start, count;
};

struct fs_mount {
	char path[PV_MOUNT_PATH_MAX];      /* "/" or "/data" */
	size_t len;                        /* strlen(path), 0 for "/" */
	char dev[16];
	ext2_filsys fs;
	int readonly;
	int freed;                         /* blocks freed since the last sync */
	struct journal *journal;           /* NULL: changes go in place */
	size_t commit_at;                  /* dirty blocks that make a sync point */
	int holding;                       /* freed blocks held until committed (held.c) */
	struct fs_held *held;
	size_t nheld, held_cap;
	uint64_t held_blocks;
};

/* A node of the namespace: an inode of a mounted file system, or (mnt
 * NULL) a directory that exists only to lead to mount points. */
struct fs_node {
	struct fs_mount *mnt;
	ext2_ino_t ino;
};

/* ---- lock (calls.c) ---- */
void fs_lock(void);
void fs_unlock(void);

/* ---- mounts (mount.c) ---- */
extern struct fs_mount fs_mounts[FS_MOUNTS];
extern int fs_mount_count;
uint32_t fs_now(void);                 /* wall clock, seconds */
/* At an operation's end: a sync point for mounts with many dirty blocks
 * (a journal transaction must fit the journal). */
void fs_commit_if_full(void);

/* ---- paths (path.c) ---- */
#define FS_FOLLOW 1                    /* follow a symlink in the last part */

/* path's node; canon (FS_PATH_MAX) gets its canonical absolute path. */
int fs_lookup(const char *path, int flags, struct fs_node *out, char *canon);
/* path's parent directory and last name, for calls that create or remove
 * names; the name is checked (length, not "." or ".."). */
int fs_lookup_parent(const char *path, struct fs_node *dir, char *canon,
		     char name[FS_NAME_MAX + 1]);
int fs_chdir(const char *path);
const char *fs_cwd(void);
/* Mounts directly under canon (a synthetic directory's entries). */
int fs_child_mount(const char *canon, int index, const char **name, size_t *len);
int fs_writable(const struct fs_node *n);  /* 0, -EROFS */

/* ---- attributes (inode.c) ---- */
int fs_read_inode(const struct fs_node *n, struct ext2_inode_large *ino);
int fs_write_inode(const struct fs_node *n, struct ext2_inode_large *ino);
int fs_stat(const struct fs_node *n, struct stat *st);
int fs_is_dir(const struct fs_node *n);    /* 1, 0 or -errno */
int fs_readlink(const struct fs_node *n, char *buf, size_t size);
int fs_set_times(const struct fs_node *n, const struct timespec ts[2]);
void fs_init_times(struct ext2_inode_large *ino);
int fs_touch(const struct fs_node *n, int what);   /* FS_MTIME | FS_CTIME */
int fs_truncate(const struct fs_node *n, uint64_t size);
int fs_set_mode(const struct fs_node *n, mode_t mode);
int fs_set_owner(const struct fs_node *n, uid_t uid, gid_t gid);
/* umask() (calls.c): what creates take away from the mode they are given. */
extern mode_t fs_umask;
#define FS_ATIME 1
#define FS_MTIME 2
#define FS_CTIME 4

/* ---- names (node.c) ---- */
int fs_create(const struct fs_node *dir, const char *name, mode_t mode, struct fs_node *out);
int fs_mkdir(const struct fs_node *dir, const char *name, mode_t mode);
int fs_symlink(const struct fs_node *dir, const char *name, const char *target);
int fs_link(const struct fs_node *dir, const char *name, const struct fs_node *n);
int fs_unlink(const struct fs_node *dir, const char *name, int want_dir);
int fs_rename(const struct fs_node *odir, const char *oname,
	      const struct fs_node *ndir, const char *nname);
int fs_find(const struct fs_node *dir, const char *name, struct fs_node *out);
int fs_space(const struct fs_node *n, uint64_t blocks);        /* 0, -ENOSPC */
uint64_t fs_space_for(const struct fs_node *n, uint64_t off, uint64_t len);
int fs_dir_empty(const struct fs_node *n);        /* 0, -ENOTEMPTY */
/* After n's name in dir is gone: link counts, and n freed if unused. */
int fs_drop_name(const struct fs_node *dir, const struct fs_node *n, int is_dir);
/* Release an inode no name and no open file holds any more. */
int fs_release(const struct fs_node *n);

/* ---- freed blocks held until their commit (held.c) ---- */
void fs_hold_frees(struct fs_mount *m);
void fs_release_held(struct fs_mount *m);     /* before a commit */
int fs_held_many(const struct fs_mount *m);   /* time for a sync point */
void fs_forget_held(struct fs_mount *m);      /* unmount */

/* ---- the orphan list (orphan.c): nameless inodes open files hold ---- */
int fs_orphan_add(const struct fs_node *n);
int fs_orphan_remove(const struct fs_node *n);
/* At mount (say: on the console) and unmount: every orphan freed. */
int fs_orphans_release(struct fs_mount *m, int say);

/* ---- open files (file.c) ---- */
int fs_file_open(const struct fs_node *n, int flags);   /* a descriptor */
int fs_file_node(int fd, struct fs_node *out);
/* Whether an open file holds n (an unlinked file lives until closed). */
int fs_file_is_open(const struct fs_node *n);
/* Write back every mount's dirty state; with flush, to stable storage. */
int fs_sync_mount(struct fs_mount *m, int flush);

/* ---- the directory cache (dcache.c) ---- */
int dcache_lookup(const struct fs_node *dir, const char *name, ext2_ino_t *ino);
void dcache_add(const struct fs_node *dir, const char *name, ext2_ino_t ino);
void dcache_remove(const struct fs_node *dir, const char *name);
void dcache_forget(const struct fs_node *dir);
void dcache_forget_mount(const struct fs_mount *m);

/* ---- errors (errcode.c) ---- */
int fs_errno(errcode_t e);             /* a negative errno */

#endif
