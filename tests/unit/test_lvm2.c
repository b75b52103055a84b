/* The LVM2 reader (io/lvm2*.c) and the volume layer (io/volume.c) on disk
 * images made by the real lvm2 tools at test time (make_volumes.py), read
 * through a shim disk_read_sync: extents must match what lvs reports;
 * striped, spanning and missing volumes must be refused; damaged or
 * hostile metadata (bad checksums, truncated text, absurd sizes, deep
 * nesting, random corruption) must be refused without a crash. */
#include <stdlib.h>
#include <hv/crc32.h>
#include <hv/errno.h>
#include <hv/lvm2.h>
#include <hv/volume.h>
#include "disk_shim.h"
#include "harness.h"

#define LVM_CRC 0xf597a6cfu
#define META_BYTES (1u << 20)           /* everything before the first extent */

static const char *dir;
static char expect[64][256];
static int nexpect;
static uint8_t *pristine[2];            /* pv0, pv1: the first MiB */

/* pv0 and pv1 as disks 0 and 1 (or pv0 alone). */
static void load_tvg(int n)
{
	char path[128];

	shim_disks_reset();
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/pv%d.img", dir, i);
		shim_disk_add(path);
	}
}

static bool open_lv(const char *spec, bool ro, struct volume *v, char *err)
{
	return volume_open(spec, ro, v, err, 160) == 0;
}

/* "lvm VG LV DISK START N [START N ...]" against what volume_open finds. */
static void check_extents(const char *line, const char *kind)
{
	char vg[32], lv[32], spec[80], err[160];
	int disk, off, pos;
	struct volume v;
	unsigned long long s, n, total = 0;
	uint32_t i = 0;

	if (sscanf(line + strlen(kind), " %31s %31s %d%n", vg, lv, &disk, &off) != 3)
		return (void)CHECK(!"malformed expect line");
	snprintf(spec, sizeof(spec), "lvm:%s/%s", vg, lv);
	if (!CHECK(open_lv(spec, !strcmp(kind, "lvmro"), &v, err)))
		return (void)fprintf(stderr, "  %s: %s\n", spec, err);
	CHECK(v.disk == disk_get((uint32_t)disk));
	for (line += strlen(kind) + off; sscanf(line, " %llu %llu%n", &s, &n, &pos) == 2; line += pos, i++) {
		CHECK(i < v.extent_count);
		CHECK_EQ_U64(v.extent[i].disk_sector, s);
		CHECK_EQ_U64(v.extent[i].sectors, n);
		total += n;
	}
	CHECK_EQ_INT(v.extent_count, i);
	CHECK_EQ_U64(v.sectors, total);
	CHECK_STR(v.spec, spec);
}

static void test_lvs_agree(void)
{
	int seen = 0;

	load_tvg(2);
	for (int i = 0; i < nexpect; i++) {
		if (!strncmp(expect[i], "lvm ", 4) && ++seen)
			check_extents(expect[i], "lvm");
		if (!strncmp(expect[i], "lvmro ", 6) && ++seen)
			check_extents(expect[i], "lvmro");
	}
	CHECK(seen >= 5);
}

static void test_refused(void)
{
	char vg[32], lv[32], spec[80], err[160], *words;
	struct volume v;
	int seen = 0;

	load_tvg(2);
	for (int i = 0; i < nexpect; i++) {
		if (strncmp(expect[i], "lvmerr ", 7) || sscanf(expect[i], "lvmerr %31s %31s", vg, lv) != 2)
			continue;
		words = strstr(expect[i] + 7 + strlen(vg) + 1, " ") + 1;
		snprintf(spec, sizeof(spec), "lvm:%s/%s", vg, lv);
		CHECK(!open_lv(spec, false, &v, err));
		if (!CHECK(strstr(err, words)))
			fprintf(stderr, "  %s: \"%s\" lacks \"%s\"\n", spec, err, words);
		seen++;
	}
	CHECK(seen >= 4);
}

/* With pv1 gone, a volume wholly on pv0 still opens; one using pv1 does not. */
static void test_missing_pv(void)
{
	char err[160];
	struct volume v;

	load_tvg(1);
	CHECK(open_lv("lvm:tvg/a", false, &v, err));
	CHECK(!open_lv("lvm:tvg/span", false, &v, err));
	CHECK(strstr(err, "on no disk") != NULL);
	CHECK(!open_lv("lvm:tvg/other", false, &v, err));
	CHECK(strstr(err, "on no disk") != NULL);
}

