/* Every call with its error cases, on files and directories of DIR. */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <unistd.h>

#include "fsposix.h"

static char buf[8192];

static void descriptors(const char *d)
{
	struct stat st;
	int fd;

	EXPECT(open(at(0, d, "nope"), O_RDONLY), -1, ENOENT);
	fd = open(at(0, d, "a"), O_CREAT | O_EXCL | O_RDWR, 0644);
	CHECK(fd >= 3);
	EXPECT(open(at(0, d, "a"), O_CREAT | O_EXCL | O_RDWR, 0644), -1, EEXIST);
	EXPECT(write(fd, "hello world", 11), 11, 0);
	EXPECT(lseek(fd, 0, SEEK_CUR), 11, 0);
	EXPECT(lseek(fd, 0, SEEK_SET), 0, 0);
	EXPECT(read(fd, buf, sizeof(buf)), 11, 0);
	CHECK(!memcmp(buf, "hello world", 11));
	EXPECT(read(fd, buf, sizeof(buf)), 0, 0);
	EXPECT(pwrite(fd, "HELLO", 5, 0), 5, 0);
	EXPECT(lseek(fd, 0, SEEK_CUR), 11, 0);
	EXPECT(pread(fd, buf, 5, 6), 5, 0);
	CHECK(!memcmp(buf, "world", 5));
	EXPECT(pread(fd, buf, 5, -1), -1, EINVAL);
	EXPECT(lseek(fd, -1, SEEK_SET), -1, EINVAL);
	EXPECT(lseek(fd, 0, 42), -1, EINVAL);
	EXPECT(lseek(fd, 100, SEEK_END), 111, 0);
	EXPECT(write(fd, "!", 1), 1, 0);
	OK(fstat(fd, &st));
	CHECK(st.st_size == 112 && S_ISREG(st.st_mode) && st.st_nlink == 1);
	CHECK((st.st_mode & 0777) == 0644 && st.st_uid == 0 && st.st_gid == 0);
	EXPECT(pread(fd, buf, 200, 0), 112, 0);
	CHECK(!memcmp(buf, "HELLO world", 11) && buf[11] == 0 && buf[110] == 0 && buf[111] == '!');
	OK(ftruncate(fd, 5));
	OK(fstat(fd, &st));
	CHECK(st.st_size == 5);
	EXPECT(ftruncate(fd, -1), -1, EINVAL);
	OK(fsync(fd));
	OK(fdatasync(fd));
	OK(close(fd));
	EXPECT(close(fd), -1, EBADF);
	EXPECT(read(fd, buf, 1), -1, EBADF);
	EXPECT(fstat(99, &st), -1, EBADF);
	EXPECT(fsync(-1), -1, EBADF);
}

static void access_modes(const char *d)
{
	int fd = open(at(0, d, "a"), O_RDONLY);

	CHECK(fd >= 0);
	EXPECT(write(fd, "x", 1), -1, EBADF);
	EXPECT(ftruncate(fd, 0), -1, EBADF);
	OK(close(fd));
	fd = open(at(0, d, "a"), O_WRONLY);
	EXPECT(read(fd, buf, 1), -1, EBADF);
	OK(close(fd));
	/* O_APPEND writes at the end whatever the offset */
	fd = open(at(0, d, "a"), O_WRONLY | O_APPEND);
	EXPECT(lseek(fd, 0, SEEK_SET), 0, 0);
	EXPECT(write(fd, "+tail", 5), 5, 0);
	OK(close(fd));
	CHECK(file_size(at(0, d, "a")) == 10);
	/* O_TRUNC empties it */
	fd = open(at(0, d, "a"), O_RDWR | O_TRUNC);
	CHECK(fd >= 0 && file_size(at(0, d, "a")) == 0);
	OK(close(fd));
	/* dup shares the offset; dup2 onto another descriptor closes it first */
	fd = open(at(0, d, "a"), O_RDWR);
	int fd2 = dup(fd), fd3 = open(at(0, d, "a"), O_RDONLY);

	CHECK(fd2 > fd);
	EXPECT(write(fd, "abcdef", 6), 6, 0);
	EXPECT(lseek(fd2, 0, SEEK_CUR), 6, 0);
	EXPECT(dup2(fd, fd3), fd3, 0);
	EXPECT(lseek(fd3, 0, SEEK_CUR), 6, 0);
	OK(close(fd));
	OK(close(fd3));
	EXPECT(pread(fd2, buf, 6, 0), 6, 0);
	OK(close(fd2));
}

