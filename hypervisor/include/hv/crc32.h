/* CRC-32 (the reflected 0xEDB88320 polynomial of Ethernet, zlib and GPT).
 * crc32_update is the raw register step with no inversion, so callers
 * choose the convention: GPT (UEFI spec 2.10, appendix A) starts at
 * 0xffffffff and inverts the result; LVM2 (lib/misc/crc.c, INITIAL_CRC in
 * crc.h) starts at 0xf597a6cf and inverts nothing. */
#ifndef HV_CRC32_H
#define HV_CRC32_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

uint32_t crc32_update(uint32_t crc, const void *buf, size_t len);

/* The usual CRC-32 of buf (GPT headers and partition arrays). */
static inline uint32_t crc32(const void *buf, size_t len)
{
	return ~crc32_update(0xffffffffu, buf, len);
}

#endif
