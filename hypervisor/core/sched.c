/* Scheduler state changes (see hv/sched.h): where a new domain goes, how
 * it blocks, wakes, yields and dies, and when another CPU must be kicked.
 * The policy (who is owed the CPU) is hv/sched_fair.h's; this file is the
 * mechanism around it. */
#include <hv/domain.h>
#include <hv/ipi.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/sched.h>
#include <hv/time.h>
#include <hv/x86.h>

uint64_t sched_base_slice_ns;

static volatile bool ready;

/* Every CPU's queues, then let the waiting APs in (smp.c parks them in
 * sched_wait_ready until now). */
void sched_init(uint64_t time_slice_us)
{
	sched_base_slice_ns = time_slice_us * 1000;
	trap_set_irq(VEC_TIMER, sched_timer_irq);
	for (uint32_t i = 0; i < cpu_count; i++)
		sched_init_cpu(cpu_get(i));
	__atomic_store_n(&ready, true, __ATOMIC_RELEASE);
	for (uint32_t i = 1; i < cpu_count; i++)
		ipi_resched(cpu_get(i));
}

void sched_wait_ready(void)
{
	while (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE))
		__asm__ volatile("sti; hlt; cli" ::: "memory");
}

/* Room for every domain up front: queueing and blocking never allocate,
 * so they never fail and memory accounting stays exact. */
void sched_init_cpu(struct cpu *c)
{
	struct cpu_sched *s = &c->sched;
	void *slots = kmalloc(CONFIG_MAX_DOMAINS * sizeof(struct fair_entity *));

	s->dl.slot = kmalloc(CONFIG_MAX_DOMAINS * sizeof(*s->dl.slot));
	if (!slots || !s->dl.slot)
		panic("sched: no memory for CPU %u's queues", c->index);
	s->dl.cap = CONFIG_MAX_DOMAINS;
	spin_init(&s->lock, "runqueue", LOCK_RANK_RUNQUEUE);
	fair_queue_init(&s->fq, slots, CONFIG_MAX_DOMAINS, sched_base_slice_ns);
}

/* Per-CPU counters, as @event lines (at power-off). */
void sched_report(void)
{
	for (uint32_t i = 0; i < cpu_count; i++) {
		struct sched_stats st;

		sched_cpu_stats(cpu_get(i), &st);
		log_event("cpu-sched cpu=%u switches=%lu wakeups=%lu steals=%lu pushes=%lu timer_irqs=%lu idle_ms=%lu",
			  i, st.switches, st.wakeups, st.steals, cpu_get(i)->sched.pushes, st.timer_irqs,
			  st.idle_ns / 1000000);
	}
}

void sched_cpu_stats(struct cpu *c, struct sched_stats *out)
{
	uint64_t f = spin_lock(&c->sched.lock);
	const struct cpu_sched *s = &c->sched;
	uint64_t idle = s->idle_tsc + (s->idle ? rdtsc() - s->idle_since_tsc : 0);

	*out = (struct sched_stats){ tsc_to_ns(idle), s->switches, s->wakeups, s->steals, s->timer_irqs };
	spin_unlock(&c->sched.lock, f);
}

/* ---- locking the CPU a domain belongs to --------------------------------- */

/* d->cpu changes only under the old CPU's lock, so re-check after taking it. */
struct cpu *sched_lock_domain(struct domain *d, uint64_t *flags)
{
	for (;;) {
		struct cpu *c = cpu_get(__atomic_load_n(&d->cpu, __ATOMIC_ACQUIRE));

		*flags = spin_lock(&c->sched.lock);
		if (d->cpu == c->index)
			return c;
		spin_unlock(&c->sched.lock, *flags);
	}
}

/* ---- placement ------------------------------------------------------------ */

/* Domains waiting on c plus the one running there (read without locks: a
 * hint for placement and balancing). */
uint32_t sched_load(const struct cpu *c)
{
	return fair_load(&c->sched.fq).count + (__atomic_load_n(&c->running, __ATOMIC_RELAXED) != NULL);
}

static bool allowed(const struct domain *d, uint32_t cpu)
{
	return d->affinity & (1ULL << cpu);
}

/* The least loaded CPU the domain may use (read without locks: a hint). */
static uint32_t choose_cpu(const struct domain *d)
{
	uint32_t best = UINT32_MAX, best_load = UINT32_MAX;

	for (uint32_t i = 0; i < cpu_count; i++) {
		uint32_t l = sched_load(cpu_get(i));

		if (allowed(d, i) && l < best_load) {
			best = i;
			best_load = l;
		}
	}
	return best == UINT32_MAX ? 0 : best;
}

