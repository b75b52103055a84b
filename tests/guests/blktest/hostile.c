/* blktest hostile DEV HOW: reads in flight through the frontend, then a
 * broken request or index written straight into the ring:
 *   prod    req_prod far past what the backend answered
 *   segmem  a segment outside the domain's memory
 *   seglen  a segment length not a multiple of 512
 *   cross   a segment crossing a page boundary
 *   nseg    nseg 200
 * The kick must fail (-PV_EIO: disconnected), the reads in flight must
 * complete (done or -ENOTCONN, never hang), later requests fail with
 * -ENOTCONN, and the domain goes on: a device named "other", if the
 * manifest has one, still works (read, and written unless read-only). */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <paravane.h>
#include <public/errno.h>
#include "blktest.h"

#define IN_FLIGHT 16
#define WAIT_NS   5000000000ull

static const struct pv_device *device_named(const char *name)
{
	const struct pv_start_info *si = pv_start_info();

	for (uint32_t i = 0; i < si->device_count; i++)
		if (si->device[i].type == PV_DEV_BLOCK && !strcmp(si->device[i].name, name))
			return &si->device[i];
	return NULL;
}

static int corrupt(struct pv_blk_ring *ring, const char *how, uint64_t page)
{
	uint32_t prod = ring->idx.req_prod;
	struct pv_blk_request *q = &ring->slot[prod & (PV_BLK_RING_SIZE - 1)].req;
	const struct pv_start_info *si = pv_start_info();

	memset(q, 0, sizeof(*q));
	q->id = 999;
	q->op = PV_BLK_READ;
	q->nseg = 1;
	q->seg[0].addr = page;
	q->seg[0].len = 512;
	if (!strcmp(how, "prod"))
		prod += 1000;
	else if (!strcmp(how, "segmem"))
		q->seg[0].addr = si->mem_base + si->mem_size + 65536;
	else if (!strcmp(how, "seglen"))
		q->seg[0].len = 100;
	else if (!strcmp(how, "cross"))
		q->seg[0].addr = page + 3584, q->seg[0].len = 1024;
	else if (!strcmp(how, "nseg"))
		q->nseg = 200;
	else
		return -1;
	pv_wmb();
	ring->idx.req_prod = prod + 1;
	pv_mb();
	return 0;
}

/* Wait for r, but never for ever. */
static int wait_bounded(struct pv_blk *d, struct pv_blk_req *r, uint32_t port)
{
	uint64_t end = pv_monotonic_ns() + WAIT_NS;

	while (!r->complete && pv_monotonic_ns() < end)
		if (!pv_blk_poll(d))
			pv_block(pv_monotonic_ns() + 10000000, 1ull << port);
	return r->complete ? r->status : -ETIMEDOUT;
}

static int other_device_works(void)
{
	static uint8_t buf[4096] __attribute__((aligned(4096)));
	struct pv_blk_info in;
	struct pv_blk *o;
	int e;

	if (!device_named("other"))
		return 0;
	if (!(o = pv_blk_open("other")))
		return printf("blktest: FAIL open other %d\n", errno), 1;
	pv_blk_info(o, &in);
	memset(buf, 0x5a, sizeof(buf));
	if ((!in.readonly && (e = pv_blk_write(o, 8, buf, sizeof(buf)))) ||
	    (e = pv_blk_read(o, 8, buf, sizeof(buf))))
		return printf("blktest: FAIL other device %d\n", e), 1;
	printf("blktest: other device ok\n");
	return 0;
}

int blktest_hostile(struct pv_blk *d, const char *how)
{
	static struct pv_blk_req rq[IN_FLIGHT], later;
	const struct pv_device *dev;
	uint8_t *mem = memalign(4096, IN_FLIGHT * 65536);
	struct pv_blk_info in;
	int kick, e, done = 0, notconn = 0;
	static uint8_t buf[512];

	pv_blk_info(d, &in);
	dev = device_named(in.name);
	for (uint32_t i = 0; i < IN_FLIGHT; i++) {
		rq[i] = (struct pv_blk_req){ .op = PV_BLK_READ, .sector = i * 128ull, .buf = mem + i * 65536,
					     .len = 65536 };
		if ((e = pv_blk_submit(d, &rq[i])))
			return printf("blktest: FAIL submit %d\n", e), 1;
	}
	if (corrupt((struct pv_blk_ring *)(uintptr_t)dev->ring_gva, how, (uintptr_t)mem))
		return printf("blktest: FAIL unknown hostile mode\n"), 1;
	kick = pv_event_notify(dev->event_port);
	printf("blktest: hostile %s kick -> %d\n", how, kick);
	for (uint32_t i = 0; i < IN_FLIGHT; i++) {
		e = wait_bounded(d, &rq[i], dev->event_port);
		done += e == 0;
		notconn += e == -ENOTCONN;
	}
	later = (struct pv_blk_req){ .op = PV_BLK_READ, .buf = buf, .len = sizeof(buf) };
	e = pv_blk_submit(d, &later);
	if (!e)
		e = wait_bounded(d, &later, dev->event_port);
	printf("blktest: hostile %s in_flight done=%d notconn=%d later=%d\n", how, done, notconn, e);
	if (kick != -PV_EIO || done + notconn != IN_FLIGHT || e != -ENOTCONN)
		return printf("blktest: FAIL hostile %s\n", how), 1;
	if (other_device_works())
		return 1;
	printf("blktest: hostile ok %s\n", how);
	return 0;
}
