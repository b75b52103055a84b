/* CRC-32, eight bytes at a time ("slice-by-8"): save streams checksum
 * every byte of a guest's memory, where one byte per step was most of a
 * save's cost (under TCG, 22 ms a MiB).  The 8 KiB of tables are made on
 * first use from the polynomial; two CPUs making them at once write the
 * same values. */
#include <hv/crc32.h>

#define POLY 0xedb88320u

static uint32_t table[8][256];
static bool ready;

static void make_tables(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
		table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
	__atomic_store_n(&ready, true, __ATOMIC_RELEASE);
}

static uint32_t eight(uint32_t crc, const uint8_t *p)
{
	uint32_t lo, hi;

	__builtin_memcpy(&lo, p, 4);
	__builtin_memcpy(&hi, p + 4, 4);
	lo ^= crc;
	return table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^
	       table[4][lo >> 24] ^ table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
	       table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
}

uint32_t crc32_update(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE))
		make_tables();
	for (; len >= 8; len -= 8, p += 8)
		crc = eight(crc, p);
	while (len--)
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
	return crc;
}
