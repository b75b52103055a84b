/* Saturating clock arithmetic (hv/saturate.h) and the conversions built
 * on it in arch/x86_64/tsc.c: a block deadline in ns becomes a TSC value
 * tsc_boot + ns * tsc_mult >> 24 that must never wrap into the past, on
 * any TSC frequency, for any deadline up to UINT64_MAX. */
#include <hv/saturate.h>
#include "harness.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

typedef unsigned __int128 u128;

#define NS_PER_S 1000000000ull

/* The scales tsc.c derives from the calibrated frequency. */
static uint64_t tsc_mult_for(uint64_t hz) { return (hz << 24) / NS_PER_S; }  /* cycles/ns, .24 */
static uint64_t ns_mult_for(uint64_t hz)  { return (NS_PER_S << 32) / hz; }  /* ns/cycle, .32 */

/* What hc_block computes (tsc_at_ns): tsc_boot + ns_to_tsc(ns). */
static uint64_t deadline_tsc(uint64_t base, uint64_t ns, uint64_t mult)
{
	return sat_add(base, sat_mul_shift(ns, mult, 24));
}

/* The exact value, or UINT64_MAX where it does not fit. */
static uint64_t exact_or_max(uint64_t base, uint64_t ns, uint64_t mult)
{
	u128 v = (u128)base + ((u128)ns * mult >> 24);

	return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

static const uint64_t hzs[] = { 100000000ull, 1000000000ull, 2600000000ull, 3999000000ull,
				5000000000ull, 10000000000ull };
static const uint64_t bases[] = { 0, 1000000000000ull, 1ull << 50 };
static const uint64_t huge[] = { 1ull << 61, (1ull << 62) - 1, 1ull << 62, (1ull << 62) + 1,
				 3689348814741910324ull /* UINT64_MAX / 5 + 1 */, 1ull << 63,
				 UINT64_MAX - 1 };

static void test_sat_add(void)
{
	CHECK_EQ_U64(sat_add(1, 2), 3);
	CHECK_EQ_U64(sat_add(UINT64_MAX - 1, 1), UINT64_MAX);
	CHECK_EQ_U64(sat_add(UINT64_MAX - 1, 2), UINT64_MAX);
	CHECK_EQ_U64(sat_add(1ull << 63, 1ull << 63), UINT64_MAX);
	CHECK_EQ_U64(sat_add(UINT64_MAX, 0), UINT64_MAX);
}

static void test_sat_mul_shift(void)
{
	CHECK_EQ_U64(sat_mul_shift(3, 5, 0), 15);
	CHECK_EQ_U64(sat_mul_shift(1ull << 40, 1ull << 40, 24), 1ull << 56);
	CHECK_EQ_U64(sat_mul_shift(1ull << 40, 1ull << 40, 16), UINT64_MAX);
	CHECK_EQ_U64(sat_mul_shift(UINT64_MAX, 1ull << 24, 24), UINT64_MAX);
	CHECK_EQ_U64(sat_mul_shift(UINT64_MAX, 1ull << 23, 24), UINT64_MAX >> 1);
	CHECK_EQ_U64(sat_mul_shift(1ull << 62, 5ull << 24, 24), UINT64_MAX);
}

/* Every huge deadline on every clock: exact where it fits, else "never". */
static void test_huge_deadlines_never_wrap(void)
{
	for (unsigned h = 0; h < ARRAY_LEN(hzs); h++)
		for (unsigned b = 0; b < ARRAY_LEN(bases); b++)
			for (unsigned i = 0; i < ARRAY_LEN(huge); i++) {
				uint64_t m = tsc_mult_for(hzs[h]);
				uint64_t got = deadline_tsc(bases[b], huge[i], m);

				if (!CHECK_EQ_U64(got, exact_or_max(bases[b], huge[i], m)))
					fprintf(stderr, "  hz=%llu base=%llu ns=%llu\n",
						(unsigned long long)hzs[h], (unsigned long long)bases[b],
						(unsigned long long)huge[i]);
			}
}

/* A later deadline never converts to an earlier TSC value. */
static void test_deadlines_are_monotonic(void)
{
	for (unsigned h = 0; h < ARRAY_LEN(hzs); h++) {
		uint64_t m = tsc_mult_for(hzs[h]), prev = 0, bad = 0;

		for (unsigned k = 0; k < 64; k++)
			for (uint64_t ns = 1ull << k, j = 0; j < 3; j++, ns += ns / 3) {
				uint64_t t = deadline_tsc(1000000000000ull, ns, m);

				bad += t < prev;
				prev = t;
			}
		CHECK_EQ_U64(bad, 0);
	}
}

/* The 5 GHz case: ns * 5 passes 2^64 just above 2^61.8 ns (117 years). */
static void test_fast_tsc_far_deadline(void)
{
	uint64_t m = tsc_mult_for(5000000000ull), base = 1000000000000ull;

	CHECK_EQ_U64(deadline_tsc(base, 1ull << 62, m), UINT64_MAX);
	CHECK_EQ_U64(deadline_tsc(base, 1ull << 63, m), UINT64_MAX);
	CHECK_EQ_U64(deadline_tsc(base, UINT64_MAX - 1, m), UINT64_MAX);
	CHECK_EQ_U64(deadline_tsc(base, NS_PER_S, m), base + 5000000000ull);
}

/* tsc_to_ns on a slow TSC: cycles * ns_mult outgrows 64 bits too. */
static void test_slow_tsc_to_ns(void)
{
	uint64_t m = ns_mult_for(100000000ull);     /* 100 MHz: 10 ns per cycle */

	CHECK_EQ_U64(sat_mul_shift(100000000ull, m, 32), NS_PER_S);
	CHECK_EQ_U64(sat_mul_shift(1ull << 62, m, 32), UINT64_MAX);
	CHECK_EQ_U64(sat_mul_shift(UINT64_MAX, m, 32), UINT64_MAX);
}

int main(void)
{
	RUN(test_sat_add);
	RUN(test_sat_mul_shift);
	RUN(test_huge_deadlines_never_wrap);
	RUN(test_deadlines_are_monotonic);
	RUN(test_fast_tsc_far_deadline);
	RUN(test_slow_tsc_to_ns);
	return harness_report();
}