/* The current metadata wraps around the end of its circular area. */
static void test_wrapped_metadata(void)
{
	char path[128];
	int seen = 0;

	shim_disks_reset();
	snprintf(path, sizeof(path), "%s/wrap.img", dir);
	shim_disk_add(path);
	for (int i = 0; i < nexpect; i++)
		if (!strncmp(expect[i], "wrap ", 5) && ++seen)
			check_extents(expect[i], "wrap");
	CHECK_EQ_INT(seen, 1);
}

/* A PV in a GPT partition (type Linux LVM): extents past its start. */
static void test_pv_in_partition(void)
{
	char path[128];
	int seen = 0;

	shim_disks_reset();
	snprintf(path, sizeof(path), "%s/part.img", dir);
	shim_disk_add(path);
	for (int i = 0; i < nexpect; i++)
		if (!strncmp(expect[i], "part ", 5) && ++seen)
			check_extents(expect[i], "part");
	CHECK_EQ_INT(seen, 2);
}

/* ---- damaging the images ------------------------------------------------
 * Located as LVM2 lays them out: the label in the first four sectors, the
 * PV header at its offset, its second locn list's first entry the mda. */
static uint8_t *mda_header(uint8_t *img)
{
	for (int s = 0; s < 4; s++) {
		uint8_t *sec = img + s * 512;
		uint32_t off;
		int lists = 0;

		if (memcmp(sec, "LABELONE", 8))
			continue;
		memcpy(&off, sec + 20, 4);
		for (uint8_t *p = sec + off + 40; p + 16 <= sec + 512; p += 16) {
			uint64_t o;

			memcpy(&o, p, 8);
			if (lists == 1 && o)
				return img + o;
			lists += !o;
		}
	}
	return NULL;
}

static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* rlocn[0] at +40: offset, size, checksum, flags. */
static char *text_of(uint8_t *h) { return (char *)h + get64(h + 40); }

static void fix_mda(uint8_t *h)
{
	put32(h, crc32_update(LVM_CRC, h + 4, 508));
}

static void fix_text(uint8_t *h)
{
	put32(h + 56, crc32_update(LVM_CRC, text_of(h), get64(h + 48)));
	fix_mda(h);
}

static void restore(void)
{
	for (uint32_t i = 0; i < disk_count(); i++)
		memcpy(shim_disk_bytes(disk_get(i)), pristine[i], META_BYTES);
}

typedef void (*damage_fn)(uint8_t *img);

static void flip_text(uint8_t *img) { text_of(mda_header(img))[20] ^= 0x40; }
static void flip_mda_crc(uint8_t *img) { mda_header(img)[1] ^= 1; }
static void flip_label(uint8_t *img) { img[512 + 40] ^= 1; }
static void absurd_size(uint8_t *img)
{
	put64(mda_header(img) + 48, 1ull << 40);
	fix_mda(mda_header(img));
}
static void absurd_offset(uint8_t *img)
{
	put64(mda_header(img) + 40, (1ull << 63) + 4096);
	fix_mda(mda_header(img));
}
static void truncated(uint8_t *img)
{
	uint8_t *h = mda_header(img);

	put64(h + 48, get64(h + 48) / 2);
	fix_text(h);
}
static void unterminated_string(uint8_t *img)
{
	uint8_t *h = mda_header(img);
	char *t = text_of(h), *q = strchr(t, '"');

	put64(h + 48, (uint64_t)(q - t) + 5);
	fix_text(h);
}

/* Replaces the text with s (checksums fixed: only the parser stands). */
static void put_text(uint8_t *img, const char *s)
{
	uint8_t *h = mda_header(img);

	memcpy(text_of(h), s, strlen(s) + 1);
	put64(h + 48, strlen(s) + 1);
	fix_text(h);
}

static void deep_nesting(uint8_t *img)
{
	static char s[4096];

	strcpy(s, "tvg {\nseqno = 99\n");
	for (int i = 0; i < 500; i++)
		strcat(s, "x{");
	put_text(img, s);
}

