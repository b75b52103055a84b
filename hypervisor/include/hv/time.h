/* Time keeping: the TSC is the clock, calibrated once at boot; the LAPIC
 * timer is the alarm (arch/x86_64/tsc.c, apic.c; core/clock.c). */
#ifndef HV_TIME_H
#define HV_TIME_H

#include <stdbool.h>
#include <stdint.h>

#include <hv/saturate.h>

extern uint64_t tsc_hz;
extern const char *tsc_source;   /* how tsc_hz was found */
extern uint64_t tsc_boot;        /* TSC at hypervisor entry */

void tsc_calibrate(void);

/* Set once by tsc_calibrate(), read-only after: ns per cycle (32.32 fixed
 * point) and cycles per ns (40.24).  Private to the two conversions below,
 * which are inline because every context switch converts its run time. */
extern uint64_t tsc_ns_mult;
extern uint64_t tsc_cycle_mult;

/* Both saturate: a result past 2^64 - 1 is UINT64_MAX, never a wrap. */
static inline uint64_t tsc_to_ns(uint64_t cycles)
{
	return sat_mul_shift(cycles, tsc_ns_mult, 32);
}

static inline uint64_t ns_to_tsc(uint64_t ns)
{
	return sat_mul_shift(ns, tsc_cycle_mult, 24);
}
/* The TSC value at system time ns; UINT64_MAX (never) beyond its range. */
uint64_t tsc_at_ns(uint64_t ns);
uint64_t time_ns(void);          /* since hypervisor entry */
void tsc_delay_us(uint64_t us);

/* pvclock-style scale: ns = (cycles * mul) >> shift, exact to ~1 ppb. */
void tsc_scale(uint32_t *mul, int8_t *shift);

/* Local APIC (xAPIC, MMIO) */
void lapic_init(void);
void lapic_init_ap(void);
void lapic_eoi(void);
/* Inter-processor interrupts, by APIC id. */
void lapic_send_init(uint32_t apic_id);
void lapic_send_sipi(uint32_t apic_id, uint8_t page);
void lapic_send_ipi(uint32_t apic_id, uint8_t vector);
void lapic_send_nmi(uint32_t apic_id);
uint32_t lapic_id(void);
void lapic_timer_periodic(uint32_t hz);
void lapic_timer_oneshot_ns(uint64_t ns);
void lapic_timer_stop(void);
extern uint64_t lapic_timer_hz;  /* timer input clock after the divider */

/* Timer interrupts counted (core/clock.c, then the scheduler's). */
void clock_init(void);
extern volatile uint64_t clock_ticks;

#endif
