/* I/O APIC (arch/x86_64/ioapic.c). */
#ifndef HV_IOAPIC_H
#define HV_IOAPIC_H

#include <stdint.h>

/* Deliver ISA interrupt irq as vector to the CPU with apic_id, unmasked.
 * 0, or -ENODEV when there is no I/O APIC pin for it. */
int ioapic_route_isa(unsigned int irq, uint8_t vector, uint32_t apic_id);

#endif