static void huge_numbers(uint8_t *img)
{
	put_text(img, "tvg { seqno = 99999999999999999999999 }");
}

static void absurd_extents(uint8_t *img)
{
	put_text(img, "tvg { seqno = 99 extent_size = 9223372036854775807\n"
		 "physical_volumes { pv0 { id = \"x\" pe_start = 2048 pe_count = -1 } }\n"
		 "logical_volumes { a { segment_count = 1\n segment1 { start_extent = 0\n"
		 " extent_count = 9223372036854775807 type = \"striped\" stripe_count = 1\n"
		 " stripes = [ \"pv0\", 0 ] } } } }\n");
}

static void test_damaged(void)
{
	/* copy: the other PV's metadata serves when one is damaged (not when
	 * the label is: then the extents' PV is unknown; nor when the damaged
	 * copy parses and claims to be newer: the newest copy is the truth). */
	static const struct { damage_fn fn; const char *name, *why; bool copy; } cases[] = {
		{ flip_text, "flipped text", "damaged", true },
		{ flip_mda_crc, "mda header checksum", "damaged", true },
		{ flip_label, "label checksum", "no volume group tvg", false },
		{ absurd_size, "absurd text size", "damaged", true },
		{ absurd_offset, "absurd text offset", "damaged", true },
		{ truncated, "truncated text", "vdb: LVM2 metadata line", true },
		{ unterminated_string, "unterminated string", "unterminated string", true },
		{ deep_nesting, "deep nesting", "nested too deep", true },
		{ huge_numbers, "huge number", "out of range", true },
		{ absurd_extents, "absurd extents", "malformed", false },
	};
	char err[160];
	struct volume v;

	load_tvg(2);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		harness_test = cases[i].name;
		restore();
		/* One damaged copy: the other PV's copy serves. */
		cases[i].fn(shim_disk_bytes(disk_get(0)));
		CHECK(open_lv("lvm:tvg/a", false, &v, err) == cases[i].copy);
		/* Both damaged: refused, saying why. */
		cases[i].fn(shim_disk_bytes(disk_get(1)));
		CHECK(!open_lv("lvm:tvg/a", false, &v, err));
		if (!CHECK(strstr(err, cases[i].why)))
			fprintf(stderr, "  \"%s\" lacks \"%s\"\n", err, cases[i].why);
	}
	restore();
}

/* Random bytes changed in the metadata, checksums fixed half the time so
 * the parser sees them: never a crash (sanitizers), and whatever opens
 * lies inside its disk. */
static void test_random_damage(void)
{
	char err[160];
	struct volume v;
	int opened = 0, refused = 0;

	load_tvg(1);
	srand(12345);
	for (int round = 0; round < 3000; round++) {
		uint8_t *img = shim_disk_bytes(disk_get(0)), *h = mda_header(pristine[0]);
		uint64_t len = get64(h + 48);
		char *t = text_of(mda_header(img));

		memcpy(img, pristine[0], META_BYTES);
		for (int k = rand() % 4; k >= 0; k--)
			t[rand() % len] = "{}[]=\",#\\0123456789- \nax"[rand() % 25];
		if (round & 1)
			fix_text(mda_header(img));
		if (open_lv("lvm:tvg/a", false, &v, err)) {
			opened++;
			for (uint32_t i = 0; i < v.extent_count; i++)
				CHECK(v.extent[i].disk_sector + v.extent[i].sectors <= v.disk->sectors);
		} else {
			refused++;
		}
	}
	CHECK(opened > 0 && refused > 0);
	memcpy(shim_disk_bytes(disk_get(0)), pristine[0], META_BYTES);
}

