/* Volumes: a spec (lvm:VG/LV, gpt:NAME, gpt:GUID, disk:N) resolved to
 * extents of one disk, the claims that keep one writer per extent, and
 * I/O translated from volume sectors to disk sectors. */
#include <hv/disk.h>
#include <hv/errno.h>
#include <hv/gpt.h>
#include <hv/lib.h>
#include <hv/lock.h>
#include <hv/lvm2.h>
#include <hv/volume.h>

#define CLAIMS_MAX 64                /* volumes claimed at once */
#define LVM_NAME_MAX 127             /* LVM2's NAME_LEN - 1 */

static struct spinlock volumes_lock = SPINLOCK_INIT("volumes", LOCK_RANK_VOLUMES);
static struct volume *claims[CLAIMS_MAX];    /* volumes_lock */

static const char *find_char(const char *s, char c)
{
	for (; *s; s++)
		if (*s == c)
			return s;
	return NULL;
}

static int open_lvm(const char *what, struct volume *v, char *err, size_t n)
{
	const char *slash = find_char(what, '/');
	char vg[LVM_NAME_MAX + 1];
	size_t vl = slash ? (size_t)(slash - what) : 0;

	if (!slash || !vl || vl > LVM_NAME_MAX || !slash[1] ||
	    strlen(slash + 1) > LVM_NAME_MAX || find_char(slash + 1, '/')) {
		snprintf(err, n, "lvm:%s: expected lvm:VG/LV", what);
		return -EINVAL;
	}
	memcpy(vg, what, vl);
	vg[vl] = 0;
	return lvm2_find(vg, slash + 1, v, err, n);
}

static int open_disk(const char *what, struct volume *v, char *err, size_t n)
{
	uint32_t idx = 0;
	const char *p = what;

	for (; *p >= '0' && *p <= '9' && idx < 1000; p++)
		idx = idx * 10 + (uint32_t)(*p - '0');
	if (p == what || *p) {
		snprintf(err, n, "disk:%s: expected disk:N", what);
		return -EINVAL;
	}
	if (idx >= disk_count() || !disk_get(idx)) {
		snprintf(err, n, "disk:%u: no such disk (%u found)", idx, disk_count());
		return -ENOENT;
	}
	v->disk = disk_get(idx);
	v->extent[0] = (struct volume_extent){ 0, v->disk->sectors };
	v->extent_count = 1;
	v->sectors = v->disk->sectors;
	return 0;
}

static int open_kind(const char *spec, struct volume *v, char *err, size_t n)
{
	if (!strncmp(spec, "lvm:", 4))
		return open_lvm(spec + 4, v, err, n);
	if (!strncmp(spec, "gpt:", 4))
		return gpt_find(spec + 4, v, err, n);
	if (!strncmp(spec, "disk:", 5))
		return open_disk(spec + 5, v, err, n);
	snprintf(err, n, "%s: unknown volume (use lvm:VG/LV, gpt:NAME, gpt:GUID "
		 "or disk:N)", spec);
	return -EINVAL;
}

int volume_open(const char *spec, bool readonly, struct volume *v, char *err, size_t n)
{
	int r;

	memset(v, 0, sizeof(*v));
	if (strnlen(spec, VOLUME_SPEC_MAX) >= VOLUME_SPEC_MAX) {
		snprintf(err, n, "volume spec too long (at most %u bytes)", VOLUME_SPEC_MAX - 1);
		return -EINVAL;
	}
	strlcpy(v->spec, spec, sizeof(v->spec));
	v->readonly = readonly;
	r = open_kind(spec, v, err, n);
	if (!r && !readonly && v->disk->readonly) {
		snprintf(err, n, "%s: disk %s is read-only (use ro)", spec, v->disk->name);
		r = -EINVAL;
	}
	if (r)
		v->disk = NULL;
	return r;
}

