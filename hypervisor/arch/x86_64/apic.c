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
#define LAPIC_ICR_LO  0x300
#define LAPIC_ICR_HI  0x310
#define ICR_PENDING   (1u << 12)
#define ICR_ASSERT    (1u << 14)
#define ICR_INIT      (5u << 8)
#define ICR_STARTUP   (6u << 8)
#define ICR_NMI       (4u << 8)
#define ICR_WAIT_US   100000
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

/* An application processor: the MMIO mapping is shared, each CPU sees its
 * own LAPIC there; the timer stays masked until the scheduler arms it. */
void lapic_init_ap(void)
{
	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | (1UL << 11));
	wr(LAPIC_SVR, 0x100 | VEC_SPURIOUS);
	wr(LAPIC_TMR_DIV, DIV_16);
	wr(LAPIC_LVT_TMR, LVT_MASKED | VEC_TIMER);
}

/* ---- inter-processor interrupts ------------------------------------------ */

static bool icr_idle(void)
{
	uint64_t limit = rdtsc() + ns_to_tsc(ICR_WAIT_US * 1000ULL);

	while (rd(LAPIC_ICR_LO) & ICR_PENDING)
		if (rdtsc() > limit)
			return false;
	return true;
}

/* The ICR is two registers: callers hold interrupts off (an IPI sent from
 * an interrupt handler must not land between the two writes). */
static void icr_send(uint32_t apic_id, uint32_t low)
{
	uint64_t f = read_rflags();

	cli();
	if (!icr_idle())
		log_warn("apic: previous IPI still pending after %d us", ICR_WAIT_US);
	wr(LAPIC_ICR_HI, apic_id << 24);
	wr(LAPIC_ICR_LO, low);
	if (f & 0x200)
		sti();
}

void lapic_send_init(uint32_t apic_id) { icr_send(apic_id, ICR_INIT | ICR_ASSERT); }
void lapic_send_sipi(uint32_t apic_id, uint8_t page) { icr_send(apic_id, ICR_STARTUP | ICR_ASSERT | page); }
void lapic_send_ipi(uint32_t apic_id, uint8_t vector) { icr_send(apic_id, ICR_ASSERT | vector); }
void lapic_send_nmi(uint32_t apic_id) { icr_send(apic_id, ICR_NMI | ICR_ASSERT); }

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
