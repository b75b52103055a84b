/* Path calls without a file system: an app built without files
 * (PV_FS unset) has nothing but "/", so every name answers ENOENT.  Each
 * definition is weak: libos/fs (PV_FS := 1) replaces them all with the
 * real ones, and the exit hook with the one that unmounts cleanly. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <unistd.h>
#include <utime.h>

#include "libos.h"

#define NOFS __attribute__((weak))

/* Called by _exit() after stdio is flushed, before the domain ends. */
NOFS void libos_exit_hook(void)
{
}

static int is_root(const char *path)
{
	return path && path[0] == '/' && path[strspn(path, "/")] == '\0';
}

NOFS void sync(void)
{
}

NOFS int open(const char *path, int flags, ...)
{
	return libos_fail(ENOENT);
}

NOFS int stat(const char *path, struct stat *st)
{
	if (!is_root(path))
		return libos_fail(ENOENT);
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFDIR | 0755;
	st->st_nlink = 2;
	return 0;
}

NOFS int lstat(const char *path, struct stat *st)
{
	return stat(path, st);
}

NOFS int access(const char *path, int mode)
{
	return is_root(path) ? 0 : libos_fail(ENOENT);
}

NOFS int chdir(const char *path)
{
	return is_root(path) ? 0 : libos_fail(ENOENT);
}

NOFS char *getcwd(char *buf, size_t size)
{
	if (!buf || size < 2)
		return libos_fail(buf ? ERANGE : EINVAL), NULL;
	return strcpy(buf, "/");
}

NOFS int chmod(const char *path, mode_t mode)
{
	return libos_fail(is_root(path) ? EROFS : ENOENT);
}

NOFS int chown(const char *path, uid_t uid, gid_t gid)
{
	return chmod(path, 0);
}

NOFS int lchown(const char *path, uid_t uid, gid_t gid)
{
	return chmod(path, 0);
}

/* No descriptor is a file: the console's are not the app's to change. */
NOFS int fchmod(int fd, mode_t mode)
{
	return libos_fail(EBADF);
}

NOFS int fchown(int fd, uid_t uid, gid_t gid)
{
	return libos_fail(EBADF);
}

NOFS mode_t umask(mode_t mask)
{
	return 022;                         /* nothing is created without files */
}

NOFS int unlink(const char *path)
{
	return libos_fail(ENOENT);
}

NOFS int remove(const char *path)
{
	return libos_fail(ENOENT);
}

NOFS int rmdir(const char *path)
{
	return libos_fail(is_root(path) ? EBUSY : ENOENT);
}

NOFS int link(const char *old, const char *new)
{
	return libos_fail(ENOENT);
}

NOFS int symlink(const char *target, const char *path)
{
	return libos_fail(EROFS);
}

NOFS ssize_t readlink(const char *path, char *buf, size_t n)
{
	return libos_fail(is_root(path) ? EINVAL : ENOENT);
}

NOFS int rename(const char *old, const char *new)
{
	return libos_fail(ENOENT);
}

NOFS int mkdir(const char *path, mode_t mode)
{
	return libos_fail(is_root(path) ? EEXIST : EROFS);
}

NOFS int truncate(const char *path, off_t len)
{
	return libos_fail(is_root(path) ? EISDIR : ENOENT);
}

NOFS int utimes(const char *path, const struct timeval *tv)
{
	return libos_fail(is_root(path) ? EROFS : ENOENT);
}

NOFS int utime(const char *path, const struct utimbuf *t)
{
	return libos_fail(is_root(path) ? EROFS : ENOENT);
}

NOFS int statvfs(const char *path, struct statvfs *buf)
{
	return libos_fail(ENOENT);
}

NOFS int fstatvfs(int fd, struct statvfs *buf)
{
	return libos_fail(fd >= 0 && fd <= 2 ? ENOSYS : EBADF);
}

NOFS DIR *opendir(const char *path)
{
	return libos_fail(ENOENT), NULL;
}

NOFS struct dirent *readdir(DIR *d)
{
	return libos_fail(EBADF), NULL;
}

NOFS int closedir(DIR *d)
{
	return libos_fail(EBADF);
}

NOFS void rewinddir(DIR *d)
{
}
