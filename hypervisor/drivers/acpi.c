/* ACPI table parsing: RSDP -> XSDT/RSDT -> MADT (CPUs, APICs), FADT (PM
 * timer, sleep control, reset), DSDT (\_S5 sleep type), MCFG (PCIe ECAM).
 * Every length read from firmware is bounded before use. */
#include <hv/acpi.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/x86.h>

struct acpi_info acpi;

struct sdt_header {
	char sig[4];
	uint32_t length;
	uint8_t revision, checksum;
	char oem[6], oem_table[8];
	uint32_t oem_rev, creator, creator_rev;
} __attribute__((packed));

#define TABLE_MAX (1U << 20)  /* refuse absurd lengths */

static const void *acpi_ptr(uint64_t pa, uint64_t len)
{
	if (pa + len <= kspace_physmap_limit())
		return phys_to_virt(pa);
	return mmio_map(pa, len);
}

static bool checksum_ok(const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (uint32_t i = 0; i < len; i++)
		sum += b[i];
	return sum == 0;
}

/* Map a table, check its length and checksum; NULL if unusable. */
static const struct sdt_header *table_at(uint64_t pa)
{
	const struct sdt_header *h = acpi_ptr(pa, sizeof(*h));

	if (h->length < sizeof(*h) || h->length > TABLE_MAX)
		return NULL;
	h = acpi_ptr(pa, h->length);
	if (!checksum_ok(h, h->length)) {
		log_warn("acpi: table %.4s at 0x%lx has a bad checksum, ignored", h->sig, pa);
		return NULL;
	}
	return h;
}

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Interrupt source override: ISA IRQ p[3] arrives on another GSI, or
 * with other polarity/trigger than ISA's active-high edge. */
static void madt_override(const uint8_t *p)
{
	uint16_t flags;

	if (p[2] != 0 || p[3] >= ACPI_ISA_IRQS)   /* bus 0 is ISA */
		return;
	memcpy(&flags, p + 8, 2);
	acpi.isa_gsi[p[3]] = rd32(p + 4);
	acpi.isa_flags[p[3]] = flags;
}

static void parse_madt(const struct sdt_header *h)
{
	const uint8_t *p = (const uint8_t *)h, *end = p + h->length;

	acpi.lapic_phys = rd32(p + 36);
	for (uint32_t i = 0; i < ACPI_ISA_IRQS; i++)
		acpi.isa_gsi[i] = i;
	for (p += 44; p + 2 <= end && p[1] >= 2 && p + p[1] <= end; p += p[1]) {
		if (p[0] == 0 && p[1] >= 8 && (rd32(p + 4) & 1)) {   /* enabled */
			if (acpi.cpu_count < ACPI_MAX_CPUS)
				acpi.apic_id[acpi.cpu_count] = p[3];
			acpi.cpu_count++;
		} else if (p[0] == 1 && p[1] >= 12) {
			if (!acpi.ioapic_count++) {
				acpi.ioapic_phys = rd32(p + 4);
				acpi.ioapic_gsi_base = rd32(p + 8);
			}
		} else if (p[0] == 2 && p[1] >= 10) {
			madt_override(p);
		} else if (p[0] == 5 && p[1] >= 12) {
			acpi.lapic_phys = rd64(p + 4);
		}
	}
}

/* \_S5 is a Package in AML: NameOp "_S5_" PackageOp PkgLength NumElements
 * then SLP_TYPa, SLP_TYPb as BytePrefix+byte, ZeroOp or OneOp. */
static int aml_byte(const uint8_t **pp, const uint8_t *end, uint16_t *out)
{
	const uint8_t *p = *pp;

	if (p >= end)
		return -1;
	if (*p == 0x0a && p + 1 < end) {
		*out = p[1];
		*pp = p + 2;
	} else if (*p == 0x00 || *p == 0x01) {
		*out = *p;
		*pp = p + 1;
	} else {
		return -1;
	}
	return 0;
}

