/* TSC calibration: CPUID leaf 0x15 when the CPU states its crystal, else
 * against the ACPI PM timer (3.579545 MHz), else the PIT (1.193182 MHz). */
#include <hv/acpi.h>
#include <hv/cpu.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/saturate.h>
#include <hv/time.h>
#include <hv/x86.h>

#define PM_TIMER_HZ 3579545ULL
#define PIT_HZ      1193182ULL
#define CAL_MS      20   /* 71590 PM ticks: +-14 ppm */

uint64_t tsc_hz;
const char *tsc_source = "none";
uint64_t tsc_boot;
uint64_t tsc_ns_mult;      /* hv/time.h */
uint64_t tsc_cycle_mult;

static uint32_t pm_read(void)
{
	uint32_t v = inl((uint16_t)acpi.pm_timer_port);

	return acpi.pm_timer_32bit ? v : (v & 0xffffff);
}

static uint64_t calibrate_pm(void)
{
	uint32_t mask = acpi.pm_timer_32bit ? 0xffffffffu : 0xffffffu;
	uint32_t start = pm_read(), now;
	uint64_t t0 = rdtsc(), t1, want = PM_TIMER_HZ * CAL_MS / 1000;

	do {
		now = pm_read();
	} while (((now - start) & mask) < want);
	t1 = rdtsc();
	return (t1 - t0) * PM_TIMER_HZ / ((now - start) & mask);
}

/* PIT channel 2 with the speaker gate: count down and watch OUT2. */
static uint64_t calibrate_pit(void)
{
	uint16_t count = (uint16_t)(PIT_HZ * CAL_MS / 1000);
	uint64_t t0, t1;

	outb(0x61, (inb(0x61) & ~0x02) | 0x01);
	outb(0x43, 0xb0);                    /* channel 2, lo/hi, mode 0 */
	outb(0x42, count & 0xff);
	outb(0x42, count >> 8);
	t0 = rdtsc();
	for (uint64_t i = 0; i < (1UL << 32) && !(inb(0x61) & 0x20); i++)
		pause();
	t1 = rdtsc();
	return (t1 - t0) * PIT_HZ / count;
}

void tsc_calibrate(void)
{
	if (cpu.tsc_crystal_hz && cpu.tsc_den && cpu.tsc_num) {
		tsc_hz = (uint64_t)cpu.tsc_crystal_hz * cpu.tsc_num / cpu.tsc_den;
		tsc_source = "cpuid 0x15";
	} else if (acpi.pm_timer_port) {
		tsc_hz = calibrate_pm();
		tsc_source = "acpi pm timer";
	} else {
		tsc_hz = calibrate_pit();
		tsc_source = "pit";
	}
	if (tsc_hz < 1000000)
		panic("time: TSC calibration gave %lu Hz", tsc_hz);
	tsc_ns_mult = (1000000000ULL << 32) / tsc_hz;
	tsc_cycle_mult = (tsc_hz << 24) / 1000000000ULL;
}

uint64_t tsc_at_ns(uint64_t ns)
{
	return sat_add(tsc_boot, ns_to_tsc(ns));
}

uint64_t time_ns(void)
{
	return tsc_to_ns(rdtsc() - tsc_boot);
}

void tsc_delay_us(uint64_t us)
{
	uint64_t end = rdtsc() + ns_to_tsc(us * 1000);

	while (rdtsc() < end)
		pause();
}

void tsc_scale(uint32_t *mul, int8_t *shift)
{
	uint64_t m = tsc_ns_mult;
	int8_t s = 32;

	while (m > 0xffffffffULL) {   /* keep the multiplier in 32 bits */
		m >>= 1;
		s--;
	}
	*mul = (uint32_t)m;
	*shift = s;
}
