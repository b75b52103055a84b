/* linux_blkbench: tests/guests/blkbench's figures from inside the Linux VM
 * (tests/bench/block_bench.py builds it statically on the host and puts
 * it in the VM's initramfs).  Same options, same phases, same output lines:
 *   linux_blkbench /dev/vda [mib=64] [req=56] [depth=8] [rand_ms=3000] [qd=1,32] [flushes=200] [phases=wrRf]
 *                           [-- more options ...]
 * The device is opened with O_DIRECT (no page cache: every request goes to
 * the virtio-blk disk) and driven with Linux's native AIO (io_submit /
 * io_getevents, raw system calls), depth requests in flight as blkbench
 * keeps them with pv_blk_submit.  A flush is fdatasync(), which on a block
 * device sends the disk a cache flush.  Times: clock_gettime(MONOTONIC). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define QD_MAX    64
#define RAND_SEED 0x2545f4914f6cdd1dull

struct opts {
	uint64_t mib, req_kib, depth, rand_ms, flushes;
	uint64_t qd[4];
	uint32_t nqd;
	const char *phases;
};

static int fd;
static aio_context_t ctx;

static int failed(const char *what, long a)
{
	printf("blkbench: FAIL %s (%ld)\n", what, a);
	return 1;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* ---- a pool of iocbs, depth of them in flight ------------------------------ */

struct pool {
	struct iocb cb[QD_MAX];
	uint32_t free[QD_MAX], nfree, depth;
	uint8_t *mem;
	size_t each;
	int err;
};

static void pool_init(struct pool *p, uint32_t depth, uint8_t *mem, size_t each)
{
	memset(p, 0, sizeof(*p));
	p->depth = depth;
	p->mem = mem;
	p->each = each;
	for (uint32_t i = 0; i < depth; i++)
		p->free[p->nfree++] = i;
}

/* Reap at least one completion (blocking), as many as are there. */
static void reap(struct pool *p)
{
	struct io_event ev[QD_MAX];
	long n = syscall(SYS_io_getevents, ctx, 1, QD_MAX, ev, NULL);

	for (long i = 0; i < n; i++) {
		struct iocb *cb = (struct iocb *)(uintptr_t)ev[i].obj;

		if (ev[i].res != (int64_t)cb->aio_nbytes && !p->err)
			p->err = (int)ev[i].res ? (int)ev[i].res : -5;
		p->free[p->nfree++] = (uint32_t)(cb - p->cb);
	}
	if (n < 0 && !p->err)
		p->err = -1;
}

static int pool_submit(struct pool *p, int write, uint64_t off, size_t len)
{
	struct iocb *cb, *list[1];
	uint32_t i;

	while (!p->nfree && !p->err)
		reap(p);
	if (p->err)
		return p->err;
	i = p->free[--p->nfree];
	cb = &p->cb[i];
	memset(cb, 0, sizeof(*cb));
	cb->aio_fildes = (uint32_t)fd;
	cb->aio_lio_opcode = write ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
	cb->aio_buf = (uintptr_t)(p->mem + i * p->each);
	cb->aio_nbytes = len;
	cb->aio_offset = (int64_t)off;
	list[0] = cb;
	return syscall(SYS_io_submit, ctx, 1, list) == 1 ? 0 : -1;
}

static int pool_drain(struct pool *p)
{
	while (p->nfree < p->depth && !p->err)
		reap(p);
	return p->err;
}

/* ---- phases --------------------------------------------------------------- */

