#ifndef FSREAD_H
#define FSREAD_H

#include <stddef.h>
#include <stdint.h>
#include <pv_ext2.h>

struct walk_totals {
	uint64_t files, dirs, links, bytes;
	int failed;
};

/* Byte i of what write and io modes write; test_files.py has the same. */
static inline uint8_t fsread_pattern(uint64_t i)
{
	return (uint8_t)(i * 131 + (i >> 12));
}

int fsread_write(const char *dev, uint64_t size);
int fsread_io(const char *dev, uint64_t capacity);
uint32_t fsread_crc32(uint32_t crc, const void *data, size_t len);
/* Print every entry under the root; 0 or -1 (a line saying why printed). */
int fsread_walk(ext2_filsys fs, struct walk_totals *t);
/* printf, paced to stay within the console budget. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
