/* blkbench: block device figures for `make bench` (tests/bench/block_bench.py).
 *   blkbench DEV [mib=64] [req=56] [depth=8] [rand_ms=3000] [qd=1,32] [flushes=200] [phases=wrRf]
 *                [-- more options ...]
 * Phases, in order: w sequential write of the first mib MiB (req KiB per
 * request, depth requests in flight), r sequential read of it, R 4 KiB
 * random reads inside it for rand_ms at each queue depth in qd (async
 * API), f flushes times: a 4 KiB write then a flush, c memcpy of mib MiB
 * in req KiB pieces (no I/O: what one copy costs).  Every figure is timed
 * here with pv_monotonic_ns(), one line per phase.  Each `--` starts
 * another group of options (defaults again), run after the one before:
 *   blkbench: group G          (0, 1, ...: each group of options)
 *   blkbench: seq op=write bytes=B req=R depth=D ns=N
 *   blkbench: rand qd=Q ops=N ns=N
 *   blkbench: flush n=N p50_ns=A p90_ns=B write_p50_ns=C
 *   blkbench: memcpy bytes=B req=R ns=N
 *   blkbench: done
 * tests/bench/linux_blkbench.c does the same in the Linux VM, line for line. */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <paravane.h>
#include <pv_blk.h>

PV_REQUIRE_DEVICES(0, 1);

#define QD_MAX    64
#define RAND_SEED 0x2545f4914f6cdd1dull

struct opts {
	uint64_t mib, req_kib, depth, rand_ms, flushes;
	uint64_t qd[4];
	uint32_t nqd;
	const char *phases;
};

static struct pv_blk *dev;
static uint32_t port;

