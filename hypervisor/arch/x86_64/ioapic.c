/* I/O APIC: just enough to route one ISA interrupt (the serial port's) to
 * a vector on one CPU.  The first I/O APIC of the MADT; the GSI, polarity
 * and trigger come from its interrupt source overrides (ISA's default is
 * active high, edge).  Boot only: the select/window register pair is not
 * locked. */
#include <hv/acpi.h>
#include <hv/errno.h>
#include <hv/ioapic.h>
#include <hv/layout.h>
#include <hv/mm.h>

#define IOREGSEL   0x00
#define IOWIN      0x10
#define IOAPICVER  0x01
#define REDTBL(pin) (0x10 + 2 * (pin))
#define RTE_ACTIVE_LOW (1u << 13)
#define RTE_LEVEL      (1u << 15)

static volatile uint32_t *regs;

static uint32_t rd(uint32_t reg)
{
	regs[IOREGSEL / 4] = reg;
	return regs[IOWIN / 4];
}

static void wr(uint32_t reg, uint32_t v)
{
	regs[IOREGSEL / 4] = reg;
	regs[IOWIN / 4] = v;
}

/* MPS INTI flags: 3 in bits 1:0 is active low, 3 in bits 3:2 is level. */
static uint32_t rte_mode(uint16_t inti)
{
	return ((inti & 3) == 3 ? RTE_ACTIVE_LOW : 0) | (((inti >> 2) & 3) == 3 ? RTE_LEVEL : 0);
}

int ioapic_route_isa(unsigned int irq, uint8_t vector, uint32_t apic_id)
{
	uint32_t pin;

	if (!acpi.ioapic_count || irq >= ACPI_ISA_IRQS || acpi.isa_gsi[irq] < acpi.ioapic_gsi_base)
		return -ENODEV;
	if (!regs)
		regs = mmio_map(acpi.ioapic_phys, PAGE_SIZE);
	pin = acpi.isa_gsi[irq] - acpi.ioapic_gsi_base;
	if (pin > ((rd(IOAPICVER) >> 16) & 0xff))   /* beyond its last entry */
		return -ENODEV;
	wr(REDTBL(pin) + 1, apic_id << 24);          /* physical destination */
	wr(REDTBL(pin), vector | rte_mode(acpi.isa_flags[irq]));   /* fixed, unmasked */
	return 0;
}
