/* Per-CPU areas (hv/percpu.h): struct cpu, its GDT/TSS, and its stacks.
 *
 * Stacks live in their own virtual region (hv/layout.h, STACKS_BASE), one
 * slot per CPU, each stack with an unmapped guard page below it: running
 * off the end faults instead of corrupting whatever lies below, and the
 * fault then lands on #DF's own IST stack, which reports it.
 *
 *   slot: [guard][entry page][guard][entry stack 4K][guard][trap stack 16K]
 *         [guard][#DF 8K][guard][NMI 8K][guard][#MC 8K][guard][#DB 8K][guard][#BP 8K]
 *
 * The entry page (struct cpu_entry: GDT, TSS, what entry code reads via
 * GS), the entry stack and the IST stacks are also mapped into every
 * guest's page tables (kspace_share): under page-table isolation they are
 * all a guest's tables hold of this CPU.  The trap stack, where the C code
 * runs, never is.
 *
 * The boot CPU starts on static stacks and a static entry page (there are
 * no page tables of ours yet) and moves to guarded ones once kspace is up. */
#include <hv/errno.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/percpu.h>
#include <hv/trap.h>
#include <hv/x86.h>

static struct cpu boot_cpu;
static struct cpu_entry boot_entry;
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

/* Under isolation an entry from ring 3 lands on the entry stack (the
 * guest's tables map it) and moves to the trap stack after the switch. */
static void set_tss_stacks(struct cpu *c)
{
	struct cpu_entry *e = c->entry;
	bool pti = (e->mitigate & MITIGATE_PTI) && c->entry_stack.hi;

	e->trap_top = c->trap_stack.hi;
	e->entry_top = c->entry_stack.hi;
	e->tss.rsp[0] = pti ? c->entry_stack.hi : c->trap_stack.hi;
	for (int i = 0; i < IST_COUNT; i++)
		e->tss.ist[i] = c->ist[i].hi;
}

static void entry_init(struct cpu *c, struct cpu_entry *e)
{
	c->entry = e;
	e->cpu = c;
	e->verw_sel = GDT_KDATA;
	e->tss.iomap_base = sizeof(e->tss);  /* no I/O bitmap: every port denied to ring 3 */
}

static void init_fields(struct cpu *c, uint32_t index, uint32_t apic_id)
{
	c->index = index;
	c->apic_id = apic_id;
	spin_init(&c->work_lock, "work", LOCK_RANK_WORK);
	cpu_table[index] = c;
}

void percpu_set_mitigations(struct cpu *c, uint8_t mitigate)
{
	c->entry->mitigate = mitigate;
	set_tss_stacks(c);
}

void percpu_init_boot_cpu(uint32_t apic_id)
{
	struct cpu *c = &boot_cpu;

	init_fields(c, 0, apic_id);
	entry_init(c, &boot_entry);
	c->trap_stack = (struct cpu_stack){ (uint64_t)early_trap, (uint64_t)early_trap + HV_STACK_SIZE };
	for (int i = 0; i < IST_COUNT; i++)
		c->ist[i] = (struct cpu_stack){ (uint64_t)early_ist[i], (uint64_t)early_ist[i] + HV_IST_SIZE };
	set_tss_stacks(c);
	cpu_count = 1;
	c->online = true;           /* IPIs, shootdowns and stops must reach it too */
	wrmsr(MSR_GS_BASE, (uint64_t)c->entry);
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

/* What entry code may touch with a guest's tables loaded (see the top). */
static void share_with_guests(const struct cpu *c)
{
	uint64_t rw = PTE_W | pt_nx();

	kspace_share((uint64_t)c->entry, 1, rw);
	kspace_share(c->entry_stack.lo, (c->entry_stack.hi - c->entry_stack.lo) / PAGE_SIZE, rw);
	for (int i = 0; i < IST_COUNT; i++)
		kspace_share(c->ist[i].lo, (c->ist[i].hi - c->ist[i].lo) / PAGE_SIZE, rw);
}

/* The boot CPU leaves its static entry page for the guarded slot's: same
 * contents, then GDT, TSS and GS reloaded from the new place. */
static void adopt_entry_page(struct cpu *c, struct cpu_entry *page)
{
	bool moving = c->entry != NULL;

	if (moving)
		*page = *c->entry;
	entry_init(c, page);
	set_tss_stacks(c);
	if (moving)
		percpu_load(c);
}

int percpu_map_stacks(struct cpu *c)
{
	uint64_t va = STACKS_BASE + (uint64_t)c->index * STACK_SLOT_SIZE + PAGE_SIZE;
	struct cpu_stack page;
	struct { struct cpu_stack *s; uint64_t size; } part[] = {
		{ &page, PAGE_SIZE }, { &c->entry_stack, PAGE_SIZE }, { &c->trap_stack, HV_STACK_SIZE },
		{ &c->ist[0], HV_IST_SIZE }, { &c->ist[1], HV_IST_SIZE }, { &c->ist[2], HV_IST_SIZE },
		{ &c->ist[3], HV_IST_SIZE }, { &c->ist[4], HV_IST_SIZE },
	};
	int r = 0;

	_Static_assert(IST_COUNT == 5, "one part per IST stack");
	_Static_assert(2 * PAGE_SIZE + HV_STACK_SIZE + IST_COUNT * HV_IST_SIZE + 9 * PAGE_SIZE <= STACK_SLOT_SIZE,
		       "a CPU's stacks fit its slot");
	for (size_t i = 0; i < ARRAY_SIZE(part) && !r; va += part[i].size + PAGE_SIZE, i++)
		r = map_stack(va, part[i].size, part[i].s);
	if (r)
		return -ENOMEM;
	adopt_entry_page(c, (struct cpu_entry *)page.lo);
	share_with_guests(c);
	return 0;
}

/* ---- GDT, TSS and GS on this CPU ----------------------------------------- */

static void gdt_fill(struct cpu_entry *e)
{
	uint64_t base = (uint64_t)&e->tss, limit = sizeof(e->tss) - 1;

	e->gdt[0] = 0;
	e->gdt[1] = 0x00af9a000000ffffUL;  /* kernel code, 64-bit */
	e->gdt[2] = 0x00cf92000000ffffUL;  /* kernel data */
	e->gdt[3] = 0x00cff2000000ffffUL;  /* user data, DPL 3 */
	e->gdt[4] = 0x00affa000000ffffUL;  /* user code, 64-bit, DPL 3 */
	e->gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89UL << 40) |
		    (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	e->gdt[6] = base >> 32;
}

void percpu_load(struct cpu *c)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr;

	gdt_fill(c->entry);
	gdtr.limit = sizeof(c->entry->gdt) - 1;
	gdtr.base = (uint64_t)c->entry->gdt;
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
	wrmsr(MSR_GS_BASE, (uint64_t)c->entry);
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
	struct cpu_stack s[IST_COUNT + 3] = {
		c->trap_stack, c->ist[0], c->ist[1], c->ist[2], c->ist[3], c->ist[4], c->entry_stack,
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

static const char *const stack_names[] = { "trap", "#DF", "NMI", "#MC", "#DB", "#BP", "entry" };

static const char *guard_of(const struct cpu *c, uint64_t addr)
{
	const struct cpu_stack *s[] = { &c->trap_stack, &c->ist[0], &c->ist[1], &c->ist[2],
					&c->ist[3], &c->ist[4], &c->entry_stack };

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
