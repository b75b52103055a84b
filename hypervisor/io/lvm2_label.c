/* LVM2 physical volume headers: the label in one of the first four
 * sectors, the PV header after it (UUID, data areas, metadata areas), the
 * metadata area header and the current metadata text it points at, which
 * may wrap around the end of the circular area.  Layouts and checksums as
 * LVM2 defines them (lib/label/label.h, lib/format_text/layout.h; see
 * docs/storage.md).  All fields are little-endian. */
#include <hv/crc32.h>
#include <hv/disk.h>
#include <hv/errno.h>
#include <hv/lib.h>
#include <hv/lvm2.h>
#include <hv/mm.h>

#define LVM2_CRC_INIT   0xf597a6cfu  /* INITIAL_CRC, lib/misc/crc.h */
#define LABEL_SECTORS   4u
#define MDA_HDR_SIZE    512u
#define LOCNS_MAX       16u          /* disk_locn entries read at most */

struct label_header {                /* at the start of the label sector */
	char id[8];                  /* "LABELONE" */
	uint64_t sector;             /* where this label is */
	uint32_t crc;                /* of offset .. the end of the sector */
	uint32_t offset;             /* of the PV header, from this struct */
	char type[8];                /* "LVM2 001" */
} __attribute__((packed));

struct disk_locn {
	uint64_t offset, size;       /* bytes; a zero offset ends a list */
} __attribute__((packed));

struct pv_header {
	char uuid[LVM2_UUID_LEN];
	uint64_t device_size;
	struct disk_locn locn[];     /* data areas, 0, metadata areas, 0 */
} __attribute__((packed));

struct raw_locn {
	uint64_t offset, size;       /* of the text, from the area's start */
	uint32_t checksum, flags;
} __attribute__((packed));

struct mda_header {
	uint32_t checksum;           /* of magic .. the end of the 512 bytes */
	uint8_t magic[16];
	uint32_t version;
	uint64_t start, size;        /* this area, bytes from the disk's start */
	struct raw_locn rlocn[];     /* [0] is the current metadata */
} __attribute__((packed));

#define RAW_LOCN_IGNORED 1u
static const uint8_t mda_magic[16] = " LVM2 x[5A%r0N*>";

static int damaged(char *err, size_t n, const struct lvm2_pvloc *at, const char *what)
{
	snprintf(err, n, "%s%s: LVM2 %s", at->disk->name, at->base ? " (a partition)" : "", what);
	return -EINVAL;
}

/* len bytes at byte offset off of the PV, through whole sectors. */
static int read_bytes(const struct lvm2_pvloc *at, uint64_t off, void *buf, size_t len)
{
	uint64_t first = off / DISK_SECTOR, skip = off % DISK_SECTOR;
	size_t span = (size_t)((skip + len + DISK_SECTOR - 1) / DISK_SECTOR * DISK_SECTOR);
	uint8_t *tmp;
	int r;

	if (first >= at->sectors || span / DISK_SECTOR > at->sectors - first)
		return -EINVAL;
	tmp = kmalloc(span);
	if (!tmp)
		return -ENOMEM;
	r = disk_read_sync(at->disk, at->base + first, tmp, span);
	if (!r)
		memcpy(buf, tmp + skip, len);
	kfree(tmp);
	return r;
}

static bool label_ok(const uint8_t *sec, uint64_t sector)
{
	struct label_header lh;

	memcpy(&lh, sec, sizeof(lh));
	if (memcmp(lh.id, "LABELONE", 8) || lh.sector != sector)
		return false;
	if (memcmp(lh.type, "LVM2 001", 8))
		return false;
	if (lh.offset < sizeof(lh) || lh.offset > DISK_SECTOR - sizeof(struct pv_header) - 16)
		return false;
	return lh.crc == crc32_update(LVM2_CRC_INIT, sec + 20, DISK_SECTOR - 20);
}

/* The label sector (512 bytes) into sec: 0, 1 (no label) or < 0. */
static int find_label(const struct lvm2_pvloc *at, uint8_t *sec, uint32_t *pvh_off)
{
	uint8_t *buf;
	int r;

	if (at->sectors < LABEL_SECTORS)
		return 1;
	buf = kmalloc(LABEL_SECTORS * DISK_SECTOR);
	if (!buf)
		return -ENOMEM;
	r = disk_read_sync(at->disk, at->base, buf, LABEL_SECTORS * DISK_SECTOR);
	for (uint32_t s = 0; r == 0 && s < LABEL_SECTORS; s++) {
		if (label_ok(buf + s * DISK_SECTOR, s)) {
			memcpy(sec, buf + s * DISK_SECTOR, DISK_SECTOR);
			memcpy(pvh_off, sec + 20, 4);
			kfree(buf);
			return 0;
		}
	}
	kfree(buf);
	return r ? r : 1;
}

static bool uuid_ok(const char *u)
{
	for (int i = 0; i < LVM2_UUID_LEN; i++) {
		char c = u[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '!' || c == '#'))
			return false;
	}
	return true;
}

/* Copies the PV header's UUID and its metadata areas (the second list). */
static int parse_pv_header(const uint8_t *sec, uint32_t off, char *uuid,
			   struct disk_locn *mda, uint32_t *mdas)
{
	const uint8_t *p = sec + off + sizeof(struct pv_header);
	const uint8_t *end = sec + DISK_SECTOR;
	uint32_t list = 0, count = 0;

