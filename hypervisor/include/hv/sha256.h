/* SHA-256 (FIPS 180-4): image identity for the image store (content
 * hash) and the save stream.  Freestanding; host unit test
 * tests/unit/test_sha256.c checks the standard's vectors. */
#ifndef HV_SHA256_H
#define HV_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_BYTES 32

struct sha256 {
	uint32_t h[8];
	uint64_t length;           /* bytes hashed so far */
	uint8_t block[64];
	uint32_t used;             /* bytes waiting in block */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
void sha256_final(struct sha256 *s, uint8_t out[SHA256_BYTES]);
void sha256(const void *data, size_t n, uint8_t out[SHA256_BYTES]);

#endif
