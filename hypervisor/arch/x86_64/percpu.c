/* Per-CPU areas (hv/percpu.h): struct cpu, its GDT/TSS, and its stacks.
 *
 * Stacks live in their own virtual region (hv/layout.h, STACKS_BASE), one
 * slot per CPU, each stack with an unmapped guard page below it: running
 * off the end faults instead of corrupting whatever lies below, and the
 * fault then lands on #DF's own IST stack, which reports it.
 *
 *   slot: [guard][trap stack 16K][guard][#DF 8K][guard][NMI 8K][guard][#MC 8K]
 *
 * The boot CPU starts on static stacks (there are no page tables of ours
 * yet) and moves to guarded ones once kspace is up. */
#include <hv/errno.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/percpu.h>
#include <hv/trap.h>
#include <hv/x86.h>

static struct cpu boot_cpu;
static struct cpu *cpu_table[MAX_CPUS];
uint32_t cpu_count;

/* Until the boot CPU's guarded stacks exist. */
static uint8_t early_ist[IST_COUNT][HV_IST_SIZE] __attribute__((aligned(16)));
static uint8_t early_trap[HV_STACK_SIZE] __attribute__((aligned(16)));
extern uint8_t boot_stack[], boot_stack_top[];

struct cpu *cpu_get(uint32_t index)
{
	return index < MAX_CPUS ? cpu_table[index] : NULL;
}

static void set_tss_stacks(struct cpu *c)
{
	c->trap_stack_top = c->trap_stack.hi;
	c->tss.rsp[0] = c->trap_stack.hi;
	for (int i = 0; i < IST_COUNT; i++)
		c->tss.ist[i] = c->ist[i].hi;
}

static void init_fields(struct cpu *c, uint32_t index, uint32_t apic_id)
{
	c->self = c;
	c->index = index;
	c->apic_id = apic_id;
	c->tss.iomap_base = sizeof(c->tss);  /* no I/O bitmap: every port denied to ring 3 */
	spin_init(&c->work_lock, "work", LOCK_RANK_WORK);
	cpu_table[index] = c;
}

void percpu_init_boot_cpu(uint32_t apic_id)
{
	struct cpu *c = &boot_cpu;

	init_fields(c, 0, apic_id);
	c->trap_stack = (struct cpu_stack){ (uint64_t)early_trap, (uint64_t)early_trap + HV_STACK_SIZE };
	for (int i = 0; i < IST_COUNT; i++)
		c->ist[i] = (struct cpu_stack){ (uint64_t)early_ist[i], (uint64_t)early_ist[i] + HV_IST_SIZE };
	set_tss_stacks(c);
	cpu_count = 1;
	c->online = true;           /* IPIs, shootdowns and stops must reach it too */
	wrmsr(MSR_GS_BASE, (uint64_t)c);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
}

/* A CPU that never came up leaves its area (and stacks) for the next one
 * tried at the same index. */
static struct cpu *reuse(uint32_t index, uint32_t apic_id)
{
	struct cpu *c = cpu_table[index];

	c->apic_id = apic_id;
	c->online = false;
	return c;
}

struct cpu *percpu_alloc(uint32_t index, uint32_t apic_id)
{
	uint64_t pages = PAGE_ALIGN_UP(sizeof(struct cpu)) / PAGE_SIZE, pa;
	struct cpu *c;

	if (index >= MAX_CPUS)
		return NULL;
	if (cpu_table[index])
		return reuse(index, apic_id);
	pa = frame_alloc_contig(pages);
	if (!pa)
		return NULL;
	c = phys_to_virt(pa);
	init_fields(c, index, apic_id);
	if (percpu_map_stacks(c)) {      /* mapped pages stay for a retry */
		cpu_table[index] = NULL;
		frame_free_contig(pa, pages);
		return NULL;
	}
	return c;
}

/* ---- guarded stacks ------------------------------------------------------- */

static int map_stack(uint64_t va, uint64_t size, struct cpu_stack *s)
{
	int r = kspace_map_fresh(va, size / PAGE_SIZE);

	if (!r)
		*s = (struct cpu_stack){ va, va + size };
	return r;
}