static int seq(const struct opts *o, int write)
{
	static struct pool p;
	size_t req = o->req_kib * 1024;
	uint64_t bytes = (o->mib << 20) / req * req, t0;   /* whole requests */
	uint8_t *mem;
	int e;

	if (posix_memalign((void **)&mem, 4096, req * o->depth))
		return failed("memory", 0);
	for (size_t i = 0; i < req * o->depth; i++)
		mem[i] = (uint8_t)(i * 131 + 7);
	pool_init(&p, (uint32_t)o->depth, mem, req);
	t0 = now_ns();
	for (uint64_t off = 0; off < bytes; off += req)
		if ((e = pool_submit(&p, write, off, req)))
			return failed("seq submit", e);
	if ((e = pool_drain(&p)))
		return failed("seq", e);
	printf("blkbench: seq op=%s bytes=%llu req=%zu depth=%llu ns=%llu\n", write ? "write" : "read",
	       (unsigned long long)bytes, req, (unsigned long long)o->depth,
	       (unsigned long long)(now_ns() - t0));
	free(mem);
	return 0;
}

static int rand_read(const struct opts *o, uint32_t qd)
{
	static struct pool p;
	uint64_t blocks = (o->mib << 20) / 4096, seed = RAND_SEED, ops = 0, t0, end;
	uint8_t *mem;
	int e;

	if (posix_memalign((void **)&mem, 4096, (size_t)qd * 4096))
		return failed("memory", 0);
	pool_init(&p, qd, mem, 4096);
	t0 = now_ns();
	end = t0 + o->rand_ms * 1000000ull;
	for (; now_ns() < end; ops++)
		if ((e = pool_submit(&p, 0, xorshift(&seed) % blocks * 4096, 4096)))
			return failed("rand submit", e);
	if ((e = pool_drain(&p)))
		return failed("rand", e);
	printf("blkbench: rand qd=%u ops=%llu ns=%llu\n", qd, (unsigned long long)ops,
	       (unsigned long long)(now_ns() - t0));
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

static int flushes(const struct opts *o)
{
	uint64_t n = o->flushes, *both = calloc(n, 8), *wr = calloc(n, 8), t0, t1;
	uint8_t *buf;

	if (!both || !wr || !n || posix_memalign((void **)&buf, 4096, 4096))
		return failed("memory", 0);
	memset(buf, 0x3c, 4096);
	for (uint64_t i = 0; i < n; i++) {
		t0 = now_ns();
		if (pwrite(fd, buf, 4096, (off_t)(i % 256 * 4096)) != 4096)
			return failed("flush write", (long)i);
		t1 = now_ns();
		if (fdatasync(fd))
			return failed("flush", (long)i);
		both[i] = now_ns() - t0;
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
	t0 = now_ns();
	for (uint64_t off = 0; off < bytes; off += req) {
		memcpy(b, a, req);
		__asm__ volatile("" : : "r"(b) : "memory");
	}
	printf("blkbench: memcpy bytes=%llu req=%zu ns=%llu\n", (unsigned long long)bytes, req,
	       (unsigned long long)(now_ns() - t0));
	free(a);
	free(b);
	return 0;
}

/* ---- options (as blkbench's) ------------------------------------------------ */

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

	if (c == 'w' || c == 'r')
		return seq(o, c == 'w');
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

/* One group of options: its phases, in order. */
static int run(char **arg, int n, off_t size)
{
	struct opts o;

	if (parse(&o, arg, n))
		return 1;
	if (size < (off_t)(o.mib << 20))
		return failed("device smaller than mib", (long)(size >> 20));
	for (const char *c = o.phases; *c; c++)
		if (phase(&o, *c))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	off_t size;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return failed("usage: linux_blkbench DEV [key=value ...] [-- key=value ...]", argc);
	if ((fd = open(argv[1], O_RDWR | O_DIRECT)) < 0)
		return failed("open", 0);
	size = lseek(fd, 0, SEEK_END);
	if (syscall(SYS_io_setup, QD_MAX, &ctx))
		return failed("io_setup", 0);
	for (int i = 2, j, g = 0; i <= argc; i = j + 1, g++) {
		for (j = i; j < argc && strcmp(argv[j], "--"); j++)
			;
		printf("blkbench: group %d\n", g);
		if (run(argv + i, j - i, size))
			return 1;
	}
	printf("blkbench: done\n");
	return 0;
}
