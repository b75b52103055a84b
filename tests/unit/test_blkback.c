/* Block backend (io/blkback.c, io/blkback_io.c) against a fake domain
 * whose "guest memory" is host pages and a disk whose I/Os wait until the
 * test completes them (in any order), so in-flight states can be seen:
 * the checks, the answers by id, the bounds on pieces and segments in
 * flight, requests merged into one disk I/O and split at extents, a
 * disconnect with I/O in flight, and a domain gone with I/O in flight
 * (its memory freed first: AddressSanitizer catches any late access). */
#include <stdlib.h>
#include <manifest.h>
#include <hv/blkback.h>
#include <hv/domain.h>
#include <hv/errno.h>
#include <hv/mm.h>
#include <hv/volume.h>
#include "../../hypervisor/io/blkback_internal.h"
#include "disk_shim.h"
#include "harness.h"

uint64_t physmap_offset;
static int events, log_lines;

void domain_raise_event(struct domain *d, uint32_t port) { events++; }
void log_printf(int level, const char *fmt, ...) { log_lines++; }
void log_event(const char *fmt, ...) { log_lines++; }
uint64_t frame_alloc(void)
{
	void *p = aligned_alloc(4096, 4096);

	return p ? (memset(p, 0, 4096), (uint64_t)(uintptr_t)p) : 0;
}

void frame_free(uint64_t pa) { free((void *)(uintptr_t)pa); }

#define PAGES 16
#define BASE  0x400000UL
#define RING  BASE                    /* ring pages first, then buffers */
#define BUF   (BASE + 8 * 4096UL)
#define DISK_BYTES (1u << 20)         /* 2048 sectors */

static struct domain dom;
static struct blkback *bb;
static uint64_t frames[PAGES];
static uint8_t *backing;
static struct disk *disk;
static uint8_t *disk_mem;

/* ---- a disk whose I/Os wait for the test --------------------------------- */
#define HELD_MAX 1024
static struct disk_io *held[HELD_MAX];
static int nheld, submitted_max;

static void held_submit(struct disk *d, struct disk_io *io)
{
	CHECK_EQ_INT(disk_io_check(d, io), 0);        /* what every driver checks */
	if (nheld >= HELD_MAX)
		abort();
	held[nheld++] = io;
	submitted_max = nheld > submitted_max ? nheld : submitted_max;
}

static const struct disk_ops held_ops = { .submit = held_submit };

/* Segments in flight now, and the most at once. */
static int held_segs(void)
{
	int n = 0;

	for (int i = 0; i < nheld; i++)
		n += held[i]->op == DISK_FLUSH ? 0 : (int)held[i]->nseg;
	return n;
}

/* Complete the i-th held I/O (moving data like a disk would: the
 * segments in order onto consecutive sectors).  Every io must pass the
 * drivers' own check first. */
static void complete_one(int i, int status)
{
	struct disk_io *io = held[i];
	uint8_t *at = disk_mem + io->sector * 512;

	held[i] = held[--nheld];
	io->status = status;
	for (uint32_t s = 0; !status && io->op != DISK_FLUSH && s < io->nseg; s++) {
		uint8_t *data = (uint8_t *)(uintptr_t)io->seg[s].pa;

		if (io->op == DISK_WRITE)
			memcpy(at, data, io->seg[s].len);
		else
			memcpy(data, at, io->seg[s].len);
		at += io->seg[s].len;
	}
	io->done(io);
}

static void complete_all(void)
{
	while (nheld)
		complete_one(nheld - 1, 0);   /* newest first: out of order */
}

/* ---- the guest's side ---------------------------------------------------- */
static void *g(uint64_t gva) { return backing + (gva - BASE); }
static struct pv_blk_ring *ring(void) { return g(RING); }

