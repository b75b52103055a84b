/* fsposix crash DIR: write files as a crash-safe app would (write a
 * temporary file, fsync it, rename it over its final name, fsync again)
 * and append records to a log, forever; after every fsync that returned,
 * print what is now durable ("fsposix: ack NAME i=N SIZE CRC", "fsposix:
 * log N" for the log's first N records).  The host kills the machine at a
 * random point and checks, after a replay of the journal, that every
 * acknowledged file holds what it was acknowledged with.
 *
 * fsposix commit-crash DIR: a few files made durable, then a directory
 * and a file made and an earlier file's logged block overwritten around
 * the journal, and the domain crashed right after that fsync's
 * transaction commits (pv_ext2_test_crash_after_commit): only a replay
 * brings them, and only a revoke record keeps the overwritten block.
 *
 * fsposix list DIR: every regular file under DIR with its size and CRC-32
 * ("fsposix: file PATH SIZE CRC"), then "fsposix: list ok files=N": what
 * a guest sees of a volume after its mount replayed the journal. */
#include <dirent.h>
#include <fcntl.h>
#include <pv_ext2.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsposix.h"

static char data[40000];

/* CRC-32 (zlib's), continued from c (0 to start). */
static uint32_t crc32_more(uint32_t c, const char *p, size_t n)
{
	c = ~c;
	while (n--) {
		c ^= (uint8_t)*p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & -(c & 1));
	}
	return ~c;
}

static uint32_t crc32(const char *p, size_t n)
{
	return crc32_more(0, p, n);
}

static size_t fill(unsigned i)
{
	size_t n = (i * 7919u) % sizeof(data);

	for (size_t j = 0; j < n; j++)
		data[j] = (char)(i * 31 + j * 7);
	return n;
}

/* One file, made crash-safe: 0 when acknowledged. */
static int one_file(const char *dir, unsigned i)
{
	char tmp[64], fin[64];
	size_t n = fill(i);
	int fd;

	snprintf(tmp, sizeof(tmp), "tmp%u", i % 8);
	snprintf(fin, sizeof(fin), "file%u", i % 64);
	fd = open(at(0, dir, tmp), O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (fd < 0 || write(fd, data, n) != (ssize_t)n || fsync(fd) || close(fd))
		return -1;
	if (rename(at(0, dir, tmp), at(1, dir, fin)))
		return -1;
	fd = open(at(0, dir, fin), O_RDONLY);
	if (fd < 0 || fsync(fd) || close(fd))
		return -1;
	printf("fsposix: ack %s i=%u %zu %08x\n", fin, i, n, (unsigned)crc32(data, n));
	return 0;
}

/* Record i of the log: LOG_RECORD bytes, a line. */
#define LOG_RECORD 64

static int append_record(int fd, unsigned i)
{
	char rec[LOG_RECORD + 1];

	snprintf(rec, sizeof(rec), "record %010u %-45s\n", i, "appended, then fsync");
	if (write(fd, rec, LOG_RECORD) != LOG_RECORD || fsync(fd))
		return -1;
	printf("fsposix: log %u\n", i + 1);
	return 0;
}

/* A file unlinked while it stays open: on the orphan list at the kill,
 * freed by the next mount (or e2fsck). */
static int hold_unlinked(const char *dir)
{
	int fd = open(at(0, dir, "held"), O_CREAT | O_TRUNC | O_RDWR, 0644);

	if (fd < 0 || write(fd, data, sizeof(data)) != (ssize_t)sizeof(data) || fsync(fd) ||
	    unlink(at(0, dir, "held")))
		return -1;
	return fd;
}

int mode_crash(const char *dir)
{
	int log = open(at(0, dir, "log"), O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0644);

	if (hold_unlinked(dir) < 0) {
		printf("fsposix: FAIL crash held errno %d\n", errno);
		return 1;
	}
	for (unsigned i = 0;; i++) {
		if (log < 0 || one_file(dir, i) || append_record(log, i)) {
			printf("fsposix: FAIL crash round %u errno %d\n", i, errno);
			return 1;
		}
		if (i % 16 == 15 && !unlink(at(0, dir, "file0")))   /* and removals */
			printf("fsposix: unlinked file0 i=%u\n", i);
	}
}

static int list_file(const char *path, const char *name, unsigned *files)
{
	static char buf[65536];
	uint32_t c = 0;
	long size = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		c = crc32_more(c, buf, (size_t)n);
		size += n;
	}
	close(fd);
	if (n < 0)
		return -1;
	printf("fsposix: file %s %ld %08x\n", name, size, (unsigned)c);
	++*files;
	return 0;
}

/* dir's files, names relative to the mount (rel), depth-bounded. */
static int list_dir(const char *dir, const char *rel, int depth, unsigned *files)
{
	DIR *d = depth < 16 ? opendir(dir) : NULL;
	struct dirent *e;
	int r = d ? 0 : -1;

	while (d && !r && (e = readdir(d))) {
		char path[512], name[512];
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		snprintf(name, sizeof(name), "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		if (lstat(path, &st))
			r = -1;
		else if (S_ISDIR(st.st_mode))
			r = list_dir(path, name, depth + 1, files);
		else if (S_ISREG(st.st_mode))
			r = list_file(path, name, files);
	}
	if (d)
		closedir(d);
	return r;
}

int mode_list(const char *dir)
{
	unsigned files = 0;

	if (list_dir(dir, "", 0, &files)) {
		printf("fsposix: FAIL list errno %d\n", errno);
		return 1;
	}
	printf("fsposix: list ok files=%u\n", files);
	return 0;
}

static int durable(const char *path, const char *p, size_t n, int flags)
{
	int fd = open(path, O_CREAT | O_WRONLY | flags, 0644);

	if (fd < 0 || write(fd, p, n) != (ssize_t)n || fsync(fd) || close(fd))
		return -1;
	return 0;
}

int mode_commit_crash(const char *dir)
{
	int fd;

	fill(7);                           /* data[] as round 7 of crash */
	if (durable(at(0, dir, "before"), data, 3000, O_TRUNC) ||
	    durable(at(0, dir, "tail"), "short tail\n", 11, O_TRUNC) ||
	    mkdir(at(0, dir, "d"), 0755) ||
	    (fd = open(at(0, dir, "d/last"), O_CREAT | O_WRONLY, 0644)) < 0 ||
	    write(fd, data, 5000) != 5000) {
		printf("fsposix: FAIL commit-crash set-up errno %d\n", errno);
		return 1;
	}
	printf("fsposix: commit-crash armed\n");
	fflush(stdout);
	pv_ext2_test_crash_after_commit();
	/* tail's first block was logged as a partial block; now all of it is
	 * written around the cache, and this fsync's transaction (d, d/last
	 * and tail's new size) must revoke the old copy. */
	durable(at(1, dir, "tail"), data, 4096, 0);
	printf("fsposix: FAIL commit-crash still running\n");
	return 1;
}
