/* blktest: the PV block device from inside a guest.
 *   blktest write DEV A B SEED   pattern into sectors A..B (mixed sizes and
 *                                alignments), flush, read back, compare
 *   blktest verify DEV A B SEED  read A..B, compare with the pattern
 *   blktest sum DEV A B          print an FNV-1a sum of sectors A..B
 *   blktest edges DEV            sector 0, the last sector, one past it
 *   blktest ro DEV               a read-only device refuses writes
 *   blktest async DEV N          N requests in flight at once
 *   blktest records DEV N BASE   N numbered records at BASE+1.., a flush after each
 *   blktest abandon DEV N        N 64 KiB writes submitted, then exit at once
 *   blktest hostile DEV HOW      corrupt the ring while I/O is in flight
 *   blktest missing NAME         pv_blk_open of a name that is not there
 * Every mode prints "blktest: <mode> ok ..." and exits 0, or prints
 * "blktest: FAIL ..." and exits 1. */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <paravane.h>
#include "blktest.h"

PV_REQUIRE_DEVICES(0, 1);

#define CHUNK_MAX (96u * 1024)

static int failed(const char *what, long a, long b)
{
	printf("blktest: FAIL %s (%ld, %ld)\n", what, a, b);
	return 1;
}

static void fill(uint8_t *p, uint32_t seed, uint64_t s, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++)
		for (uint32_t i = 0; i < 512; i++)
			p[k * 512 + i] = blktest_pattern(seed, s + k, i);
}

static int compare(const uint8_t *p, uint32_t seed, uint64_t s, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++)
		for (uint32_t i = 0; i < 512; i++)
			if (p[k * 512 + i] != blktest_pattern(seed, s + k, i))
				return failed("pattern mismatch at sector, byte", (long)(s + k), i);
	return 0;
}

/* Sector counts and buffer offsets that vary, so requests split at pages,
 * at 14 segments, and go through the bounce buffer. */
static uint32_t chunk(uint64_t s, uint64_t b, uint32_t step)
{
	static const uint32_t sizes[] = { 1, 7, 8, 9, 16, 113, 120, 3, 64, 192 };
	uint32_t n = sizes[step % 10];

	return (uint32_t)(n > b - s + 1 ? b - s + 1 : n);
}

static int do_write(struct pv_blk *d, uint64_t a, uint64_t b, uint32_t seed)
{
	uint8_t *mem = malloc(CHUNK_MAX + 4096), *buf;
	uint32_t step = 0, n;
	int e;

	for (uint64_t s = a; s <= b; s += n, step++) {
		n = chunk(s, b, step);
		buf = mem + (step % 3 == 2 ? 1 : step % 3 == 1 ? 512 : 0);   /* odd, sector, page */
		fill(buf, seed, s, n);
		if ((e = pv_blk_write(d, s, buf, n * 512)))
			return failed("write", (long)s, e);
	}
	if ((e = pv_blk_flush(d)))
		return failed("flush", 0, e);
	for (uint64_t s = a; s <= b; s += n, step++) {
		n = chunk(s, b, step);
		buf = mem + (step % 2 ? 3 : 0);
		memset(buf, 0xa5, n * 512);
		if ((e = pv_blk_read(d, s, buf, n * 512)) || compare(buf, seed, s, n))
			return e ? failed("read back", (long)s, e) : 1;
	}
	free(mem);
	printf("blktest: write ok sectors=%llu..%llu\n", (unsigned long long)a, (unsigned long long)b);
	return 0;
}

static int do_verify(struct pv_blk *d, uint64_t a, uint64_t b, uint32_t seed)
{
	uint8_t *buf = malloc(CHUNK_MAX);
	uint32_t n;
	int e;

	for (uint64_t s = a; s <= b; s += n) {
		n = chunk(s, b, (uint32_t)s);
		if ((e = pv_blk_read(d, s, buf, n * 512)) || compare(buf, seed, s, n))
			return e ? failed("read", (long)s, e) : 1;
	}
	free(buf);
	printf("blktest: verify ok sectors=%llu..%llu\n", (unsigned long long)a, (unsigned long long)b);
	return 0;
}