static void setup_ro(bool ro)
{
	struct manifest_block cfg = { .spec = "disk:0", .name = "data", .readonly = ro };
	char err[128];

	shim_disks_reset();
	disk = shim_disk_mem(DISK_BYTES);
	disk->ops = &held_ops;
	disk_mem = shim_disk_bytes(disk);
	nheld = submitted_max = 0;
	backing = aligned_alloc(4096, PAGES * 4096);
	memset(backing, 0, PAGES * 4096);
	for (int i = 0; i < PAGES; i++)
		frames[i] = (uint64_t)(uintptr_t)(backing + i * 4096) | GF_WRITE;
	frames[PAGES - 1] &= ~GF_WRITE;          /* last page read-only */
	memset(&dom, 0, sizeof(dom));
	dom.id = 7;
	dom.mem = (struct guest_mem){ .base = BASE, .pages = PAGES, .frame = frames };
	strcpy(dom.name, "t");
	bb = blkback_attach(&dom, 0, &cfg, RING, err, sizeof(err));
	CHECK(bb != NULL);
	events = 0;
}

static void setup(void) { setup_ro(false); }

static void teardown(void)
{
	complete_all();
	blkback_detach(bb);
	free(backing);
	backing = NULL;
}

/* Put a request in the next slot and publish it (no kick). */
static struct pv_blk_request *post(uint64_t id, uint8_t op, uint64_t sector, uint32_t nseg)
{
	struct pv_blk_ring *r = ring();
	struct pv_blk_request *q = &r->slot[r->idx.req_prod % PV_BLK_RING_SIZE].req;

	memset(q, 0, sizeof(*q));
	q->id = id;
	q->op = op;
	q->sector = sector;
	q->nseg = (uint8_t)nseg;
	for (uint32_t i = 0; i < nseg && i < PV_BLK_MAX_SEGMENTS; i++) {
		q->seg[i].addr = BUF + (i % 4) * 4096;   /* pages 8..11 */
		q->seg[i].len = 4096;
	}
	r->idx.req_prod++;
	return q;
}

static int answers(void) { return (int)ring()->idx.rsp_prod; }
static struct pv_blk_response *answer(uint32_t i) { return &ring()->slot[i % PV_BLK_RING_SIZE].rsp; }

/* ---- tests --------------------------------------------------------------- */
static void test_attach_describes_the_volume(void)
{
	struct pv_device dev = { 0 };

	setup();
	blkback_describe(bb, &dev);
	CHECK_EQ_U64(dev.capacity, DISK_BYTES);
	CHECK_EQ_INT(dev.flags & PV_DEV_READONLY, 0);
	CHECK_EQ_INT(ring()->idx.req_event, 1);     /* asks for the first kick */
	CHECK_EQ_INT(blkback_port(bb), BLKBACK_PORT(0));
	teardown();
}

static void test_write_is_answered_only_when_the_disk_is_done(void)
{
	setup();
	memset(g(BUF), 0x5a, 4096);
	memset(g(BUF + 4096), 0xa5, 4096);
	post(41, PV_BLK_WRITE, 10, 2);
	CHECK_EQ_INT(blkback_kick(bb), 0);
	CHECK_EQ_INT(nheld, 2);                      /* started, not waited for */
	CHECK_EQ_INT(answers(), 0);
	memset(g(BUF), 0, 8192);                     /* the guest's copy no longer matters */
	complete_one(0, 0);
	CHECK_EQ_INT(answers(), 0);                  /* one piece of two */
	complete_one(0, 0);
	CHECK_EQ_INT(answers(), 1);
	CHECK_EQ_U64(answer(0)->id, 41);
	CHECK_EQ_INT(answer(0)->status, PV_BLK_OK);
	CHECK(disk_mem[10 * 512] == 0x5a && disk_mem[10 * 512 + 4096] == 0xa5);
	CHECK(events >= 1);
	teardown();
}

static void test_read_lands_in_the_guest_at_completion(void)
{
	setup();
	memset(disk_mem + 512 * 100, 0x33, 4096);
	post(1, PV_BLK_READ, 100, 1);
	CHECK_EQ_INT(blkback_kick(bb), 0);
	CHECK_EQ_INT(((uint8_t *)g(BUF))[0], 0);     /* nothing yet */
	complete_all();
	CHECK_EQ_INT(((uint8_t *)g(BUF))[4095], 0x33);
	CHECK_EQ_INT(answer(0)->status, PV_BLK_OK);
	teardown();
}

