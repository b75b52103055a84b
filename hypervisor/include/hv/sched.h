/* The scheduler: one run queue per CPU under the fair-share policy
 * (hv/sched_fair.h), a deadline heap per CPU, tickless one-shot timers.
 *
 *   core/sched.c         placing domains, state changes, wake-ups, kicks
 *   core/sched_switch.c  the way back to ring 3: pick, switch, idle, steal
 *   core/sched_timer.c   arming each CPU's one-shot timer, deadlines,
 *                        hypervisor timers
 *
 * A domain is queued on (or runs on) exactly one CPU, d->cpu, and every
 * scheduling field of it is guarded by that CPU's run-queue lock.  It moves
 * only when an idle CPU steals it (holding both queues' locks) and only to
 * a CPU its affinity allows.  docs/architecture.md, "Scheduling", states
 * the policy and its bounds. */
#ifndef HV_SCHED_H
#define HV_SCHED_H

#include <stdbool.h>
#include <stdint.h>
#include <hv/domain.h>
#include <hv/percpu.h>

struct domain;
struct trap_frame;

void sched_init(uint64_t time_slice_us);   /* boot CPU, before any domain */
void sched_init_cpu(struct cpu *c);        /* each CPU's queues (boot CPU too) */
void sched_wait_ready(void);               /* an AP, until sched_init is done */
void sched_add(struct domain *d);          /* new domain: runnable somewhere */
void sched_add_paused(struct domain *d);   /* new domain: placed, paused until sched_unpause */
/* d is paused (or blocked) and not current on any CPU: its registers and
 * FPU state are in struct domain and stay there until it is resumed. */
bool sched_off_cpu(struct domain *d);
void sched_remove(struct domain *d);       /* dead: off every queue */
/* Block current until an event in mask or the deadline (TSC; UINT64_MAX
 * none).  Returns 1 without blocking when an event in mask is already
 * pending (checked under the lock, so a wake-up cannot be lost). */
int sched_block(struct domain *d, uint64_t deadline_tsc, uint64_t mask);
/* Make a blocked domain runnable, its pending hypercall returning rax.  Any
 * CPU; the domain's CPU is kicked if it should run it now. */
void sched_wake(struct domain *d, int64_t rax);
/* An event bit was set for d: wake it if it blocks on that bit (under its
 * queue lock, so a domain blocking at that moment never misses it). */
void sched_wake_event(struct domain *d, uint64_t bit);
/* Ask the CPU running d (or about to) to end it at its next exit. */
void sched_kill(struct domain *d);
/* Take d off the CPUs until sched_unpause (domctl): a running domain
 * leaves its CPU at its next exit, a blocked one stays blocked and, woken,
 * waits paused.  False if d is ending. */
bool sched_pause(struct domain *d);
void sched_unpause(struct domain *d);
void sched_report(void);                   /* @event cpu-sched per CPU */
/* c's counters as one consistent snapshot, taken under its run-queue lock
 * (domctl CPU_STATS).  idle_ns includes a halt under way. */
struct sched_stats { uint64_t idle_ns, switches, wakeups, steals, timer_irqs; };
void sched_cpu_stats(struct cpu *c, struct sched_stats *out);

/* Around a hypercall handler on CPU c: a wake-up it causes on this CPU
 * does not preempt the caller, which keeps the CPU until it blocks, yields
 * or its slice ends (one slice at most), so a burst of frames costs one
 * switch, not one per frame (guest-to-guest TCP: 30 -> 49 MB/s under TCG). */
static inline void sched_hypercall_begin(struct cpu *c) { c->in_hypercall = true; }
static inline void sched_hypercall_end(struct cpu *c) { c->in_hypercall = false; }

/* The running domain yields: with exactly one domain waiting and nothing
 * else to look at, the switch (or going on) happens at once, without
 * sched_reschedule's general checks; otherwise it goes back into the
 * queue on the way out, unless nobody waits (then there is nobody to
 * yield to).  The caller has put the yield's result in its frame already:
 * it may have left the CPU on return (sched_switch.c). */
void sched_yield(struct cpu *c);

/* The common case of the way back to ring 3, decided without the lock:
 * nothing changed since c last looked, so the same domain goes on and the
 * timer is right.  Whoever changes what c should do (a wake-up, a kill,
 * queued work, its own timer firing) sets sched.look, from another CPU
 * followed by a reschedule IPI, which brings c back here. */
static inline bool sched_nothing_to_do(const struct cpu *c)
{
	const struct domain *cur = c->running;

	return !c->sched.look && cur && cur->state == DOM_RUNNING;
}

/* The rest (sched_switch.c): runs c's deferred work, picks who runs and
 * points the exit at its registers (idles with interrupts on while
 * nobody can run). */
void sched_reschedule(struct cpu *c);

/* Called last on every path back to ring 3.  Inline: it is most of a
 * null hypercall.  The caller's frame may belong to a domain that has
 * ended and been freed by then: never touch it after. */
static inline void sched_return_to_guest(void)
{
	struct cpu *c = this_cpu();

	if (!sched_nothing_to_do(c))
		sched_reschedule(c);
}
/* A CPU's first entry into the scheduler (isr.S); never returns. */
__attribute__((noreturn)) void sched_start(void);

/* Hypervisor timers: fn(arg) runs once, on the boot CPU's normal path
 * (never in interrupt context), after when_tsc. */
typedef void (*sched_timer_fn)(uint32_t arg);
int sched_timer_add(uint64_t when_tsc, sched_timer_fn fn, uint32_t arg);
uint32_t sched_pending_timers(void);

/* ---- between the scheduler's files (not for other subsystems) ---------- */
struct cpu_sched;
void sched_timer_irq(struct trap_frame *f);       /* the LAPIC timer vector */
void sched_arm_timer(struct cpu *c);              /* c's lock held */
uint64_t sched_timers_next(void);                 /* earliest, or UINT64_MAX */
void sched_kick(struct cpu *c, struct domain *woken);  /* c's lock held */
void sched_charge(struct cpu *c, uint64_t now);   /* c's lock held */
uint32_t sched_load(const struct cpu *c);         /* waiting + running, a hint */
struct cpu *sched_lock_domain(struct domain *d, uint64_t *flags);
void sched_wake_locked(struct cpu *c, struct domain *d, int64_t rax, uint64_t now);
extern uint64_t sched_base_slice_ns;

#endif