int percpu_map_stacks(struct cpu *c)
{
	uint64_t va = STACKS_BASE + (uint64_t)c->index * STACK_SLOT_SIZE + PAGE_SIZE;
	int r = map_stack(va, HV_STACK_SIZE, &c->trap_stack);

	va += HV_STACK_SIZE + PAGE_SIZE;
	for (int i = 0; i < IST_COUNT && !r; i++, va += HV_IST_SIZE + PAGE_SIZE)
		r = map_stack(va, HV_IST_SIZE, &c->ist[i]);
	if (!r)
		set_tss_stacks(c);
	return r ? -ENOMEM : 0;
}

/* ---- GDT, TSS and GS on this CPU ----------------------------------------- */

static void gdt_fill(struct cpu *c)
{
	uint64_t base = (uint64_t)&c->tss, limit = sizeof(c->tss) - 1;

	c->gdt[0] = 0;
	c->gdt[1] = 0x00af9a000000ffffUL;  /* kernel code, 64-bit */
	c->gdt[2] = 0x00cf92000000ffffUL;  /* kernel data */
	c->gdt[3] = 0x00cff2000000ffffUL;  /* user data, DPL 3 */
	c->gdt[4] = 0x00affa000000ffffUL;  /* user code, 64-bit, DPL 3 */
	c->gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89UL << 40) |
		    (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	c->gdt[6] = base >> 32;
}

void percpu_load(struct cpu *c)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr;

	gdt_fill(c);
	gdtr.limit = sizeof(c->gdt) - 1;
	gdtr.base = (uint64_t)c->gdt;
	__asm__ volatile(
		"lgdt %0\n\t"
		"mov %1, %%ds\n\t mov %1, %%es\n\t mov %1, %%ss\n\t"
		"xor %%eax, %%eax\n\t mov %%ax, %%fs\n\t mov %%ax, %%gs\n\t"
		"pushq %2\n\t leaq 1f(%%rip), %%rax\n\t pushq %%rax\n\t lretq\n"
		"1:\n\t"
		"mov %3, %%ax\n\t ltr %%ax"
		:: "m"(gdtr), "r"((uint64_t)GDT_KDATA), "i"(GDT_KCODE), "i"(GDT_TSS)
		: "rax", "memory");
	/* loading GS zeroed its base: point it at this CPU again */
	wrmsr(MSR_GS_BASE, (uint64_t)c);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
}

/* ---- which stack holds an address ----------------------------------------- */

static bool in(uint64_t addr, uint64_t lo, uint64_t hi)
{
	return addr >= lo && addr < hi;
}

int percpu_stack_bounds(uint64_t addr, uint64_t *lo, uint64_t *hi)
{
	struct cpu *c = this_cpu();
	struct cpu_stack s[IST_COUNT + 2] = {
		c->trap_stack, c->ist[0], c->ist[1], c->ist[2],
		{ (uint64_t)boot_stack + PAGE_SIZE, (uint64_t)boot_stack_top },
	};

	for (size_t i = 0; i < ARRAY_SIZE(s); i++) {
		if (in(addr, s[i].lo, s[i].hi)) {
			*lo = s[i].lo;
			*hi = s[i].hi;
			return 1;
		}
	}
	return 0;
}

static const char *const stack_names[] = { "trap", "#DF", "NMI", "#MC" };

static const char *guard_of(const struct cpu *c, uint64_t addr)
{
	const struct cpu_stack *s[] = { &c->trap_stack, &c->ist[0], &c->ist[1], &c->ist[2] };

	for (size_t k = 0; k < ARRAY_SIZE(s); k++)
		if (s[k]->lo && in(addr, s[k]->lo - PAGE_SIZE, s[k]->lo))
			return stack_names[k];
	return NULL;
}

/* The stack whose guard page holds addr, on any CPU, or NULL. */
const char *percpu_guard_hit(uint64_t addr, uint32_t *cpu_index)
{
	const char *name;

	*cpu_index = 0;
	if (in(addr, (uint64_t)boot_stack, (uint64_t)boot_stack + PAGE_SIZE))
		return "boot";
	for (uint32_t i = 0; i < MAX_CPUS; i++) {
		if (cpu_table[i] && (name = guard_of(cpu_table[i], addr))) {
			*cpu_index = i;
			return name;
		}
	}
	return NULL;
}
