/* PCI configuration space, enumeration, capabilities, BARs and MSI-X.
 *
 * Configuration space is reached through ECAM (one 4 KiB page per function,
 * base from ACPI's MCFG) when the firmware describes it, else through the
 * legacy 0xCF8/0xCFC ports (first 256 bytes only).  ECAM is mapped one bus
 * (1 MiB) at a time, and only for buses enumeration actually reaches.
 *
 * Enumeration starts at bus 0 and follows PCI-to-PCI bridges to their
 * secondary buses, so a q35 machine with everything on bus 0 costs 32
 * vendor-id reads instead of 8192.  The firmware has already numbered the
 * buses and assigned every BAR; we never reassign anything. */
#include <hv/acpi.h>
#include <hv/errno.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/pci.h>
#include <hv/time.h>
#include <hv/x86.h>

#define PCI_CFG_ADDR   0xcf8
#define PCI_CFG_DATA   0xcfc
#define ECAM_BUS_SIZE  (1UL << 20)
#define CAP_WALK_MAX   48              /* (256 - 64) / 4: a looped list ends */

#define MSIX_CTRL          2
#define MSIX_TABLE         4
#define MSIX_CTRL_SIZE     0x07ffu
#define MSIX_CTRL_MASKALL  (1u << 14)
#define MSIX_CTRL_ENABLE   (1u << 15)
#define MSIX_ENTRY_WORDS   4           /* addr lo, addr hi, data, control */
#define MSIX_VEC_MASKED    1u
#define MSI_ADDR_BASE      0xfee00000u

static struct pci_dev devices[PCI_MAX_DEVICES];
static int device_count;
static int bus_count;
static bool enumerated;
static uint64_t ecam_phys;                     /* 0: use the legacy ports */
static volatile uint8_t *ecam_bus[256];

/* ---- configuration space access ----------------------------------------- */
static volatile void *ecam_ptr(uint8_t bus, uint8_t slot, uint8_t fn, uint16_t off)
{
	if (!ecam_bus[bus])
		ecam_bus[bus] = mmio_map(ecam_phys + ((uint64_t)bus << 20), ECAM_BUS_SIZE);
	return ecam_bus[bus] + ((uint32_t)slot << 15 | (uint32_t)fn << 12 | off);
}

static uint32_t port_addr(uint8_t bus, uint8_t slot, uint8_t fn, uint16_t off)
{
	return 0x80000000u | (uint32_t)bus << 16 | (uint32_t)slot << 11 | (uint32_t)fn << 8 |
	       (off & 0xfc);
}

/* An access outside the space or not naturally aligned reads as all ones
 * and writes nothing, like a master abort. */
static bool cfg_ok(uint16_t off, unsigned int width)
{
	return !(off & (width - 1)) && off + width <= (ecam_phys ? 4096u : 256u);
}

static uint32_t cfg_read(uint8_t bus, uint8_t slot, uint8_t fn, uint16_t off, unsigned int width)
{
	uint16_t port = PCI_CFG_DATA + (off & 3);

	if (!cfg_ok(off, width))
		return 0xffffffffu >> (32 - 8 * width);
	if (ecam_phys) {
		volatile void *p = ecam_ptr(bus, slot, fn, off);

		return width == 1 ? *(volatile uint8_t *)p :
		       width == 2 ? *(volatile uint16_t *)p : *(volatile uint32_t *)p;
	}
	outl(PCI_CFG_ADDR, port_addr(bus, slot, fn, off));
	return width == 1 ? inb(port) : width == 2 ? inw(port) : inl(port);
}

