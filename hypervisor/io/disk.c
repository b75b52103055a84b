/* The disk registry: the disks the drivers found, in registration order
 * (disk:N), plus what every driver shares (the io checks apart, in
 * io/disk_check.c, so the host tests run them): completions
 * deferred out of submit, the MSI-X vectors and the periodic poll that
 * backs up every driver's interrupt.
 *
 * The table is filled at boot on the boot CPU, before anything reads it
 * (disk_init() runs before the self-tests and domains), and never changes
 * afterwards; the count is published with release order all the same. */
#include <hv/disk.h>
#include <hv/disk_drivers.h>
#include <hv/errno.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/lock.h>
#include <hv/log.h>
#include <hv/nospec.h>
#include <hv/pci.h>
#include <hv/time.h>
#include <hv/trap.h>
#include <hv/work.h>

#define DISK_POLL_MS   20          /* safety net behind the interrupts */
#define DISK_VEC_BASE  0x38        /* 0x38..0x3f: above the NIC (0x30/0x31), serial (0x34) */
#define DISK_VEC_COUNT 8u

static struct disk *disks[DISK_MAX];
static uint32_t ndisks;

/* io that submit refused or finished at once, completed from a safe
 * place: the poll, a synchronous wait, the next interrupt's service. */
static struct spinlock later_lock = SPINLOCK_INIT("disk-later", LOCK_RANK_DISK);
static struct disk_io *later_head, *later_tail;

static struct {
	void (*fn)(void *arg);
	void *arg;
} vec[DISK_VEC_COUNT];
static uint32_t nvec;

/* ---- registry ---------------------------------------------------------------- */
uint32_t disk_count(void)
{
	return __atomic_load_n(&ndisks, __ATOMIC_ACQUIRE);
}

/* The index may come from a guest's request (disk:N): clamped. */
struct disk *disk_get(uint32_t index)
{
	uint32_t n = disk_count();

	return index < n ? disks[index_nospec(index, n)] : NULL;
}

/* The device's model as one event token: sanitized, no spaces. */
static void model_token(const struct disk *d, char *out, size_t cap)
{
	size_t n = sanitize(out, cap, d->model, strnlen(d->model, sizeof(d->model)));

	for (size_t i = 0; i < n; i++)
		if (out[i] == ' ' || out[i] == '=')
			out[i] = '_';
	if (!n)
		strlcpy(out, "-", cap);
}

static void log_disk(const struct disk *d)
{
	uint64_t kib = d->sectors / 2;
	char model[4 * sizeof(d->model) + 1];

	log_info("disk: %u %s %s %lu %s%s%s%s, %u segment%s per I/O", d->index, d->name,
		 d->ops->driver, kib >= 1024 ? kib / 1024 : kib, kib >= 1024 ? "MiB" : "KiB",
		 d->volatile_cache ? ", volatile cache" : "", d->readonly ? ", read-only" : "",
		 d->block_size != DISK_SECTOR ? ", 4096-byte blocks (no 512-byte I/O)" : "",
		 d->max_segs, d->max_segs == 1 ? "" : "s");
	model_token(d, model, sizeof(model));
	log_event("disk index=%u name=%s driver=%s sectors=%lu block_size=%u volatile_cache=%d "
		  "readonly=%d max_segs=%u model=%s", d->index, d->name, d->ops->driver, d->sectors,
		  d->block_size, d->volatile_cache, d->readonly, d->max_segs, model);
}

int disk_register(struct disk *d)
{
	uint32_t n = ndisks;

	HV_ASSERT(d->block_size == DISK_SECTOR || d->block_size == PAGE_SIZE);
	HV_ASSERT(d->max_segs >= 1 && d->max_segs <= DISK_IO_SEGS_MAX);
	if (n >= DISK_MAX) {
		log_warn("disk: %s not registered: %u disks already", d->name, DISK_MAX);
		return -1;
	}
	d->index = n;
	disks[n] = d;
	__atomic_store_n(&ndisks, n + 1, __ATOMIC_RELEASE);
	log_disk(d);
	return (int)n;
}

/* ---- deferred completions ---------------------------------------------------------- */
void disk_finish_later(struct disk_io *io, int status)
{
	uint64_t f = spin_lock(&later_lock);

	io->status = status;
	io->next = NULL;
	if (later_tail)
		later_tail->next = io;
	else
		later_head = io;
	later_tail = io;
	spin_unlock(&later_lock, f);
}

/* done() with no lock held, in the order they were refused. */
void disk_run_later(void)
{
	struct disk_io *io;
	uint64_t f;

	if (!__atomic_load_n(&later_head, __ATOMIC_RELAXED))
		return;
	f = spin_lock(&later_lock);
	io = later_head;
	later_head = later_tail = NULL;
	spin_unlock(&later_lock, f);
	while (io) {
		struct disk_io *next = io->next;

		io->done(io);
		io = next;
	}
}

/* ---- interrupts ------------------------------------------------------------------- */
static void disk_irq(struct trap_frame *f)
{
	uint64_t slot = f->vector - DISK_VEC_BASE;

	if (slot < __atomic_load_n(&nvec, __ATOMIC_ACQUIRE))
		vec[slot].fn(vec[slot].arg);
	lapic_eoi();
}

uint8_t disk_irq_vector(void (*fn)(void *arg), void *arg)
{
	uint32_t n = nvec;

	if (n >= DISK_VEC_COUNT)
		return 0;
	vec[n].fn = fn;
	vec[n].arg = arg;
	__atomic_store_n(&nvec, n + 1, __ATOMIC_RELEASE);
	trap_set_irq((uint8_t)(DISK_VEC_BASE + n), disk_irq);
	return (uint8_t)(DISK_VEC_BASE + n);
}

/* ---- the safety net ---------------------------------------------------------------- */
static void poll_disks(void)
{
	for (uint32_t i = 0; i < disk_count(); i++)
		disks[i]->ops->poll(disks[i]);
	disk_run_later();
}

static struct poll disk_poll = { .name = "disks", .fn = poll_disks,
				 .period_ns = DISK_POLL_MS * 1000000ULL };

void disk_init(void)
{
	pci_init();
	virtio_blk_probe();
	nvme_probe();
	if (disk_count())
		poll_register(&disk_poll);
	else
		log_info("disk: no disks");
}