static int failed(const char *what, long a)
{
	printf("blkbench: FAIL %s (%ld)\n", what, a);
	return 1;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* ---- a pool of requests, depth of them in flight ------------------------- */

struct pool {
	struct pv_blk_req rq[QD_MAX];
	uint32_t free[QD_MAX], nfree, depth;
	int err;
};

static void back_to_pool(struct pv_blk_req *r)
{
	struct pool *p = r->arg;

	if (r->status && !p->err)
		p->err = r->status;
	p->free[p->nfree++] = (uint32_t)(r - p->rq);
}

static void pool_init(struct pool *p, uint32_t depth, uint8_t *mem, size_t each)
{
	memset(p, 0, sizeof(*p));
	p->depth = depth;
	for (uint32_t i = 0; i < depth; i++) {
		p->rq[i].buf = mem + i * each;
		p->rq[i].done = back_to_pool;
		p->rq[i].arg = p;
		p->free[p->nfree++] = i;
	}
}

/* A free request, waiting for one to complete if none is. */
static struct pv_blk_req *pool_get(struct pool *p)
{
	while (!p->nfree)
		if (!pv_blk_poll(dev))
			pv_block(pv_monotonic_ns() + 1000000000ull, 1ull << port);
	return &p->rq[p->free[--p->nfree]];
}

static int pool_drain(struct pool *p)
{
	while (p->nfree < p->depth)
		if (!pv_blk_poll(dev))
			pv_block(pv_monotonic_ns() + 1000000000ull, 1ull << port);
	return p->err;
}

static int pool_submit(struct pool *p, uint8_t op, uint64_t sector, size_t len)
{
	struct pv_blk_req *r = pool_get(p);
	int e;

	r->op = op;
	r->sector = sector;
	r->len = len;
	if ((e = pv_blk_submit(dev, r)))
		return e;
	return p->err;
}

/* ---- phases --------------------------------------------------------------- */

static int seq(const struct opts *o, uint8_t op)
{
	static struct pool p;
	size_t req = o->req_kib * 1024;
	uint64_t bytes = (o->mib << 20) / req * req, t0;   /* whole requests */
	uint8_t *mem = memalign(4096, req * o->depth);
	int e;

	if (!mem)
		return failed("memory", 0);
	for (size_t i = 0; i < req * o->depth; i++)
		mem[i] = (uint8_t)(i * 131 + 7);
	pool_init(&p, (uint32_t)o->depth, mem, req);
	t0 = pv_monotonic_ns();
	for (uint64_t off = 0; off < bytes; off += req)
		if ((e = pool_submit(&p, op, off / 512, req)))
			return failed("seq submit", e);
	if ((e = pool_drain(&p)))
		return failed("seq", e);
	printf("blkbench: seq op=%s bytes=%llu req=%zu depth=%llu ns=%llu\n",
	       op == PV_BLK_WRITE ? "write" : "read", (unsigned long long)bytes, req,
	       (unsigned long long)o->depth, (unsigned long long)(pv_monotonic_ns() - t0));
	free(mem);
	return 0;
}

static int rand_read(const struct opts *o, uint32_t qd)
{
	static struct pool p;
	uint8_t *mem = memalign(4096, (size_t)qd * 4096);
	uint64_t blocks = (o->mib << 20) / 4096, seed = RAND_SEED, ops = 0, t0, end;
	int e;

	if (!mem)
		return failed("memory", 0);
	pool_init(&p, qd, mem, 4096);
	t0 = pv_monotonic_ns();
	end = t0 + o->rand_ms * 1000000ull;
	for (; pv_monotonic_ns() < end; ops++)
		if ((e = pool_submit(&p, PV_BLK_READ, xorshift(&seed) % blocks * 8, 4096)))
			return failed("rand submit", e);
	if ((e = pool_drain(&p)))
		return failed("rand", e);
	printf("blkbench: rand qd=%u ops=%llu ns=%llu\n", qd, (unsigned long long)ops,
	       (unsigned long long)(pv_monotonic_ns() - t0));
	free(mem);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t pct(uint64_t *v, uint64_t n, uint32_t p)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[n * p / 100 < n ? n * p / 100 : n - 1];
}

/* A 4 KiB write and a flush, flushes times, each timed: what a journal
 * commit costs. */
static int flushes(const struct opts *o)
{
	uint64_t n = o->flushes, *both = calloc(n, 8), *wr = calloc(n, 8), t0, t1;
	uint8_t *buf = memalign(4096, 4096);
	int e;

	if (!both || !wr || !buf || !n)
		return failed("memory", 0);
	memset(buf, 0x3c, 4096);
	for (uint64_t i = 0; i < n; i++) {
		t0 = pv_monotonic_ns();
		if ((e = pv_blk_write(dev, i % 256 * 8, buf, 4096)))
			return failed("flush write", e);
		t1 = pv_monotonic_ns();
		if ((e = pv_blk_flush(dev)))
			return failed("flush", e);
		both[i] = pv_monotonic_ns() - t0;
		wr[i] = t1 - t0;
	}
	printf("blkbench: flush n=%llu p50_ns=%llu p90_ns=%llu write_p50_ns=%llu\n",
	       (unsigned long long)n, (unsigned long long)pct(both, n, 50),
	       (unsigned long long)pct(both, n, 90), (unsigned long long)pct(wr, n, 50));
	free(both);
	free(wr);
	free(buf);
	return 0;
}

/* What one copy of the data costs here: the backend copies every byte
 * between the guest and its bounce frames once (docs/abi.md). */
static int copy_rate(const struct opts *o)
{
	size_t req = o->req_kib * 1024;
	uint64_t bytes = (o->mib << 20) / req * req, t0;
	uint8_t *a = malloc(req), *b = malloc(req);

	if (!a || !b)
		return failed("memory", 0);
	memset(a, 0x5a, req);
	t0 = pv_monotonic_ns();
	for (uint64_t off = 0; off < bytes; off += req) {
		memcpy(b, a, req);
		__asm__ volatile("" : : "r"(b) : "memory");
	}
	printf("blkbench: memcpy bytes=%llu req=%zu ns=%llu\n", (unsigned long long)bytes, req,
	       (unsigned long long)(pv_monotonic_ns() - t0));
	free(a);
	free(b);
	return 0;
}

/* ---- options -------------------------------------------------------------- */

static void parse_qd(struct opts *o, const char *s)
{
	char *end;

	for (o->nqd = 0; *s && o->nqd < 4; s = *end ? end + 1 : end)
		o->qd[o->nqd++] = strtoull(s, &end, 0);
}

static int parse(struct opts *o, char **arg, int n)
{
	*o = (struct opts){ .mib = 64, .req_kib = 56, .depth = 8, .rand_ms = 3000, .flushes = 200,
			    .qd = { 1, 32 }, .nqd = 2, .phases = "wrRf" };
	for (int i = 0; i < n; i++) {
		char *v = strchr(arg[i], '=');

		if (!v)
			return failed("option without =", i);
		*v++ = 0;
		if (!strcmp(arg[i], "mib")) o->mib = strtoull(v, NULL, 0);
		else if (!strcmp(arg[i], "req")) o->req_kib = strtoull(v, NULL, 0);
		else if (!strcmp(arg[i], "depth")) o->depth = strtoull(v, NULL, 0);
		else if (!strcmp(arg[i], "rand_ms")) o->rand_ms = strtoull(v, NULL, 0);
		else if (!strcmp(arg[i], "flushes")) o->flushes = strtoull(v, NULL, 0);
		else if (!strcmp(arg[i], "qd")) parse_qd(o, v);
		else if (!strcmp(arg[i], "phases")) o->phases = v;
		else return failed("unknown option", i);
	}
	for (uint32_t i = 0; i < o->nqd; i++)
		if (!o->qd[i] || o->qd[i] > QD_MAX)
			return failed("qd out of range", (long)o->qd[i]);
	if (!o->depth || o->depth > QD_MAX || !o->req_kib || !o->mib)
		return failed("depth, req or mib out of range", 0);
	return 0;
}

static int phase(const struct opts *o, char c)
{
	int bad = 0;

	if (c == 'w')
		return seq(o, PV_BLK_WRITE);
	if (c == 'r')
		return seq(o, PV_BLK_READ);
	if (c == 'f')
		return flushes(o);
	if (c == 'c')
		return copy_rate(o);
	if (c != 'R')
		return failed("unknown phase", c);
	for (uint32_t i = 0; i < o->nqd && !bad; i++)
		bad = rand_read(o, (uint32_t)o->qd[i]);
	return bad;
}

static uint32_t port_of(const char *name)
{
	const struct pv_start_info *si = pv_start_info();

	for (uint32_t i = 0; i < si->device_count; i++)
		if (si->device[i].type == PV_DEV_BLOCK && !strcmp(si->device[i].name, name))
			return si->device[i].event_port;
	return 0;
}

/* One group of options: its phases, in order. */
static int run(char **arg, int n, const struct pv_blk_info *in)
{
	struct opts o;

	if (parse(&o, arg, n))
		return 1;
	if (in->capacity < o.mib << 20)
		return failed("device smaller than mib", (long)(in->capacity >> 20));
	for (const char *c = o.phases; *c; c++)
		if (phase(&o, *c))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct pv_blk_info in;

	if (argc < 2)
		return failed("usage: blkbench DEV [key=value ...] [-- key=value ...]", argc);
	if (!(dev = pv_blk_open(argv[1])))
		return failed("open", errno);
	port = port_of(argv[1]);
	pv_blk_info(dev, &in);
	for (int i = 2, j, g = 0; i <= argc; i = j + 1, g++) {
		for (j = i; j < argc && strcmp(argv[j], "--"); j++)
			;
		printf("blkbench: group %d\n", g);
		if (run(argv + i, j - i, &in))
			return 1;
	}
	printf("blkbench: done\n");
	return 0;
}