/* ---- the text parser and the mapping on hand-written metadata ---------- */
static void test_parser(void)
{
	static const struct { const char *text, *err; } cases[] = {
		{ "a = 1 b = \"x\\\"y\" c = [ \"p\", 0, -5 ] s { t { u = [] } } # c\n", NULL },
		{ "a = ", "expected a string or a number" },
		{ "a { b = 1", "unterminated section" },
		{ "}", "unexpected '}'" },
		{ "a = [1, [2]]", "expected a string or a number" },
		{ "a = 1x", "bad number" },
		{ "a = 9223372036854775808", "out of range" },
		{ "a = -9223372036854775808", NULL },
		{ "= 1", "expected a name" },
		{ "a b", "expected '=' or '{'" },
		{ "a = \"abc", "unterminated string" },
		{ "a = [1 2]", "expected ',' or ']'" },
	};
	struct lvm_tree t;
	char err[160], buf[256];
	int64_t v;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strcpy(buf, cases[i].text);
		int r = lvm_text_parse(buf, strlen(buf), &t, err, sizeof(err));

		if (!cases[i].err) {
			CHECK_EQ_INT(r, 0);
			if (!r)
				lvm_text_free(&t);
		} else if (!CHECK(r < 0 && strstr(err, cases[i].err))) {
			fprintf(stderr, "  \"%s\": %d \"%s\"\n", cases[i].text, r, err);
		}
	}
	strcpy(buf, cases[0].text);
	CHECK_EQ_INT(lvm_text_parse(buf, strlen(buf), &t, err, sizeof(err)), 0);
	CHECK(lvm_get_int(&t, 0, "a", &v) && v == 1);
	CHECK_STR(lvm_get_str(&t, 0, "b"), "x\"y");
	CHECK(lvm_child(&t, lvm_child(&t, 0, "s"), "t") > 0);
	CHECK(!lvm_get_int(&t, 0, "b", &v));
	lvm_text_free(&t);
}

static void test_too_many_values(void)
{
	size_t n = LVM2_NODES_MAX + 10;
	char *s = malloc(n * 6 + 1), *p = s;
	struct lvm_tree t;
	char err[160];

	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "k = 1\n");
	CHECK(lvm_text_parse(s, strlen(s), &t, err, sizeof(err)) < 0);
	CHECK(strstr(err, "too many values") != NULL);
	free(s);
}

static struct lvm2_pvloc the_pv;

static const struct lvm2_pvloc *the_pv_at(const char *uuid, void *ctx)
{
	(void)uuid; (void)ctx;
	return &the_pv;
}

static const char *map_text(const char *segs, const char *extra, const char *status,
			    bool ro, char *err)
{
	static char text[2048];
	struct lvm_tree t;
	struct volume v = { .readonly = ro };
	int r;

	snprintf(text, sizeof(text), "vg { seqno = 1 extent_size = 8\n"
		 "physical_volumes { pv0 { id = \"u\" pe_start = 2048 pe_count = 100 } }\n"
		 "logical_volumes { lv { status = [%s] segment_count = 1\n segment1 { %s } }\n"
		 " %s } }", status, segs, extra);
	if (lvm_text_parse(text, strlen(text), &t, err, 160))
		return "parse";
	r = lvm2_map(&t, "vg", "lv", the_pv_at, NULL, &v, err, 160);
	lvm_text_free(&t);
	return r ? err : NULL;
}

static void test_segment_kinds(void)
{
	static const struct { const char *seg, *extra, *err; } cases[] = {
		{ "start_extent = 0 extent_count = 10 type = \"striped\" stripe_count = 1 "
		  "stripes = [\"pv0\", 5]", "", NULL },
		{ "start_extent = 0 extent_count = 10 type = \"striped\" stripe_count = 2 "
		  "stripes = [\"pv0\", 5, \"pv0\", 50]", "", "is striped" },
		{ "start_extent = 0 extent_count = 10 type = \"thin\"", "", "is a thin volume" },
		{ "start_extent = 0 extent_count = 10 type = \"mirror\"", "", "is a mirror volume" },
		{ "start_extent = 0 extent_count = 10 type = \"raid1\"", "", "is a raid1 volume" },
		{ "start_extent = 0 extent_count = 10 type = \"cache\"", "", "is a cache volume" },
		{ "start_extent = 0 extent_count = 10 type = \"striped\" stripe_count = 1 "
		  "stripes = [\"pv0\", 5]",
		  "snap { segment_count = 1 segment1 { type = \"snapshot\" origin = \"lv\" } }",
		  "origin of a snapshot" },
		{ "start_extent = 0 extent_count = 10 type = \"striped\" stripe_count = 1 "
		  "stripes = [\"pv0\", 95]", "", "outside its physical volume" },
		{ "start_extent = 3 extent_count = 10 type = \"striped\" stripe_count = 1 "
		  "stripes = [\"pv0\", 5]", "", "out of order" },
		{ "start_extent = 0 extent_count = 10 type = \"striped\" stripe_count = 1 "
		  "stripes = [\"pv9\", 5]", "", "unknown physical volume" },
		{ "start_extent = 0 extent_count = 10 type = \"striped\" stripe_count = 1 "
		  "stripes = [5, \"pv0\"]", "", "malformed" },
	};
	char err[160];

	shim_disks_reset();
	the_pv = (struct lvm2_pvloc){ shim_disk_mem(4 << 20), 0, 8192 };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = map_text(cases[i].seg, cases[i].extra,
					   "\"READ\", \"WRITE\", \"VISIBLE\"", false, err);

		if (!cases[i].err)
			CHECK(got == NULL);
		else if (!CHECK(got && strstr(got, cases[i].err)))
			fprintf(stderr, "  case %zu: \"%s\"\n", i, got ? got : "(mapped)");
	}
}

