/* GDT and TSS.  Selector order is fixed by syscall/sysret: STAR[47:32] =
 * kernel CS (SS = +8), STAR[63:48] + 16 = user CS, + 8 = user SS. */
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/trap.h>

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss) == 104, "tss layout");

#define IST_DF  1
#define IST_NMI 2
#define IST_MC  3

static struct tss tss __attribute__((aligned(16)));
static uint64_t gdt[7] __attribute__((aligned(16)));
static uint8_t ist_stack[3][HV_IST_SIZE] __attribute__((aligned(16)));
/* Entries from ring 3 (traps and hypercalls) start at the top of this
 * stack every time; the boot stack is abandoned once domains run. */
static uint8_t trap_stack[HV_STACK_SIZE] __attribute__((aligned(4096)));
uint64_t trap_stack_top = (uint64_t)trap_stack + HV_STACK_SIZE;
extern uint8_t boot_stack_top[];

static void gdt_set_tss(void)
{
	uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;

	gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89UL << 40) |
		 (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[6] = base >> 32;
}

void gdt_init(void)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr;

	gdt[0] = 0;
	gdt[1] = 0x00af9a000000ffffUL;  /* kernel code, 64-bit */
	gdt[2] = 0x00cf92000000ffffUL;  /* kernel data */
	gdt[3] = 0x00cff2000000ffffUL;  /* user data, DPL 3 */
	gdt[4] = 0x00affa000000ffffUL;  /* user code, 64-bit, DPL 3 */
	for (int i = 0; i < 3; i++)
		tss.ist[i] = (uint64_t)ist_stack[i] + HV_IST_SIZE;
	tss.rsp[0] = trap_stack_top;
	tss.iomap_base = sizeof(tss);  /* no I/O bitmap: all ports denied to ring 3 */
	gdt_set_tss();
	gdtr.limit = sizeof(gdt) - 1;
	gdtr.base = (uint64_t)gdt;
	__asm__ volatile(
		"lgdt %0\n\t"
		"mov %1, %%ds\n\t mov %1, %%es\n\t mov %1, %%ss\n\t"
		"xor %%eax, %%eax\n\t mov %%ax, %%fs\n\t mov %%ax, %%gs\n\t"
		"pushq %2\n\t leaq 1f(%%rip), %%rax\n\t pushq %%rax\n\t lretq\n"
		"1:\n\t"
		"mov %3, %%ax\n\t ltr %%ax"
		:: "m"(gdtr), "r"((uint64_t)GDT_KDATA), "i"(GDT_KCODE), "i"(GDT_TSS)
		: "rax", "memory");
}

uint64_t cpu_stack_top(void)
{
	return trap_stack_top;
}

static int bounds(uint64_t addr, uint64_t lo, uint64_t size, uint64_t *blo, uint64_t *bhi)
{
	if (addr < lo || addr >= lo + size)
		return 0;
	*blo = lo;
	*bhi = lo + size;
	return 1;
}

/* Which known stack holds addr: used by the backtrace to stay in bounds. */
int gdt_stack_bounds(uint64_t addr, uint64_t *lo, uint64_t *hi)
{
	if (bounds(addr, (uint64_t)boot_stack_top - HV_STACK_SIZE, HV_STACK_SIZE, lo, hi) ||
	    bounds(addr, (uint64_t)trap_stack, HV_STACK_SIZE, lo, hi))
		return 1;
	for (int i = 0; i < 3; i++)
		if (bounds(addr, (uint64_t)ist_stack[i], HV_IST_SIZE, lo, hi))
			return 1;
	return 0;
}
