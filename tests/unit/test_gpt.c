/* The GPT reader (io/gpt.c) through volume_open on an image partitioned
 * by sgdisk at test time (make_volumes.py): partitions by name and by
 * unique GUID must match what sgdisk -i reports; damaged headers and
 * partition arrays (bad CRCs, absurd counts and sizes, partitions outside
 * the usable range) are refused, ambiguous names too; random damage never
 * crashes (sanitizers). */
#include <ctype.h>
#include <stdlib.h>
#include <hv/crc32.h>
#include <hv/errno.h>
#include <hv/gpt.h>
#include <hv/volume.h>
#include "disk_shim.h"
#include "harness.h"

static const char *dir;
static char expect[16][256];
static int nexpect;
static char path[128];
static uint8_t *pristine;               /* the first 64 KiB of gpt.img */
#define HEAD_BYTES (64u << 10)

static bool open_spec(const char *spec, struct volume *v, char *err)
{
	return volume_open(spec, false, v, err, 160) == 0;
}

static void load(int copies, bool blank_first)
{
	shim_disks_reset();
	if (blank_first)
		shim_disk_mem(1 << 20);
	for (int i = 0; i < copies; i++)
		shim_disk_add(path);
}

static void check_line(const char *line, bool blank_first)
{
	char name[64], guid[40], spec[120], err[160];
	unsigned long long first, n;
	struct volume v;

	if (sscanf(line, "gpt %63s %39s %llu %llu", name, guid, &first, &n) != 4)
		return (void)CHECK(!"malformed expect line");
	for (int form = 0; form < 3; form++) {
		if (form == 0)
			snprintf(spec, sizeof(spec), "gpt:%s", name);
		else
			snprintf(spec, sizeof(spec), "gpt:%s", guid);
		for (char *p = spec; form == 2 && *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (!CHECK(open_spec(spec, &v, err))) {
			fprintf(stderr, "  %s: %s\n", spec, err);
			continue;
		}
		CHECK(v.disk == disk_get(blank_first ? 1 : 0));
		CHECK_EQ_INT(v.extent_count, 1);
		CHECK_EQ_U64(v.extent[0].disk_sector, first);
		CHECK_EQ_U64(v.extent[0].sectors, n);
		CHECK_EQ_U64(v.sectors, n);
	}
}

static void test_sgdisk_agrees(void)
{
	int seen = 0;

	for (int blank = 0; blank < 2; blank++) {
		load(1, blank);
		for (int i = 0; i < nexpect; i++)
			if (!strncmp(expect[i], "gpt ", 4) && ++seen)
				check_line(expect[i], blank);
	}
	CHECK_EQ_INT(seen, 6);
}

static void test_not_found(void)
{
	static const char *const specs[] = {
		"gpt:dat", "gpt:data2", "gpt:DATA", "gpt:nosuch",
		"gpt:00000000-0000-0000-0000-000000000001",
	};
	struct volume v;
	char err[160];

	load(1, false);
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		CHECK_EQ_INT(volume_open(specs[i], false, &v, err, sizeof(err)), -ENOENT);
		CHECK(strstr(err, "no such partition on any disk") != NULL);
	}
}

static void test_ambiguous(void)
{
	struct volume v;
	char err[160];

	load(2, false);
	CHECK(!open_spec("gpt:data", &v, err));
	CHECK(strstr(err, "more than one partition matches") != NULL);
}

/* ---- damage: header at 512, array at 1024 (128 entries of 128 bytes) ---- */
static uint8_t *img(void) { return shim_disk_bytes(disk_get(0)); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void fix_header(void)
{
	uint32_t size;

	memcpy(&size, img() + 512 + 12, 4);
	put32(img() + 512 + 16, 0);
	put32(img() + 512 + 16, crc32(img() + 512, size > 512 ? 512 : size));
}

static void fix_array(void)
{
	put32(img() + 512 + 88, crc32(img() + 1024, 128 * 128));
	fix_header();
}

static void flip_header(void) { img()[512 + 60] ^= 1; }
static void flip_array(void) { img()[1024 + 128 + 56] ^= 1; }
static void many_entries(void) { put32(img() + 512 + 80, 0x10000000); fix_header(); }
static void odd_entry_size(void) { put32(img() + 512 + 84, 100); fix_header(); }
static void array_past_end(void) { put64(img() + 512 + 72, 1ull << 40); fix_header(); }
static void huge_header(void) { put32(img() + 512 + 12, 0xffffffff); fix_header(); }
static void usable_inverted(void) { put64(img() + 512 + 40, 1ull << 50); fix_header(); }
static void part_outside(void)
{
	put64(img() + 1024 + 40, 1ull << 40);   /* entry 0's last LBA */
	fix_array();
}

static void test_damaged(void)
{
	static const struct { void (*fn)(void); const char *why; } cases[] = {
		{ flip_header, "header checksum is wrong" },
		{ flip_array, "partition array checksum is wrong" },
		{ many_entries, "partition array is out of bounds" },
		{ odd_entry_size, "entry size is wrong" },
		{ array_past_end, "partition array is out of bounds" },
		{ huge_header, "header size is wrong" },
		{ usable_inverted, "usable range is wrong" },
		{ part_outside, "partition lies outside the usable range" },
	};
	struct volume v;
	char err[160];

	load(1, false);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(img(), pristine, HEAD_BYTES);
		cases[i].fn();
		CHECK(!open_spec("gpt:data", &v, err));
		if (!CHECK(strstr(err, cases[i].why)))
			fprintf(stderr, "  case %zu: \"%s\"\n", i, err);
	}
	memcpy(img(), pristine, HEAD_BYTES);
	CHECK(open_spec("gpt:data", &v, err));
}