static void test_range_and_read_only_are_answered_not_disconnected(void)
{
	setup();
	post(1, PV_BLK_READ, 2047, 1)->seg[0].len = 512;    /* the last sector: fine */
	post(2, PV_BLK_READ, 2047, 1)->seg[0].len = 1024;   /* one past */
	post(3, PV_BLK_READ, UINT64_MAX - 1, 1);            /* a sum that overflows */
	post(4, PV_BLK_READ, 2048, 1)->seg[0].len = 512;
	CHECK_EQ_INT(blkback_kick(bb), 0);
	CHECK_EQ_INT(answers(), 3);                  /* the refused ones at once */
	CHECK_EQ_INT(answer(0)->status, PV_BLK_ERR_RANGE);
	CHECK_EQ_U64(answer(0)->id, 2);
	CHECK_EQ_INT(answer(1)->status, PV_BLK_ERR_RANGE);
	CHECK_EQ_INT(answer(2)->status, PV_BLK_ERR_RANGE);
	complete_all();
	CHECK_EQ_U64(answer(3)->id, 1);
	CHECK_EQ_INT(answer(3)->status, PV_BLK_OK);
	teardown();

	setup_ro(true);
	post(9, PV_BLK_WRITE, 0, 1);
	post(10, PV_BLK_READ, 0, 1);
	CHECK_EQ_INT(blkback_kick(bb), 0);
	CHECK_EQ_INT(answer(0)->status, PV_BLK_ERR_RDONLY);
	complete_all();
	CHECK_EQ_INT(answer(1)->status, PV_BLK_OK);
	teardown();
}

/* Each broken request disconnects; in-flight reads copy nothing. */
static void test_malformed_requests_disconnect(void)
{
	static const char *what[] = { "op", "nseg0", "nseg15", "odd addr", "short len",
				      "cross page", "outside", "read into ro page",
				      "reserved", "flush with seg", "prod" };

	for (uint32_t k = 0; k < sizeof(what) / sizeof(what[0]); k++) {
		struct pv_blk_request *q;

		setup();
		post(1, PV_BLK_READ, 0, 1);
		CHECK_EQ_INT(blkback_kick(bb), 0);   /* in flight */
		q = post(2, PV_BLK_READ, 8, 1);
		switch (k) {
		case 0: q->op = 9; break;
		case 1: q->nseg = 0; break;
		case 2: q->nseg = 15; break;
		case 3: q->seg[0].addr += 100; break;
		case 4: q->seg[0].len = 256; break;
		case 5: q->seg[0].addr += 3584; q->seg[0].len = 1024; break;
		case 6: q->seg[0].addr = BASE + PAGES * 4096UL; break;
		case 7: q->seg[0].addr = BASE + (PAGES - 1) * 4096UL; break;
		case 8: q->reserved1 = 1; break;
		case 9: q->op = PV_BLK_FLUSH; break;
		case 10: ring()->idx.req_prod += 100; break;
		}
		harness_test = what[k];
		memset(disk_mem, 0x77, 512);
		CHECK_EQ_INT(blkback_kick(bb), -EIO);
		CHECK_EQ_INT(blkback_kick(bb), -EIO);    /* and stays so */
		complete_all();
		CHECK_EQ_INT(answer(0)->status, PV_BLK_ERR_DISCONNECTED);
		CHECK_EQ_INT(((uint8_t *)g(BUF))[0], 0); /* the read copied nothing */
		teardown();
	}
	harness_test = "malformed";
}

static void test_pieces_in_flight_are_bounded(void)
{
	setup();
	for (uint32_t i = 0; i < PV_BLK_RING_SIZE; i++)
		post(i, PV_BLK_WRITE, (uint64_t)i * 8, 1);
	for (uint32_t i = 0; i < 8; i++)
		post(100 + i, PV_BLK_READ, 0, 14);   /* more than the ring: */
	CHECK_EQ_INT(blkback_kick(bb), -EIO);     /* prod past rsp + 64 */
	teardown();

	setup();
	for (uint32_t i = 0; i < PV_BLK_RING_SIZE; i++)
		post(i, PV_BLK_READ, (uint64_t)i * 8, 14);
	CHECK_EQ_INT(blkback_kick(bb), 0);
	CHECK_EQ_INT(nheld, BLKBACK_PIECES);
	while (nheld)
		complete_one(0, 0);                  /* each completion starts the next */
	CHECK_EQ_INT(submitted_max, BLKBACK_PIECES);
	CHECK_EQ_INT(answers(), PV_BLK_RING_SIZE);
	for (uint32_t i = 0; i < PV_BLK_RING_SIZE; i++)
		CHECK_EQ_INT(answer(i)->status, PV_BLK_OK);
	/* the ring is free again */
	post(500, PV_BLK_FLUSH, 0, 0);
	CHECK_EQ_INT(blkback_kick(bb), 0);
	CHECK(nheld == 1 && held[0]->op == DISK_FLUSH);
	complete_all();
	CHECK_EQ_U64(answer(PV_BLK_RING_SIZE)->id, 500);
	teardown();
}