/* A new domain on the least loaded CPU it may use, that CPU's lock held. */
static struct cpu *place_new(struct domain *d, uint64_t *flags)
{
	d->heap_index = NO_HEAP;
	d->cpu = choose_cpu(d);
	return sched_lock_domain(d, flags);
}

void sched_add(struct domain *d)
{
	uint64_t f;
	struct cpu *c = place_new(d, &f);

	sched_charge(c, rdtsc());
	d->state = DOM_RUNNABLE;
	if (fair_enqueue_new(&c->sched.fq, &d->fair))
		panic("sched: CPU %u's queue is full", c->index);
	sched_kick(c, d);
	spin_unlock(&c->sched.lock, f);
}

void sched_add_paused(struct domain *d)
{
	uint64_t f;
	struct cpu *c = place_new(d, &f);

	d->paused = true;
	d->state = DOM_PAUSED;
	d->fair.vruntime = c->sched.fq.min_vruntime;
	spin_unlock(&c->sched.lock, f);
}

bool sched_off_cpu(struct domain *d)
{
	uint64_t f;
	struct cpu *c = sched_lock_domain(d, &f);
	bool off = d->paused && c->running != d && (d->state == DOM_PAUSED || d->state == DOM_BLOCKED);

	spin_unlock(&c->sched.lock, f);
	return off;
}

/* ---- kicks: telling a CPU to look again ------------------------------------ */

/* An idle CPU that may run d and is not c: it will steal from c. */
static void kick_idle_helper(const struct cpu *c, const struct domain *d)
{
	for (uint32_t i = 0; i < cpu_count; i++) {
		struct cpu *o = cpu_get(i);

		if (o != c && allowed(d, i) && __atomic_load_n(&o->sched.idle, __ATOMIC_RELAXED)) {
			ipi_resched(o);
			return;
		}
	}
}

/* woken was just queued on c (c's lock held): should c switch now, or
 * re-arm its timer for a shorter slice, or should an idle CPU help? */
void sched_kick(struct cpu *c, struct domain *woken)
{
	struct domain *cur = c->running;
	bool preempt = fair_should_preempt(&c->sched.fq, cur ? &cur->fair : NULL, &woken->fair);

	c->sched.look = true;
	if (c == this_cpu()) {
		if (preempt && !c->in_hypercall)
			c->sched.need_resched = true;
	} else if (preempt || c->sched.idle || c->sched.fq.count == 1) {
		if (preempt)
			c->sched.need_resched = true;
		ipi_resched(c);   /* also re-arms its timer for the shorter slice */
	}
	if (cur && !preempt)
		kick_idle_helper(c, woken);
}

/* ---- state changes ---------------------------------------------------------- */

void sched_remove(struct domain *d)
{
	uint64_t f;
	struct cpu *c = sched_lock_domain(d, &f);

	fair_dequeue(&c->sched.fq, &d->fair);
	dh_remove(&c->sched.dl, d);
	d->state = DOM_DEAD;
	c->sched.look = true;
	if (c->running == d) {
		sched_charge(c, rdtsc());
		c->running = NULL;
	}
	spin_unlock(&c->sched.lock, f);
}

int sched_block(struct domain *d, uint64_t deadline_tsc, uint64_t mask)
{
	uint64_t f;
	struct cpu *c = sched_lock_domain(d, &f);

	if (__atomic_load_n(&d->shared_info->events_pending, __ATOMIC_SEQ_CST) & mask) {
		spin_unlock(&c->sched.lock, f);
		return 1;
	}
	d->deadline_tsc = deadline_tsc;
	if (deadline_tsc != UINT64_MAX)
		dh_insert(&c->sched.dl, d);    /* sized for every domain: cannot fail */
	d->block_mask = mask;
	d->state = DOM_BLOCKED;
	c->sched.need_resched = true;
	c->sched.look = true;
	spin_unlock(&c->sched.lock, f);
	return 0;
}

/* c's lock held: a paused domain's wake-up is kept for when it resumes. */
static void wake_paused(struct cpu *c, struct domain *d, int64_t rax)
{
	d->state = DOM_PAUSED;
	if (c->running == d) {
		d->wake_rax = (uint64_t)rax;
		d->wake_rax_pending = true;
		c->sched.look = true;
	} else {
		d->regs.rax = (uint64_t)rax;
	}
}