static void names(const char *d)
{
	struct stat st;

	OK(mkdir(at(0, d, "dir"), 0755));
	EXPECT(mkdir(at(0, d, "dir"), 0755), -1, EEXIST);
	EXPECT(mkdir(at(0, d, "no/such"), 0755), -1, ENOENT);
	EXPECT(mkdir(at(0, d, "a/sub"), 0755), -1, ENOTDIR);
	EXPECT(open(at(0, d, "a/x"), O_RDONLY), -1, ENOTDIR);
	EXPECT(open(at(0, d, "dir"), O_WRONLY), -1, EISDIR);
	OK(stat(at(0, d, "dir"), &st));
	CHECK(S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0755 && st.st_nlink == 2);
	OK(write_file(at(0, d, "dir/f"), "in dir", 6));
	EXPECT(rmdir(at(0, d, "dir")), -1, ENOTEMPTY);
	EXPECT(rmdir(at(0, d, "a")), -1, ENOTDIR);
	EXPECT(unlink(at(0, d, "dir")), -1, EISDIR);
	EXPECT(rmdir(at(0, d, "gone")), -1, ENOENT);
	EXPECT(unlink(at(0, d, "gone")), -1, ENOENT);
	EXPECT(rmdir(at(0, d, "dir/.")), -1, EINVAL);
	OK(unlink(at(0, d, "dir/f")));
	OK(rmdir(at(0, d, "dir")));
	EXPECT(stat(at(0, d, "dir"), &st), -1, ENOENT);
	/* 255 bytes is a name; 256 is too long */
	char name[300];

	memset(name, 'n', 256);
	name[256] = '\0';
	EXPECT(open(at(0, d, name), O_CREAT | O_WRONLY, 0644), -1, ENAMETOOLONG);
	name[255] = '\0';
	int fd = open(at(0, d, name), O_CREAT | O_WRONLY, 0644);

	CHECK(fd >= 0);
	OK(close(fd));
	OK(unlink(at(0, d, name)));
}

static void renames(const char *d)
{
	struct stat st;
	int fd;

	OK(write_file(at(0, d, "old"), "old content", 11));
	OK(write_file(at(0, d, "new"), "replaced", 8));
	fd = open(at(0, d, "new"), O_RDONLY);     /* the replaced file stays readable */
	OK(rename(at(0, d, "old"), at(1, d, "new")));
	EXPECT(stat(at(0, d, "old"), &st), -1, ENOENT);
	EXPECT(read(fd, buf, sizeof(buf)), 8, 0);
	CHECK(!memcmp(buf, "replaced", 8));
	OK(close(fd));
	CHECK(file_size(at(0, d, "new")) == 11);
	EXPECT(rename(at(0, d, "missing"), at(1, d, "x")), -1, ENOENT);
	OK(rename(at(0, d, "new"), at(1, d, "new")));
	OK(mkdir(at(0, d, "d1"), 0755));
	OK(mkdir(at(0, d, "d2"), 0755));
	OK(write_file(at(0, d, "d2/f"), "x", 1));
	EXPECT(rename(at(0, d, "d1"), at(1, d, "d2")), -1, ENOTEMPTY);
	EXPECT(rename(at(0, d, "new"), at(1, d, "d1")), -1, EISDIR);
	EXPECT(rename(at(0, d, "d1"), at(1, d, "new")), -1, ENOTDIR);
	EXPECT(rename(at(0, d, "d2"), at(1, d, "d2/inside")), -1, EINVAL);
	/* a directory moves with its contents; ".." follows */
	OK(rename(at(0, d, "d2"), at(1, d, "d1/moved")));
	CHECK(file_size(at(0, d, "d1/moved/f")) == 1);
	OK(stat(at(0, d, "d1/moved/.."), &st));
	struct stat d1;

	OK(stat(at(0, d, "d1"), &d1));
	CHECK(st.st_ino == d1.st_ino && d1.st_nlink == 3);
	/* over an empty directory */
	OK(mkdir(at(0, d, "empty"), 0700));
	OK(rename(at(0, d, "d1/moved"), at(1, d, "empty")));
	CHECK(file_size(at(0, d, "empty/f")) == 1);
	OK(stat(at(0, d, "d1"), &d1));
	CHECK(d1.st_nlink == 2);
}

