/* Inter-processor interrupts (see hv/ipi.h). */
#include <hv/ipi.h>
#include <hv/hwevent.h>
#include <hv/lib.h>
#include <hv/lock.h>
#include <hv/log.h>
#include <hv/percpu.h>
#include <hv/time.h>
#include <hv/trap.h>
#include <hv/x86.h>

#define CALL_WAIT_MS 5000

/* One call in flight at a time: the slot below, under call_lock. */
static struct spinlock call_lock = SPINLOCK_INIT("ipi-call", LOCK_RANK_IPI);
static void (*call_fn)(void *);
static void *call_arg;
static volatile uint32_t call_left;     /* CPUs that have not run it yet */
static volatile bool stopping;
static uint64_t sent;

uint64_t ipi_sent(void) { return __atomic_load_n(&sent, __ATOMIC_RELAXED); }

static void send(struct cpu *c, uint8_t vector)
{
	__atomic_fetch_add(&sent, 1, __ATOMIC_RELAXED);
	lapic_send_ipi(c->apic_id, vector);
}

void ipi_resched(struct cpu *c)
{
	if (c && c != this_cpu() && c->online)
		send(c, VEC_RESCHED);
}

static void on_resched(struct trap_frame *f)
{
	lapic_eoi();
}

/* Run the posted call if this CPU still owes it. */
static void run_call(void)
{
	struct cpu *c = this_cpu();

	if (!__atomic_exchange_n(&c->call_pending, false, __ATOMIC_ACQ_REL))
		return;
	call_fn(call_arg);
	__atomic_fetch_sub(&call_left, 1, __ATOMIC_RELEASE);
}

static void on_call(struct trap_frame *f)
{
	lapic_eoi();
	run_call();
}

/* Take call_lock; while waiting, answer a call another CPU may be making
 * to us (else two callers would wait on each other for ever). */
static uint64_t lock_call_slot(void)
{
	uint64_t f;

	while (!spin_try_lock(&call_lock, &f))
		run_call();
	return f;
}

void ipi_call_others(void (*fn)(void *), void *arg)
{
	uint64_t f, limit;

	if (IS_ENABLED(CONFIG_LOCK_CHECK) && locks_held_here())
		panic("ipi: a cross-CPU call with a lock held could deadlock");
	f = lock_call_slot();
	call_fn = fn;
	call_arg = arg;
	call_left = 0;
	for (uint32_t i = 0; i < cpu_count; i++) {
		struct cpu *c = cpu_get(i);

		if (c == this_cpu() || !c->online)
			continue;
		__atomic_fetch_add(&call_left, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&c->call_pending, true, __ATOMIC_RELEASE);
		send(c, VEC_CALL);
	}
	limit = rdtsc() + ns_to_tsc(CALL_WAIT_MS * 1000000ULL);
	while (__atomic_load_n(&call_left, __ATOMIC_ACQUIRE) && rdtsc() < limit)
		pause();
	if (call_left)
		panic("ipi: %u CPU(s) did not answer a cross-CPU call in %d ms", call_left, CALL_WAIT_MS);
	spin_unlock(&call_lock, f);
}

/* ---- TLB shootdown -------------------------------------------------------------- */

struct range { uint64_t va, pages; };

static void flush_range(void *arg)
{
	const struct range *r = arg;

	for (uint64_t i = 0; i < r->pages; i++)
		invlpg(r->va + i * 4096);
}

void tlb_shootdown(uint64_t va, uint64_t pages)
{
	struct range r = { va, pages };

	flush_range(&r);
	ipi_call_others(flush_range, &r);
}

/* ---- stop --------------------------------------------------------------------------- */

static bool on_nmi(struct trap_frame *f)
{
	if (!stopping)
		return false;
	for (;;)
		__asm__ volatile("cli; hlt");
}

void ipi_stop_others(void)
{
	stopping = true;
	for (uint32_t i = 0; i < cpu_count; i++) {
		struct cpu *c = cpu_get(i);

		if (c && c != this_cpu() && c->online)
			lapic_send_nmi(c->apic_id);
	}
}

void ipi_init(void)
{
	trap_set_irq(VEC_RESCHED, on_resched);
	trap_set_irq(VEC_CALL, on_call);
	hwevent_add_nmi_handler(on_nmi);
}
