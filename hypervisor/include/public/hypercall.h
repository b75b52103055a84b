/* Paravane guest ABI: hypercalls.
 *
 * Calling convention: `syscall` with the number in rax and arguments in
 * rdi, rsi, rdx, r10, r8, r9.  The result comes back in rax: >= 0 on
 * success, a negative PV_E* (public/errno.h) on failure.  rcx and r11 are
 * clobbered (the CPU uses them); every other register is preserved.
 *
 * The hypervisor checks every argument before use.  A guest pointer that is
 * not entirely inside the caller's memory (with the right permission:
 * writable for output buffers) answers -PV_EFAULT; an unknown number
 * answers -PV_ENOSYS.  No argument can fault or hang the hypervisor.
 * docs/abi.md is the reference for each call.
 */
#ifndef PARAVANE_PUBLIC_HYPERCALL_H
#define PARAVANE_PUBLIC_HYPERCALL_H

#include "abi.h"

enum pv_hypercall {
	PV_HC_RESERVED = 0,
	/* version(void) -> PV_ABI_VERSION.  Also the null hypercall. */
	PV_HC_VERSION = 1,
	/* console_write(gva buf, u64 len) -> len.
	 * Output is split into lines and shown as "NAME| line", bytes outside
	 * printable ASCII as "\xNN".  Over the domain's rate budget, or when
	 * the serial queue is full, bytes are dropped and counted, never
	 * waited for; the count is reported.  len <= PV_CONSOLE_WRITE_MAX. */
	PV_HC_CONSOLE_WRITE = 2,
	/* yield(void) -> 0.  Lets other runnable domains run first. */
	PV_HC_YIELD = 3,
	/* block(u64 deadline_ns, u64 event_mask) -> 1 when an event in
	 * event_mask is pending, 0 when the deadline (system time, ns, see
	 * shared_info) passed.  PV_DEADLINE_NONE waits for events only;
	 * a zero mask with no deadline is -PV_EINVAL (it would never wake). */
	PV_HC_BLOCK = 4,
	/* event_notify(u32 port) -> 0.  Kicks the backend bound to port. */
	PV_HC_EVENT_NOTIFY = 5,
	/* shutdown(u32 reason, i32 code) -> does not return. */
	PV_HC_SHUTDOWN = 6,
	/* domain_info(gva struct pv_domain_info *out) -> 0.  Own counters. */
	PV_HC_DOMAIN_INFO = 7,
	/* domctl(gva arg, u64 size) -> 0 or -PV_E*.  Privileged domains only
	 * (others: -PV_EPERM); public/domctl.h. */
	PV_HC_DOMCTL = 8,
	PV_HC_MAX
};

#define PV_DEADLINE_NONE    UINT64_MAX
#define PV_CONSOLE_WRITE_MAX 4096u
#define PV_EVENT_PORTS      64u

enum pv_shutdown_reason {
	PV_SHUTDOWN_EXIT = 0,      /* normal exit with code */
	PV_SHUTDOWN_CRASH = 1,     /* the guest found itself broken (abort, assert) */
	PV_SHUTDOWN_POWEROFF = 2,  /* power the machine off (privileged only) */
};

/* OUT of PV_HC_DOMAIN_INFO. */
struct pv_domain_info {
	uint32_t magic;            /* PV_DOMAIN_INFO_MAGIC */
	uint32_t abi_version;
	uint32_t domid;
	uint32_t pad;
	uint64_t hypercalls;       /* made by this domain so far */
	uint64_t cpu_ns;           /* CPU time used */
	uint64_t context_switches; /* times this domain was switched in */
	uint64_t memory_bytes;     /* guest memory backed by frames */
	uint64_t overhead_bytes;   /* hypervisor memory spent on this domain */
	uint64_t console_dropped;  /* console bytes dropped: rate limit, full serial queue */
	uint64_t created_tsc;      /* TSC when the hypervisor began creating it */
};
#define PV_DOMAIN_INFO_MAGIC 0x49444f44u   /* "DODI" */
PV_ASSERT_SIZE(struct pv_domain_info, 72);

#endif
