/* newlib's path calls on the mounted file systems: open, stat, lstat,
 * access, chdir, getcwd, mkdir, rmdir, unlink, remove, link, symlink,
 * readlink, rename, truncate, utimes, utime, utimensat, statvfs,
 * fstatvfs, chmod, fchmod, chown, lchown, fchown, umask.  Each resolves
 * its names (path.c), checks what POSIX asks, then changes the file
 * system (node.c, rename.c, inode.c), all under the one file-system lock.  These replace the weak ENOENT answers of
 * libos/libc/nofs.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <unistd.h>
#include <utime.h>
#include <pv_thread.h>

#include "fs.h"
#include "libos.h"

/* ---- the lock: libext2fs is not reentrant, and a thread that waits for
 * the block device lets the others run ---------------------------------- */

static int locked;
static struct pv_waitq lock_q = PV_WAITQ_INIT(lock_q);

void fs_lock(void)
{
	while (locked)
		pv_waitq_wait(&lock_q, PV_THREAD_FOREVER);
	locked = 1;
}

void fs_unlock(void)
{
	fs_commit_if_full();
	locked = 0;
	pv_waitq_wake_one(&lock_q);
}

static int done(int r)
{
	fs_unlock();
	return r < 0 ? libos_fail(-r) : r;
}

/* ---- sync ------------------------------------------------------------------- */

/* Bitmaps, group descriptors and superblock written; with flush, and the
 * device's cache flushed.  Routine syncs leave the backup superblocks
 * alone (as Linux does); unmount writes them. */
int fs_sync_mount(struct fs_mount *m, int flush)
{
	int released = flush && m->nheld;
	errcode_t e;

	if (flush)
		fs_release_held(m);        /* the bitmaps committed say what is true */
	m->fs->flags |= EXT2_FLAG_MASTER_SB_ONLY;
	e = ext2fs_flush2(m->fs, flush ? 0 : EXT2_FLAG_FLUSH_NO_SYNC);
	m->fs->flags &= ~EXT2_FLAG_MASTER_SB_ONLY;
	if (!e && flush)
		m->freed = 0;
	if (e && released)
		m->freed = 1;              /* released, not committed: the fallback */
	return e ? fs_errno(e) : 0;
}

void sync(void)
{
	fs_lock();
	for (int i = 0; i < fs_mount_count; i++)
		if (fs_mounts[i].fs && !fs_mounts[i].readonly)
			fs_sync_mount(&fs_mounts[i], 1);
	fs_unlock();
}

/* ---- open ------------------------------------------------------------------- */

static int create_at(const char *path, int flags, mode_t mode, struct fs_node *n)
{
	struct fs_node dir;
	char name[FS_NAME_MAX + 1];
	int r = fs_lookup_parent(path, &dir, NULL, name);

	if (r)
		return r;
	if ((r = fs_find(&dir, name, n)) != -ENOENT)
		return r;                  /* 0: it appeared (a dangling link's target) */
	return (r = fs_writable(&dir)) ? r : fs_create(&dir, name, mode, n);
}

