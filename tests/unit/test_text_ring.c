/* The byte ring read by offset (hypervisor/core/text_ring.c): order,
 * overwrite of the oldest bytes, reads that start late and say so,
 * appends larger than the ring, and reads at and past the head. */
#include <hv/text_ring.h>
#include "harness.h"

static char store[16];

static size_t read_all(struct text_ring *r, uint64_t from, char *out, size_t len, uint64_t *start)
{
	size_t n = text_ring_read(r, from, out, len, start);

	out[n] = 0;
	return n;
}

static void test_in_order_until_full(void)
{
	struct text_ring r;
	char out[32];
	uint64_t start;

	text_ring_init(&r, store, sizeof(store));
	text_ring_append(&r, "hello ", 6);
	text_ring_append(&r, "world", 5);
	CHECK_EQ_U64(read_all(&r, 0, out, sizeof(out) - 1, &start), 11);
	CHECK_STR(out, "hello world");
	CHECK_EQ_U64(start, 0);
	CHECK_EQ_U64(read_all(&r, 6, out, 3, &start), 3);
	CHECK_STR(out, "wor");
	CHECK_EQ_U64(read_all(&r, 11, out, 8, &start), 0);
	CHECK_EQ_U64(read_all(&r, 500, out, 8, &start), 0);
}

static void test_overwrite_starts_late(void)
{
	struct text_ring r;
	char out[32];
	uint64_t start;

	text_ring_init(&r, store, sizeof(store));
	text_ring_append(&r, "0123456789", 10);
	text_ring_append(&r, "abcdefghij", 10);   /* 20 written, 16 kept */
	CHECK_EQ_U64(read_all(&r, 0, out, sizeof(out) - 1, &start), 16);
	CHECK_EQ_U64(start, 4);
	CHECK_STR(out, "456789abcdefghij");
	CHECK_EQ_U64(text_ring_head(&r), 20);
}

static void test_append_larger_than_ring(void)
{
	struct text_ring r;
	char out[32];
	uint64_t start;

	text_ring_init(&r, store, sizeof(store));
	text_ring_append(&r, "xx", 2);
	text_ring_append(&r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", 26);
	CHECK_EQ_U64(text_ring_head(&r), 28);
	CHECK_EQ_U64(read_all(&r, 0, out, sizeof(out) - 1, &start), 16);
	CHECK_EQ_U64(start, 12);
	CHECK_STR(out, "KLMNOPQRSTUVWXYZ");
}

/* Reading on from `next` never repeats and never skips a kept byte. */
static void test_follow_by_offset(void)
{
	struct text_ring r;
	char out[8], got[64] = "";
	uint64_t next = 0, start;
	size_t total = 0;

	text_ring_init(&r, store, sizeof(store));
	for (int round = 0; round < 6; round++) {
		size_t n;

		text_ring_append(&r, "abcde", 5);
		while ((n = text_ring_read(&r, next, out, 3, &start))) {
			CHECK_EQ_U64(start, next);
			memcpy(got + total, out, n);
			total += n;
			next = start + n;
		}
	}
	CHECK_EQ_U64(total, 30);
	CHECK(!strncmp(got, "abcdeabcdeabcdeabcdeabcdeabcde", 30));
}

int main(void)
{
	RUN(test_in_order_until_full);
	RUN(test_overwrite_starts_late);
	RUN(test_append_larger_than_ring);
	RUN(test_follow_by_offset);
	return harness_report();
}
