/* SHA-256 (hypervisor/lib/sha256.c) against the FIPS 180-4 example
 * vectors, and split updates against one-shot hashing. */
#include <hv/sha256.h>
#include <stdlib.h>
#include "harness.h"

static void hex(const uint8_t d[SHA256_BYTES], char out[65])
{
	for (int i = 0; i < SHA256_BYTES; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static bool digest_is(const void *data, size_t n, const char *want)
{
	uint8_t d[SHA256_BYTES];
	char got[65];

	sha256(data, n, d);
	hex(d, got);
	return CHECK_STR(got, want);
}

static void test_standard_vectors(void)
{
	digest_is("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	digest_is("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	digest_is("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_a_million_a(void)
{
	char *a = malloc(1000000);

	memset(a, 'a', 1000000);
	digest_is(a, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
}

/* Every split of a message into two updates gives the one-shot digest
 * (block boundaries, padding that spills into a second block). */
static void test_split_updates(void)
{
	uint8_t msg[200], whole[SHA256_BYTES], parts[SHA256_BYTES];

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7 + 3);
	for (size_t n = 0; n <= sizeof(msg); n += 13) {
		sha256(msg, n, whole);
		for (size_t cut = 0; cut <= n; cut++) {
			struct sha256 s;

			sha256_init(&s);
			sha256_update(&s, msg, cut);
			sha256_update(&s, msg + cut, n - cut);
			sha256_final(&s, parts);
			CHECK(!memcmp(whole, parts, SHA256_BYTES));
		}
	}
}

int main(void)
{
	RUN(test_standard_vectors);
	RUN(test_a_million_a);
	RUN(test_split_updates);
	return harness_report();
}
