/* PCI: configuration space (ECAM when ACPI's MCFG gives one, else the
 * legacy 0xCF8/0xCFC ports), the device list found at boot, capabilities,
 * BARs and MSI-X (drivers/pci.c).
 *
 * Everything runs with interrupts off on the boot CPU: the 0xCF8/0xCFC
 * pair is not atomic, so an SMP hypervisor must add a lock here. */
#ifndef HV_PCI_H
#define HV_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_MAX_DEVICES 64

/* Configuration space registers (type 0 and 1 headers). */
#define PCI_VENDOR_ID     0x00
#define PCI_DEVICE_ID     0x02
#define PCI_COMMAND       0x04
#define PCI_STATUS        0x06
#define PCI_CLASS_REV     0x08
#define PCI_HEADER_TYPE   0x0e
#define PCI_BAR0          0x10
#define PCI_SECONDARY_BUS 0x19      /* type 1 (bridge) header */
#define PCI_SUBSYS_VENDOR 0x2c
#define PCI_SUBSYS_ID     0x2e
#define PCI_CAP_PTR       0x34

#define PCI_CMD_IO        (1u << 0)
#define PCI_CMD_MEMORY    (1u << 1)
#define PCI_CMD_MASTER    (1u << 2)
#define PCI_CMD_INTX_OFF  (1u << 10)
#define PCI_STATUS_CAPS   (1u << 4)

#define PCI_CAP_MSIX      0x11
#define PCI_CAP_VENDOR    0x09

/* "bb:dd.f" for log lines: pass PCI_BDF_ARGS(dev). */
#define PCI_BDF_FMT "%02x:%02x.%x"
#define PCI_BDF_ARGS(d) (d)->bus, (d)->slot, (d)->fn

struct pci_dev {
	uint8_t bus, slot, fn;
	uint8_t header_type;            /* without the multi-function bit */
	uint16_t vendor, device;
	uint16_t subsys_vendor, subsys_id;
	uint8_t class_code, subclass, prog_if, revision;
	/* MSI-X, once pci_msix_enable() has run */
	uint8_t msix_cap;
	uint16_t msix_entries;
	volatile uint32_t *msix_table;
};

struct pci_bar {
	uint64_t phys;
	uint64_t size;
	bool io;                        /* an I/O port BAR (not mappable) */
	bool is64;
	bool prefetchable;
};

/* Enumerate once (later calls return at once).  Returns the device count. */
int pci_init(void);
/* The n-th device with this vendor and device id (0xffff: any), or NULL. */
struct pci_dev *pci_find(uint16_t vendor, uint16_t device, unsigned int n);

uint8_t pci_read8(const struct pci_dev *d, uint16_t off);
uint16_t pci_read16(const struct pci_dev *d, uint16_t off);
uint32_t pci_read32(const struct pci_dev *d, uint16_t off);
void pci_write8(const struct pci_dev *d, uint16_t off, uint8_t v);
void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v);
void pci_write32(const struct pci_dev *d, uint16_t off, uint32_t v);

/* Offset of the first capability with this id after `after` (0: from the
 * start of the list), or 0 when there is none. */
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t after);

/* Decode BAR n (0..5), sizing it.  0, or -EINVAL for an absent/bad BAR. */
int pci_bar(const struct pci_dev *d, unsigned int n, struct pci_bar *out);
/* Map [off, off + len) of memory BAR n uncached; NULL unless it lies
 * wholly inside the BAR. */
void *pci_map_bar(const struct pci_dev *d, unsigned int n, uint64_t off, uint64_t len);

/* Memory decoding and bus mastering on, legacy INTx off. */
void pci_enable(const struct pci_dev *d);
/* MSI-X entries 0..count-1 deliver vectors[i] to this CPU's LAPIC.
 * 0, -ENODEV without MSI-X, -ERANGE when the table is too small. */
int pci_msix_enable(struct pci_dev *d, const uint8_t *vectors, unsigned int count);

#endif
