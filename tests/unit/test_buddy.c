/* The buddy allocator (mm/buddy.c): splitting and merging, no frame handed
 * out twice, every frame back after random allocation and free sequences
 * (the free state identical to a fresh allocator's), the largest block
 * available again after fragmentation, zones, and refused bad frees. */
#include <stdlib.h>
#include <hv/buddy.h>
#include "harness.h"

#define FRAMES 4096u

static uint64_t meta_a[FRAMES * 9 / 8 + 8], meta_b[FRAMES * 9 / 8 + 8];
static struct buddy b, fresh;

/* ---- a fixed-seed PRNG ------------------------------------------------------ */
static uint64_t prng_state = 0x2545f4914f6cdd1dull;

static uint64_t prng(void)
{
	prng_state ^= prng_state << 13;
	prng_state ^= prng_state >> 7;
	prng_state ^= prng_state << 17;
	return prng_state;
}

/* ---- helpers ---------------------------------------------------------------- */

static void setup(struct buddy *x, uint64_t *meta, uint32_t frames)
{
	CHECK(buddy_meta_bytes(frames) <= sizeof(meta_a));
	buddy_init(x, meta, frames);
}

static uint32_t alloc_or_die(uint64_t n)
{
	uint32_t f = BUDDY_NONE;

	CHECK_EQ_INT(buddy_alloc(&b, n, &f), 0);
	return f;
}

/* How many blocks of each order are on the free lists. */
static unsigned count_order(const struct buddy *x, unsigned order)
{
	unsigned n = 0;

	for (unsigned z = 0; z < BUDDY_ZONES; z++)
		for (uint32_t f = x->head[z][order]; f != BUDDY_NONE; f = x->next[f])
			n++;
	return n;
}

static bool same_free_state(const struct buddy *x, const struct buddy *y)
{
	return x->free == y->free && !memcmp(x->state, y->state, x->frames);
}

/* ---- split and merge -------------------------------------------------------- */

static void test_split_and_merge(void)
{
	uint32_t f;

	setup(&b, meta_a, 1024);
	CHECK_EQ_INT(buddy_add(&b, 0, 1024, 0), 0);
	CHECK_EQ_INT(buddy_largest_order(&b), 10);
	f = alloc_or_die(1);
	CHECK_EQ_INT(f, 0);
	for (unsigned k = 0; k < 10; k++)            /* one half split off per order */
		CHECK_EQ_INT(count_order(&b, k), 1);
	CHECK_EQ_INT(count_order(&b, 10), 0);
	CHECK_EQ_U64(b.free, 1023);
	CHECK_EQ_INT(buddy_free(&b, f, 1), 0);
	CHECK_EQ_INT(count_order(&b, 10), 1);         /* merged all the way up */
	for (unsigned k = 0; k < 10; k++)
		CHECK_EQ_INT(count_order(&b, k), 0);
	CHECK_EQ_U64(b.free, 1024);
}

/* n not a power of two: aligned to the next power, the tail given back. */
static void test_odd_sizes_give_back_the_tail(void)
{
	uint32_t f;

	setup(&b, meta_a, 16);
	CHECK_EQ_INT(buddy_add(&b, 0, 16, 0), 0);
	f = alloc_or_die(5);
	CHECK_EQ_INT(f, 0);
	CHECK_EQ_U64(b.free, 11);
	CHECK_EQ_INT(count_order(&b, 0), 1);         /* frame 5 */
	CHECK_EQ_INT(count_order(&b, 1), 1);         /* frames 6-7 */
	CHECK_EQ_INT(count_order(&b, 3), 1);         /* frames 8-15 */
	CHECK_EQ_INT(buddy_free(&b, 0, 2), 0);       /* part of it, then the rest */
	CHECK_EQ_INT(buddy_free(&b, 2, 3), 0);
	CHECK_EQ_INT(count_order(&b, 4), 1);
	CHECK_EQ_U64(b.free, 16);
}

/* Ranges that are not aligned split into the largest aligned blocks. */
static void test_unaligned_ranges(void)
{
	setup(&b, meta_a, 1024);
	CHECK_EQ_INT(buddy_add(&b, 3, 1000 - 3, 0), 0);
	CHECK_EQ_U64(b.free, 997);
	CHECK_EQ_INT(buddy_largest_order(&b), 8);     /* 0-511 lacks 0-2, 512-1023 lacks 1000+ */
	CHECK_EQ_INT(count_order(&b, 8), 2);          /* 256-511, 512-767 */
	CHECK_EQ_INT(buddy_add(&b, 1000, 24, 0), 0);  /* 512-1023 complete: merges */
	CHECK_EQ_INT(buddy_largest_order(&b), 9);
	CHECK_EQ_INT(count_order(&b, 9), 1);
	CHECK_EQ_INT(count_order(&b, 8), 1);
}

