/* fsposix crash DIR: write files as a crash-safe app would (write a
 * temporary file, fsync it, rename it over its final name, fsync again)
 * and append records to a log, forever; after every fsync that returned,
 * print what is now durable ("fsposix: ack NAME SIZE CRC").  The host
 * kills the machine at a random point and checks, after e2fsck -fp, that
 * every acknowledged file holds what it was acknowledged with. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "fsposix.h"

static char data[40000];

static uint32_t crc32(const char *p, size_t n)
{
	uint32_t c = ~0u;

	while (n--) {
		c ^= (uint8_t)*p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & -(c & 1));
	}
	return ~c;
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

int mode_crash(const char *dir)
{
	for (unsigned i = 0;; i++) {
		if (one_file(dir, i)) {
			printf("fsposix: FAIL crash round %u errno %d\n", i, errno);
			return 1;
		}
		if (i % 16 == 15 && !unlink(at(0, dir, "file0")))   /* and removals */
			printf("fsposix: unlinked file0 i=%u\n", i);
	}
}