static void cfg_write(uint8_t bus, uint8_t slot, uint8_t fn, uint16_t off, unsigned int width,
		      uint32_t v)
{
	uint16_t port = PCI_CFG_DATA + (off & 3);

	if (!cfg_ok(off, width))
		return;
	if (ecam_phys) {
		volatile void *p = ecam_ptr(bus, slot, fn, off);

		if (width == 1)
			*(volatile uint8_t *)p = (uint8_t)v;
		else if (width == 2)
			*(volatile uint16_t *)p = (uint16_t)v;
		else
			*(volatile uint32_t *)p = v;
		return;
	}
	outl(PCI_CFG_ADDR, port_addr(bus, slot, fn, off));
	if (width == 1)
		outb(port, (uint8_t)v);
	else if (width == 2)
		outw(port, (uint16_t)v);
	else
		outl(port, v);
}

#define DEV_LOC(d) (d)->bus, (d)->slot, (d)->fn
uint8_t pci_read8(const struct pci_dev *d, uint16_t off) { return (uint8_t)cfg_read(DEV_LOC(d), off, 1); }
uint16_t pci_read16(const struct pci_dev *d, uint16_t off) { return (uint16_t)cfg_read(DEV_LOC(d), off, 2); }
uint32_t pci_read32(const struct pci_dev *d, uint16_t off) { return cfg_read(DEV_LOC(d), off, 4); }
void pci_write8(const struct pci_dev *d, uint16_t off, uint8_t v) { cfg_write(DEV_LOC(d), off, 1, v); }
void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v) { cfg_write(DEV_LOC(d), off, 2, v); }
void pci_write32(const struct pci_dev *d, uint16_t off, uint32_t v) { cfg_write(DEV_LOC(d), off, 4, v); }

/* ---- enumeration --------------------------------------------------------- */
static const char *class_name(uint8_t cls)
{
	static const char *const names[] = {
		"unclassified", "storage", "network", "display", "multimedia", "memory",
		"bridge", "communication", "system", "input", "docking", "processor",
		"serial-bus", "wireless",
	};

	return cls < ARRAY_SIZE(names) ? names[cls] : "other";
}

static struct pci_dev *record(uint8_t bus, uint8_t slot, uint8_t fn)
{
	struct pci_dev *d;
	uint32_t class_rev;

	if (device_count == PCI_MAX_DEVICES) {
		log_warn("pci: more than %d functions; " PCI_BDF_FMT " and later ignored",
			 PCI_MAX_DEVICES, bus, slot, fn);
		return NULL;
	}
	d = &devices[device_count++];
	*d = (struct pci_dev){ .bus = bus, .slot = slot, .fn = fn };
	d->vendor = pci_read16(d, PCI_VENDOR_ID);
	d->device = pci_read16(d, PCI_DEVICE_ID);
	d->header_type = pci_read8(d, PCI_HEADER_TYPE) & 0x7f;
	class_rev = pci_read32(d, PCI_CLASS_REV);
	d->class_code = class_rev >> 24;
	d->subclass = class_rev >> 16;
	d->prog_if = class_rev >> 8;
	d->revision = class_rev;
	if (d->header_type == 0) {
		d->subsys_vendor = pci_read16(d, PCI_SUBSYS_VENDOR);
		d->subsys_id = pci_read16(d, PCI_SUBSYS_ID);
	}
	log_debug("pci: " PCI_BDF_FMT " %04x:%04x class %02x.%02x.%02x %s", bus, slot, fn,
		  d->vendor, d->device, d->class_code, d->subclass, d->prog_if,
		  class_name(d->class_code));
	return d;
}

struct bus_queue {
	uint8_t bus[256];
	bool seen[256];
	unsigned int head, tail;
};

static void queue_bus(struct bus_queue *q, uint8_t bus)
{
	if (q->seen[bus] || q->tail == ARRAY_SIZE(q->bus))
		return;
	q->seen[bus] = true;
	q->bus[q->tail++] = bus;
}

static void scan_function(struct bus_queue *q, uint8_t bus, uint8_t slot, uint8_t fn)
{
	struct pci_dev *d = record(bus, slot, fn);
	uint8_t secondary;

	if (!d || d->header_type != 1)
		return;
	secondary = pci_read8(d, PCI_SECONDARY_BUS);
	log_debug("pci: " PCI_BDF_FMT " leads to bus %02x", bus, slot, fn, secondary);
	queue_bus(q, secondary);
}

