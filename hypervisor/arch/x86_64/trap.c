/* Trap dispatch and the exception report. */
#include <hv/hwevent.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/percpu.h>
#include <hv/sched.h>
#include <hv/symbols.h>
#include <hv/time.h>
#include <hv/trap.h>
#include <hv/x86.h>

static irq_handler_t irq_handlers[256];
static irq_handler_t user_fault_handler;

static const char *const vector_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "reserved", "#MF x87 error", "#AC alignment check",
	"#MC machine check", "#XM SIMD error", "#VE virtualization", "#CP control protection",
};

const char *trap_vector_name(uint64_t vector)
{
	if (vector < 32 && vector_names[vector])
		return vector_names[vector];
	return vector < 32 ? "reserved" : "interrupt";
}

void trap_set_irq(uint8_t vector, irq_handler_t h) { irq_handlers[vector] = h; }
void trap_set_user_fault(irq_handler_t h) { user_fault_handler = h; }

static const char *sym(uint64_t addr, char *buf, size_t n)
{
	if (!symbols_lookup(addr, buf, n))
		strlcpy(buf, "?", n);
	return buf;
}

static void report_pf_error(uint64_t e)
{
	log_rawf("hv|   page fault: %s, %s, %s%s%s", e & 1 ? "protection violation" : "not present",
		    e & 2 ? "write" : "read", e & 4 ? "user" : "supervisor",
		    e & 16 ? ", instruction fetch" : "", e & 8 ? ", reserved bit" : "");
}

/* Walk the frame-pointer chain, staying inside the interrupted stack. */
static void report_backtrace(const struct trap_frame *f)
{
	uint64_t lo, hi, rbp = f->rbp;
	char name[64];

	log_rawf("hv|   backtrace:");
	log_rawf("hv|     #0 0x%016lx <%s>", f->rip, sym(f->rip, name, sizeof(name)));
	if (!percpu_stack_bounds(f->rsp, &lo, &hi))
		return;
	for (int i = 1; i < 16; i++) {
		uint64_t ret;

		if (rbp < f->rsp || rbp < lo || rbp + 16 > hi || (rbp & 7))
			break;
		ret = ((uint64_t *)rbp)[1];
		if (ret < 0xFFFFFFFF80000000UL)
			break;
		log_rawf("hv|     #%d 0x%016lx <%s>", i, ret, sym(ret, name, sizeof(name)));
		if (((uint64_t *)rbp)[0] <= rbp)
			break;
		rbp = ((uint64_t *)rbp)[0];
	}
}

void trap_report(const char *who, const struct trap_frame *f)
{
	char name[64];

	log_rawf("hv| ==== %s exception: %s (vector %lu) on CPU %u ====", who,
		    trap_vector_name(f->vector), f->vector, this_cpu()->index);
	log_rawf("hv|   error 0x%lx  rip 0x%016lx <%s>", f->error, f->rip,
		    sym(f->rip, name, sizeof(name)));
	if (f->vector == 14)
		report_pf_error(f->error);
	log_rawf("hv|   cr2 0x%016lx  cr3 0x%016lx  cs 0x%lx  ss 0x%lx  rflags 0x%lx",
		    read_cr2(), read_cr3(), f->cs, f->ss, f->rflags);
	log_rawf("hv|   rax %016lx rbx %016lx rcx %016lx rdx %016lx", f->rax, f->rbx, f->rcx, f->rdx);
	log_rawf("hv|   rsi %016lx rdi %016lx rbp %016lx rsp %016lx", f->rsi, f->rdi, f->rbp, f->rsp);
	log_rawf("hv|   r8  %016lx r9  %016lx r10 %016lx r11 %016lx", f->r8, f->r9, f->r10, f->r11);
	log_rawf("hv|   r12 %016lx r13 %016lx r14 %016lx r15 %016lx", f->r12, f->r13, f->r14, f->r15);
	report_backtrace(f);
}

static void report_stack_overflow(void)
{
	uint32_t cpu_index;
	const char *stack = percpu_guard_hit(read_cr2(), &cpu_index);

	if (stack)
		log_rawf("hv|   stack overflow: CPU %u's %s stack ran into its guard page", cpu_index, stack);
}

/* NMI, #DF and #MC (isr.S paranoid entry): never reschedule from here, the
 * interrupted context may be halfway through an entry or exit. */
void trap_dispatch_paranoid(struct trap_frame *f);
void trap_dispatch_paranoid(struct trap_frame *f)
{
	if (f->vector == 2) {
		hwevent_nmi(f);
		return;
	}
	if (f->vector == 18) {
		hwevent_mce(f);
		return;
	}
	panic_begin();
	trap_report((f->cs & 3) == 3 ? "guest-mode" : "hypervisor", f);
	if (f->vector == 8)
		report_stack_overflow();
	panic("%s on CPU %u at rip 0x%lx", trap_vector_name(f->vector), this_cpu()->index, f->rip);
}

/* A vector nobody registered (a stray MSI, a misrouted line): acknowledged,
 * or the LAPIC would hold every lower-priority interrupt back for good.
 * The spurious vector is never acknowledged (the LAPIC says so). */
static void unexpected_interrupt(uint64_t vector)
{
	static uint32_t seen;

	if (vector == VEC_SPURIOUS)
		return;
	lapic_eoi();
	if (__atomic_fetch_add(&seen, 1, __ATOMIC_RELAXED) < 8)
		log_warn("unexpected interrupt vector %lu on CPU %u (acknowledged)", vector, this_cpu()->index);
}

void trap_dispatch(struct trap_frame *f)
{
	bool from_guest = (f->cs & 3) == 3;

	if (f->vector >= 32) {
		if (irq_handlers[f->vector])
			irq_handlers[f->vector](f);
		else
			unexpected_interrupt(f->vector);
	} else if (from_guest && user_fault_handler) {
		user_fault_handler(f);
	} else {
		panic_begin();
		trap_report("hypervisor", f);
		panic("unhandled %s in the hypervisor at rip 0x%lx", trap_vector_name(f->vector), f->rip);
	}
	if (from_guest)
		sched_return_to_guest();
}

