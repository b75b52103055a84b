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
#define IST_COUNT 3

/* One stack: [lo, hi), with an unmapped guard page just below lo. */
struct cpu_stack { uint64_t lo, hi; };

struct cpu {
	/* Read by assembly through %gs: offsets asserted below. */
	struct cpu *self;
	uint64_t user_rsp;        /* syscall entry parks the guest RSP here */
	uint64_t trap_stack_top;  /* entries from ring 3 start here (TSS.RSP0) */

	uint32_t index;           /* 0 = the boot CPU; dense */
	uint32_t apic_id;
	volatile bool online;     /* set by the CPU itself once it idles */

	struct domain *running;   /* running here (or being switched), or NULL; `current` */
	bool in_hypercall;        /* wake-ups do not preempt the caller */

	struct cpu_stack trap_stack, ist[IST_COUNT];
	uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16)));
	struct tss tss __attribute__((aligned(16)));

	struct cpu_sched sched;   /* run queue etc.: core/sched*.c */
	struct lock_cpu locks;    /* held locks, for the order checker */
	struct spinlock work_lock;/* guards work */
	struct work *work;        /* deferred work for this CPU (core/work.c) */
	volatile bool call_pending;  /* owes the posted cross-CPU call (ipi.c) */
};

_Static_assert(__builtin_offsetof(struct cpu, self) == CPU_SELF, "asm offset");
_Static_assert(__builtin_offsetof(struct cpu, user_rsp) == CPU_USER_RSP, "asm offset");
_Static_assert(__builtin_offsetof(struct cpu, trap_stack_top) == CPU_TRAP_TOP, "asm offset");

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
/* The stack of this CPU holding addr (for bounded backtraces), and whether
 * addr lies in a guard page (stack overflow). */
int percpu_stack_bounds(uint64_t addr, uint64_t *lo, uint64_t *hi);
const char *percpu_guard_hit(uint64_t addr, uint32_t *cpu_index);

#endif
