/* libFuzzer target for the volume layer's readers of on-disk data
 * (io/lvm2_text.c, io/lvm2.c, io/lvm2_label.c, io/gpt.c), which treat
 * every byte of a disk as hostile.  The first input byte picks what the
 * rest is:
 *
 *   0  LVM2 metadata text: parsed, then vg/lv mapped onto a fake PV
 *   1  a disk's first 64 KiB with a GPT: the harness fixes the header and
 *      array CRCs (so the fuzzer gets past them), then gpt:data is opened
 *   2  a disk's first 64 KiB with an LVM2 label at sector 1: the harness
 *      fixes the label, metadata header and text CRCs, then lvm:vg/lv
 *
 * Whatever opens must lie inside its disk.  Run by `make fuzz-volumes`. */
#include <stdlib.h>
#include <string.h>
#include <hv/crc32.h>
#include <hv/lvm2.h>
#include <hv/volume.h>
#include "disk_shim.h"

#define DISK_BYTES (4u << 20)
#define HEAD_BYTES (64u << 10)
#define LVM_CRC 0xf597a6cfu

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

/* The PV the text case maps onto: 4 MiB of a disk, from sector 2048. */
static struct disk fake_disk = { .name = "fake", .sectors = 16384, .block_size = 512 };
static const struct lvm2_pvloc fake_pv = { &fake_disk, 2048, 8192 };

static const struct lvm2_pvloc *fake_pv_at(const char *uuid, void *ctx)
{
	(void)uuid; (void)ctx;
	return &fake_pv;
}

static void check(const struct volume *v)
{
	uint64_t total = 0;

	REQUIRE(v->extent_count >= 1 && v->extent_count <= VOLUME_MAX_EXTENTS);
	for (uint32_t i = 0; i < v->extent_count; i++) {
		REQUIRE(v->extent[i].sectors > 0);
		REQUIRE(v->extent[i].disk_sector + v->extent[i].sectors <= v->disk->sectors);
		total += v->extent[i].sectors;
	}
	REQUIRE(total == v->sectors);
}

static void text_case(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), err[160];
	struct lvm_tree t;
	struct volume v = { .readonly = size & 1 };

	memcpy(text, data, size);
	text[size] = 0;
	if (lvm_text_parse(text, size, &t, err, sizeof(err)) == 0) {
		if (lvm2_map(&t, "vg", "lv", fake_pv_at, NULL, &v, err, sizeof(err)) == 0)
			check(&v);
		lvm_text_free(&t);
	}
	free(text);
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static void fix_gpt(uint8_t *d)
{
	uint64_t lba = get64(d + 512 + 72);
	uint64_t bytes = (uint64_t)get32(d + 512 + 80) * get32(d + 512 + 84);
	uint32_t hsize = get32(d + 512 + 12);

	if (lba < HEAD_BYTES / 512 && bytes <= HEAD_BYTES - lba * 512)
		put32(d + 512 + 88, crc32(d + lba * 512, bytes));
	put32(d + 512 + 16, 0);
	put32(d + 512 + 16, crc32(d + 512, hsize >= 92 && hsize <= 512 ? hsize : 92));
}

/* Label at sector 1, PV header at +32, the first metadata area's header
 * where its locn says (inside the 64 KiB), the text where it says. */
static void fix_lvm(uint8_t *d)
{
	uint8_t *lab = d + 512, *h;
	uint64_t mda = 0, off, len;
	int lists = 0;

	for (uint8_t *p = lab + 72; p + 16 <= lab + 512 && lists < 2; p += 16) {
		if (!get64(p))
			lists++;
		else if (lists == 1 && !mda)
			mda = get64(p);
	}
	if (mda && mda <= HEAD_BYTES - 512) {
		h = d + mda;
		off = get64(h + 40);
		len = get64(h + 48);
		if (off < HEAD_BYTES && len <= HEAD_BYTES && mda + off + len <= HEAD_BYTES)
			put32(h + 56, crc32_update(LVM_CRC, h + off, len));
		put32(h, crc32_update(LVM_CRC, h + 4, 508));
	}
	put32(lab + 16, crc32_update(LVM_CRC, lab + 20, 492));
}

static void disk_case(const uint8_t *data, size_t size, bool lvm)
{
	struct disk *d;
	struct volume v;
	char err[160];

	shim_disks_reset();
	d = shim_disk_mem(DISK_BYTES);
	memcpy(shim_disk_bytes(d), data, size < HEAD_BYTES ? size : HEAD_BYTES);
	if (lvm)
		fix_lvm(shim_disk_bytes(d));
	else
		fix_gpt(shim_disk_bytes(d));
	if (volume_open(lvm ? "lvm:vg/lv" : "gpt:data", false, &v, err, sizeof(err)) == 0)
		check(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] % 3 == 0)
		text_case(data + 1, size - 1);
	else
		disk_case(data + 1, size - 1, data[0] % 3 == 2);
	return 0;
}