static void scan_bus(struct bus_queue *q, uint8_t bus)
{
	for (uint8_t slot = 0; slot < 32; slot++) {
		unsigned int fns;

		if (cfg_read(bus, slot, 0, PCI_VENDOR_ID, 2) == 0xffff)
			continue;                      /* nothing in this slot */
		fns = cfg_read(bus, slot, 0, PCI_HEADER_TYPE, 1) & 0x80 ? 8 : 1;
		for (uint8_t fn = 0; fn < fns; fn++)
			if (cfg_read(bus, slot, fn, PCI_VENDOR_ID, 2) != 0xffff)
				scan_function(q, bus, slot, fn);
	}
}

int pci_init(void)
{
	static struct bus_queue q;   /* 768 bytes: keep it off the 16 KiB stack */

	if (enumerated)
		return device_count;
	enumerated = true;
	/* MCFG's base for segment 0 covers bus 0 at offset 0; it must be
	 * 1 MiB aligned, anything else is firmware garbage. */
	if (acpi.mcfg_base && !(acpi.mcfg_base & (ECAM_BUS_SIZE - 1)))
		ecam_phys = acpi.mcfg_base;
	queue_bus(&q, 0);
	while (q.head < q.tail)
		scan_bus(&q, q.bus[q.head++]);
	bus_count = (int)q.tail;
	log_debug("pci: %d functions on %d bus%s, config access by %s", device_count, bus_count,
		  bus_count == 1 ? "" : "es", ecam_phys ? "ECAM" : "ports 0xcf8/0xcfc");
	return device_count;
}

struct pci_dev *pci_find(uint16_t vendor, uint16_t device, unsigned int n)
{
	for (int i = 0; i < device_count; i++) {
		struct pci_dev *d = &devices[i];

		if ((vendor == 0xffff || d->vendor == vendor) &&
		    (device == 0xffff || d->device == device) && n-- == 0)
			return d;
	}
	return NULL;
}

/* ---- capabilities -------------------------------------------------------- */
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t after)
{
	uint8_t off;

	if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAPS))
		return 0;
	off = after ? pci_read8(d, after + 1) : pci_read8(d, PCI_CAP_PTR);
	for (int i = 0; i < CAP_WALK_MAX; i++) {
		off &= 0xfc;
		if (off < 0x40)
			return 0;                      /* end of list, or garbage */
		if (pci_read8(d, off) == id)
			return off;
		off = pci_read8(d, off + 1);
	}
	return 0;
}

/* ---- BARs ---------------------------------------------------------------- */
/* Write all ones, read back the size mask, restore; decoding is off
 * meanwhile so the device never answers at the probe address. */
static uint32_t bar_probe(const struct pci_dev *d, uint16_t off, uint32_t orig)
{
	uint32_t mask;

	pci_write32(d, off, 0xffffffffu);
	mask = pci_read32(d, off);
	pci_write32(d, off, orig);
	return mask;
}

static int bar_decode(const struct pci_dev *d, unsigned int n, struct pci_bar *b)
{
	uint16_t off = PCI_BAR0 + 4 * n;
	uint32_t lo = pci_read32(d, off), hi = 0, mlo, mhi = 0xffffffffu;

	b->io = lo & 1;
	b->is64 = !b->io && ((lo >> 1) & 3) == 2;
	b->prefetchable = !b->io && (lo & 8);
	if (!b->io && ((lo >> 1) & 3) == 1)
		return -EINVAL;                        /* reserved type */
	if (b->is64 && n == 5)
		return -EINVAL;
	if (b->is64)
		hi = pci_read32(d, off + 4);
	mlo = bar_probe(d, off, lo);
	if (b->is64)
		mhi = bar_probe(d, off + 4, hi);
	mlo &= b->io ? ~3u : ~15u;
	if (b->io && !(mlo >> 16))
		mlo |= 0xffff0000u;                    /* 16-bit I/O decode */
	b->phys = ((uint64_t)hi << 32 | lo) & (b->io ? ~3UL : ~15UL);
	b->size = ~((uint64_t)mhi << 32 | mlo) + 1;
	return mlo && b->phys ? 0 : -EINVAL;           /* unimplemented or unassigned */
}