static void test_random_damage(void)
{
	struct volume v;
	char err[160];
	int opened = 0, refused = 0;

	load(1, false);
	srand(4242);
	for (int round = 0; round < 3000; round++) {
		memcpy(img(), pristine, HEAD_BYTES);
		for (int k = rand() % 3; k >= 0; k--) {
			uint32_t at = 512 + (uint32_t)rand() % (512 + 3 * 128);

			img()[at] = (uint8_t)rand();
		}
		if (round & 1)
			fix_array();
		if (open_spec("gpt:logs", &v, err)) {
			opened++;
			CHECK(v.extent[0].disk_sector + v.sectors <= v.disk->sectors);
		} else {
			refused++;
		}
	}
	CHECK(opened > 0 && refused > 0);
}

/* 4096-byte logical blocks: the GPT counts in 4 KiB LBAs. */
static void test_4k_blocks(void)
{
	char p4k[140], name[64], guid[40], spec[120], err[160];
	unsigned long long first, n;
	struct volume v;
	int seen = 0;

	snprintf(p4k, sizeof(p4k), "%s/gpt4k.img", dir);
	shim_disks_reset();
	shim_disk_add(p4k)->block_size = 4096;
	for (int i = 0; i < nexpect; i++) {
		if (sscanf(expect[i], "gpt4k %63s %39s %llu %llu", name, guid, &first, &n) != 4)
			continue;
		seen++;
		snprintf(spec, sizeof(spec), "gpt:%s", name);
		if (!CHECK(open_spec(spec, &v, err)))
			fprintf(stderr, "  %s: %s\n", spec, err);
		CHECK_EQ_U64(v.extent[0].disk_sector, first);
		CHECK_EQ_U64(v.sectors, n);
	}
	CHECK_EQ_INT(seen, 2);
	/* Read as 512-byte LBAs it is no GPT at all (the header is at 4096). */
	disk_get(0)->block_size = 512;
	CHECK(!open_spec("gpt:four", &v, err));
	CHECK(strstr(err, "no such partition") != NULL);
}

static void test_whole_disk(void)
{
	struct volume v;
	char err[160];

	load(1, true);
	CHECK_EQ_INT(volume_open("disk:1", true, &v, err, sizeof(err)), 0);
	CHECK(v.disk == disk_get(1));
	CHECK_EQ_U64(v.sectors, 32u << 11);
	CHECK_EQ_INT(v.extent_count, 1);
	CHECK_EQ_U64(v.extent[0].disk_sector, 0);
	CHECK(v.readonly);
	CHECK_EQ_INT(volume_open("disk:2", true, &v, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "no such disk (2 found)") != NULL);
}

static void test_guid_parse(void)
{
	uint8_t g[16];
	static const uint8_t want[16] = { 0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66,
					  0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };

	CHECK(gpt_guid_parse("00112233-4455-6677-8899-AABBCCDDEEFF", g));
	CHECK(!memcmp(g, want, 16));
	CHECK(!gpt_guid_parse("00112233-4455-6677-8899-AABBCCDDEEF", g));
	CHECK(!gpt_guid_parse("00112233-4455-6677-8899-AABBCCDDEEFF0", g));
	CHECK(!gpt_guid_parse("00112233+4455-6677-8899-AABBCCDDEEFF", g));
	CHECK(!gpt_guid_parse("0011223g-4455-6677-8899-AABBCCDDEEFF", g));
}

int main(void)
{
	dir = shim_make_volumes("gpt");
	if (!dir) {
		fprintf(stderr, "FAIL test_gpt: cannot make the GPT image (see above)\n");
		return 1;
	}
	nexpect = shim_expect(dir, expect, 16);
	snprintf(path, sizeof(path), "%s/gpt.img", dir);
	load(1, false);
	pristine = malloc(HEAD_BYTES);
	memcpy(pristine, img(), HEAD_BYTES);
	RUN(test_sgdisk_agrees);
	RUN(test_not_found);
	RUN(test_ambiguous);
	RUN(test_damaged);
	RUN(test_random_damage);
	RUN(test_4k_blocks);
	RUN(test_whole_disk);
	RUN(test_guid_parse);
	shim_disks_reset();
	shim_remove_volumes(dir);
	return harness_report();
}
