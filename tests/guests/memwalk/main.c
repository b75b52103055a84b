/* Writes its memory over and over and checks every pass: a guest whose
 * pages change while a live migration copies them (tests/system/
 * test_migrate.py).  A page the migration failed to send again after it
 * changed comes back older than its neighbours, and the check says so.
 *   memwalk KIB [REPORT_EVERY [PASSES]]
 * Pass r first checks that every word of every page holds what pass r - 1
 * wrote, then writes (r, page, word) into each: a stale page is caught by
 * the next pass, wherever the walk was when the guest moved.  Prints "memwalk: pass N ok" every
 * REPORT_EVERY passes (default 10), "memwalk: BAD ..." and exits 1 on a
 * mismatch; after PASSES passes (0, the default: never) it exits 0. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define PAGE 4096u
#define WORDS (PAGE / sizeof(uint64_t))

static uint64_t word(uint64_t pass, uint64_t page, uint64_t i)
{
	return pass << 40 ^ page << 12 ^ i;
}

static void fill(uint64_t *mem, size_t pages, uint64_t pass)
{
	for (size_t p = 0; p < pages; p++)
		for (size_t i = 0; i < WORDS; i++)
			mem[p * WORDS + i] = word(pass, p, i);
}

/* The first word that is not what pass wrote, or -1. */
static long check(const uint64_t *mem, size_t pages, uint64_t pass)
{
	for (size_t p = 0; p < pages; p++)
		for (size_t i = 0; i < WORDS; i++)
			if (mem[p * WORDS + i] != word(pass, p, i))
				return (long)(p * WORDS + i);
	return -1;
}

int main(int argc, char **argv)
{
	size_t pages = (argc > 1 ? (size_t)atol(argv[1]) : 256) * 1024 / PAGE;
	unsigned long every = argc > 2 ? strtoul(argv[2], NULL, 10) : 10;
	unsigned long last = argc > 3 ? strtoul(argv[3], NULL, 10) : 0;
	uint64_t *mem = malloc(pages * PAGE);

	if (!mem || !pages || !every) {
		printf("memwalk: usage: memwalk KIB [REPORT_EVERY]\n");
		return 2;
	}
	printf("memwalk: %zu pages\n", pages);
	for (uint64_t pass = 1; !last || pass <= last; pass++) {
		long bad;

		if (pass > 1 && (bad = check(mem, pages, pass - 1)) >= 0) {
			printf("memwalk: BAD pass %llu page %ld word %ld: %llx\n", (unsigned long long)pass,
			       bad / (long)WORDS, bad % (long)WORDS, (unsigned long long)mem[bad]);
			return 1;
		}
		fill(mem, pages, pass);
		if (pass % every == 0)
			printf("memwalk: pass %llu ok\n", (unsigned long long)pass);
	}
	printf("memwalk: done\n");
	return 0;
}
