/* The way back to ring 3 (see hv/sched.h): charge the domain that ran,
 * pick the one owed the CPU (or steal one, or idle), and point the exit
 * at its registers (each domain's frame is its own: isr.S).  Runs with
 * interrupts off and no lock held on entry; the run-queue lock is dropped
 * before the frame is returned to, so no lock is ever held across a
 * switch to a guest. */
#include <hv/domain.h>
#include <hv/ipi.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mitigations.h>
#include <hv/mm.h>
#include <hv/sched.h>
#include <hv/time.h>
#include <hv/work.h>
#include <hv/x86.h>

/* The flags ring 3 can set itself (popf): CF PF AF ZF SF TF DF OF NT AC
 * ID.  They are the guest's, and sysret returns them anyway, so a switch
 * must too (it used to drop TF, NT, AC and ID).  Never IOPL, VM, VIF/VIP
 * or RF; IF is forced on. */
#define USER_RFLAGS_KEEP 0x244dd5UL
#define RFLAGS_IF        0x200UL

#define entity_domain(e) ((struct domain *)((char *)(e) - __builtin_offsetof(struct domain, fair)))

/* c's lock held: the running domain's time up to now. */
void sched_charge(struct cpu *c, uint64_t now)
{
	struct domain *cur = c->running;

	if (cur && now > c->sched.charged_tsc)
		fair_charge(&c->sched.fq, &cur->fair, tsc_to_ns(now - c->sched.charged_tsc));
	c->sched.charged_tsc = now;
}

/* c's lock held: ns the running domain ran since its last charge, which
 * the caller charges; from here on it is charged up to now. */
static uint64_t uncharged_ns(struct cpu *c, uint64_t now)
{
	uint64_t since = c->sched.charged_tsc;

	c->sched.charged_tsc = now;
	return now > since ? tsc_to_ns(now - since) : 0;
}

static bool must_switch(struct cpu *c, uint64_t now)
{
	struct domain *cur = c->running;

	if (!cur || cur->state != DOM_RUNNING || cur->kill_requested)
		return true;
	if (!c->sched.fq.count) {          /* alone: a yield or a kick changes nothing */
		c->sched.need_resched = false;
		return false;
	}
	return c->sched.need_resched || now >= c->sched.slice_end_tsc;
}

/* ---- out and in -------------------------------------------------------------- */

/* The slice for d as the queue stands, in TSC ticks.  It depends only on
 * d's weight and the queue's, so it is converted again only when those
 * changed (a yield between the same domains reuses it). */
static uint64_t slice_tsc(struct cpu *c, const struct domain *d)
{
	struct cpu_sched *s = &c->sched;

	if (s->slice_weight != d->fair.weight || s->slice_total != s->fq.total_weight) {
		s->slice_weight = d->fair.weight;
		s->slice_total = s->fq.total_weight;
		s->slice_ticks = ns_to_tsc(fair_slice(&s->fq, &d->fair));
	}
	return s->slice_ticks;
}

/* A domain woken before it left the CPU (sched_wake_locked) returns the
 * wake-up's result, not its block's. */
static void take_wake_result(struct domain *d)
{
	if (d->wake_rax_pending) {
		d->regs.rax = d->wake_rax;
		d->wake_rax_pending = false;
	}
}

/* c's lock held, c->running charged (and requeued if still runnable):
 * its registers leave the CPU. */
static inline __attribute__((always_inline))   /* a call would cost a tenth of a switch */
void switch_out(struct cpu *c, uint64_t now)
{
	struct domain *d = c->running;

	take_wake_result(d);
	d->cpu_tsc += now - d->slice_start_tsc;
	fpu_save(d->fpu);
	c->running = NULL;
}

/* The exits to ring 3 load d's registers, the entries save ring 3's
 * there (isr.S).  Only ever the domain c runs. */
static void use_frame(struct cpu *c, struct domain *d)
{
	struct cpu_entry *e = c->entry;

	e->frame = (uint64_t)&d->regs;
	e->frame_top = (uint64_t)(&d->regs + 1);
}

/* The domain that was just switched out won again: its FPU registers,
 * page tables and frame are still the CPU's. */
static void resume_same(struct cpu *c, struct domain *d, uint64_t now)
{
	d->state = DOM_RUNNING;
	d->slice_start_tsc = now;
	c->running = d;
	c->sched.charged_tsc = now;
	c->sched.slice_end_tsc = now + slice_tsc(c, d);
	c->sched.need_resched = false;
	use_frame(c, d);
}

/* The running domain still runs first: it goes on with a fresh slice,
 * its registers, FPU state and page tables never having left the CPU. */
static void go_on(struct cpu *c, struct domain *d, uint64_t now)
{
	take_wake_result(d);
	c->sched.slice_end_tsc = now + slice_tsc(c, d);
	c->sched.need_resched = false;
}

