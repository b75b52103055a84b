/* The guest-pointer checks every hypercall relies on (mm/guest_mem.c). */
#include <stdlib.h>
#include <public/errno.h>
#include <hv/guest_mem.h>
#include "harness.h"

uint64_t physmap_offset;   /* host: "physical" addresses are host pointers */

#define PAGES 4
#define BASE  0x400000UL
static uint64_t frames[PAGES];
static void *backing[PAGES];
static struct guest_mem mem = { .base = BASE, .pages = PAGES, .frame = frames };

static void setup(void)
{
	for (int i = 0; i < PAGES; i++) {
		if (!backing[i])
			backing[i] = aligned_alloc(4096, 4096);
		memset(backing[i], 0x11 * (i + 1), 4096);
		frames[i] = (uint64_t)backing[i] | GF_WRITE;
	}
	frames[1] &= ~GF_WRITE;          /* page 1: read-only (like text) */
}

static void test_bounds(void)
{
	CHECK_EQ_INT(guest_check(&mem, BASE, 4096 * PAGES, false), 0);
	CHECK_EQ_INT(guest_check(&mem, BASE - 1, 1, false), -PV_EFAULT);
	CHECK_EQ_INT(guest_check(&mem, BASE + 4096 * PAGES, 1, false), -PV_EFAULT);
	CHECK_EQ_INT(guest_check(&mem, BASE + 4096 * PAGES - 1, 2, false), -PV_EFAULT);
	CHECK_EQ_INT(guest_check(&mem, 0, 8, false), -PV_EFAULT);              /* null */
	CHECK_EQ_INT(guest_check(&mem, 0xffff800000000000UL, 8, false), -PV_EFAULT);
	CHECK_EQ_INT(guest_check(&mem, BASE, 0, true), 0);                     /* empty is fine */
}

static void test_overflow(void)
{
	/* gva + len wraps around 2^64: must not look like a small range */
	CHECK_EQ_INT(guest_check(&mem, BASE + 8, UINT64_MAX - 4, false), -PV_EFAULT);
	CHECK_EQ_INT(guest_check(&mem, UINT64_MAX, 2, false), -PV_EFAULT);
	CHECK_EQ_INT(guest_check(&mem, BASE, UINT64_MAX, false), -PV_EFAULT);
}

static void test_permissions(void)
{
	CHECK_EQ_INT(guest_check(&mem, BASE + 4096, 10, false), 0);
	CHECK_EQ_INT(guest_check(&mem, BASE + 4096, 10, true), -PV_EFAULT);
	CHECK_EQ_INT(guest_check(&mem, BASE + 4000, 200, true), -PV_EFAULT); /* spans into RO */
	frames[2] &= GF_FLAGS;            /* unbacked (guard page) */
	CHECK_EQ_INT(guest_check(&mem, BASE + 2 * 4096 + 5, 1, false), -PV_EFAULT);
	CHECK_EQ_INT(guest_check(&mem, BASE + 2 * 4096, 1, false), -PV_EFAULT);
	setup();
}

static void test_copies(void)
{
	char buf[64], src[64];

	CHECK_EQ_INT(guest_copy_from(&mem, buf, BASE + 4096 - 32, 64), 0);  /* across pages */
	CHECK_EQ_INT(buf[0], 0x11);
	CHECK_EQ_INT(buf[63], 0x22);
	memset(src, 'x', sizeof(src));
	CHECK_EQ_INT(guest_copy_to(&mem, BASE + 3 * 4096 - 32, src, 64), 0);
	CHECK_EQ_INT(((char *)(frames[3] & ~GF_FLAGS))[31], 'x');
	CHECK_EQ_INT(guest_copy_to(&mem, BASE + 4096, src, 8), -PV_EFAULT);  /* RO page */
	CHECK_EQ_INT(((char *)(frames[1] & ~GF_FLAGS))[0], 0x22);            /* untouched */
}

static int populated;

static int back_page(struct guest_mem *m, uint64_t i)
{
	populated++;
	m->frame[i] = (uint64_t)backing[i] | GF_WRITE;
	memset(backing[i], 0, 4096);
	return 0;
}

static void test_lazy_pages(void)
{
	char buf[16];

	frames[2] = GF_LAZY | GF_WRITE;                  /* demand-zero, untouched */
	CHECK_EQ_INT(guest_check(&mem, BASE + 2 * 4096, 8, false), -PV_EFAULT); /* no populate hook */
	mem.populate = back_page;
	CHECK_EQ_INT(guest_copy_from(&mem, buf, BASE + 2 * 4096 + 8, sizeof(buf)), 0);
	CHECK_EQ_INT(populated, 1);
	CHECK_EQ_INT(buf[0], 0);                         /* reads as zeros */
	CHECK_EQ_INT(guest_copy_to(&mem, BASE + 2 * 4096, "x", 1), 0);
	CHECK_EQ_INT(populated, 1);                      /* backed once only */
	mem.populate = NULL;
	setup();
}

int main(void)
{
	setup();
	RUN(test_bounds);
	RUN(test_overflow);
	RUN(test_permissions);
	RUN(test_copies);
	RUN(test_lazy_pages);
	for (int i = 0; i < PAGES; i++)
		free(backing[i]);
	return harness_report();
}
