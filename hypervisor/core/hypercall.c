/* Hypercall dispatch.  Every handler gets the caller and its saved frame;
 * arguments are rdi, rsi, rdx, r10, r8, r9 and each is checked here, at the
 * boundary, before anything uses it (guest pointers via hv/guest_mem.h). */
#include <public/hypercall.h>
#include <hv/domain.h>
#include <hv/domctl.h>
#include <hv/errno.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/nospec.h>
#include <hv/sched.h>
#include <hv/time.h>
#include <hv/x86.h>

typedef int64_t (*hypercall_fn)(struct domain *d, struct trap_frame *f);

static int64_t hc_version(struct domain *d, struct trap_frame *f)
{
	return PV_ABI_VERSION;
}

static int64_t hc_console_write(struct domain *d, struct trap_frame *f)
{
	if (f->rsi > PV_CONSOLE_WRITE_MAX)
		return -E2BIG;
	return console_write(d, f->rdi, f->rsi);
}

/* A yield is the context switch's whole work, so syscall_entry.S calls
 * this directly (no table, no retpoline).  The result goes in first: the
 * yield may switch away at once, and d's frame is written only while d
 * runs here.  It wakes nobody, so it needs no sched_hypercall_begin. */
_Static_assert(PV_HC_YIELD == 3, "syscall_entry.S's HC_YIELD");
void hypercall_yield(struct trap_frame *f)
{
	struct cpu *c = this_cpu();

	c->running->hypercalls++;
	f->rax = 0;
	sched_yield(c);
}

static int64_t hc_block(struct domain *d, struct trap_frame *f)
{
	uint64_t deadline_ns = f->rdi, mask = f->rsi, deadline_tsc = UINT64_MAX;

	if (__atomic_load_n(&d->shared_info->events_pending, __ATOMIC_SEQ_CST) & mask)
		return 1;
	if (deadline_ns == PV_DEADLINE_NONE && !mask)
		return -EINVAL;
	if (deadline_ns != PV_DEADLINE_NONE) {
		/* the guest's clock runs clock_offset_ns ahead of ours (a restore) */
		deadline_ns = deadline_ns > d->clock_offset_ns ? deadline_ns - d->clock_offset_ns : 0;
		if (deadline_ns <= time_ns())
			return 0;
		/* saturates: a deadline the TSC never reaches is no deadline */
		deadline_tsc = tsc_at_ns(deadline_ns);
	}
	/* 1 at once when an event came meanwhile; otherwise the result is
	 * replaced by sched_wake's (1 event, 0 deadline) when the domain wakes. */
	return sched_block(d, deadline_tsc, mask);
}

/* The backend runs under the network subsystem's lock. */
static int64_t net_kick(struct netback *nb)
{
	uint64_t f = spin_lock(&net_lock);
	int64_t r = netback_kick(nb);

	spin_unlock(&net_lock, f);
	return r;
}

static int64_t hc_event_notify(struct domain *d, struct trap_frame *f)
{
	if (f->rdi >= PV_EVENT_PORTS)
		return -EINVAL;
	for (uint32_t i = 0; IS_ENABLED(CONFIG_NET) && i < d->net_count; i++) {
		if (d->net[i].port == f->rdi)
			return net_kick(&d->net[i]);
	}
	for (uint32_t i = 0; i < d->blk_count; i++) {
		if (blkback_port(d->blk[i]) == f->rdi)
			return blkback_kick(d->blk[i]);
	}
	return -ENOENT;
}

static int64_t hc_shutdown(struct domain *d, struct trap_frame *f)
{
	uint64_t reason = f->rdi;
	int code = (int)(int32_t)f->rsi;

	if (reason == PV_SHUTDOWN_POWEROFF && !d->privileged)
		return -EPERM;
	if (reason > PV_SHUTDOWN_POWEROFF)
		return -EINVAL;
	if (reason == PV_SHUTDOWN_CRASH)
		domain_end(d, END_CRASH, code, code == 6 ? "abort" : "guest-requested");
	else
		domain_end(d, END_EXIT, code, reason == PV_SHUTDOWN_POWEROFF ? "poweroff" : "exit");
	return 0;
}

static int64_t hc_domain_info(struct domain *d, struct trap_frame *f)
{
	struct pv_domain_info info = {
		.magic = PV_DOMAIN_INFO_MAGIC,
		.abi_version = PV_ABI_VERSION,
		.domid = d->id,
		.hypercalls = d->hypercalls,
		.cpu_ns = domain_cpu_ns(d),
		.context_switches = d->switches,
		.memory_bytes = (d->mem.pages - 1) * 4096,
		.overhead_bytes = d->overhead_frames * 4096,
		.console_dropped = d->console.dropped_total,
		.created_tsc = d->created_tsc,
	};

	return guest_copy_to(&d->mem, f->rdi, &info, sizeof(info));
}

static const hypercall_fn hypercalls[PV_HC_MAX] = {
	[PV_HC_VERSION] = hc_version,
	[PV_HC_CONSOLE_WRITE] = hc_console_write,
	/* PV_HC_YIELD: hypercall_yield, called directly */
	[PV_HC_BLOCK] = hc_block,
	[PV_HC_EVENT_NOTIFY] = hc_event_notify,
	[PV_HC_SHUTDOWN] = hc_shutdown,
	[PV_HC_DOMAIN_INFO] = hc_domain_info,
	[PV_HC_DOMCTL] = hc_domctl,
};

/* f is the caller's own frame (d->regs): a handler that ends d
 * (hc_shutdown) frees it, so the result goes in only while d still runs. */
void hypercall_dispatch(struct trap_frame *f)
{
	struct cpu *c = this_cpu();     /* ours throughout: a hypercall never moves */
	struct domain *d = c->running;
	uint64_t nr = f->rax;
	hypercall_fn fn = nr < PV_HC_MAX ? hypercalls[index_nospec(nr, PV_HC_MAX)] : NULL;
	int64_t r;

	d->hypercalls++;
	sched_hypercall_begin(c);
	r = fn ? fn(d, f) : -ENOSYS;
	sched_hypercall_end(c);
	if (c->running == d && sched_nothing_to_do(c)) {   /* the common case */
		f->rax = (uint64_t)r;
		return;
	}
	if (c->running == d)
		f->rax = (uint64_t)r;
	sched_reschedule(c);
}