int pci_bar(const struct pci_dev *d, unsigned int n, struct pci_bar *out)
{
	unsigned int nbars = d->header_type == 0 ? 6 : d->header_type == 1 ? 2 : 0;
	uint16_t cmd;
	int err;

	if (n >= nbars)
		return -EINVAL;
	cmd = pci_read16(d, PCI_COMMAND);
	pci_write16(d, PCI_COMMAND, cmd & ~(PCI_CMD_IO | PCI_CMD_MEMORY));
	err = bar_decode(d, n, out);
	pci_write16(d, PCI_COMMAND, cmd);
	return err;
}

void *pci_map_bar(const struct pci_dev *d, unsigned int n, uint64_t off, uint64_t len)
{
	struct pci_bar b;

	if (pci_bar(d, n, &b) || b.io || !len || off > b.size || len > b.size - off)
		return NULL;
	return mmio_map(b.phys + off, len);
}

void pci_enable(const struct pci_dev *d)
{
	uint16_t cmd = pci_read16(d, PCI_COMMAND);

	pci_write16(d, PCI_COMMAND, cmd | PCI_CMD_MEMORY | PCI_CMD_MASTER | PCI_CMD_INTX_OFF);
}

/* ---- MSI-X --------------------------------------------------------------- */
static void msix_entry(volatile uint32_t *table, unsigned int i, uint8_t vector)
{
	volatile uint32_t *e = table + i * MSIX_ENTRY_WORDS;

	/* Fixed delivery, edge, physical destination: this CPU's LAPIC. */
	e[0] = MSI_ADDR_BASE | (lapic_id() << 12);
	e[1] = 0;
	e[2] = vector;
	e[3] = 0;                                  /* unmask */
}

static volatile uint32_t *msix_map_table(struct pci_dev *d, uint8_t cap, unsigned int entries)
{
	uint32_t where = pci_read32(d, cap + MSIX_TABLE);

	if (d->msix_table)
		return d->msix_table;                  /* mapped by an earlier call */
	return pci_map_bar(d, where & 7, where & ~7u, (uint64_t)entries * 16);
}

int pci_msix_enable(struct pci_dev *d, const uint8_t *vectors, unsigned int count)
{
	uint8_t cap = pci_find_cap(d, PCI_CAP_MSIX, 0);
	uint16_t ctrl;
	unsigned int entries;
	volatile uint32_t *table;

	if (!cap)
		return -ENODEV;
	ctrl = pci_read16(d, cap + MSIX_CTRL);
	entries = (ctrl & MSIX_CTRL_SIZE) + 1u;
	if (count > entries)
		return -ERANGE;
	table = msix_map_table(d, cap, entries);
	if (!table)
		return -ENODEV;
	/* Enabled but function-masked while the table is rewritten, so no
	 * half-written entry can fire; unused entries stay masked. */
	pci_write16(d, cap + MSIX_CTRL, ctrl | MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	for (unsigned int i = 0; i < entries; i++)
		table[i * MSIX_ENTRY_WORDS + 3] = MSIX_VEC_MASKED;
	for (unsigned int i = 0; i < count; i++)
		msix_entry(table, i, vectors[i]);
	pci_write16(d, cap + MSIX_CTRL, (ctrl | MSIX_CTRL_ENABLE) & ~MSIX_CTRL_MASKALL);
	d->msix_cap = cap;
	d->msix_entries = (uint16_t)entries;
	d->msix_table = table;
	return 0;
}