static void parse_s5(const struct sdt_header *dsdt)
{
	const uint8_t *p = (const uint8_t *)dsdt + sizeof(*dsdt);
	const uint8_t *end = (const uint8_t *)dsdt + dsdt->length;

	for (; p + 8 < end; p++) {
		if (memcmp(p, "_S5_", 4) || p[4] != 0x12)
			continue;
		p += 5;
		p += 1 + (*p >> 6);   /* PkgLength: extra bytes in the top 2 bits */
		p++;                  /* NumElements */
		if (aml_byte(&p, end, &acpi.slp_typa) == 0 && aml_byte(&p, end, &acpi.slp_typb) == 0)
			acpi.s5_valid = true;
		return;
	}
}

static void parse_fadt(const struct sdt_header *h)
{
	const uint8_t *p = (const uint8_t *)h;
	uint64_t dsdt = 0;
	const struct sdt_header *d;

	if (h->length >= 44)
		dsdt = rd32(p + 40);
	if (h->length >= 148 && rd64(p + 140))
		dsdt = rd64(p + 140);
	if (h->length >= 92) {
		acpi.pm1a_cnt_port = rd32(p + 64);
		acpi.pm1b_cnt_port = rd32(p + 68);
		acpi.pm_timer_port = p[91] == 4 ? rd32(p + 76) : 0;
	}
	if (h->length >= 129) {
		acpi.pm_timer_32bit = rd32(p + 112) & (1u << 8);
		acpi.reset_space = p[116];
		acpi.reset_addr = rd64(p + 120);
		acpi.reset_value = p[128];
	}
	if (dsdt && (d = table_at(dsdt)) != NULL)
		parse_s5(d);
}

static void parse_mcfg(const struct sdt_header *h)
{
	const uint8_t *p = (const uint8_t *)h;

	/* first allocation: segment 0 (bytes 52-53), starting at bus 0 (54) */
	if (h->length >= 44 + 16 && p[52] == 0 && p[53] == 0 && p[54] == 0)
		acpi.mcfg_base = rd64(p + 44);
}

static void parse_table(uint64_t pa)
{
	const struct sdt_header *h = table_at(pa);

	if (!h)
		return;
	acpi.table_count++;
	if (!memcmp(h->sig, "APIC", 4))
		parse_madt(h);
	else if (!memcmp(h->sig, "FACP", 4))
		parse_fadt(h);
	else if (!memcmp(h->sig, "MCFG", 4))
		parse_mcfg(h);
}

void acpi_init(uint64_t rsdp_phys)
{
	const uint8_t *rsdp;
	const struct sdt_header *root;
	uint32_t entry;

	if (!rsdp_phys)
		return;
	rsdp = acpi_ptr(rsdp_phys, 36);
	if (memcmp(rsdp, "RSD PTR ", 8) || !checksum_ok(rsdp, 20)) {
		log_warn("acpi: RSDP at 0x%lx is invalid", rsdp_phys);
		return;
	}
	memcpy(acpi.oem, rsdp + 9, 6);
	acpi.xsdt = rsdp[15] >= 2 && rd64(rsdp + 24);
	root = table_at(acpi.xsdt ? rd64(rsdp + 24) : rd32(rsdp + 16));
	if (!root)
		return;
	acpi.present = true;
	entry = acpi.xsdt ? 8 : 4;
	for (uint32_t off = sizeof(*root); off + entry <= root->length; off += entry) {
		const uint8_t *e = (const uint8_t *)root + off;

		parse_table(acpi.xsdt ? rd64(e) : rd32(e));
	}
}

void acpi_poweroff(void)
{
	if (!acpi.s5_valid || !acpi.pm1a_cnt_port)
		return;
	outw((uint16_t)acpi.pm1a_cnt_port, (uint16_t)(acpi.slp_typa << 10 | 1u << 13));
	if (acpi.pm1b_cnt_port)
		outw((uint16_t)acpi.pm1b_cnt_port, (uint16_t)(acpi.slp_typb << 10 | 1u << 13));
}