static bool extents_overlap(const struct volume *a, const struct volume *b)
{
	if (a->disk != b->disk)
		return false;
	for (uint32_t i = 0; i < a->extent_count; i++) {
		const struct volume_extent *x = &a->extent[i];

		for (uint32_t j = 0; j < b->extent_count; j++) {
			const struct volume_extent *y = &b->extent[j];

			if (x->disk_sector < y->disk_sector + y->sectors &&
			    y->disk_sector < x->disk_sector + x->sectors)
				return true;
		}
	}
	return false;
}

/* The claim that forbids v (a writer overlapping a writer), or NULL;
 * *free_slot: an empty slot, or -1. */
static struct volume *conflict(const struct volume *v, int *free_slot)
{
	struct volume *hit = NULL;

	*free_slot = -1;
	for (int i = 0; i < CLAIMS_MAX; i++) {
		struct volume *c = claims[i];

		if (!c) {
			*free_slot = *free_slot < 0 ? i : *free_slot;
		} else if (!hit && !v->readonly && !c->readonly && extents_overlap(v, c)) {
			hit = c;
		}
	}
	return hit;
}

int volume_claim(struct volume *v, uint32_t domid, char *err, size_t n)
{
	uint64_t f = spin_lock(&volumes_lock);
	int slot, r = 0;
	struct volume *c = conflict(v, &slot);

	if (!v->disk || v->owner) {
		snprintf(err, n, "%s: not open, or claimed already", v->spec);
		r = -EINVAL;
	} else if (c) {
		snprintf(err, n, "%s: domain %u writes %s, which overlaps it "
			 "(one writer per extent)", v->spec, c->owner, c->spec);
		r = -EBUSY;
	} else if (slot < 0) {
		snprintf(err, n, "%s: too many volumes in use (%u)", v->spec, CLAIMS_MAX);
		r = -EBUSY;
	} else {
		claims[slot] = v;
		v->owner = domid;
	}
	spin_unlock(&volumes_lock, f);
	return r;
}

void volume_release(struct volume *v)
{
	uint64_t f = spin_lock(&volumes_lock);

	for (int i = 0; i < CLAIMS_MAX; i++)
		if (claims[i] == v)
			claims[i] = NULL;
	v->owner = 0;
	spin_unlock(&volumes_lock, f);
}

/* The extent holding volume sector s and the volume sector it starts at. */
static const struct volume_extent *extent_of(const struct volume *v, uint64_t s,
					     uint64_t *start)
{
	uint64_t base = 0;

	for (uint32_t i = 0; i < v->extent_count; i++) {
		if (s - base < v->extent[i].sectors) {
			*start = base;
			return &v->extent[i];
		}
		base += v->extent[i].sectors;
	}
	return NULL;
}

uint64_t volume_extent_end(const struct volume *v, uint64_t sector)
{
	uint64_t start;
	const struct volume_extent *e = extent_of(v, sector, &start);

	return e ? start + e->sectors - sector : 0;
}

/* A bad io (outside the volume, across an extent, a write to a read-only
 * volume) is the caller's bug.  It still goes to the driver, aimed past
 * the disk's end as a read, so the driver refuses it with -EIO the way it
 * refuses any bad io (later, never inside this call: the caller may hold
 * its own lock) and it can reach no sector of the disk. */
void volume_submit(struct volume *v, struct disk_io *io)
{
	uint64_t count = io->len / DISK_SECTOR, start;
	const struct volume_extent *e;

	if (io->op == DISK_FLUSH) {
		disk_submit(v->disk, io);
		return;
	}
	e = extent_of(v, io->sector, &start);
	if (!e || !count || io->len % DISK_SECTOR || count > start + e->sectors - io->sector ||
	    (io->op != DISK_READ && io->op != DISK_WRITE) ||
	    (io->op == DISK_WRITE && v->readonly)) {
		io->op = DISK_READ;
		io->sector = v->disk->sectors;
	} else {
		io->sector = e->disk_sector + (io->sector - start);
	}
	disk_submit(v->disk, io);
}