static int do_sum(struct pv_blk *d, uint64_t a, uint64_t b)
{
	uint8_t buf[4096];
	uint64_t h = 0xcbf29ce484222325ull;
	int e;

	for (uint64_t s = a; s <= b; s++) {
		if ((e = pv_blk_read(d, s, buf, 512)))
			return failed("read", (long)s, e);
		for (int i = 0; i < 512; i++)
			h = (h ^ buf[i]) * 0x100000001b3ull;
	}
	printf("blktest: sum ok sectors=%llu..%llu fnv=%016llx\n", (unsigned long long)a,
	       (unsigned long long)b, (unsigned long long)h);
	return 0;
}

static int expect(const char *what, int got, int want)
{
	printf("blktest: %s -> %d\n", what, got);
	return got == want ? 0 : failed(what, got, want);
}

static int do_edges(struct pv_blk *d)
{
	static uint8_t buf[2048] __attribute__((aligned(512)));
	struct pv_blk_info in;
	uint64_t last;
	int bad = 0;

	pv_blk_info(d, &in);
	last = in.sectors - 1;
	printf("blktest: edges sectors=%llu\n", (unsigned long long)in.sectors);
	fill(buf, 77, last, 1);
	bad |= expect("write last", pv_blk_write(d, last, buf, 512), 0);
	memset(buf, 0, 512);
	bad |= expect("read last", pv_blk_read(d, last, buf, 512), 0) || compare(buf, 77, last, 1);
	bad |= expect("read sector 0", pv_blk_read(d, 0, buf, 512), 0);
	bad |= expect("read one past", pv_blk_read(d, last + 1, buf, 512), -ERANGE);
	bad |= expect("write one past", pv_blk_write(d, last + 1, buf, 512), -ERANGE);
	bad |= expect("read last two", pv_blk_read(d, last, buf, 1024), -ERANGE);
	bad |= expect("read far", pv_blk_read(d, UINT64_MAX - 1, buf, 2048), -ERANGE);
	if (bad)
		return 1;
	printf("blktest: edges ok last=%llu\n", (unsigned long long)last);
	return 0;
}

static int do_ro(struct pv_blk *d)
{
	static uint8_t buf[512];
	struct pv_blk_info in;
	int bad = 0;

	pv_blk_info(d, &in);
	bad |= expect("readonly flag", in.readonly, 1);
	bad |= expect("read", pv_blk_read(d, 0, buf, 512), 0);
	bad |= expect("write", pv_blk_write(d, 0, buf, 512), -EROFS);
	bad |= expect("flush", pv_blk_flush(d), 0);
	if (bad)
		return 1;
	printf("blktest: ro ok\n");
	return 0;
}

static int completed;
static void count_done(struct pv_blk_req *r)
{
	completed++;
}

/* Submit every request before waiting for any: they are in flight at
 * once (64 on the ring, the rest queued in the frontend). */
static int run_all(struct pv_blk *d, struct pv_blk_req *rq, uint32_t n, uint8_t op, uint8_t *mem)
{
	int e;

	completed = 0;
	for (uint32_t i = 0; i < n; i++) {
		rq[i] = (struct pv_blk_req){ .op = op, .sector = (uint64_t)i * 8, .buf = mem + i * 4096,
					     .len = 4096, .done = count_done };
		if ((e = pv_blk_submit(d, &rq[i])))
			return failed("submit", i, e);
	}
	printf("blktest: async %s submitted=%u completed_before_wait=%d\n",
	       op == PV_BLK_READ ? "read" : "write", n, completed);
	for (uint32_t i = 0; i < n; i++)
		if ((e = pv_blk_wait(d, &rq[i])))
			return failed("async request", i, e);
	return completed == (int)n ? 0 : failed("callbacks", completed, n);
}

static int do_async(struct pv_blk *d, uint32_t n)
{
	struct pv_blk_req *rq = calloc(n, sizeof(*rq));
	uint8_t *mem = memalign(4096, (size_t)n * 4096);
	uint64_t t0;

	for (uint32_t i = 0; i < n; i++)
		fill(mem + i * 4096, 5, (uint64_t)i * 8, 8);
	t0 = pv_monotonic_ns();
	if (run_all(d, rq, n, PV_BLK_WRITE, mem))
		return 1;
	memset(mem, 0, (size_t)n * 4096);
	if (run_all(d, rq, n, PV_BLK_READ, mem))
		return 1;
	for (uint32_t i = 0; i < n; i++)
		if (compare(mem + i * 4096, 5, (uint64_t)i * 8, 8))
			return 1;
	printf("blktest: async ok n=%u ms=%llu\n", n,
	       (unsigned long long)((pv_monotonic_ns() - t0) / 1000000));
	return 0;
}

