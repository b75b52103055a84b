/* Ring index arithmetic (public/ring.h), especially at 2^32 wrap-around. */
#include <public/ring.h>
#include "harness.h"

static void test_size(void)
{
	CHECK(pv_ring_size_ok(1) && pv_ring_size_ok(256) && pv_ring_size_ok(1u << 31));
	CHECK(!pv_ring_size_ok(0) && !pv_ring_size_ok(3) && !pv_ring_size_ok(384));
}

static void test_wrap(void)
{
	uint32_t cons = UINT32_MAX - 2, prod = cons + 5;   /* prod wrapped to 2 */

	CHECK_EQ_U64(prod, 2);
	CHECK_EQ_U64(pv_ring_pending(prod, cons), 5);
	CHECK(pv_ring_sane(prod, cons, 8));
	CHECK(!pv_ring_sane(prod, cons, 4));                /* more than size: corrupt */
	CHECK_EQ_U64(pv_ring_free(prod, cons, 8), 3);
	CHECK_EQ_U64(pv_ring_slot(cons, 8), 5);
	CHECK_EQ_U64(pv_ring_slot(prod, 8), 2);
	/* a consumer index ahead of the producer (hostile) is not "sane" */
	CHECK(!pv_ring_sane(cons, prod, 256));
}

static void test_notify(void)
{
	/* the other side asked to be told when prod passes 10 */
	CHECK(pv_ring_need_notify(8, 12, 10));
	CHECK(pv_ring_need_notify(9, 10, 10));
	CHECK(!pv_ring_need_notify(10, 12, 10));
	CHECK(!pv_ring_need_notify(4, 8, 10));
	/* across the wrap */
	CHECK(pv_ring_need_notify(UINT32_MAX - 1, 3, 1));
	CHECK(!pv_ring_need_notify(UINT32_MAX - 1, 3, 5));
}

int main(void)
{
	RUN(test_size);
	RUN(test_wrap);
	RUN(test_notify);
	return harness_report();
}
