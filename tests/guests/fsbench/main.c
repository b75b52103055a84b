/* fsbench DIR [files=N] [size=BYTES] [mib=M]: file-system figures, the
 * same program in a Paravane guest (files through the libOS) and, built
 * with the host's gcc -static, in the Linux VM (tests/bench/file_bench.py).
 * Plain POSIX only, so both run the same lines.  Phases, each timed by the
 * program itself (CLOCK_MONOTONIC):
 *   create  N files of BYTES (open O_CREAT, write, close), then sync()
 *   read    each file whole (Linux: page cache dropped first), checked
 *   delete  each file (unlink), then sync()
 *   durable N/5 files written as a careful app does: open, write, fsync,
 *           close, rename over a final name (each fsync: a journal commit)
 *   write   one file of M MiB in 1 MiB writes, then fsync()
 *   seqread it back in 1 MiB reads (Linux: page cache dropped first), checked
 * Output: "fsbench: PHASE ops=.. bytes=.. ns=..", then "fsbench: done". */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 20], want[1 << 20];

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Linux keeps what it wrote in its page cache: reading that back would
 * time memory, not the disk.  (The libOS's cache is 2 MiB.) */
static void drop_caches(void)
{
#ifdef __linux__
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

	sync();
	if (fd >= 0) {
		if (write(fd, "3\n", 2) != 2)
			perror("drop_caches");
		close(fd);
	}
#endif
}

static void report(const char *phase, long ops, uint64_t bytes, uint64_t t0)
{
	printf("fsbench: %s ops=%ld bytes=%llu ns=%llu\n", phase, ops,
	       (unsigned long long)bytes, (unsigned long long)(now_ns() - t0));
	fflush(stdout);
}

static int fail(const char *what, const char *path)
{
	printf("fsbench: FAIL %s %s\n", what, path);
	return 1;
}

static const char *name(const char *dir, int i)
{
	static char p[256];

	snprintf(p, sizeof(p), "%s/small-%05d", dir, i);
	return p;
}

static int small_files(const char *dir, int n, size_t size)
{
	uint64_t t0 = now_ns();

	for (int i = 0; i < n; i++) {
		int fd = open(name(dir, i), O_CREAT | O_WRONLY | O_TRUNC, 0644);

		if (fd < 0 || write(fd, buf, size) != (ssize_t)size || close(fd))
			return fail("create", name(dir, i));
	}
	sync();
	report("create", n, (uint64_t)n * size, t0);
	drop_caches();
	t0 = now_ns();
	for (int i = 0; i < n; i++) {
		int fd = open(name(dir, i), O_RDONLY);

		if (fd < 0 || read(fd, buf, size) != (ssize_t)size || close(fd) ||
		    memcmp(buf, want, size))
			return fail("read", name(dir, i));
	}
	report("read", n, (uint64_t)n * size, t0);
	t0 = now_ns();
	for (int i = 0; i < n; i++)
		if (unlink(name(dir, i)))
			return fail("delete", name(dir, i));
	sync();
	report("delete", n, 0, t0);
	return 0;
}

static int durable_files(const char *dir, int n, size_t size)
{
	char fin[256];
	uint64_t t0 = now_ns();

	for (int i = 0; i < n; i++) {
		int fd = open(name(dir, i), O_CREAT | O_WRONLY | O_TRUNC, 0644);

		snprintf(fin, sizeof(fin), "%s/durable-%02d", dir, i % 16);
		if (fd < 0 || write(fd, buf, size) != (ssize_t)size || fsync(fd) || close(fd) ||
		    rename(name(dir, i), fin))
			return fail("durable", name(dir, i));
	}
	report("durable", n, (uint64_t)n * size, t0);
	for (int i = 0; i < 16 && i < n; i++) {
		snprintf(fin, sizeof(fin), "%s/durable-%02d", dir, i);
		if (unlink(fin))
			return fail("unlink", fin);
	}
	return 0;
}

static int big_file(const char *dir, int mib)
{
	char path[256];
	uint64_t t0 = now_ns();
	int fd;

	snprintf(path, sizeof(path), "%s/big", dir);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	for (int i = 0; fd >= 0 && i < mib; i++)
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			return fail("write", path);
	if (fd < 0 || fsync(fd) || close(fd))
		return fail("write", path);
	report("write", mib, (uint64_t)mib << 20, t0);
	drop_caches();
	t0 = now_ns();
	fd = open(path, O_RDONLY);
	for (int i = 0; fd >= 0 && i < mib; i++)
		if (read(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) || memcmp(buf, want, sizeof(buf)))
			return fail("seqread", path);
	if (fd < 0 || close(fd))
		return fail("seqread", path);
	report("seqread", mib, (uint64_t)mib << 20, t0);
	return unlink(path) ? fail("unlink", path) : 0;
}

int main(int argc, char **argv)
{
	int files = 1000, mib = 64;
	size_t size = 4096;

	if (argc < 2) {
		printf("usage: fsbench DIR [files=N] [size=BYTES] [mib=M]\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (!strncmp(argv[i], "files=", 6))
			files = atoi(argv[i] + 6);
		else if (!strncmp(argv[i], "size=", 5))
			size = (size_t)atol(argv[i] + 5);
		else if (!strncmp(argv[i], "mib=", 4))
			mib = atoi(argv[i] + 4);
	}
	if (size > sizeof(buf))
		size = sizeof(buf);
	for (size_t i = 0; i < sizeof(buf); i++)
		want[i] = buf[i] = (char)(i * 13 + 7);
	if (small_files(argv[1], files, size) || durable_files(argv[1], files / 5, size) ||
	    big_file(argv[1], mib))
		return 1;
	printf("fsbench: done\n");
	return 0;
}