/* Record n: its number, the pattern of seed n, a closing number. */
static int do_records(struct pv_blk *d, uint64_t base, uint32_t count)
{
	static uint8_t rec[512] __attribute__((aligned(512)));
	int e;

	for (uint32_t n = 1; n <= count; n++) {
		fill(rec, n, base + n, 1);
		memcpy(rec, "BLKREC", 6);
		memcpy(rec + 8, &n, 4);
		memcpy(rec + 508, &n, 4);
		if ((e = pv_blk_write(d, base + n, rec, 512)) || (e = pv_blk_flush(d)))
			return failed("record", n, e);
		printf("blktest: acked %u\n", n);
	}
	printf("blktest: records ok n=%u\n", count);
	return 0;
}

/* The domain ends with its I/O in flight: the backend must finish it on
 * its own frames and give everything back. */
static int do_abandon(struct pv_blk *d, uint32_t n)
{
	struct pv_blk_req *rq = calloc(n, sizeof(*rq));
	uint8_t *mem = memalign(4096, 65536);
	int e;

	memset(mem, 0xab, 65536);
	for (uint32_t i = 0; i < n; i++) {
		rq[i] = (struct pv_blk_req){ .op = PV_BLK_WRITE, .sector = i * 128ull, .buf = mem,
					     .len = 65536 };
		if ((e = pv_blk_submit(d, &rq[i])))
			return failed("submit", i, e);
	}
	printf("blktest: abandon ok n=%u\n", n);
	pv_shutdown(PV_SHUTDOWN_EXIT, 0);
}

static int do_missing(const char *name)
{
	struct pv_blk *d = pv_blk_open(name);

	if (d || errno != ENODEV)
		return failed("open of a missing device", (long)(uintptr_t)d, errno);
	printf("blktest: missing ok\n");
	return 0;
}

static int run(int argc, char **argv, struct pv_blk *d)
{
	const char *m = argv[1];
	uint64_t a = argc > 3 ? strtoull(argv[3], NULL, 0) : 0;
	uint64_t b = argc > 4 ? strtoull(argv[4], NULL, 0) : 0;
	uint32_t seed = argc > 5 ? (uint32_t)strtoul(argv[5], NULL, 0) : 1;

	if (!strcmp(m, "write"))
		return do_write(d, a, b, seed);
	if (!strcmp(m, "verify"))
		return do_verify(d, a, b, seed);
	if (!strcmp(m, "sum"))
		return do_sum(d, a, b);
	if (!strcmp(m, "edges"))
		return do_edges(d);
	if (!strcmp(m, "ro"))
		return do_ro(d);
	if (!strcmp(m, "async"))
		return do_async(d, (uint32_t)a);
	if (!strcmp(m, "records"))
		return do_records(d, b, (uint32_t)a);
	if (!strcmp(m, "abandon"))
		return do_abandon(d, (uint32_t)a);
	if (!strcmp(m, "hostile"))
		return blktest_hostile(d, argv[3]);
	return failed("unknown mode", argc, 0);
}

int main(int argc, char **argv)
{
	struct pv_blk_info in;
	struct pv_blk *d;

	if (argc > 2 && !strcmp(argv[1], "missing"))
		return do_missing(argv[2]);
	if (argc < 4 && !(argc == 3 && (!strcmp(argv[1], "edges") || !strcmp(argv[1], "ro"))))
		return failed("usage: blktest MODE DEV ...", argc, 0);
	if (!(d = pv_blk_open(argv[2])))
		return failed("open", 0, errno);
	pv_blk_info(d, &in);
	printf("blktest: device %s capacity=%llu sector=%u readonly=%d\n", in.name,
	       (unsigned long long)in.capacity, in.sector_size, in.readonly);
	return run(argc, argv, d);
}
