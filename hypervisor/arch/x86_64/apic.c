/* Local APIC in xAPIC (MMIO) mode: TCG has no x2APIC or TSC-deadline, so
 * the timer is the LVT timer, calibrated against the TSC. */
#include <hv/acpi.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/time.h>
#include <hv/trap.h>
#include <hv/x86.h>

#define LAPIC_ID      0x020
#define LAPIC_EOI     0x0b0
#define LAPIC_SVR     0x0f0
#define LAPIC_LVT_TMR 0x320
#define LAPIC_TMR_INIT 0x380
#define LAPIC_TMR_CUR 0x390
#define LAPIC_TMR_DIV 0x3e0
#define LVT_MASKED    (1u << 16)
#define LVT_PERIODIC  (1u << 17)
#define DIV_16        0x3

uint64_t lapic_timer_hz;
static volatile uint32_t *lapic;

static uint32_t rd(uint32_t reg) { return lapic[reg / 4]; }
static void wr(uint32_t reg, uint32_t v) { lapic[reg / 4] = v; }

static void pic_disable(void)
{
	outb(0x21, 0xff);   /* mask every legacy 8259 line */
	outb(0xa1, 0xff);
}

static void calibrate(void)
{
	uint64_t t0, cycles = tsc_hz / 100;   /* 10 ms */
	uint32_t left;

	wr(LAPIC_TMR_DIV, DIV_16);
	wr(LAPIC_LVT_TMR, LVT_MASKED | VEC_TIMER);
	wr(LAPIC_TMR_INIT, 0xffffffffu);
	t0 = rdtsc();
	while (rdtsc() - t0 < cycles)
		pause();
	left = rd(LAPIC_TMR_CUR);
	wr(LAPIC_TMR_INIT, 0);
	lapic_timer_hz = (uint64_t)(0xffffffffu - left) * 100;
	if (lapic_timer_hz < 10000)
		panic("apic: timer calibration gave %lu Hz", lapic_timer_hz);
}

void lapic_init(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);
	uint64_t pa = acpi.lapic_phys ? acpi.lapic_phys : (base & ~0xfffUL);

	pic_disable();
	wrmsr(MSR_APIC_BASE, base | (1UL << 11));   /* global enable */
	lapic = mmio_map(pa, PAGE_SIZE);
	wr(LAPIC_SVR, 0x100 | VEC_SPURIOUS);        /* software enable */
	calibrate();
}

void lapic_eoi(void) { wr(LAPIC_EOI, 0); }
uint32_t lapic_id(void) { return rd(LAPIC_ID) >> 24; }

void lapic_timer_periodic(uint32_t hz)
{
	wr(LAPIC_TMR_DIV, DIV_16);
	wr(LAPIC_LVT_TMR, LVT_PERIODIC | VEC_TIMER);
	wr(LAPIC_TMR_INIT, (uint32_t)(lapic_timer_hz / hz));
}

void lapic_timer_oneshot_ns(uint64_t ns)
{
	uint64_t count;

	ns = MIN(ns, 100000000000ULL);   /* 100 s: keeps the product in 64 bits */
	count = ns * lapic_timer_hz / 1000000000ULL;
	wr(LAPIC_TMR_DIV, DIV_16);
	wr(LAPIC_LVT_TMR, VEC_TIMER);
	wr(LAPIC_TMR_INIT, (uint32_t)MAX(1, MIN(count, 0xffffffffULL)));
}

void lapic_timer_stop(void)
{
	wr(LAPIC_LVT_TMR, LVT_MASKED | VEC_TIMER);
	wr(LAPIC_TMR_INIT, 0);
}
