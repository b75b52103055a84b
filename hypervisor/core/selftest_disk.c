/* [hypervisor] selftest = disk (test builds): exercise every disk driver
 * at boot, before any block backend exists.
 *
 * On each disk of at least 2 MiB that takes writes: write a pattern to
 * the first 384 KiB of the last MiB with 96 page-sized I/Os submitted at
 * once, flush, read it back the same way and compare; then 6 KiB more
 * through disk_write_sync/disk_read_sync (split into pages).  On every
 * disk: read sector 0 (its SHA-256 goes in the event, for the host to
 * compare with what it wrote), refuse an I/O past the end (and, with
 * 4096-byte blocks, a 512-byte one; on a read-only disk, a write), flush.
 *
 * The waits run with interrupts on, so completions arrive by MSI-X; only
 * after IRQ_WAIT_MS without them does the wait poll the driver.  The
 * pattern (sector s, byte i): bytes 0..7 are s little-endian, byte i >= 8
 * is (s * 7 + i) & 0xff; tests/system/test_disk.py checks the image. */
#include <hv/disk.h>
#include <hv/disk_drivers.h>
#include <hv/errno.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/selftest.h>
#include <hv/sha256.h>
#include <hv/time.h>
#include <hv/x86.h>

#define ST_IOS          96u        /* more than any driver has slots: some wait their turn */
#define ST_SECTORS_PER  (PAGE_SIZE / DISK_SECTOR)
#define ST_MIN_SECTORS  4096u      /* 2 MiB */
#define ST_LAST_MIB     2048u      /* sectors */
#define ST_SYNC_BYTES   6144u
#define IRQ_WAIT_MS     2000u
#define POLL_WAIT_MS    10000u

struct st_batch {
	struct disk_io io[ST_IOS];
	uint64_t pa[ST_IOS];
	uint32_t done, failed;
	uint32_t submitted;           /* over the whole test of one disk */
	bool polled;                  /* some wait fell back to polling */
	bool stuck;                   /* a wait gave up: the pages may still see DMA */
};

static void st_done(struct disk_io *io)
{
	struct st_batch *b = io->ctx;

	if (io->status)
		__atomic_fetch_add(&b->failed, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&b->done, 1, __ATOMIC_RELEASE);
}

static void fill_sector(uint8_t *p, uint64_t s)
{
	memcpy(p, &s, 8);
	for (uint32_t i = 8; i < DISK_SECTOR; i++)
		p[i] = (uint8_t)(s * 7 + i);
}

static bool check_sector(const uint8_t *p, uint64_t s)
{
	uint8_t want[DISK_SECTOR];

	fill_sector(want, s);
	return !memcmp(p, want, DISK_SECTOR);
}

static bool all_done(struct st_batch *b, uint32_t n)
{
	disk_run_later();
	return __atomic_load_n(&b->done, __ATOMIC_ACQUIRE) >= n;
}

/* Interrupts first; the driver's poll only if they stay silent. */
static bool st_wait(struct disk *d, struct st_batch *b, uint32_t n)
{
	uint64_t irq_end = time_ns() + IRQ_WAIT_MS * 1000000ULL;
	uint64_t end = irq_end + POLL_WAIT_MS * 1000000ULL;

	sti();
	while (!all_done(b, n) && time_ns() < irq_end)
		pause();
	cli();
	while (!all_done(b, n) && time_ns() < end) {
		b->polled = true;
		d->ops->poll(d);
		pause();
	}
	if (!all_done(b, n))
		b->stuck = true;
	return !b->stuck;
}

/* n I/Os at once: page i at sector0 + 8 i (or one flush). */
static bool st_batch(struct disk *d, struct st_batch *b, enum disk_op op, uint64_t sector0,
		     uint32_t n)
{
	b->done = b->failed = 0;
	for (uint32_t i = 0; i < n; i++) {
		b->io[i] = (struct disk_io){ .op = op, .sector = sector0 + i * ST_SECTORS_PER,
					     .done = st_done, .ctx = b };
		if (op != DISK_FLUSH)
			disk_io_set_buf(&b->io[i], b->pa[i], PAGE_SIZE);
	}
	for (uint32_t i = 0; i < n; i++)
		disk_submit(d, &b->io[i]);
	b->submitted += n;
	return st_wait(d, b, n) && !b->failed;
}

static void fill_pages(struct st_batch *b, uint64_t sector0)
{
	for (uint32_t i = 0; i < ST_IOS; i++)
		for (uint32_t k = 0; k < ST_SECTORS_PER; k++)
			fill_sector((uint8_t *)phys_to_virt(b->pa[i]) + k * DISK_SECTOR,
				    sector0 + i * ST_SECTORS_PER + k);
}

static bool check_pages(struct st_batch *b, uint64_t sector0)
{
	for (uint32_t i = 0; i < ST_IOS; i++)
		for (uint32_t k = 0; k < ST_SECTORS_PER; k++)
			if (!check_sector((uint8_t *)phys_to_virt(b->pa[i]) + k * DISK_SECTOR,
					  sector0 + i * ST_SECTORS_PER + k))
				return false;
	return true;
}