/* The hypervisor runs on the domain's full view; the exit to ring 3 loads
 * its own view (the same one without isolation).  Predictors and the
 * return stack are cleared only between different domains. */
static void load_tables(struct cpu *c, struct domain *d)
{
	struct cpu_entry *e = c->entry;   /* locals: the stores cannot alias them */
	uint64_t pml4 = d->pml4;
	uint32_t id = d->id;

	e->kernel_cr3 = pml4;
	e->user_cr3 = d->user_pml4 ? d->user_pml4 : pml4;
	write_cr3(pml4);
	if (c->sched.last_domain_id != id)
		mitigations_domain_switch();
	c->sched.last_domain_id = id;
}

static inline __attribute__((always_inline))   /* as switch_out */
void switch_in(struct cpu *c, struct domain *d, uint64_t now)
{
	d->state = DOM_RUNNING;
	d->slice_start_tsc = now;
	d->cpus_used |= 1ULL << c->index;
	c->running = d;
	c->sched.charged_tsc = now;
	c->sched.slice_end_tsc = now + slice_tsc(c, d);
	c->sched.need_resched = false;
	c->sched.switches++;
	if (!d->switches++)
		log_event("domain-started id=%u name=%s cpu=%u", d->id, d->name, c->index);
	fpu_restore(d->fpu);
	load_tables(c, d);
	use_frame(c, d);
	d->regs.rflags = (d->regs.rflags & USER_RFLAGS_KEEP) | RFLAGS_IF | 0x2;
	d->regs.cs = GDT_UCODE;
	d->regs.ss = GDT_UDATA;
}

/* ---- stealing -------------------------------------------------------------------- */

static struct cpu *busiest_other(struct cpu *self)
{
	struct cpu *best = NULL;
	uint32_t most = 0;

	for (uint32_t i = 0; i < cpu_count; i++) {
		struct cpu *o = cpu_get(i);
		uint32_t waiting = fair_load(&o->sched.fq).count;

		if (o != self && waiting > most) {
			best = o;
			most = waiting;
		}
	}
	return best;
}

/* The first (most deserving) queued domain of victim that may run on self. */
static struct domain *stealable(struct cpu *victim, const struct cpu *self)
{
	for (uint32_t i = 0; i < victim->sched.fq.count; i++) {
		struct domain *d = entity_domain(victim->sched.fq.slot[i]);

		if (d->affinity & (1ULL << self->index))
			return d;
	}
	return NULL;
}

/* Both run-queue locks, in address order (the lock order for equal ranks). */
static void lock_pair(struct cpu *a, struct cpu *b, uint64_t *fa, uint64_t *fb)
{
	if (&a->sched.lock < &b->sched.lock) {
		*fa = spin_lock(&a->sched.lock);
		*fb = spin_lock(&b->sched.lock);
	} else {
		*fb = spin_lock(&b->sched.lock);
		*fa = spin_lock(&a->sched.lock);
	}
}

/* Both queues locked: move the first waiter of `from` that may run on
 * `to`, keeping its lag (hv/sched_fair.h).  The moved domain, or NULL. */
static struct domain *migrate_one(struct cpu *from, struct cpu *to)
{
	struct domain *d = stealable(from, to);
	int64_t lag;

	if (!d)
		return NULL;
	lag = fair_migrate_out(&from->sched.fq, &d->fair);
	__atomic_store_n(&d->cpu, to->index, __ATOMIC_RELEASE);
	fair_migrate_in(&to->sched.fq, &d->fair, lag);
	fair_requeue(&to->sched.fq, &d->fair);
	return d;
}

/* self's lock held on entry and exit (dropped meanwhile).  Moves one
 * domain from the busiest CPU to self's queue. */
static bool steal(struct cpu *self, uint64_t *flags)
{
	struct cpu *victim = busiest_other(self);
	uint64_t fv;
	bool moved;

	if (!victim)
		return false;
	spin_unlock(&self->sched.lock, *flags);
	lock_pair(self, victim, flags, &fv);
	moved = migrate_one(victim, self) != NULL;
	self->sched.steals += moved;
	spin_unlock(&victim->sched.lock, fv);
	return moved;
}

/* The least loaded other CPU, or NULL. */
static struct cpu *least_loaded_other(struct cpu *self)
{
	struct cpu *best = NULL;

	for (uint32_t i = 0; i < cpu_count; i++) {
		struct cpu *o = cpu_get(i);

		if (o != self && (!best || sched_load(o) < sched_load(best)))
			best = o;
	}
	return best;
}

/* c's lock held on entry and exit, at the end of a slice.  A CPU running
 * one domain alone has no timer and never looks for work, so a CPU with
 * two or more domains more than another hands that one a waiter (push
 * balancing); the idle case is covered by stealing. */