/* c's lock held, d on c and blocked.  A domain that blocked but has not
 * yet left its CPU (its frame still in use: its hypercall's result is yet
 * to be written) is simply running again; its result replaces that one
 * on the way out (sched_switch.c).  Never queued while it is current anywhere. */
void sched_wake_locked(struct cpu *c, struct domain *d, int64_t rax, uint64_t now)
{
	dh_remove(&c->sched.dl, d);
	if (d->paused && !d->kill_requested) {
		wake_paused(c, d, rax);
		return;
	}
	if (c->running == d) {
		d->state = DOM_RUNNING;
		d->wake_rax = (uint64_t)rax;
		d->wake_rax_pending = true;
		c->sched.look = true;
		return;
	}
	d->regs.rax = (uint64_t)rax;
	d->state = DOM_RUNNABLE;
	sched_charge(c, now);
	if (fair_enqueue_wakeup(&c->sched.fq, &d->fair))
		panic("sched: CPU %u's queue is full", c->index);
	c->sched.wakeups++;
	sched_kick(c, d);
}

void sched_wake(struct domain *d, int64_t rax)
{
	uint64_t f;
	struct cpu *c = sched_lock_domain(d, &f);

	if (d->state == DOM_BLOCKED)
		sched_wake_locked(c, d, rax, rdtsc());
	spin_unlock(&c->sched.lock, f);
}

/* An event bit was just set: wake d if it blocks on it.  Checked under
 * d's queue lock, which sched_block holds from its look at the pending
 * bits to its DOM_BLOCKED: a check without it could come between the two
 * (the bit unseen, the state not yet blocked) and the wake-up be lost. */
void sched_wake_event(struct domain *d, uint64_t bit)
{
	uint64_t f;
	struct cpu *c = sched_lock_domain(d, &f);

	if (d->state == DOM_BLOCKED && (d->block_mask & bit))
		sched_wake_locked(c, d, 1, rdtsc());
	spin_unlock(&c->sched.lock, f);
}

/* c's lock held: d (paused, or unpaused) goes back on c's queue, or, if it
 * never left c, simply runs on. */
static void make_runnable(struct cpu *c, struct domain *d)
{
	c->sched.look = true;
	if (c->running == d) {
		d->state = DOM_RUNNING;
		return;
	}
	d->state = DOM_RUNNABLE;
	sched_charge(c, rdtsc());
	if (fair_enqueue_wakeup(&c->sched.fq, &d->fair))
		panic("sched: CPU %u's queue is full", c->index);
	sched_kick(c, d);
}

/* The CPU running d ends it on its way back to d (sched_switch.c); a
 * domain that is not running is ended there too, once picked.  Either way
 * it is ended by the CPU that owns it, never under another's feet. */
void sched_kill(struct domain *d)
{
	uint64_t f;
	struct cpu *c = sched_lock_domain(d, &f);

	d->kill_requested = true;
	c->sched.look = true;
	if (d->state == DOM_BLOCKED)
		sched_wake_locked(c, d, 0, rdtsc());
	else if (d->state == DOM_PAUSED)
		make_runnable(c, d);            /* to be ended by the CPU that picks it */
	else if (c->running == d && c != this_cpu())
		ipi_resched(c);
	else if (c->running == d)
		c->sched.need_resched = true;
	spin_unlock(&c->sched.lock, f);
}

/* ---- pause ------------------------------------------------------------------------- */

/* c's lock held: the running domain stops at its next exit, as if it had
 * blocked; a queued one leaves the queue. */
static void pause_locked(struct cpu *c, struct domain *d)
{
	if (d->state == DOM_RUNNABLE)
		fair_dequeue(&c->sched.fq, &d->fair);
	if (d->state == DOM_RUNNABLE || d->state == DOM_RUNNING)
		d->state = DOM_PAUSED;
	if (c->running != d)
		return;
	c->sched.look = true;
	c->sched.need_resched = true;
	if (c != this_cpu())
		ipi_resched(c);
}

bool sched_pause(struct domain *d)
{
	uint64_t f;
	struct cpu *c = sched_lock_domain(d, &f);
	bool ok = d->state != DOM_DEAD && !d->kill_requested;

	if (ok && !d->paused) {
		d->paused = true;
		pause_locked(c, d);
	}
	spin_unlock(&c->sched.lock, f);
	return ok;
}

void sched_unpause(struct domain *d)
{
	uint64_t f;
	struct cpu *c = sched_lock_domain(d, &f);

	if (d->paused) {
		d->paused = false;
		if (d->state == DOM_PAUSED)
			make_runnable(c, d);
	}
	spin_unlock(&c->sched.lock, f);
}