/* A disk that takes many segments per I/O gets a request as one. */
static void test_request_is_one_disk_io(void)
{
	setup();
	disk->max_segs = DISK_IO_SEGS_MAX;
	for (int i = 0; i < 4; i++)
		memset(g(BUF + i * 4096UL), 0x10 + i, 4096);
	post(1, PV_BLK_WRITE, 16, 14);                /* pages 8..11, 8..11, ... */
	CHECK_EQ_INT(blkback_kick(bb), 0);
	CHECK(nheld == 1 && held[0]->nseg == 14 && held[0]->len == 14 * 4096);
	CHECK_EQ_U64(held[0]->sector, 16);
	complete_all();
	CHECK_EQ_INT(answer(0)->status, PV_BLK_OK);
	for (int i = 0; i < 14; i++)
		CHECK(disk_mem[(16 + i * 8) * 512] == 0x10 + i % 4 &&
		      disk_mem[(16 + i * 8) * 512 + 4095] == 0x10 + i % 4);

	memset(disk_mem + 600 * 512, 0x44, 1024);      /* 512-byte segments, merged too */
	memset(disk_mem + 602 * 512, 0x55, 1024);
	struct pv_blk_request *q = post(2, PV_BLK_READ, 600, 2);
	q->seg[0].len = 1024;
	q->seg[1].addr = BUF + 4096 + 512;
	q->seg[1].len = 1024;
	CHECK_EQ_INT(blkback_kick(bb), 0);
	CHECK(nheld == 1 && held[0]->nseg == 2 && held[0]->len == 2048);
	complete_all();
	CHECK_EQ_INT(answer(1)->status, PV_BLK_OK);
	CHECK(((uint8_t *)g(BUF))[1023] == 0x44 && ((uint8_t *)g(BUF))[1024] == 0x10);
	CHECK(((uint8_t *)g(BUF + 4096))[512] == 0x55 && ((uint8_t *)g(BUF + 4096))[1535] == 0x55);
	CHECK(((uint8_t *)g(BUF + 4096))[511] == 0x11);
	teardown();
}

/* Extents are not contiguous on the disk: a piece ends at one, even
 * inside a segment.  Volume sectors 0..11 are disk sectors 1024..1035,
 * 12..1011 are disk 0..999. */
static void test_piece_ends_at_an_extent(void)
{
	setup();
	disk->max_segs = DISK_IO_SEGS_MAX;
	bb->vol.extent[0] = (struct volume_extent){ .disk_sector = 1024, .sectors = 12 };
	bb->vol.extent[1] = (struct volume_extent){ .disk_sector = 0, .sectors = 1000 };
	bb->vol.extent_count = 2;
	bb->vol.sectors = 1012;
	for (int i = 0; i < 4; i++)
		memset(g(BUF + i * 4096UL), 0x20 + i, 4096);
	post(1, PV_BLK_WRITE, 8, 4);                  /* 4 sectors left in the first */
	CHECK_EQ_INT(blkback_kick(bb), 0);
	CHECK_EQ_INT(nheld, 2);
	for (int i = 0; i < 2; i++) {
		struct disk_io *io = held[i];

		if (io->sector == 1032)
			CHECK(io->nseg == 1 && io->len == 2048);
		else
			CHECK(io->sector == 0 && io->nseg == 4 && io->len == 3 * 4096 + 2048 &&
			      io->seg[0].len == 2048);
	}
	complete_all();
	CHECK_EQ_INT(answer(0)->status, PV_BLK_OK);
	CHECK(disk_mem[1032 * 512] == 0x20 && disk_mem[1035 * 512 + 511] == 0x20);
	CHECK(disk_mem[0] == 0x20 && disk_mem[2047] == 0x20 && disk_mem[2048] == 0x21);
	CHECK(disk_mem[(4 + 24) * 512 - 1] == 0x23 && disk_mem[1036 * 512] == 0);
	teardown();
}