static void links(const char *d)
{
	struct stat st;
	char t[64];

	OK(write_file(at(0, d, "target"), "linked", 6));
	OK(link(at(0, d, "target"), at(1, d, "hard")));
	OK(stat(at(0, d, "hard"), &st));
	CHECK(st.st_nlink == 2);
	EXPECT(link(at(0, d, "target"), at(1, d, "hard")), -1, EEXIST);
	EXPECT(link(at(0, d, "empty"), at(1, d, "dirlink")), -1, EPERM);
	OK(unlink(at(0, d, "target")));
	CHECK(file_size(at(0, d, "hard")) == 6);
	OK(symlink("hard", at(0, d, "soft")));
	EXPECT(symlink("x", at(0, d, "soft")), -1, EEXIST);
	EXPECT(readlink(at(0, d, "soft"), t, sizeof(t)), 4, 0);
	CHECK(!memcmp(t, "hard", 4));
	EXPECT(readlink(at(0, d, "hard"), t, sizeof(t)), -1, EINVAL);
	OK(lstat(at(0, d, "soft"), &st));
	CHECK(S_ISLNK(st.st_mode) && st.st_size == 4);
	OK(stat(at(0, d, "soft"), &st));
	CHECK(S_ISREG(st.st_mode) && st.st_size == 6);
	EXPECT(open(at(0, d, "soft"), O_RDONLY | O_NOFOLLOW), -1, ELOOP);
	OK(symlink("nowhere", at(0, d, "dangling")));
	EXPECT(stat(at(0, d, "dangling"), &st), -1, ENOENT);
	OK(symlink("loop2", at(0, d, "loop1")));
	OK(symlink("loop1", at(0, d, "loop2")));
	EXPECT(stat(at(0, d, "loop1"), &st), -1, ELOOP);
	/* a long (slow) symlink to a directory, followed in the middle of a path */
	char longt[300];

	snprintf(longt, sizeof(longt), "%s/%s", d, "empty/./../empty/./../empty/./../empty/./../empty/./../empty");
	OK(symlink(longt, at(0, d, "far")));
	CHECK(file_size(at(0, d, "far/f")) == 1);
	OK(unlink(at(0, d, "loop1")));
	OK(unlink(at(0, d, "loop2")));
	OK(unlink(at(0, d, "dangling")));
}

static void cwd_and_access(const char *d)
{
	char cwd[256];

	OK(access(at(0, d, "hard"), F_OK));
	OK(access(at(0, d, "hard"), R_OK | W_OK));
	EXPECT(access(at(0, d, "nope"), F_OK), -1, ENOENT);
	OK(chdir(at(0, d, "empty")));
	CHECK(getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, at(0, d, "empty")));
	CHECK(file_size("f") == 1);
	OK(write_file("rel", "relative", 8));
	OK(chdir(".."));
	CHECK(getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, d));
	CHECK(file_size("empty/rel") == 8);
	EXPECT(chdir("hard"), -1, ENOTDIR);
	EXPECT(chdir("nope"), -1, ENOENT);
	errno = 0;
	CHECK(getcwd(cwd, 2) == NULL && errno == ERANGE);
	OK(chdir("/"));
}

