/* GPT partitions by name or unique GUID.  The header and the partition
 * array are from a disk: sizes are bounded, both CRCs must match, and a
 * partition must lie inside the usable LBAs and the disk.  Only the
 * primary header is read (a damaged one is reported, not repaired). */
#include <hv/crc32.h>
#include <hv/disk.h>
#include <hv/errno.h>
#include <hv/gpt.h>
#include <hv/lib.h>
#include <hv/mm.h>
#include <hv/volume.h>

#define CHUNK           4096u        /* the array is read this much at a time */
#define ARRAY_MAX       (1u << 20)   /* partition array bytes at most */

struct gpt_header {
	char signature[8];           /* "EFI PART" */
	uint32_t revision, header_size, header_crc, reserved;
	uint64_t my_lba, alternate_lba, first_usable, last_usable;
	uint8_t disk_guid[16];
	uint64_t entries_lba;
	uint32_t entries, entry_size, entries_crc;
} __attribute__((packed));

struct gpt_entry {
	uint8_t type[16], unique[16];
	uint64_t first, last, attributes;  /* last is inclusive */
	uint16_t name[GPT_NAME_UNITS];
} __attribute__((packed));

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

bool gpt_guid_parse(const char *s, uint8_t out[16])
{
	/* Text byte i goes to out[order[i]]: fields 1-3 are little-endian. */
	static const uint8_t order[16] = { 3, 2, 1, 0, 5, 4, 7, 6,
					   8, 9, 10, 11, 12, 13, 14, 15 };
	int b = 0;

	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		int hi, lo;

		if (dash) {
			if (s[i] != '-')
				return false;
			continue;
		}
		hi = hexval(s[i]);
		lo = hi < 0 ? -1 : hexval(s[++i]);
		if (lo < 0)
			return false;
		out[order[b++]] = (uint8_t)(hi << 4 | lo);
	}
	return s[36] == 0;
}

static int damaged(struct disk *d, char *err, size_t n, const char *what)
{
	snprintf(err, n, "%s: GPT %s", d->name, what);
	return -EINVAL;
}

/* GPT counts in the device's logical blocks (LBAs): 512-byte sectors, or
 * 8 of them on a disk with 4096-byte blocks. */
static uint32_t lba_sectors(const struct disk *d)
{
	return d->block_size == 4096 ? 8 : 1;
}

/* 1: no GPT signature, 0: a sound header, -EINVAL: damaged. */
static int header_check(struct disk *d, uint8_t *sec, struct gpt_header *h,
			char *err, size_t n)
{
	uint64_t bytes, blocks = d->sectors / lba_sectors(d);
	uint64_t lba_bytes = (uint64_t)lba_sectors(d) * DISK_SECTOR;
	uint32_t crc;

	memcpy(h, sec, sizeof(*h));
	if (memcmp(h->signature, "EFI PART", 8))
		return 1;
	if (h->header_size < sizeof(*h) || h->header_size > DISK_SECTOR)
		return damaged(d, err, n, "header size is wrong");
	crc = h->header_crc;
	memset(sec + 16, 0, 4);          /* the CRC is of the header with it zeroed */
	if (crc32(sec, h->header_size) != crc || h->my_lba != 1)
		return damaged(d, err, n, "header checksum is wrong");
	if (h->entry_size < 128 || h->entry_size > CHUNK || (h->entry_size & (h->entry_size - 1)))
		return damaged(d, err, n, "entry size is wrong");
	bytes = (uint64_t)h->entries * h->entry_size;
	if (!h->entries || bytes > ARRAY_MAX || h->entries_lba < 2 ||
	    h->entries_lba >= blocks ||
	    (bytes + lba_bytes - 1) / lba_bytes > blocks - h->entries_lba)
		return damaged(d, err, n, "partition array is out of bounds");
	if (h->first_usable > h->last_usable || h->last_usable >= blocks)
		return damaged(d, err, n, "usable range is wrong");
	return 0;
}

static bool name_is(const struct gpt_entry *e, const char *name)
{
	size_t i = 0;

	for (; name[i] && i < GPT_NAME_UNITS; i++)
		if (e->name[i] != (uint8_t)name[i])
			return false;
	return !name[i] && (i == GPT_NAME_UNITS || e->name[i] == 0);
}

static void name_ascii(const struct gpt_entry *e, char *out)
{
	int i = 0;

	for (; i < GPT_NAME_UNITS && e->name[i]; i++)
		out[i] = e->name[i] >= 0x20 && e->name[i] < 0x7f ? (char)e->name[i] : '?';
	out[i] = 0;
}

const uint8_t gpt_type_lvm[16] = {
	0x79, 0xd3, 0xd6, 0xe6, 0x07, 0xf5, 0xc2, 0x44,
	0xa2, 0x3c, 0x23, 0x8f, 0x2a, 0x3d, 0xf9, 0x28,
};

