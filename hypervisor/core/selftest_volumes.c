/* [hypervisor] selftest = volumes (test builds): the volume layer on the
 * real disk drivers, at boot, before any block backend exists.
 *
 * Every block entry of every valid guest in the manifest is opened
 * (volume_open) and claimed (volume_claim, as domain "guest index + 1"),
 * in manifest order, all held at once so that overlapping writers show;
 * then, through volume_submit, the volume's first and last device block
 * are read (their SHA-256 go in the event, for the host to compare with
 * the image at the extents it expects), and on a read-write volume
 * written with a pattern and read back; on a read-only one a write must
 * be refused.  Everything is released at the end.
 *
 *   @event volume guest=G spec=S ok=1 disk=N sectors=X extents=K
 *          claim=0|-errno head=H tail=H wrote=0|1 refused=0|1 io=0|-errno
 *   @event volume-extent spec=S i=I start=A sectors=N      (K of them)
 *   @event volume guest=G spec=S ok=0 errno=-E      (why: an hv| line)
 *
 * H: the first 16 hex digits of the block's SHA-256 ("-": not read).
 *
 * The pattern in a written block at volume sector s (the block's first
 * sector): bytes 0..7 are s little-endian, byte i >= 8 is (s * 5 + i) & 0xff
 * (tests/system/test_volumes.py checks the image). */
#include <manifest.h>
#include <hv/boot.h>
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
#include <hv/volume.h>
#include <hv/x86.h>

#define IO_WAIT_NS    (10ull * 1000000000ull)
#define VOLS_MAX      (MANIFEST_MAX_GUESTS * MANIFEST_MAX_BLOCKS)

struct vio {
	struct disk_io io;
	bool done;
};

static void vio_done(struct disk_io *io)
{
	__atomic_store_n(&((struct vio *)io->ctx)->done, true, __ATOMIC_RELEASE);
}

/* One I/O through the volume, waited for by polling the driver and the
 * refusals (a write to a read-only volume is completed with -EIO there,
 * never by the disk).  On a time-out the request is left to the driver
 * (never freed). */
static int vol_io(struct volume *v, enum disk_op op, uint64_t sector, uint64_t pa)
{
	struct vio *w = kzalloc(sizeof(*w));
	uint64_t end = time_ns() + IO_WAIT_NS;
	int r;

	if (!w)
		return -ENOMEM;
	w->io = (struct disk_io){ .op = op, .sector = sector, .done = vio_done, .ctx = w };
	disk_io_set_buf(&w->io, pa, v->disk->block_size);
	volume_submit(v, &w->io);
	while (!__atomic_load_n(&w->done, __ATOMIC_ACQUIRE)) {
		if (time_ns() > end)
			return -EIO;
		v->disk->ops->poll(v->disk);
		disk_run_later();         /* a refused io completes from here */
		pause();
	}
	r = w->io.status;
	kfree(w);
	return r;
}

static void fill(uint8_t *p, uint64_t s, uint32_t len)
{
	memcpy(p, &s, 8);
	for (uint32_t i = 8; i < len; i++)
		p[i] = (uint8_t)(s * 5 + i);
}

static void hash_hex(const uint8_t *p, uint32_t len, char out[17])
{
	uint8_t h[32];

	sha256(p, len, h);
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

struct report {
	char head[17], tail[17];
	int io;                       /* the first I/O error */
	bool wrote, refused;
};

/* Reads block `sector` (hash into out); a writer writes the pattern there
 * and reads it back; a reader's write must fail. */
static void probe(struct volume *v, uint64_t sector, uint8_t *buf, uint64_t pa,
		  char *out, struct report *r)
{
	uint32_t len = v->disk->block_size;
	int e = vol_io(v, DISK_READ, sector, pa);

	hash_hex(buf, len, out);
	if (!e && v->readonly) {
		r->refused &= vol_io(v, DISK_WRITE, sector, pa) == -EIO;
	} else if (!e) {
		fill(buf, sector, len);
		e = vol_io(v, DISK_WRITE, sector, pa);
		memset(buf, 0, len);
		if (!e)
			e = vol_io(v, DISK_READ, sector, pa);
		fill(buf + len, sector, len);            /* what should be there */
		r->wrote &= !e && !memcmp(buf, buf + len, len);
	}
	r->io = r->io ? r->io : e;
}

static void exercise(struct volume *v, uint32_t gi, const char *spec, int claim)
{
	uint64_t pa = frame_alloc_contig(2);
	uint8_t *buf = pa ? phys_to_virt(pa) : NULL;
	uint64_t bs = v->disk->block_size / DISK_SECTOR;
	struct report r = { .wrote = !v->readonly, .refused = v->readonly };

	if (!buf || v->sectors < bs) {
		r.io = -ENOMEM;
	} else if (claim == 0) {      /* only what the volume owns is touched */
		probe(v, 0, buf, pa, r.head, &r);
		probe(v, (v->sectors / bs - 1) * bs, buf, pa, r.tail, &r);
	}
	if (claim || r.io)
		r.wrote = r.refused = false;
	log_event("volume guest=%s spec=%s ok=1 disk=%u sectors=%lu extents=%u claim=%d "
		  "head=%s tail=%s wrote=%d refused=%d io=%d", boot.manifest->guest[gi].name,
		  spec, v->disk->index, v->sectors, v->extent_count, claim,
		  r.head[0] ? r.head : "-", r.tail[0] ? r.tail : "-", r.wrote, r.refused, r.io);
	for (uint32_t i = 0; i < v->extent_count; i++)
		log_event("volume-extent spec=%s i=%u start=%lu sectors=%lu", spec, i,
			  v->extent[i].disk_sector, v->extent[i].sectors);
	if (pa)
		frame_free_contig(pa, 2);
}

struct held {
	struct volume *v;
	uint32_t guest;
	int claim;
};

/* Opens and claims one block entry, kept in h[*n]. */
static void open_one(uint32_t gi, const struct manifest_block *b, struct held *h, uint32_t *n)
{
	struct volume *v = kzalloc(sizeof(*v));
	char why[160];
	int r = v ? volume_open(b->spec, b->readonly, v, why, sizeof(why)) : -ENOMEM;

	if (r) {
		log_warn("volume: %s", v ? why : "out of memory");
		log_event("volume guest=%s spec=%s ok=0 errno=%d", boot.manifest->guest[gi].name,
			  b->spec, r);
		kfree(v);
		return;
	}
	h[*n] = (struct held){ v, gi, volume_claim(v, gi + 1, why, sizeof(why)) };
	if (h[*n].claim)
		log_warn("volume: %s", why);
	(*n)++;
}

void selftest_volumes(void)
{
	const struct manifest *m = boot.manifest;
	struct held *h = kzalloc(VOLS_MAX * sizeof(*h));
	uint32_t n = 0;

	if (!h)
		panic("selftest volumes: out of memory");
	for (uint32_t g = 0; g < m->guest_count; g++)
		for (uint32_t b = 0; m->guest[g].valid && b < m->guest[g].block_count; b++)
			open_one(g, &m->guest[g].block[b], h, &n);
	for (uint32_t i = 0; i < n; i++)
		exercise(h[i].v, h[i].guest, h[i].v->spec, h[i].claim);
	for (uint32_t i = 0; i < n; i++) {
		volume_release(h[i].v);
		kfree(h[i].v);
	}
	log_event("selftest-volumes count=%u", n);
	kfree(h);
}