static void push_one(struct cpu *c, uint64_t *flags)
{
	struct cpu *target = least_loaded_other(c);
	uint64_t ft;

	if (!target || sched_load(target) + 2 > sched_load(c))
		return;
	spin_unlock(&c->sched.lock, *flags);
	lock_pair(c, target, flags, &ft);
	if (migrate_one(c, target)) {
		c->sched.pushes++;
		target->sched.look = true;
		ipi_resched(target);
	}
	spin_unlock(&target->sched.lock, ft);
}

/* ---- picking ---------------------------------------------------------------------- */

/* c's lock held.  The domain owed the CPU, stolen if need be, or NULL. */
static struct domain *pick(struct cpu *c, uint64_t *flags)
{
	struct fair_entity *e = fair_pick_next(&c->sched.fq);

	if (!e && steal(c, flags))
		e = fair_pick_next(&c->sched.fq);
	return e ? entity_domain(e) : NULL;
}

/* c's lock held around both: idle time is the span from just before the
 * halt to the re-lock after the wake-up (the interrupt that woke it
 * included).  Only this CPU adds to it, under its own lock, which it
 * takes here anyway; a reader under the same lock adds the halt under way
 * (sched_cpu_stats), so a CPU halted for seconds is not reported busy. */
static void idle_begin(struct cpu *c)
{
	c->sched.idle = true;
	c->sched.idle_since_tsc = rdtsc();
}

static void idle_end(struct cpu *c)
{
	c->sched.idle_tsc += rdtsc() - c->sched.idle_since_tsc;
	c->sched.idle = false;
}

/* Nobody to run: halt with interrupts on until an IPI, the timer or a
 * device brings work.  Returns the domain to run, c's lock held. */
static struct domain *idle(struct cpu *c, uint64_t *flags)
{
	struct domain *d;

	write_cr3(kspace_pml4());     /* never sit on a domain's tables */
	for (;;) {
		spin_unlock(&c->sched.lock, *flags);
		work_run(c);
		*flags = spin_lock(&c->sched.lock);
		d = pick(c, flags);
		if (d)
			break;
		idle_begin(c);
		sched_arm_timer(c);
		spin_unlock(&c->sched.lock, *flags);
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		*flags = spin_lock(&c->sched.lock);
		idle_end(c);
	}
	return d;
}

/* ---- the path back to ring 3 ------------------------------------------------------ */

/* A domain asked to die (sched_kill) is ended here, by its own CPU. */
static bool end_if_killed(struct cpu *c)
{
	struct domain *d = c->running;

	if (!d || !d->kill_requested || d->state == DOM_DEAD)
		return false;
	if (d->destroy_requested)
		domain_end(d, END_DESTROYED, 0, "destroyed");
	else
		domain_end(d, END_CRASH, 0, "killed");
	return true;
}

/* Deferred work ran in the interrupted domain's stead: not its time. */
static void run_work_uncharged(struct cpu *c)
{
	uint64_t t0 = rdtsc(), spent, flags;

	if (!work_run(c))
		return;
	spent = rdtsc() - t0;
	flags = spin_lock(&c->sched.lock);
	c->sched.charged_tsc += spent;
	if (c->running) {
		c->running->slice_start_tsc += spent;
		c->sched.slice_end_tsc += spent;
	}
	spin_unlock(&c->sched.lock, flags);
}

/* c's lock held, the running domain still runnable: charged, it goes on
 * if it still runs first; otherwise it is queued and whoever runs first
 * is switched in.  Returns who runs now. */
static inline __attribute__((always_inline))   /* as switch_out */
struct domain *requeue_pick(struct cpu *c, uint64_t now)
{
	struct domain *prev = c->running, *d;

	d = entity_domain(fair_requeue_pick(&c->sched.fq, &prev->fair, uncharged_ns(c, now)));
	if (d == prev) {
		go_on(c, d, now);
		return d;
	}
	prev->state = DOM_RUNNABLE;
	switch_out(c, now);
	/* From `now` on, time is the incoming domain's: the switch itself is
	 * charged, so a domain that yields in a loop pays for it. */
	switch_in(c, d, now);
	return d;
}

/* c's lock held; the running domain yielded, was preempted or used up its
 * slice, and is still runnable: requeue_pick, after a push if need be. */
static struct domain *requeue_current(struct cpu *c, uint64_t now, uint64_t *flags)
{
	if (cpu_count > 1 && c->sched.fq.count) {
		push_one(c, flags);          /* may drop the lock meanwhile */
		now = rdtsc();
	}
	return requeue_pick(c, now);
}

/* c's lock held; the running domain blocked or died, or none ran: whoever
 * is owed the CPU, stolen if need be, or the idle loop.  Returns who runs now. */
