/* Spinlocks.  Every lock guards named data, is taken with interrupts off
 * and has a rank: its place in the one lock order (docs/architecture.md,
 * "Locks").  A CPU may take a lock only if its rank is above every lock it
 * already holds; two locks of one rank (two run queues) nest in address
 * order.  No lock is held across a switch to a guest.
 *
 * Test builds (CONFIG_LOCK_CHECK) check all of this at run time and turn a
 * violation into a panic report with both stacks: where the held lock was
 * taken and where the offending acquire happened.  They also report a lock
 * held longer than CONFIG_LOCK_HOLD_MAX_US and a spin that never ends. */
#ifndef HV_LOCK_H
#define HV_LOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <hv/config.h>

/* The lock order, lowest first.  Keep docs/architecture.md in step. */
enum lock_rank {
	LOCK_RANK_RESTORES = 5,   /* open restores (core/restore.c): claiming one */
	LOCK_RANK_DOMAINS = 10,   /* domain table, restart bookkeeping */
	LOCK_RANK_CONSOLE_KEEP = 12, /* consoles of ended domains (copied out under it) */
	LOCK_RANK_SNAPSHOTS = 14, /* the snapshot store (core/snapshot.c): names and the list */
	LOCK_RANK_IMAGES = 15,    /* run-time image store and its reference counts */
	LOCK_RANK_VOLUMES = 17,   /* volume claims: one writer per extent */
	LOCK_RANK_NET = 20,       /* switch, every net backend, the uplink NIC */
	LOCK_RANK_BLKBACK = 22,   /* one block backend: its ring, in-flight requests */
	LOCK_RANK_GUESTMEM = 25,  /* one domain's demand-zero pages as they are backed */
	LOCK_RANK_RUNQUEUE = 30,  /* a CPU's run queue and deadline heap */
	LOCK_RANK_DISK = 40,      /* one disk driver's queues (never held across done()) */
	LOCK_RANK_TIMERS = 50,    /* hypervisor timers */
	LOCK_RANK_HEAP = 60,      /* kmalloc heap (takes frames to refill) */
	LOCK_RANK_KSPACE = 65,    /* hypervisor page tables (mmio_map, stacks) */
	LOCK_RANK_FRAMES = 70,    /* frame allocator */
	LOCK_RANK_IPI = 80,       /* the cross-CPU call slot */
	LOCK_RANK_WORK = 85,      /* a CPU's deferred-work queue */
	LOCK_RANK_LOG = 90,       /* the log's line order: whole lines, whole blocks */
	LOCK_RANK_SERIAL = 95,    /* the serial transmit ring and the UART's transmitter */
};

#define LOCK_TRACE_DEPTH 6
#define LOCK_HELD_MAX 8

struct cpu;

struct spinlock {
	volatile uint32_t locked;
	uint16_t rank;
	struct cpu *owner;        /* the holder while held, for reports and spin_held_here() */
	const char *name;
	uint64_t acquired_tsc;
	uint64_t trace[LOCK_TRACE_DEPTH];   /* where it was taken (checked builds) */
};

#define SPINLOCK_INIT(lname, lrank) { .name = (lname), .rank = (lrank) }

static inline void spin_init(struct spinlock *l, const char *name, uint16_t rank)
{
	*l = (struct spinlock)SPINLOCK_INIT(name, rank);
}

/* Per-CPU record of held locks (lives in struct cpu). */
struct lock_cpu {
	struct spinlock *held[LOCK_HELD_MAX];
	uint32_t depth;
};

/* Out of line: checked builds' lock and unlock, and the spin of a
 * contended lock (until it is taken). */
uint64_t spin_lock_checked(struct spinlock *l);
void spin_unlock_checked(struct spinlock *l, uint64_t flags);
void spin_lock_contended(struct spinlock *l);

/* This CPU (what this_cpu() in hv/percpu.h reads; that header includes
 * this one, so it cannot be used here). */
static inline struct cpu *lock_this_cpu(void)
{
	struct cpu *c;

	__asm__ volatile("movq %%gs:0, %0" : "=r"(c));
	return c;
}

/* Interrupts off, then the lock; returns the caller's RFLAGS to restore.
 * Without the checker the uncontended case is inline: every pass through
 * the scheduler takes its run-queue lock. */
static inline uint64_t spin_lock(struct spinlock *l)
{
	uint64_t flags;

	if (IS_ENABLED(CONFIG_LOCK_CHECK))
		return spin_lock_checked(l);
	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) :: "memory");
	if (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		spin_lock_contended(l);
	l->owner = lock_this_cpu();
	return flags;
}

static inline void spin_unlock(struct spinlock *l, uint64_t flags)
{
	if (IS_ENABLED(CONFIG_LOCK_CHECK)) {
		spin_unlock_checked(l, flags);
		return;
	}
	l->owner = 0;
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
	if (flags & 0x200)                       /* RFLAGS.IF was set */
		__asm__ volatile("sti" ::: "memory");
}

/* The same where interrupts are off already and stay off (a hypercall:
 * SFMASK clears IF), so there are no RFLAGS to save and no sti to decide.
 * Checked builds refuse it with interrupts on. */
void spin_lock_irqs_off_checked(struct spinlock *l);

static inline void spin_lock_irqs_off(struct spinlock *l)
{
	if (IS_ENABLED(CONFIG_LOCK_CHECK)) {
		spin_lock_irqs_off_checked(l);
		return;
	}
	if (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		spin_lock_contended(l);
	l->owner = lock_this_cpu();
}

static inline void spin_unlock_irqs_off(struct spinlock *l)
{
	spin_unlock(l, 0);    /* RFLAGS without IF: interrupts stay off */
}

bool spin_try_lock(struct spinlock *l, uint64_t *flags);
bool spin_held_here(const struct spinlock *l);   /* by this CPU */
uint32_t locks_held_here(void);                  /* checked builds only */

/* Panic and power-off paths: take the log lock if it can be had soon,
 * otherwise print anyway (a dead CPU may hold it). */
void lock_break_for_panic(void);
bool lock_panicking(void);

#endif