/* The file path names, made if O_CREAT says so. */
static int open_node(const char *path, int flags, mode_t mode, struct fs_node *n)
{
	int r = fs_lookup(path, (flags & O_NOFOLLOW) ? 0 : FS_FOLLOW, n, NULL);

	if (!r && (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
		return -EEXIST;
	if (r == -ENOENT && (flags & O_CREAT))
		return create_at(path, flags, mode, n);
	return r;
}

static int check_open(const struct fs_node *n, int flags)
{
	struct stat st;
	int acc = flags & O_ACCMODE;
	int r = fs_stat(n, &st);

	if (r)
		return r;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;                 /* O_NOFOLLOW on a link */
	if (S_ISDIR(st.st_mode))
		return acc != O_RDONLY || (flags & O_TRUNC) ? -EISDIR : -EOPNOTSUPP;
	if ((flags & O_DIRECTORY))
		return -ENOTDIR;
	if (!S_ISREG(st.st_mode))
		return -EOPNOTSUPP;
	if ((acc != O_RDONLY || (flags & O_TRUNC)) && (r = fs_writable(n)))
		return r;
	if ((flags & O_TRUNC) && acc != O_RDONLY && st.st_size)
		return fs_truncate(n, 0);
	return 0;
}

int open(const char *path, int flags, ...)
{
	struct fs_node n;
	mode_t mode = 0;
	va_list ap;
	int r;

	va_start(ap, flags);
	if (flags & O_CREAT)
		mode = (mode_t)va_arg(ap, int);
	va_end(ap);
	if (!path)
		return libos_fail(EFAULT);
	fs_lock();
	if (!(r = open_node(path, flags, mode, &n)) && !(r = check_open(&n, flags)))
		r = fs_file_open(&n, flags);
	return done(r);
}

/* ---- attributes -------------------------------------------------------------- */

static int stat_path(const char *path, int follow, struct stat *st)
{
	struct fs_node n;
	int r;

	if (!path || !st)
		return libos_fail(EFAULT);
	fs_lock();
	if (!(r = fs_lookup(path, follow, &n, NULL)))
		r = fs_stat(&n, st);
	return done(r);
}

int stat(const char *path, struct stat *st)
{
	return stat_path(path, FS_FOLLOW, st);
}

int lstat(const char *path, struct stat *st)
{
	return stat_path(path, 0, st);
}

/* One user, root: only a read-only mount (W_OK) or no x bit (X_OK on a
 * file) says no. */
int access(const char *path, int mode)
{
	struct fs_node n;
	struct stat st;
	int r;

	fs_lock();
	if (!(r = fs_lookup(path, FS_FOLLOW, &n, NULL)) && (mode & W_OK))
		r = fs_writable(&n);
	if (!r && (mode & X_OK) && !(r = fs_stat(&n, &st)) &&
	    !S_ISDIR(st.st_mode) && !(st.st_mode & 0111))
		r = -EACCES;
	return done(r);
}

ssize_t readlink(const char *path, char *buf, size_t size)
{
	struct fs_node n;
	int r;

	fs_lock();
	if (!(r = fs_lookup(path, 0, &n, NULL)))
		r = fs_readlink(&n, buf, size);
	return done(r);
}

int truncate(const char *path, off_t len)
{
	struct fs_node n;
	int r;

	if (len < 0)
		return libos_fail(EINVAL);
	fs_lock();
	if (!(r = fs_lookup(path, FS_FOLLOW, &n, NULL)) && !(r = fs_writable(&n)))
		r = fs_is_dir(&n) ? -EISDIR : fs_truncate(&n, (uint64_t)len);
	return done(r);
}

int utimensat(int dirfd, const char *path, const struct timespec *ts, int flags)
{
	static const struct timespec now[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };
	struct fs_node n;
	int r;

	if (path && path[0] != '/' && dirfd != AT_FDCWD)
		return libos_fail(EBADF);
	if (ts && ((ts[0].tv_nsec < 0 && ts[0].tv_nsec != UTIME_NOW && ts[0].tv_nsec != UTIME_OMIT) ||
		   (ts[1].tv_nsec < 0 && ts[1].tv_nsec != UTIME_NOW && ts[1].tv_nsec != UTIME_OMIT) ||
		   ts[0].tv_nsec >= 1000000000 || ts[1].tv_nsec >= 1000000000))
		return libos_fail(EINVAL);
	fs_lock();
	if (!(r = fs_lookup(path, (flags & AT_SYMLINK_NOFOLLOW) ? 0 : FS_FOLLOW, &n, NULL)) &&
	    !(r = fs_writable(&n)))
		r = fs_set_times(&n, ts ? ts : now);
	return done(r);
}

int utimes(const char *path, const struct timeval *tv)
{
	struct timespec ts[2];

	if (!tv)
		return utimensat(AT_FDCWD, path, NULL, 0);
	for (int i = 0; i < 2; i++) {
		if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000)
			return libos_fail(EINVAL);
		ts[i] = (struct timespec){ tv[i].tv_sec, tv[i].tv_usec * 1000 };
	}
	return utimensat(AT_FDCWD, path, ts, 0);
}

int utime(const char *path, const struct utimbuf *t)
{
	struct timespec ts[2];

	if (!t)
		return utimensat(AT_FDCWD, path, NULL, 0);
	ts[0] = (struct timespec){ t->actime, 0 };
	ts[1] = (struct timespec){ t->modtime, 0 };
	return utimensat(AT_FDCWD, path, ts, 0);
}

/* ---- owner, mode, umask --------------------------------------------------------- */

mode_t fs_umask = 022;

mode_t umask(mode_t mask)
{
	mode_t old = fs_umask;

	fs_umask = mask & 0777;
	return old;
}

/* path's node (following a last symlink unless nofollow), writable. */
static int writable_node(const char *path, int nofollow, struct fs_node *n)
{
	int r = fs_lookup(path, nofollow ? 0 : FS_FOLLOW, n, NULL);

	return r ? r : fs_writable(n);
}

static int fd_node(int fd, struct fs_node *n)
{
	int r = fs_file_node(fd, n);

	return r ? r : fs_writable(n);
}

int chmod(const char *path, mode_t mode)
{
	struct fs_node n;
	int r;

	fs_lock();
	if (!(r = writable_node(path, 0, &n)))
		r = fs_set_mode(&n, mode);
	return done(r);
}

int fchmod(int fd, mode_t mode)
{
	struct fs_node n;
	int r;

	fs_lock();
	if (!(r = fd_node(fd, &n)))
		r = fs_set_mode(&n, mode);
	return done(r);
}

static int chown_at(const char *path, int nofollow, uid_t uid, gid_t gid)
{
	struct fs_node n;
	int r;

	fs_lock();
	if (!(r = writable_node(path, nofollow, &n)))
		r = fs_set_owner(&n, uid, gid);
	return done(r);
}

int chown(const char *path, uid_t uid, gid_t gid)
{
	return chown_at(path, 0, uid, gid);
}

int lchown(const char *path, uid_t uid, gid_t gid)
{
	return chown_at(path, 1, uid, gid);
}

int fchown(int fd, uid_t uid, gid_t gid)
{
	struct fs_node n;
	int r;

	fs_lock();
	if (!(r = fd_node(fd, &n)))
		r = fs_set_owner(&n, uid, gid);
	return done(r);
}

/* ---- the working directory ---------------------------------------------------- */

int chdir(const char *path)
{
	fs_lock();
	return done(fs_chdir(path));
}

char *getcwd(char *buf, size_t size)
{
	const char *cwd = fs_cwd();

	if (!buf)
		return libos_fail(EINVAL), NULL;
	if (strlen(cwd) >= size)
		return libos_fail(ERANGE), NULL;
	return strcpy(buf, cwd);
}

/* ---- names ----------------------------------------------------------------------- */

/* A mount point cannot be removed or renamed (EBUSY), nor a synthetic
 * directory changed (EROFS). */
static int changeable(const struct fs_node *dir, const char *canon, const char *name)
{
	struct fs_node n;
	char path[FS_PATH_MAX];
	int r = fs_writable(dir);

	if (r)
		return r;
	if (strlen(canon) + 1 + strlen(name) >= sizeof(path))
		return -ENAMETOOLONG;
	strcpy(path, canon);
	strcat(strcmp(canon, "/") ? strcat(path, "/") : path, name);
	if (!fs_lookup(path, 0, &n, NULL) && n.mnt != dir->mnt)
		return -EBUSY;
	return 0;
}

static int remove_name(const char *path, int want_dir)
{
	struct fs_node dir;
	char canon[FS_PATH_MAX], name[FS_NAME_MAX + 1];
	int r;

	fs_lock();
	if (!(r = fs_lookup_parent(path, &dir, canon, name)) &&
	    !(r = changeable(&dir, canon, name)))
		r = fs_unlink(&dir, name, want_dir);
	return done(r);
}

int unlink(const char *path)
{
	return remove_name(path, 0);
}

int rmdir(const char *path)
{
	return remove_name(path, 1);
}

int remove(const char *path)
{
	struct stat st;

	if (lstat(path, &st))
		return -1;
	return S_ISDIR(st.st_mode) ? rmdir(path) : unlink(path);
}

/* For mkdir, symlink and link: the parent, the name, and that it is free. */
static int new_name(const char *path, struct fs_node *dir, char name[FS_NAME_MAX + 1])
{
	struct fs_node n;
	char canon[FS_PATH_MAX];
	int r = fs_lookup_parent(path, dir, canon, name);

	if (r)
		return r == -EINVAL || r == -EBUSY ? -EEXIST : r;   /* ".", "..", "/" */
	if ((r = fs_find(dir, name, &n)) != -ENOENT || (dir->mnt == NULL))
		return r ? r : dir->mnt ? -EEXIST : -EROFS;
	return changeable(dir, canon, name);
}

int mkdir(const char *path, mode_t mode)
{
	struct fs_node dir;
	char name[FS_NAME_MAX + 1];
	int r;

	fs_lock();
	if (!(r = new_name(path, &dir, name)))
		r = fs_mkdir(&dir, name, mode);
	return done(r);
}

int symlink(const char *target, const char *path)
{
	struct fs_node dir;
	char name[FS_NAME_MAX + 1];
	int r;

	fs_lock();
	if (!(r = new_name(path, &dir, name)))
		r = fs_symlink(&dir, name, target);
	return done(r);
}

int link(const char *old, const char *path)
{
	struct fs_node dir, n;
	char name[FS_NAME_MAX + 1];
	int r;

	fs_lock();
	if (!(r = fs_lookup(old, 0, &n, NULL)) && !(r = new_name(path, &dir, name)))
		r = n.mnt ? fs_link(&dir, name, &n) : -EPERM;
	return done(r);
}

int rename(const char *old, const char *new)
{
	struct fs_node odir, ndir;
	char ocanon[FS_PATH_MAX], ncanon[FS_PATH_MAX];
	char oname[FS_NAME_MAX + 1], nname[FS_NAME_MAX + 1];
	int r;

	fs_lock();
	if (!(r = fs_lookup_parent(old, &odir, ocanon, oname)) &&
	    !(r = fs_lookup_parent(new, &ndir, ncanon, nname)) &&
	    !(r = changeable(&odir, ocanon, oname)) && !(r = changeable(&ndir, ncanon, nname)))
		r = fs_rename(&odir, oname, &ndir, nname);
	return done(r);
}

/* ---- statvfs ------------------------------------------------------------------------ */

static void fill_statvfs(const struct fs_node *n, struct statvfs *sv)
{
	memset(sv, 0, sizeof(*sv));
	sv->f_namemax = FS_NAME_MAX;
	sv->f_flag = ST_NOSUID;
	if (!n->mnt) {
		sv->f_bsize = sv->f_frsize = 4096;
		sv->f_flag |= ST_RDONLY;
		return;
	}
	ext2_filsys fs = n->mnt->fs;
	uint64_t free = ext2fs_free_blocks_count(fs->super);
	uint64_t reserved = ext2fs_r_blocks_count(fs->super);

	sv->f_bsize = sv->f_frsize = fs->blocksize;
	sv->f_blocks = ext2fs_blocks_count(fs->super);
	sv->f_bfree = free;
	sv->f_bavail = free > reserved ? free - reserved : 0;
	sv->f_files = fs->super->s_inodes_count;
	sv->f_ffree = sv->f_favail = fs->super->s_free_inodes_count;
	sv->f_fsid = (unsigned long)(n->mnt - fs_mounts) + 1;
	if (n->mnt->readonly)
		sv->f_flag |= ST_RDONLY;
}

int statvfs(const char *path, struct statvfs *sv)
{
	struct fs_node n;
	int r;

	fs_lock();
	if (!(r = fs_lookup(path, FS_FOLLOW, &n, NULL)))
		fill_statvfs(&n, sv);
	return done(r);
}

int fstatvfs(int fd, struct statvfs *sv)
{
	struct fs_node n;
	int r;

	fs_lock();
	if (!(r = fs_file_node(fd, &n)))
		fill_statvfs(&n, sv);
	return done(r);
}