/* 96 writes at once, flush, 96 reads at once into zeroed pages. */
static bool st_async(struct disk *d, struct st_batch *b, uint64_t base)
{
	bool ok;

	fill_pages(b, base);
	ok = st_batch(d, b, DISK_WRITE, base, ST_IOS) && st_batch(d, b, DISK_FLUSH, 0, 1);
	for (uint32_t i = 0; i < ST_IOS; i++)
		memset(phys_to_virt(b->pa[i]), 0, PAGE_SIZE);
	ok = ok && st_batch(d, b, DISK_READ, base, ST_IOS);
	return ok && check_pages(b, base);
}

/* disk_write_sync/disk_read_sync across a page boundary of the buffer. */
static bool st_sync(struct disk *d, uint64_t sector0)
{
	uint8_t *buf = kmalloc(ST_SYNC_BYTES);
	bool ok = buf != NULL;

	for (uint32_t k = 0; ok && k < ST_SYNC_BYTES / DISK_SECTOR; k++)
		fill_sector(buf + k * DISK_SECTOR, sector0 + k);
	ok = ok && !disk_write_sync(d, sector0, buf, ST_SYNC_BYTES);
	if (ok)
		memset(buf, 0, ST_SYNC_BYTES);
	ok = ok && !disk_read_sync(d, sector0, buf, ST_SYNC_BYTES);
	for (uint32_t k = 0; ok && k < ST_SYNC_BYTES / DISK_SECTOR; k++)
		ok = check_sector(buf + k * DISK_SECTOR, sector0 + k);
	kfree(buf);
	return ok;
}

/* One I/O that must come back -EIO without reaching the device. */
static bool st_refuse(struct disk *d, struct st_batch *b, enum disk_op op, uint64_t sector,
		      uint32_t len)
{
	b->done = b->failed = 0;
	b->io[0] = (struct disk_io){ .op = op, .sector = sector, .done = st_done, .ctx = b };
	disk_io_set_buf(&b->io[0], b->pa[0], len);
	disk_submit(d, &b->io[0]);
	return st_wait(d, b, 1) && b->io[0].status == -EIO;
}

/* Past the end; on a disk of 4096-byte blocks, half a block; on a
 * read-only disk, a write. */
static bool st_refused(struct disk *d, struct st_batch *b)
{
	bool ok = st_refuse(d, b, DISK_READ, d->sectors, DISK_SECTOR);

	if (d->block_size > DISK_SECTOR)
		ok = ok && st_refuse(d, b, DISK_READ, 1, DISK_SECTOR) &&
		     st_refuse(d, b, DISK_READ, 0, PAGE_SIZE / 2);
	if (d->readonly)
		ok = ok && st_refuse(d, b, DISK_WRITE, 0, DISK_SECTOR);
	return ok;
}

static void sector0_hash(struct disk *d, char hex[2 * SHA256_BYTES + 1], bool *ok)
{
	uint8_t buf[DISK_SECTOR], h[SHA256_BYTES];

	if (disk_read_sync(d, 0, buf, sizeof(buf))) {
		*ok = false;
		strlcpy(hex, "-", 2);
		return;
	}
	sha256(buf, sizeof(buf), h);
	for (uint32_t i = 0; i < SHA256_BYTES; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
}

static bool alloc_pages(struct st_batch *b)
{
	for (uint32_t i = 0; i < ST_IOS; i++)
		if (!(b->pa[i] = frame_alloc()))
			return false;
	return true;
}

static void free_pages(struct st_batch *b)
{
	for (uint32_t i = 0; i < ST_IOS; i++)
		if (b->pa[i])
			frame_free(b->pa[i]);
}

static void selftest_one(struct disk *d, struct st_batch *b)
{
	bool write = d->sectors >= ST_MIN_SECTORS && !d->readonly;
	uint64_t base = d->sectors - ST_LAST_MIB;
	char hash[2 * SHA256_BYTES + 1];
	bool ok = true, refused;

	if (write)
		ok = st_async(d, b, base) && st_sync(d, base + ST_IOS * ST_SECTORS_PER);
	sector0_hash(d, hash, &ok);
	refused = st_refused(d, b);
	ok = ok && refused && st_batch(d, b, DISK_FLUSH, 0, 1);
	if (!ok)
		log_err("selftest: disk %u (%s) failed", d->index, d->name);
	log_event("selftest-disk index=%u name=%s ok=%d wrote=%d base=%lu block_size=%u ios=%u "
		  "in_flight_max=%lu irqs=%lu polled=%d refused=%d reads=%lu writes=%lu flushes=%lu "
		  "errors=%lu sector0_sha256=%s", d->index, d->name, ok, write, write ? base : 0,
		  d->block_size, b->submitted,
		  d->in_flight_max, d->irqs, b->polled, refused, d->reads, d->writes, d->flushes,
		  d->errors, hash);
}

void selftest_disk(void)
{
	struct st_batch *b = kzalloc(sizeof(*b));

	if (!b || !alloc_pages(b)) {
		log_err("selftest: disk: out of memory");
		if (b)
			free_pages(b);
		kfree(b);
		return;
	}
	for (uint32_t i = 0; i < disk_count(); i++) {
		b->submitted = 0;
		b->polled = false;
		selftest_one(disk_get(i), b);
	}
	log_event("selftest-disks count=%u", disk_count());
	if (b->stuck)
		return;                   /* leaked: a late DMA lands in pages nobody uses */
	free_pages(b);
	kfree(b);
}
