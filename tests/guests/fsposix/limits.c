/* Limits and modes: a full volume, many open files, a read-only mount,
 * and files for the host to check after a clean exit. */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <unistd.h>

#include "fsposix.h"

static char block[65536];

/* Write until ENOSPC, delete, and write again. */
int mode_fill(const char *dir)
{
	long total = 0, w = 0;
	int fd = open(at(0, dir, "filler"), O_CREAT | O_WRONLY, 0644);

	memset(block, 'f', sizeof(block));
	while (fd >= 0 && (w = write(fd, block, sizeof(block))) > 0 && total < (1L << 34))
		total += w;
	CHECK(w == -1 && errno == ENOSPC);
	printf("fsposix: filled bytes=%ld\n", total);
	OK(close(fd));
	/* a new file: either no room for its inode, or none for its data */
	fd = open(at(0, dir, "more"), O_CREAT | O_WRONLY, 0644);
	CHECK(fd < 0 ? errno == ENOSPC : write(fd, block, sizeof(block)) == -1 && errno == ENOSPC);
	if (fd >= 0) {
		OK(close(fd));
		OK(unlink(at(0, dir, "more")));
	}
	OK(unlink(at(0, dir, "filler")));
	OK(write_file(at(0, dir, "after"), block, sizeof(block)));
	CHECK(file_size(at(0, dir, "after")) == (long)sizeof(block));
	struct statvfs sv;

	OK(statvfs(dir, &sv));
	CHECK(sv.f_bfree * sv.f_bsize > (unsigned long)total / 2);
	return 0;
}

/* Open files until EMFILE; every one still works; close them all. */
int mode_many(const char *dir)
{
	static int fds[300];
	int n = 0;
	char name[32];

	for (; n < 300; n++) {
		snprintf(name, sizeof(name), "many%d", n);
		if ((fds[n] = open(at(0, dir, name), O_CREAT | O_RDWR, 0644)) < 0)
			break;
	}
	CHECK(n >= 200 && n < 300 && errno == EMFILE);
	for (int i = 0; i < n; i++)
		EXPECT(write(fds[i], name, 4), 4, 0);
	for (int i = 0; i < n; i++)
		OK(close(fds[i]));
	int fd = open(at(0, dir, "many0"), O_RDONLY);

	CHECK(fd >= 0);
	OK(close(fd));
	printf("fsposix: open files=%d\n", n);
	return 0;
}

/* A read-only mount: reads work, every change is EROFS. */
int mode_ro(const char *dir)
{
	char buf[16];
	struct statvfs sv;
	int fd = open(at(0, dir, "hello.txt"), O_RDONLY);

	CHECK(fd >= 0 && read(fd, buf, 5) == 5 && !memcmp(buf, "hello", 5));
	EXPECT(write(fd, "x", 1), -1, EBADF);
	OK(close(fd));
	EXPECT(open(at(0, dir, "hello.txt"), O_WRONLY), -1, EROFS);
	EXPECT(open(at(0, dir, "new"), O_CREAT | O_WRONLY, 0644), -1, EROFS);
	EXPECT(open(at(0, dir, "hello.txt"), O_RDONLY | O_TRUNC), -1, EROFS);
	EXPECT(mkdir(at(0, dir, "d"), 0755), -1, EROFS);
	EXPECT(unlink(at(0, dir, "hello.txt")), -1, EROFS);
	EXPECT(rename(at(0, dir, "hello.txt"), at(1, dir, "x")), -1, EROFS);
	EXPECT(symlink("x", at(0, dir, "l")), -1, EROFS);
	EXPECT(truncate(at(0, dir, "hello.txt"), 0), -1, EROFS);
	EXPECT(utimes(at(0, dir, "hello.txt"), NULL), -1, EROFS);
	EXPECT(chmod(at(0, dir, "hello.txt"), 0600), -1, EROFS);
	EXPECT(chown(at(0, dir, "hello.txt"), 1, 1), -1, EROFS);
	EXPECT(access(at(0, dir, "hello.txt"), W_OK), -1, EROFS);
	OK(access(at(0, dir, "hello.txt"), R_OK));
	OK(statvfs(dir, &sv));
	CHECK(sv.f_flag & ST_RDONLY);
	return 0;
}

/* Files the host reads back with debugfs after a clean exit. */
int mode_host(const char *dir)
{
	char name[64];

	OK(mkdir(at(0, dir, "made"), 0750));
	for (int i = 0; i < 20; i++) {
		size_t n = (size_t)i * 7919 % sizeof(block);

		for (size_t j = 0; j < n; j++)
			block[j] = (char)(j * 31 + i);
		snprintf(name, sizeof(name), "made/file%02d", i);

		OK(write_file(at(0, dir, name), block, n));
	}
	OK(symlink("made/file03", at(0, dir, "link03")));
	OK(chown(at(0, dir, "made/file01"), 1000, 1000));
	OK(chmod(at(0, dir, "made/file01"), 0600));
	OK(rename(at(0, dir, "made/file19"), at(1, dir, "made/renamed19")));
	OK(unlink(at(0, dir, "made/file18")));
	return 0;
}
