/* ctl timing N KIB: the hypervisor's part of a run-time create, timed by
 * the caller.  N times each: CREATE of hello (KIB of memory) by the hash
 * of a stored image, then (other names) CREATE with hello's bytes (copied
 * in and hashed), each followed by a DESTROY of the new domain.  Every
 * call is timed twice:
 *   wall  rdtsc before and after: includes any time other domains ran
 *         meanwhile (a long CREATE runs with interrupts on and can be
 *         preempted, e.g. by the domain it just made);
 *   cpu   our own CPU time from INFO before and after, less the same
 *         pair around nothing: only the time spent on our behalf.
 * One line per kind and clock with min and median (TSC cycles for wall,
 * ns for cpu), for tests/bench/serverless_bench.py; under -icount both
 * count guest instructions.  A 1 ms nap after each destroy lets the domain
 * be torn down, so every create finds the same number of live domains. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <paravane.h>
#include <public/errno.h>

#include "ctl.h"

#define TIMING_MAX 1000

enum { CREATE_WALL, CREATE_CPU, DESTROY_WALL, DESTROY_CPU, SERIES };

static uint64_t samples[SERIES][TIMING_MAX];
static uint64_t pair_cpu_ns;       /* an INFO pair around nothing */

static inline uint64_t tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static uint64_t own_cpu_ns(void)
{
	struct pv_domctl_info q;

	hdr(&q.hdr, PV_DOMCTL_INFO, sizeof(q), pv_domid());
	pv_domctl(&q, sizeof(q));
	return q.info.cpu_ns;
}

/* The least of n INFO pairs: what a timed call's cpu figure includes
 * besides the call. */
static uint64_t info_pair_ns(int n)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < n; i++) {
		uint64_t a = own_cpu_ns(), b = own_cpu_ns();

		best = b - a < best ? b - a : best;
	}
	return best;
}

/* One call, its wall cycles and own CPU ns into samples[wall][i] and
 * samples[wall + 1][i]. */
static long timed(void *arg, uint32_t size, int wall, long i)
{
	uint64_t c0 = own_cpu_ns(), t0 = tsc();
	long r = pv_domctl(arg, size);
	uint64_t t1 = tsc(), c1 = own_cpu_ns();

	samples[wall][i] = t1 - t0;
	samples[wall + 1][i] = c1 - c0 > pair_cpu_ns ? c1 - c0 - pair_cpu_ns : 0;
	return r;
}

static int by_value(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *kind, const char *what, uint64_t *v, long n, long failed)
{
	qsort(v, (size_t)n, sizeof(*v), by_value);
	printf("ctl: timing kind=%s-%s n=%ld failed=%ld min=%lu median=%lu max=%lu\n", kind, what, n, failed,
	       (unsigned long)v[0], (unsigned long)v[n / 2], (unsigned long)v[n - 1]);
}

/* One create (by hash when bytes is NULL) and its destroy; 0 or the error.
 * A destroy that finds the domain already ended (-ENOENT) is no error. */
static long timed_pair(const char *name, const uint8_t hash[32], const void *bytes, uint64_t size,
		       uint64_t memory, long i)
{
	struct pv_domctl_create q;
	struct pv_domctl_hdr h;
	long r;

	hdr(&q.hdr, PV_DOMCTL_CREATE, sizeof(q), 0);
	if (bytes) {
		q.image_gva = (uintptr_t)bytes;
		q.image_size = size;
	} else {
		memcpy(q.image_hash, hash, 32);
	}
	snprintf(q.config.name, sizeof(q.config.name), "%s%ld", name, i);
	q.config.memory = memory;
	if ((r = timed(&q, sizeof(q), CREATE_WALL, i)))
		return r;
	hdr(&h, PV_DOMCTL_DESTROY, sizeof(h), q.hdr.domid);
	r = timed(&h, sizeof(h), DESTROY_WALL, i);
	nap_ms(1);
	return r == -PV_ENOENT ? 0 : r;
}

/* The stored copy's hash: IMAGE_ADD of hello's bytes. */
static long store_hello(uint8_t hash[32])
{
	struct pv_domctl_image q;
	long r;

	hdr(&q.hdr, PV_DOMCTL_IMAGE_ADD, sizeof(q), 0);
	q.image_gva = (uintptr_t)hello_image;
	q.image_size = (uint64_t)(hello_image_end - hello_image);
	strncpy(q.entry.name, "timed", sizeof(q.entry.name) - 1);
	r = pv_domctl(&q, sizeof(q));
	memcpy(hash, q.entry.hash, 32);
	return r;
}

static void series(const char *kind, const uint8_t hash[32], const void *bytes, uint64_t size, uint64_t memory,
		   long n)
{
	static const char *const what[SERIES] = { "create-wall", "create-cpu", "destroy-wall", "destroy-cpu" };
	long failed = 0;

	memset(samples, 0, sizeof(samples));
	for (long i = 0; i < n; i++)
		failed += timed_pair(kind, hash, bytes, size, memory, i) != 0;
	for (int s = 0; s < SERIES; s++)
		report(kind, what[s], samples[s], n, failed);
}

void timing(long n, long kib)
{
	uint64_t memory = (uint64_t)kib << 10;
	uint8_t hash[32];

	if (n < 1 || n > TIMING_MAX || kib < 64 || store_hello(hash)) {
		printf("ctl: timing refused n=%ld kib=%ld (n 1..%d, kib >= 64, hello must be stored)\n", n, kib,
		       TIMING_MAX);
		return;
	}
	pair_cpu_ns = info_pair_ns(16);
	printf("ctl: timing info_pair_ns=%lu\n", (unsigned long)pair_cpu_ns);
	nap_ms(10);
	series("hash", hash, NULL, 0, memory, n);
	series("bytes", NULL, hello_image, (uint64_t)(hello_image_end - hello_image), memory, n);
}