/* ---- no frame handed out twice; all back, in their original blocks --------- */

#define SLOTS 300

struct slot { uint32_t first; uint32_t n; };

static uint8_t owner[FRAMES];   /* 1 while a frame is allocated */

static bool claim(uint32_t f, uint32_t n, uint8_t v)
{
	bool ok = true;

	for (uint32_t i = f; i < f + n; i++) {
		ok &= owner[i] != v;
		owner[i] = v;
	}
	return ok;
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static uint32_t random_size(void)
{
	uint64_t r = prng() % 100;

	return r < 60 ? 1 : r < 90 ? 1 + prng() % 16 : 1 + prng() % 300;
}

static void random_step(struct slot *s, unsigned *bad_overlap, unsigned *bad_align)
{
	uint32_t f, n;

	if (s->n) {
		CHECK_EQ_INT(buddy_free(&b, s->first, s->n), 0);
		claim(s->first, s->n, 0);
		s->n = 0;
		return;
	}
	n = random_size();
	if (buddy_alloc(&b, n, &f))
		return;                                /* full for now: fine */
	*bad_overlap += !claim(f, n, 1);
	*bad_align += f % pow2_at_least(n) != 0;
	s->first = f;
	s->n = n;
}

static void add_test_ranges(struct buddy *x)
{
	CHECK_EQ_INT(buddy_add(x, 5, 1500, 0), 0);
	CHECK_EQ_INT(buddy_add(x, 1600, 900, 1), 0);
	CHECK_EQ_INT(buddy_add(x, 2500, FRAMES - 2500 - 7, 0), 0);
}

static void test_random_sequences_return_every_frame(void)
{
	static struct slot slots[SLOTS];
	unsigned bad_overlap = 0, bad_align = 0;

	setup(&b, meta_a, FRAMES);
	setup(&fresh, meta_b, FRAMES);
	add_test_ranges(&b);
	add_test_ranges(&fresh);
	memset(owner, 0, sizeof(owner));
	for (unsigned round = 0; round < 200000; round++)
		random_step(&slots[prng() % SLOTS], &bad_overlap, &bad_align);
	CHECK_EQ_INT(bad_overlap, 0);
	CHECK_EQ_INT(bad_align, 0);
	for (unsigned i = 0; i < SLOTS; i++)
		if (slots[i].n)
			random_step(&slots[i], &bad_overlap, &bad_align);
	CHECK_EQ_U64(b.free, fresh.free);
	CHECK(same_free_state(&b, &fresh));          /* every block merged back */
	CHECK_EQ_INT(buddy_largest_order(&b), buddy_largest_order(&fresh));
}

/* ---- fragmentation, then free ----------------------------------------------- */

static void test_largest_block_after_fragmentation(void)
{
	static uint32_t got[FRAMES];
	uint32_t n = 0, f;

	setup(&b, meta_a, FRAMES);
	CHECK_EQ_INT(buddy_add(&b, 0, FRAMES, 0), 0);
	while (!buddy_alloc(&b, 1, &f))
		got[n++] = f;
	CHECK_EQ_INT(n, FRAMES);
	for (uint32_t i = 0; i < n; i += 2)           /* every other frame back */
		CHECK_EQ_INT(buddy_free(&b, got[i], 1), 0);
	CHECK_EQ_U64(b.free, FRAMES / 2);
	CHECK_EQ_INT(buddy_largest_order(&b), 0);     /* half free, nothing contiguous */
	CHECK(buddy_alloc(&b, 2, &f) != 0);
	for (uint32_t i = 1; i < n; i += 2)
		CHECK_EQ_INT(buddy_free(&b, got[i], 1), 0);
	CHECK_EQ_INT(buddy_largest_order(&b), 12);
	CHECK_EQ_INT(buddy_alloc(&b, FRAMES, &f), 0);
	CHECK_EQ_INT(f, 0);
}

/* A crash-looping large domain: its frame list and struct contiguous, its
 * pages one by one, beside a long-lived allocation made during every run;
 * the largest list fits again each time. */
static void test_restart_loop_keeps_large_blocks(void)
{
	static uint32_t pages[600];
	uint32_t list, dom, keep, fails = 0;

	setup(&b, meta_a, FRAMES);
	CHECK_EQ_INT(buddy_add(&b, 7, FRAMES - 7, 0), 0);
	for (unsigned run = 0; run < 2000; run++) {
		fails += buddy_alloc(&b, 3, &dom) != 0;
		for (unsigned i = 0; i < 600; i++)
			fails += buddy_alloc(&b, 1, &pages[i]) != 0;
		fails += buddy_alloc(&b, 1000, &list) != 0;
		if (run % 500 == 0)
			fails += buddy_alloc(&b, 1, &keep) != 0;  /* never freed */
		for (unsigned i = 0; i < 600; i += 1 + prng() % 2) {
			fails += buddy_free(&b, pages[i], 1) != 0;
			pages[i] = BUDDY_NONE;
		}
		fails += buddy_free(&b, list, 1000) != 0;
		for (unsigned i = 0; i < 600; i++)
			if (pages[i] != BUDDY_NONE)
				fails += buddy_free(&b, pages[i], 1) != 0;
		fails += buddy_free(&b, dom, 3) != 0;
	}
	CHECK_EQ_INT(fails, 0);
	CHECK_EQ_U64(b.free, FRAMES - 7 - 4);
	CHECK(buddy_largest_order(&b) >= 10);
}

/* ---- zones -------------------------------------------------------------------- */

static void test_zone_zero_first_and_no_merge_across(void)
{
	uint32_t f;

	setup(&b, meta_a, 64);
	CHECK_EQ_INT(buddy_add(&b, 0, 32, 1), 0);
	CHECK_EQ_INT(buddy_add(&b, 32, 32, 0), 0);
	CHECK_EQ_INT(buddy_largest_order(&b), 5);     /* two 32s, never one 64 */
	for (unsigned i = 0; i < 32; i++)
		CHECK(alloc_or_die(1) >= 32);
	f = alloc_or_die(1);                          /* zone 0 is empty now */
	CHECK(f < 32);
	CHECK_EQ_INT(buddy_free(&b, f, 1), 0);
	CHECK_EQ_INT(buddy_free(&b, 32, 32), 0);      /* 32 singles, freed as one range */
	CHECK_EQ_INT(count_order(&b, 5), 2);
	CHECK(buddy_alloc(&b, 64, &f) != 0);
}

/* ---- what is refused ---------------------------------------------------------- */

static void test_bad_frees_and_adds_are_refused(void)
{
	uint32_t f;
	uint8_t before[64];

	setup(&b, meta_a, 64);
	CHECK_EQ_INT(buddy_add(&b, 8, 48, 0), 0);
	f = alloc_or_die(4);
	CHECK_EQ_INT(buddy_free(&b, f, 4), 0);
	memcpy(before, b.state, sizeof(before));
	CHECK_EQ_INT(buddy_free(&b, f, 4), -1);        /* double free */
	CHECK_EQ_INT(buddy_free(&b, f + 1, 1), -1);    /* inside a free block */
	CHECK_EQ_INT(buddy_free(&b, 0, 1), -1);        /* never managed */
	CHECK_EQ_INT(buddy_free(&b, 60, 8), -1);       /* beyond the metadata */
	CHECK_EQ_INT(buddy_free(&b, 10, 0), -1);
	f = alloc_or_die(2);
	CHECK_EQ_INT(buddy_free(&b, f, 3), -1);        /* one frame too many: refused whole */
	CHECK_EQ_INT(buddy_free(&b, f, 2), 0);
	CHECK(!memcmp(before, b.state, sizeof(before)));
	CHECK_EQ_INT(buddy_add(&b, 0, 9, 0), -1);      /* overlaps managed frames */
	CHECK_EQ_INT(buddy_add(&b, 56, 9, 0), -1);     /* beyond the metadata */
	CHECK_EQ_INT(buddy_add(&b, 0, 8, 2), -1);      /* no such zone */
	CHECK(buddy_alloc(&b, 0, &f) != 0);
	CHECK(buddy_alloc(&b, 1ull << 40, &f) != 0);
	CHECK_EQ_U64(b.free, 48);
}

int main(void)
{
	RUN(test_split_and_merge);
	RUN(test_odd_sizes_give_back_the_tail);
	RUN(test_unaligned_ranges);
	RUN(test_random_sequences_return_every_frame);
	RUN(test_largest_block_after_fragmentation);
	RUN(test_restart_loop_keeps_large_blocks);
	RUN(test_zone_zero_first_and_no_merge_across);
	RUN(test_bad_frees_and_adds_are_refused);
	return harness_report();
}
