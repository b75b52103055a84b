/* selftest = disk, second part, once domains run: every CPU at once
 * reads back the pattern the boot part wrote (core/selftest_disk.c),
 * SMP_IOS reads in flight per CPU, SMP_ROUNDS rounds per disk.  Each CPU
 * waits by polling with interrupts on, so completions are reaped by
 * whichever CPU gets there first (the interrupt goes to the boot CPU):
 * done() runs on CPUs other than the submitter's, and the drivers' locks
 * see real contention.  The last CPU to finish reports
 * `@event selftest-disk-smp cpus= ios= bad= foreign= ok=`. */
#include <hv/disk.h>
#include <hv/disk_drivers.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/percpu.h>
#include <hv/selftest.h>
#include <hv/time.h>
#include <hv/work.h>
#include <hv/x86.h>

#define SMP_IOS        16u
#define SMP_ROUNDS     24u
#define SMP_PAGES      96u        /* what the boot part wrote, in pages */
#define SMP_WAIT_MS    10000u
#define SMP_CPUS_MAX   64u

struct smp_cpu {
	struct disk_io io[SMP_IOS];
	uint64_t pa[SMP_IOS];
	uint32_t cpu;
	uint32_t done;
	struct work w;
};

static struct smp_cpu *cpus;
static uint32_t ncpus, finished;
static uint64_t total_ios, total_bad, foreign;

static void smp_done(struct disk_io *io)
{
	struct smp_cpu *c = io->ctx;

	if (this_cpu()->index != c->cpu)
		__atomic_fetch_add(&foreign, 1, __ATOMIC_RELAXED);
	if (io->status)
		__atomic_fetch_add(&total_bad, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->done, 1, __ATOMIC_RELEASE);
}

/* Pattern check, as core/selftest_disk.c writes it. */
static bool page_ok(uint64_t pa, uint64_t sector0)
{
	const uint8_t *p = phys_to_virt(pa);

	for (uint32_t k = 0; k < PAGE_SIZE / DISK_SECTOR; k++, p += DISK_SECTOR) {
		uint64_t s = sector0 + k;

		if (memcmp(p, &s, 8) || p[8] != (uint8_t)(s * 7 + 8) ||
		    p[DISK_SECTOR - 1] != (uint8_t)(s * 7 + DISK_SECTOR - 1))
			return false;
	}
	return true;
}

static bool smp_wait(struct disk *d, struct smp_cpu *c)
{
	uint64_t end = time_ns() + SMP_WAIT_MS * 1000000ULL;

	while (__atomic_load_n(&c->done, __ATOMIC_ACQUIRE) < SMP_IOS && time_ns() < end) {
		d->ops->poll(d);
		disk_run_later();
		pause();
	}
	return c->done == SMP_IOS;
}

/* One round: SMP_IOS reads of pages spread over the pattern region. */
static bool smp_round(struct disk *d, struct smp_cpu *c, uint64_t base, uint32_t round)
{
	bool ok;

	c->done = 0;
	for (uint32_t i = 0; i < SMP_IOS; i++) {
		uint32_t page = (c->cpu * 7 + round * 5 + i * 3) % SMP_PAGES;

		memset(phys_to_virt(c->pa[i]), 0, PAGE_SIZE);
		c->io[i] = (struct disk_io){ .op = DISK_READ, .sector = base + page * 8,
					     .done = smp_done, .ctx = c };
		disk_io_set_buf(&c->io[i], c->pa[i], PAGE_SIZE);
	}
	for (uint32_t i = 0; i < SMP_IOS; i++)
		disk_submit(d, &c->io[i]);
	__atomic_fetch_add(&total_ios, SMP_IOS, __ATOMIC_RELAXED);
	ok = smp_wait(d, c);
	for (uint32_t i = 0; ok && i < SMP_IOS; i++)
		ok = !c->io[i].status && page_ok(c->pa[i], c->io[i].sector);
	return ok;
}

static bool smp_disks(struct smp_cpu *c)
{
	bool ok = true;

	for (uint32_t i = 0; ok && i < disk_count(); i++) {
		struct disk *d = disk_get(i);

		if (d->sectors < 4096 || d->readonly)
			continue;             /* the boot part wrote nothing there */
		for (uint32_t r = 0; ok && r < SMP_ROUNDS; r++)
			ok = smp_round(d, c, d->sectors - 2048, r);
	}
	return ok;
}

/* Work on one CPU: interrupts on, no lock held. */
static void smp_run(void *arg)
{
	struct smp_cpu *c = arg;
	bool ok = true;

	for (uint32_t i = 0; i < SMP_IOS && ok; i++)
		ok = (c->pa[i] = frame_alloc()) != 0;
	ok = ok && smp_disks(c);
	if (!ok)
		__atomic_fetch_add(&total_bad, 1, __ATOMIC_RELAXED);
	if (__atomic_add_fetch(&finished, 1, __ATOMIC_ACQ_REL) == ncpus)
		log_event("selftest-disk-smp cpus=%u ios=%lu bad=%lu foreign=%lu ok=%d", ncpus,
			  total_ios, total_bad, foreign, !total_bad);
	/* Frames kept if a read may still be in flight (a timeout). */
	for (uint32_t i = 0; i < SMP_IOS && c->done == SMP_IOS; i++)
		if (c->pa[i])
			frame_free(c->pa[i]);
}

void selftest_disk_smp(void)
{
	ncpus = MIN(cpu_count, SMP_CPUS_MAX);
	cpus = kzalloc(ncpus * sizeof(*cpus));
	if (!cpus) {
		log_err("selftest: disk-smp: out of memory");
		return;
	}
	for (uint32_t i = 0; i < ncpus; i++) {
		cpus[i].cpu = i;
		cpus[i].w = (struct work){ .fn = smp_run, .arg = &cpus[i] };
		work_queue(i, &cpus[i].w);
	}
}
