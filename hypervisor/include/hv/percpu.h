/* Per-CPU state: one struct cpu per physical CPU, reached through GS in
 * ring 0.  In ring 3 the guest's GS base is live and ours waits in
 * KERNEL_GS_BASE; every entry from ring 3 and every exit to it swaps them
 * (swapgs).  NMI, #MC and #DF can arrive in either state, so they decide
 * by reading GS base (arch/x86_64/isr.S, "paranoid" entry).
 *
 * Nothing per-CPU lives in a global: the running domain, the scheduler's
 * queues, the entry stacks, GDT and TSS all hang off struct cpu.  Other
 * CPUs reach a struct cpu only through cpu_get() and only touch fields
 * documented as shared (under the lock named beside them). */
#ifndef HV_PERCPU_H
#define HV_PERCPU_H

#include <stdbool.h>
#include <stdint.h>
#include <hv/config.h>
#include <hv/hwevent.h>
#include <hv/lock.h>
#include <hv/percpu_offsets.h>
#include <hv/sched_cpu.h>

#define MAX_CPUS CONFIG_MAX_CPUS

struct domain;
struct work;

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

#define GDT_ENTRIES 7
#define IST_DF  1
#define IST_NMI 2
#define IST_MC  3
#define IST_DB  4
#define IST_BP  5
#define IST_COUNT 5

/* One stack: [lo, hi), with an unmapped guard page just below lo. */
struct cpu_stack { uint64_t lo, hi; };

/* What entry and exit touch while a guest's page tables may be loaded
 * (page-table isolation, docs/security.md): one page per CPU, mapped at
 * the same address in the hypervisor's tables and in every guest's.  GS
 * base points here in ring 0; the first word leads on to struct cpu. */
struct cpu_entry {
	struct cpu *cpu;          /* this_cpu() */
	uint64_t user_rsp;        /* syscall entry parks the guest RSP here */
	uint64_t trap_top;        /* frames are built here in ring 0 */
	uint64_t kernel_cr3;      /* tables an entry from the guest switches to */
	uint64_t user_cr3;        /* tables an exit to the guest loads */
	uint64_t entry_top;       /* top of the entry stack (TSS.RSP0 under isolation) */
	uint8_t mitigate;         /* MITIGATE_* below: what entry and exit do */
	uint16_t verw_sel;        /* VERW's operand: any valid selector */
	uint64_t frame_top;       /* end of current's regs: entries save there */
	uint64_t frame;           /* &current->regs: exits load it */
	uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16)));
	struct tss tss __attribute__((aligned(16)));
} __attribute__((aligned(4096)));
_Static_assert(sizeof(struct cpu_entry) == 4096, "one page");

struct cpu {
	struct cpu_entry *entry;  /* GS base in ring 0 */
	uint32_t index;           /* 0 = the boot CPU; dense */
	uint32_t apic_id;
	volatile bool online;     /* set by the CPU itself once it idles */

	struct domain *running;   /* running here (or being switched), or NULL; `current` */
	bool in_hypercall;        /* wake-ups do not preempt the caller */

	struct cpu_stack trap_stack, entry_stack, ist[IST_COUNT];

	struct cpu_sched sched;   /* run queue etc.: core/sched*.c */
	struct lock_cpu locks;    /* held locks, for the order checker */
	struct spinlock work_lock;/* guards work */
	struct work *work;        /* deferred work for this CPU (core/work.c) */
	volatile bool call_pending;  /* owes the posted cross-CPU call (ipi.c) */
	struct hw_pending hw;     /* NMI / machine check to report (hwevent.c) */
};

#define ENTRY_OFF(f) __builtin_offsetof(struct cpu_entry, f)
_Static_assert(ENTRY_OFF(cpu) == CPU_SELF && ENTRY_OFF(user_rsp) == CPU_USER_RSP &&
	       ENTRY_OFF(trap_top) == CPU_TRAP_TOP && ENTRY_OFF(kernel_cr3) == CPU_KERNEL_CR3 &&
	       ENTRY_OFF(user_cr3) == CPU_USER_CR3 && ENTRY_OFF(entry_top) == CPU_ENTRY_TOP &&
	       ENTRY_OFF(mitigate) == CPU_MITIGATE && ENTRY_OFF(verw_sel) == CPU_VERW_SEL &&
	       ENTRY_OFF(frame_top) == CPU_FRAME_TOP && ENTRY_OFF(frame) == CPU_FRAME,
	       "asm offsets (hv/percpu_offsets.h)");

static inline struct cpu *this_cpu(void)
{
	struct cpu *c;

	__asm__ volatile("movq %%gs:0, %0" : "=r"(c));
	return c;
}

#define current (this_cpu()->running)

/* CPUs started so far and the table of them (index order). */
extern uint32_t cpu_count;
struct cpu *cpu_get(uint32_t index);

/* arch/x86_64/percpu.c */
void percpu_init_boot_cpu(uint32_t apic_id);   /* GS for the BSP, static storage */
/* An AP's area and guarded stacks; NULL: no memory.  Reused when a CPU
 * tried at this index never came up. */
struct cpu *percpu_alloc(uint32_t index, uint32_t apic_id);
int percpu_map_stacks(struct cpu *c);          /* guarded stacks; 0 or -ENOMEM */
void percpu_load(struct cpu *c);               /* GDT, TSS, GS base on this CPU */
/* MITIGATE_* bits for c's entry and exit paths (TSS.RSP0 follows PTI). */
void percpu_set_mitigations(struct cpu *c, uint8_t mitigate);
/* The stack of this CPU holding addr (for bounded backtraces), and whether
 * addr lies in a guard page (stack overflow). */
int percpu_stack_bounds(uint64_t addr, uint64_t *lo, uint64_t *hi);
const char *percpu_guard_hit(uint64_t addr, uint32_t *cpu_index);

#endif