/* The LV's status: hidden parts of other volumes, LVM2's read-only. */
static void test_lv_status(void)
{
	static const char lin[] = "start_extent = 0 extent_count = 10 type = \"striped\" "
				  "stripe_count = 1 stripes = [\"pv0\", 5]";
	static const struct { const char *status; bool ro; const char *err; } cases[] = {
		{ "\"READ\", \"WRITE\", \"VISIBLE\"", false, NULL },
		{ "\"READ\", \"WRITE\"", true, "is a hidden part of another volume" },
		{ "", true, "is a hidden part of another volume" },
		{ "\"READ\", \"VISIBLE\"", false, "is read-only in LVM2 (use ro)" },
		{ "\"READ\", \"VISIBLE\"", true, NULL },
		{ "\"WRITE\", \"VISIBLE\"", true, "is not readable" },
	};
	char err[160];

	shim_disks_reset();
	the_pv = (struct lvm2_pvloc){ shim_disk_mem(4 << 20), 0, 8192 };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = map_text(lin, "", cases[i].status, cases[i].ro, err);

		if (!cases[i].err)
			CHECK(got == NULL);
		else if (!CHECK(got && strstr(got, cases[i].err)))
			fprintf(stderr, "  case %zu: \"%s\"\n", i, got ? got : "(mapped)");
	}
}

/* ---- claims and I/O translation ------------------------------------------ */
static int io_done_status;
static void io_done(struct disk_io *io) { io_done_status = io->status; }

static void test_claims(void)
{
	struct volume a, b, a2, ar, whole;
	char err[160];

	load_tvg(2);
	CHECK(open_lv("lvm:tvg/a", false, &a, err) && open_lv("lvm:tvg/b", false, &b, err));
	CHECK_EQ_INT(volume_claim(&a, 1, err, sizeof(err)), 0);
	CHECK_EQ_INT(volume_claim(&b, 2, err, sizeof(err)), 0);
	CHECK(open_lv("lvm:tvg/a", false, &a2, err));
	CHECK_EQ_INT(volume_claim(&a2, 3, err, sizeof(err)), -EBUSY);
	CHECK(strstr(err, "domain 1 writes lvm:tvg/a") != NULL);
	CHECK(open_lv("lvm:tvg/a", true, &ar, err));
	CHECK_EQ_INT(volume_claim(&ar, 3, err, sizeof(err)), 0);      /* readers share */
	CHECK_EQ_INT(volume_open("disk:0", false, &whole, err, sizeof(err)), 0);
	CHECK_EQ_INT(volume_claim(&whole, 4, err, sizeof(err)), -EBUSY);
	volume_release(&a);
	CHECK_EQ_INT(volume_claim(&a2, 3, err, sizeof(err)), 0);
	CHECK_EQ_INT(volume_claim(&a2, 3, err, sizeof(err)), -EINVAL); /* twice */
	volume_release(&a2);
	volume_release(&b);
	volume_release(&ar);
	CHECK_EQ_INT(volume_claim(&whole, 4, err, sizeof(err)), 0);
	volume_release(&whole);
}

static void submit(struct volume *v, enum disk_op op, uint64_t sector, uint32_t len)
{
	static struct disk_io io;

	io = (struct disk_io){ .op = op, .sector = sector, .len = len, .done = io_done };
	io_done_status = 1;
	shim_last_sector = ~0ull;
	volume_submit(v, &io);
}

