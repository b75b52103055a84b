/* IDT: 256 gates onto the isr.S stubs.  #DF, NMI and #MC run on their own
 * IST stacks so that a blown kernel stack still gets a report.  Their stubs
 * are isr.S's "paranoid" ones: they may arrive with either GS base. */
#include <hv/lib.h>
#include <hv/percpu.h>
#include <hv/trap.h>

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "idt gate layout");

#define ISR_STUB_SIZE 16
extern char isr_table[];
/* Exactly one page: the CPU reads it while a guest's tables are loaded, so
 * page-table isolation maps it (read-only) into them (mm/kspace.c). */
static struct idt_gate idt[256] __attribute__((aligned(4096)));
_Static_assert(sizeof(idt) == 4096, "the IDT is one page");

const void *idt_page(void)
{
	return idt;
}

static void idt_set(int vec, uint8_t ist)
{
	uint64_t off = (uint64_t)isr_table + (uint64_t)vec * ISR_STUB_SIZE;

	idt[vec].off_lo = off & 0xffff;
	idt[vec].sel = GDT_KCODE;
	idt[vec].ist = ist;
	idt[vec].type = 0x8e;   /* present, DPL 0, interrupt gate (IF cleared) */
	idt[vec].off_mid = (off >> 16) & 0xffff;
	idt[vec].off_hi = off >> 32;
	idt[vec].zero = 0;
}

/* One IDT for every CPU: the IST numbers pick each CPU's own stacks
 * through its own TSS. */
void idt_init(void)
{
	for (int v = 0; v < 256; v++)
		idt_set(v, 0);
	idt_set(2, IST_NMI);
	idt_set(8, IST_DF);
	idt_set(18, IST_MC);
	idt_set(1, IST_DB);     /* a #DB or #BP can never land on a stack in use */
	idt_set(3, IST_BP);
	idt_load();
}

void idt_load(void)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr;

	idtr.limit = sizeof(idt) - 1;
	idtr.base = (uint64_t)idt;
	__asm__ volatile("lidt %0" :: "m"(idtr));
}