static void times_and_sizes(const char *d)
{
	struct timeval tv[2] = { { 1000000000, 250000 }, { 1500000000, 500000 } };
	struct statvfs a, b;
	struct stat st;

	OK(utimes(at(0, d, "hard"), tv));
	OK(stat(at(0, d, "hard"), &st));
	CHECK(st.st_atime == 1000000000 && st.st_mtime == 1500000000);
	CHECK(st.st_mtim.tv_nsec == 500000000);
	OK(utimes(at(0, d, "hard"), NULL));
	OK(stat(at(0, d, "hard"), &st));
	CHECK(st.st_mtime > 1700000000);     /* now, from the wall clock */
	EXPECT(utimes(at(0, d, "nope"), NULL), -1, ENOENT);
	OK(truncate(at(0, d, "hard"), 3));
	CHECK(file_size(at(0, d, "hard")) == 3);
	EXPECT(truncate(at(0, d, "empty"), 0), -1, EISDIR);
	OK(statvfs(d, &a));
	CHECK(a.f_bsize >= 1024 && a.f_bfree <= a.f_blocks && a.f_namemax == 255);
	CHECK(!(a.f_flag & ST_RDONLY));
	/* an unlinked file keeps its blocks until its last close */
	int fd = open(at(0, d, "big"), O_CREAT | O_RDWR, 0600);

	memset(buf, 'b', sizeof(buf));
	for (int i = 0; i < 128; i++)
		EXPECT(write(fd, buf, sizeof(buf)), (long)sizeof(buf), 0);
	OK(unlink(at(0, d, "big")));
	EXPECT(pread(fd, buf, 10, 1 << 20), 0, 0);
	EXPECT(pread(fd, buf, 10, 1000), 10, 0);
	OK(statvfs(d, &b));
	CHECK(b.f_bfree + (1 << 20) / b.f_bsize <= a.f_bfree);
	OK(close(fd));
	OK(statvfs(d, &b));
	CHECK(b.f_bfree + 2 >= a.f_bfree);
}

/* umask, chmod/fchmod, chown/lchown/fchown: owner 0:0 until set. */
static void owners_and_modes(const char *d)
{
	struct stat st;
	int fd;

	CHECK(umask(027) == 022);
	fd = open(at(0, d, "owned"), O_CREAT | O_RDWR, 0666);
	CHECK(fd >= 0);
	OK(fstat(fd, &st));
	CHECK(st.st_mode == (S_IFREG | 0640) && st.st_uid == 0 && st.st_gid == 0);
	OK(mkdir(at(0, d, "odir"), 0777));
	OK(stat(at(0, d, "odir"), &st));
	CHECK(st.st_mode == (S_IFDIR | 0750));
	CHECK(umask(022) == 027);
	OK(chmod(at(0, d, "owned"), 04711));
	OK(stat(at(0, d, "owned"), &st));
	CHECK(st.st_mode == (S_IFREG | 04711));
	OK(fchown(fd, 60000, 1001));              /* set-user-ID dropped (newlib: 16-bit ids) */
	OK(fstat(fd, &st));
	CHECK(st.st_uid == 60000 && st.st_gid == 1001 && st.st_mode == (S_IFREG | 0711));
	OK(chown(at(0, d, "owned"), (uid_t)-1, 7));
	OK(stat(at(0, d, "owned"), &st));
	CHECK(st.st_uid == 60000 && st.st_gid == 7);
	OK(fchmod(fd, 0604));
	OK(fstat(fd, &st));
	CHECK(st.st_mode == (S_IFREG | 0604));
	OK(symlink("owned", at(0, d, "olink")));
	OK(lchown(at(0, d, "olink"), 5, 6));
	OK(lstat(at(0, d, "olink"), &st));
	CHECK(st.st_uid == 5 && st.st_gid == 6);
	OK(stat(at(0, d, "olink"), &st));
	CHECK(st.st_uid == 60000);                 /* the target kept its owner */
	EXPECT(chmod(at(0, d, "missing"), 0600), -1, ENOENT);
	EXPECT(chown(at(0, d, "missing"), 1, 1), -1, ENOENT);
	EXPECT(fchmod(1, 0600), -1, EBADF);         /* the console */
	OK(close(fd));
	EXPECT(fchown(fd, 1, 1), -1, EBADF);
}

int mode_calls(const char *d)
{
	descriptors(d);
	access_modes(d);
	names(d);
	renames(d);
	links(d);
	cwd_and_access(d);
	times_and_sizes(d);
	owners_and_modes(d);
	return 0;
}