static void test_submit(void)
{
	struct volume a, ar;
	char err[160];

	load_tvg(2);
	CHECK(open_lv("lvm:tvg/a", false, &a, err) && open_lv("lvm:tvg/a", true, &ar, err));
	CHECK_EQ_INT(a.extent_count, 3);
	submit(&a, DISK_READ, 0, 4096);
	CHECK_EQ_U64(shim_last_sector, a.extent[0].disk_sector);
	CHECK_EQ_INT(io_done_status, 0);
	submit(&a, DISK_WRITE, a.extent[0].sectors + 3, 512);
	CHECK_EQ_U64(shim_last_sector, a.extent[1].disk_sector + 3);
	/* Across an extent boundary, past the end, a write to a read-only one:
	 * sent to the driver as a read past the disk's end, which it refuses. */
	CHECK_EQ_U64(volume_extent_end(&a, a.extent[0].sectors - 2), 2);
	submit(&a, DISK_READ, a.extent[0].sectors - 2, 4096);
	CHECK_EQ_INT(io_done_status, -EIO);
	CHECK_EQ_U64(shim_last_sector, a.disk->sectors);
	CHECK_EQ_U64(volume_extent_end(&a, a.sectors), 0);
	submit(&a, DISK_READ, a.sectors, 512);
	CHECK_EQ_INT(io_done_status, -EIO);
	CHECK_EQ_U64(shim_last_sector, a.disk->sectors);
	submit(&a, DISK_READ, ~0ull - 3, 512);
	CHECK_EQ_INT(io_done_status, -EIO);
	submit(&ar, DISK_WRITE, 0, 512);
	CHECK_EQ_INT(io_done_status, -EIO);
	CHECK_EQ_INT(shim_last_io->op, DISK_READ);
	CHECK_EQ_U64(shim_last_sector, a.disk->sectors);
	submit(&ar, DISK_READ, 0, 512);
	CHECK_EQ_INT(io_done_status, 0);
	submit(&a, DISK_FLUSH, 0, 0);
	CHECK_EQ_INT(io_done_status, 0);
}

static void test_specs(void)
{
	static const struct { const char *spec, *err; } cases[] = {
		{ "lvm:tvg", "expected lvm:VG/LV" },
		{ "lvm:/a", "expected lvm:VG/LV" },
		{ "lvm:tvg/a/b", "expected lvm:VG/LV" },
		{ "disk:x", "expected disk:N" },
		{ "disk:7", "no such disk" },
		{ "nfs:foo", "unknown volume" },
	};
	struct volume v;
	char err[160];

	load_tvg(2);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(volume_open(cases[i].spec, false, &v, err, sizeof(err)) < 0);
		if (!CHECK(strstr(err, cases[i].err)))
			fprintf(stderr, "  %s: \"%s\"\n", cases[i].spec, err);
	}
	CHECK_EQ_INT(volume_open("disk:1", false, &v, err, sizeof(err)), 0);
	CHECK_EQ_U64(v.sectors, disk_get(1)->sectors);
	CHECK(v.disk == disk_get(1));
}

int main(void)
{
	dir = shim_make_volumes("lvm");
	if (!dir) {
		fprintf(stderr, "FAIL test_lvm2: cannot make the LVM2 images (see above)\n");
		return 1;
	}
	nexpect = shim_expect(dir, expect, 64);
	load_tvg(2);
	for (int i = 0; i < 2; i++) {
		pristine[i] = malloc(META_BYTES);
		memcpy(pristine[i], shim_disk_bytes(disk_get(i)), META_BYTES);
	}
	RUN(test_lvs_agree);
	RUN(test_refused);
	RUN(test_missing_pv);
	RUN(test_wrapped_metadata);
	RUN(test_pv_in_partition);
	RUN(test_damaged);
	RUN(test_random_damage);
	RUN(test_parser);
	RUN(test_too_many_values);
	RUN(test_segment_kinds);
	RUN(test_lv_status);
	RUN(test_claims);
	RUN(test_submit);
	RUN(test_specs);
	shim_disks_reset();
	shim_remove_volumes(dir);
	return harness_report();
}