static bool key_matches(const struct gpt_entry *e, const struct gpt_key *k)
{
	if (k->unique)
		return !memcmp(e->unique, k->unique, 16);
	if (k->type)
		return !memcmp(e->type, k->type, 16);
	return name_is(e, k->name);
}

static void match_entry(const struct gpt_header *h, const struct gpt_entry *e,
			const struct gpt_key *k, struct gpt_match *m)
{
	static const uint8_t unused[16];

	if (!memcmp(e->type, unused, 16) || !key_matches(e, k))
		return;
	if (e->first < h->first_usable || e->last < e->first || e->last > h->last_usable) {
		m->found |= 0x80000000u;     /* a match that is out of bounds */
		return;
	}
	if (m->found < GPT_MATCH_MAX) {
		m->part[m->found].first = e->first;
		m->part[m->found].sectors = e->last - e->first + 1;
	}
	if (!m->found++)
		name_ascii(e, m->name);
}

/* Reads the array a chunk at a time, matching as it goes; the matches
 * count only if the CRC of the whole array is right. */
static int scan_array(struct disk *d, const struct gpt_header *h, uint8_t *buf,
		      const struct gpt_key *k, struct gpt_match *m)
{
	uint64_t total = (uint64_t)h->entries * h->entry_size;
	uint32_t crc = 0xffffffffu;

	for (uint64_t off = 0; off < total; off += CHUNK) {
		uint32_t len = total - off < CHUNK ? (uint32_t)(total - off) : CHUNK;
		uint32_t rd = (len + DISK_SECTOR - 1) / DISK_SECTOR * DISK_SECTOR;
		int r = disk_read_sync(d, h->entries_lba * lba_sectors(d) + off / DISK_SECTOR,
				       buf, rd);

		if (r)
			return r;
		crc = crc32_update(crc, buf, len);
		for (uint32_t e = 0; e + h->entry_size <= len; e += h->entry_size)
			match_entry(h, (const struct gpt_entry *)(buf + e), k, m);
	}
	return ~crc == h->entries_crc ? 0 : -EINVAL;
}

int gpt_scan(struct disk *d, const struct gpt_key *k, struct gpt_match *m,
	     char *err, size_t n)
{
	uint8_t *buf = kmalloc(CHUNK);
	struct gpt_header h;
	int r;

	*m = (struct gpt_match){ 0 };
	if (!buf)
		return -ENOMEM;
	r = d->sectors / lba_sectors(d) < 3 ? 1 :
		disk_read_sync(d, lba_sectors(d), buf, DISK_SECTOR);
	if (r == 0)
		r = header_check(d, buf, &h, err, n);
	if (r == 0) {
		r = scan_array(d, &h, buf, k, m);
		if (r == -EINVAL)
			damaged(d, err, n, "partition array checksum is wrong");
		if (r == 0 && (m->found & 0x80000000u))
			r = damaged(d, err, n, "partition lies outside the usable range");
	}
	for (uint32_t i = 0; r == 0 && i < m->found && i < GPT_MATCH_MAX; i++) {
		m->part[i].first *= lba_sectors(d);      /* LBAs to sectors */
		m->part[i].sectors *= lba_sectors(d);
	}
	if (r == -EIO)
		snprintf(err, n, "%s: cannot read the GPT", d->name);
	kfree(buf);
	return r;
}

static void take(struct volume *v, struct disk *d, const struct gpt_match *m)
{
	v->disk = d;
	v->extent[0] = (struct volume_extent){ m->part[0].first, m->part[0].sectors };
	v->extent_count = 1;
	v->sectors = m->part[0].sectors;
}

/* Exactly one partition over all disks, or an error naming why. */
int gpt_find(const char *what, struct volume *v, char *err, size_t n)
{
	uint8_t guid[16];
	struct gpt_key k = { .name = what };
	uint32_t found = 0;
	char why[96] = "";

	if (gpt_guid_parse(what, guid))
		k = (struct gpt_key){ .unique = guid };
	for (uint32_t i = 0; i < disk_count(); i++) {
		struct gpt_match m;

		if (gpt_scan(disk_get(i), &k, &m, why, sizeof(why)) || !m.found)
			continue;
		found += m.found;
		take(v, disk_get(i), &m);
	}
	if (found > 1)
		snprintf(err, n, "gpt:%s: more than one partition matches "
			 "(name it by its unique GUID)", what);
	else if (!found)
		snprintf(err, n, "gpt:%s: no such partition on any disk%s%s%s", what,
			 why[0] ? " (" : "", why, why[0] ? ")" : "");
	return found == 1 ? 0 : found ? -EINVAL : -ENOENT;
}