static struct domain *replace_current(struct cpu *c, uint64_t now, uint64_t *flags)
{
	struct domain *prev = c->running, *d;

	if (prev) {
		sched_charge(c, now);
		switch_out(c, now);
		/* Looking for work may drop the lock (push, steal, idle): prev,
		 * blocked, may meanwhile be woken, stolen, ended and freed by
		 * another CPU.  Never sit on its tables while it can go. */
		write_cr3(kspace_pml4());
	}
	if (c->sched.fq.count > 1 && cpu_count > 1)
		push_one(c, flags);
	d = pick(c, flags);
	if (!d) {
		d = idle(c, flags);
		now = rdtsc();           /* idle time is nobody's */
	}
	if (d == prev && read_cr3() == d->pml4)
		resume_same(c, d, now);
	else
		switch_in(c, d, now);
	return d;
}

/* c's lock held: whoever should run now gets the CPU.  False when that
 * one was asked to die (the caller ends it and looks again). */
static bool run_next(struct cpu *c, uint64_t *flags)
{
	uint64_t now = rdtsc();
	struct domain *d = c->running;

	if (!must_switch(c, now))
		take_wake_result(d);
	else if (d && d->state == DOM_RUNNING)
		d = requeue_current(c, now, flags);
	else
		d = replace_current(c, now, flags);
	return !d->kill_requested;
}

/* Something changed since this CPU last looked (sched.look). */
void sched_reschedule(struct cpu *c)
{
	uint64_t flags;

	c->sched.look = false;     /* whatever changes from here on sets it again */
	if (work_pending(c))
		run_work_uncharged(c);
	for (;;) {
		end_if_killed(c);
		flags = spin_lock(&c->sched.lock);
		if (run_next(c, &flags))
			break;
		spin_unlock(&c->sched.lock, flags);   /* picked a doomed one: end it, pick again */
	}
	sched_arm_timer(c);
	spin_unlock(&c->sched.lock, flags);
}

/* ---- a yield with one other domain waiting (the common case) ----------------- */

/* c's lock held.  A yield that sched_reschedule would handle as
 * requeue_pick alone: nothing changed since c last looked (work, wake-ups,
 * kills, pauses and c's timer all set sched.look), the domain runs on and
 * is not doomed, one domain waits and is not doomed either, and no other
 * CPU is empty enough to be pushed one (push_one). */
static bool plain_yield(struct cpu *c)
{
	const struct domain *cur = c->running;
	const struct cpu *o;

	if (c->sched.look || c->sched.fq.count != 1 || !cur ||
	    cur->state != DOM_RUNNING || cur->kill_requested ||
	    entity_domain(c->sched.fq.slot[0])->kill_requested)
		return false;
	o = cpu_count > 1 ? least_loaded_other(c) : NULL;
	return !o || sched_load(o);
}

/* After a plain yield only the slice end moved: every other input of the
 * timer is as it was when the timer was last armed (sched.look was clear),
 * so a timer armed no later than the new slice end is still right, as
 * sched_arm_timer's own laziness would find. */
static bool timer_still_right(const struct cpu *c)
{
	uint64_t armed = c->sched.timer_tsc;

	return armed && armed != UINT64_MAX && armed <= c->sched.slice_end_tsc;
}

/* c's lock taken here (interrupts are off throughout a hypercall): true
 * when it was a plain yield, now done. */
static inline __attribute__((always_inline))   /* as switch_out */
bool yield_to_one(struct cpu *c)
{
	bool plain;

	spin_lock_irqs_off(&c->sched.lock);
	plain = plain_yield(c);
	if (plain) {
		requeue_pick(c, rdtsc());
		if (!timer_still_right(c))
			sched_arm_timer(c);
	}
	spin_unlock_irqs_off(&c->sched.lock);
	return plain;
}

void sched_yield(struct cpu *c)
{
	uint32_t waiting = __atomic_load_n(&c->sched.fq.count, __ATOMIC_RELAXED);

	if (waiting == 1 && yield_to_one(c))   /* checked again under the lock */
		return;
	if (waiting) {
		c->sched.need_resched = true;
		c->sched.look = true;
	}
	if (!sched_nothing_to_do(c))
		sched_reschedule(c);
}

/* Called by sched_start (isr.S), which then leaves to ring 3. */
void sched_first_frame(void);
void sched_first_frame(void)
{
	struct cpu *c = this_cpu();
	uint64_t flags = spin_lock(&c->sched.lock);
	struct domain *d;

	c->running = NULL;
	d = pick(c, &flags);
	if (!d)
		d = idle(c, &flags);
	switch_in(c, d, rdtsc());
	sched_arm_timer(c);
	spin_unlock(&c->sched.lock, flags);
	if (d->kill_requested)
		sched_return_to_guest();
}