	memcpy(uuid, sec + off, LVM2_UUID_LEN);
	uuid[LVM2_UUID_LEN] = 0;
	if (!uuid_ok(uuid))
		return -EINVAL;
	for (; p + sizeof(struct disk_locn) <= end && list < 2; p += sizeof(struct disk_locn)) {
		struct disk_locn l;

		memcpy(&l, p, sizeof(l));
		if (!l.offset)
			list++;
		else if (list == 1 && count < LOCNS_MAX)
			mda[count++] = l;
	}
	*mdas = count;
	return list == 2 ? 0 : -EINVAL;
}

static bool mda_header_ok(const uint8_t *h, const struct disk_locn *area)
{
	struct mda_header m;

	memcpy(&m, h, sizeof(m));
	if (m.checksum != crc32_update(LVM2_CRC_INIT, h + 4, MDA_HDR_SIZE - 4))
		return false;
	if (memcmp(m.magic, mda_magic, 16) || m.version != 1)
		return false;
	return m.start == area->offset && m.size == area->size;
}

/* The current text's place in the area: first part, wrapped part. */
static bool rlocn_ok(const struct raw_locn *rl, uint64_t area_size,
		     uint64_t *len1, uint64_t *len2)
{
	uint64_t end;

	if (rl->flags & RAW_LOCN_IGNORED || !rl->offset || !rl->size)
		return false;
	if (rl->offset < MDA_HDR_SIZE || rl->offset >= area_size || rl->size > LVM2_TEXT_MAX)
		return false;
	end = rl->offset + rl->size;
	*len2 = end > area_size ? end - area_size : 0;
	*len1 = rl->size - *len2;
	return *len2 <= area_size - MDA_HDR_SIZE;
}

static int read_text(const struct lvm2_pvloc *at, const struct disk_locn *area,
		     const struct raw_locn *rl, struct lvm2_pv *pv)
{
	uint64_t len1, len2;
	char *t;
	int r;

	if (!rlocn_ok(rl, area->size, &len1, &len2))
		return -EINVAL;
	t = kmalloc(rl->size + 1);
	if (!t)
		return -ENOMEM;
	r = read_bytes(at, area->offset + rl->offset, t, len1);
	if (!r && len2)
		r = read_bytes(at, area->offset + MDA_HDR_SIZE, t + len1, len2);
	if (!r && crc32_update(LVM2_CRC_INIT, t, rl->size) != rl->checksum)
		r = -EINVAL;
	if (r) {
		kfree(t);
		return r;
	}
	t[rl->size] = 0;
	pv->text = t;
	pv->text_len = rl->size;
	return 0;
}

/* One metadata area: header, then the text it points at. */
static int read_area(const struct lvm2_pvloc *at, const struct disk_locn *area, struct lvm2_pv *pv)
{
	uint8_t *h;
	struct raw_locn rl;
	int r;
	uint64_t pv_bytes = at->sectors > UINT64_MAX / DISK_SECTOR ? UINT64_MAX :
			    at->sectors * DISK_SECTOR;

	if (area->offset % DISK_SECTOR || area->size < 2 * MDA_HDR_SIZE ||
	    area->size > pv_bytes || area->offset > pv_bytes - area->size)
		return -EINVAL;
	h = kmalloc(MDA_HDR_SIZE);
	if (!h)
		return -ENOMEM;
	r = read_bytes(at, area->offset, h, MDA_HDR_SIZE);
	if (!r && !mda_header_ok(h, area))
		r = -EINVAL;
	if (!r) {
		memcpy(&rl, h + sizeof(struct mda_header), sizeof(rl));
		r = read_text(at, area, &rl, pv);
	}
	kfree(h);
	return r;
}

static int read_header(const struct lvm2_pvloc *at, char *uuid, struct disk_locn *mda,
		       uint32_t *mdas, char *err, size_t n)
{
	uint8_t *sec = kmalloc(DISK_SECTOR);
	uint32_t off;
	int r;

	if (!sec)
		return -ENOMEM;
	r = find_label(at, sec, &off);
	if (r == 0 && parse_pv_header(sec, off, uuid, mda, mdas))
		r = damaged(err, n, at, "PV header is damaged");
	else if (r < 0)
		snprintf(err, n, "%s: cannot read the first sectors", at->disk->name);
	kfree(sec);
	return r;
}

int lvm2_pv_uuid(const struct lvm2_pvloc *at, char uuid[LVM2_UUID_LEN + 1], char *err, size_t n)
{
	struct disk_locn mda[LOCNS_MAX];
	uint32_t mdas;

	return read_header(at, uuid, mda, &mdas, err, n);
}

int lvm2_pv_read(const struct lvm2_pvloc *at, struct lvm2_pv *pv, char *err, size_t n)
{
	struct disk_locn mda[LOCNS_MAX];
	uint32_t mdas = 0;
	int r = read_header(at, pv->uuid, mda, &mdas, err, n);

	pv->text = NULL;
	if (r)
		return r;
	/* Any intact copy will do: every area holds the same metadata. */
	for (uint32_t i = 0; i < mdas; i++) {
		r = read_area(at, &mda[i], pv);
		if (r == 0 || r == -ENOMEM)
			return r;
	}
	return damaged(err, n, at, mdas ? "metadata area is damaged (header, "
		       "location or checksum)" : "PV has no metadata area");
}

void lvm2_pv_free(struct lvm2_pv *pv)
{
	kfree(pv->text);
	pv->text = NULL;
}
