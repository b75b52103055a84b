/* ACPI: what the hypervisor needs from the firmware's tables. */
#ifndef HV_ACPI_H
#define HV_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#define ACPI_MAX_CPUS 64
#define ACPI_ISA_IRQS 16

struct acpi_info {
	bool present;
	bool xsdt;                 /* ACPI 2.0+ */
	char oem[7];
	uint32_t table_count;
	/* MADT */
	uint64_t lapic_phys;
	uint32_t cpu_count;        /* enabled processors (apic_id[] holds the first 64) */
	uint8_t apic_id[ACPI_MAX_CPUS];
	uint32_t ioapic_count;
	uint64_t ioapic_phys;      /* first I/O APIC */
	uint32_t ioapic_gsi_base;  /* its first GSI */
	uint32_t isa_gsi[ACPI_ISA_IRQS];    /* ISA IRQ -> GSI, after overrides */
	uint16_t isa_flags[ACPI_ISA_IRQS];  /* MPS INTI flags: polarity 1:0, trigger 3:2 */
	/* FADT */
	uint32_t pm_timer_port;    /* 0 when absent */
	bool pm_timer_32bit;
	uint32_t pm1a_cnt_port, pm1b_cnt_port;
	bool s5_valid;             /* \_S5 found in the DSDT */
	uint16_t slp_typa, slp_typb;
	uint8_t reset_space;       /* FADT reset register (1 = I/O) */
	uint64_t reset_addr;
	uint8_t reset_value;
	uint64_t mcfg_base;        /* PCIe ECAM base, 0 if none */
};

extern struct acpi_info acpi;

/* Parse from the RSDP physical address (0: no ACPI).  Bad checksums are
 * reported and the table ignored; never faults on garbage lengths. */
void acpi_init(uint64_t rsdp_phys);
/* Enter S5; returns only if that failed. */
void acpi_poweroff(void);

#endif