/* Segments in flight stay within BLKBACK_FRAMES, and a piece waits for
 * frames rather than going short (one more disk request); a disk of 4
 * segments gets pieces of 4. */
static void test_segments_in_flight_are_bounded(void)
{
	const int whole = (int)(BLKBACK_FRAMES / 14) * 14;
	const uint32_t n = BLKBACK_FRAMES / 14 + 2;        /* more than fit at once */
	int most = 0;

	setup();
	disk->max_segs = DISK_IO_SEGS_MAX;
	for (uint32_t i = 0; i < n; i++)
		post(i, PV_BLK_READ, (uint64_t)i * 112, 14);
	CHECK_EQ_INT(blkback_kick(bb), 0);
	CHECK_EQ_INT(held_segs(), whole);
	while (nheld) {
		most = held_segs() > most ? held_segs() : most;
		for (int i = 0; i < nheld; i++)
			CHECK_EQ_INT(held[i]->nseg, 14);
		complete_one(0, 0);
	}
	CHECK_EQ_INT(most, whole);
	CHECK_EQ_INT(answers(), (int)n);
	for (uint32_t i = 0; i < n; i++)
		CHECK_EQ_INT(answer(i)->status, PV_BLK_OK);
	teardown();

	setup();
	disk->max_segs = 4;
	post(1, PV_BLK_WRITE, 0, 14);
	CHECK_EQ_INT(blkback_kick(bb), 0);
	CHECK_EQ_INT(nheld, 4);
	CHECK_EQ_INT(held_segs(), 14);
	complete_all();
	CHECK_EQ_INT(answer(0)->status, PV_BLK_OK);
	teardown();
}

static void test_disk_error_is_reported(void)
{
	setup();
	post(5, PV_BLK_READ, 0, 2);
	CHECK_EQ_INT(blkback_kick(bb), 0);
	complete_one(0, -EIO);
	complete_one(0, 0);
	CHECK_EQ_INT(answer(0)->status, PV_BLK_ERR_IO);
	teardown();
}

/* Detach with I/O in flight: the guest's memory is freed first, then the
 * I/O completes (ASan would see a write into it); the volume stays claimed
 * until the last completion. */
static void test_domain_gone_with_io_in_flight(void)
{
	struct volume other;
	char err[128];

	setup();
	post(1, PV_BLK_READ, 0, 3);
	post(2, PV_BLK_WRITE, 0, 3);
	CHECK_EQ_INT(blkback_kick(bb), 0);
	CHECK_EQ_INT(nheld, 6);
	blkback_detach(bb);
	free(backing);
	backing = NULL;
	CHECK_EQ_INT(volume_open("disk:0", false, &other, err, sizeof(err)), 0);
	CHECK_EQ_INT(volume_claim(&other, 8, err, sizeof(err)), -EBUSY);
	complete_all();
	CHECK_EQ_INT(volume_claim(&other, 8, err, sizeof(err)), 0);
	volume_release(&other);
}

static void test_missing_volume_refuses_attach(void)
{
	struct manifest_block cfg = { .spec = "disk:5", .name = "data" };
	char err[128] = "";

	shim_disks_reset();
	shim_disk_mem(DISK_BYTES);
	CHECK(blkback_attach(&dom, 0, &cfg, RING, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "block device data: disk:5") != NULL);
}

int main(void)
{
	RUN(test_attach_describes_the_volume);
	RUN(test_write_is_answered_only_when_the_disk_is_done);
	RUN(test_read_lands_in_the_guest_at_completion);
	RUN(test_range_and_read_only_are_answered_not_disconnected);
	RUN(test_malformed_requests_disconnect);
	RUN(test_pieces_in_flight_are_bounded);
	RUN(test_request_is_one_disk_io);
	RUN(test_piece_ends_at_an_extent);
	RUN(test_segments_in_flight_are_bounded);
	RUN(test_disk_error_is_reported);
	RUN(test_domain_gone_with_io_in_flight);
	RUN(test_missing_volume_refuses_attach);
	return harness_report();
}
