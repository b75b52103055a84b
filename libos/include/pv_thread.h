/* Paravane library OS: cooperative threads.
 *
 * All threads of a domain share its one vCPU and run until they block,
 * yield or exit; nothing preempts them, so code between two of those calls
 * runs alone and needs no lock.  main() is the first thread.  When every
 * thread waits, the libos runs the registered poll hooks (the network
 * layer's reads the net rings), and if that wakes nobody it blocks the
 * whole domain in the hypervisor until the earliest thread deadline or an
 * event of a hook's mask: a domain whose threads all wait uses no CPU.
 *
 * Times are system time in ns (pv_monotonic_ns()); PV_THREAD_FOREVER is
 * "no deadline".  Errors are negative errno values.  errno itself is saved
 * and restored per thread.
 *
 * Blocking libc calls (nanosleep, sleep, usleep) still block the whole
 * domain; threads that must let others run use pv_thread_sleep_ns() or
 * pv_thread_sleep_until().  docs/net.md describes the design.
 */
#ifndef PV_THREAD_H
#define PV_THREAD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PV_THREAD_FOREVER        UINT64_MAX
#define PV_THREAD_STACK_DEFAULT  (16u * 1024)
#define PV_THREAD_STACK_MIN      (4u * 1024)

struct pv_thread;

/* Intrusive doubly linked list; an empty list points at itself. */
struct pv_list {
	struct pv_list *next, *prev;
};

/* Threads waiting for something: the building block of semaphores,
 * mutexes and mailboxes.  Must not move while threads wait on it. */
struct pv_waitq {
	struct pv_list waiters;
};

#define PV_WAITQ_INIT(q) { { &(q).waiters, &(q).waiters } }

/* ---- threads ------------------------------------------------------------- */

/* Start fn(arg) in a new thread with its own malloc'd stack of stack_size
 * bytes (0: PV_THREAD_STACK_DEFAULT).  It runs when the caller next blocks
 * or yields.  The name (copied, 15 characters kept) shows in reports.
 * Returns the thread, or NULL with errno ENOMEM or EINVAL. */
struct pv_thread *pv_thread_create(const char *name, void *(*fn)(void *),
				   void *arg, size_t stack_size);

/* Nobody will join t: it is freed as soon as it ends. */
void pv_thread_detach(struct pv_thread *t);

/* Wait until t ends; *ret (if not NULL) gets its return value.  Frees t.
 * -EINVAL if t is detached or someone already joins it, -EDEADLK for
 * oneself. */
int pv_thread_join(struct pv_thread *t, void **ret);

/* End the calling thread with ret.  The last thread to end calls
 * exit(0); returning from main() ends the domain as usual. */
__attribute__((noreturn)) void pv_thread_exit(void *ret);

/* Let the other ready threads run (and poll I/O); when none is ready, let
 * other domains run (the yield hypercall). */
void pv_thread_yield(void);

/* Sleep, letting the other threads run. */
void pv_thread_sleep_until(uint64_t deadline_ns);
void pv_thread_sleep_ns(uint64_t ns);

struct pv_thread *pv_thread_self(void);
const char *pv_thread_name(const struct pv_thread *t);

/* Bytes of t's stack that were never touched (0 for main's, which has the
 * hypervisor's guard page instead). */
size_t pv_thread_stack_unused(const struct pv_thread *t);

/* ---- wait queues --------------------------------------------------------- */

void pv_waitq_init(struct pv_waitq *q);

/* Block the calling thread on q until woken or until deadline_ns.
 * Returns 0 when woken, -ETIMEDOUT at the deadline.  The caller rechecks
 * its condition: a wake-up says "look again", not "it is yours". */
int pv_waitq_wait(struct pv_waitq *q, uint64_t deadline_ns);

/* Make the first waiter / every waiter ready.  Returns how many woke.
 * Safe from poll hooks. */
int pv_waitq_wake_one(struct pv_waitq *q);
int pv_waitq_wake_all(struct pv_waitq *q);

static inline int pv_waitq_empty(const struct pv_waitq *q)
{
	return q->waiters.next == &q->waiters;
}

/* ---- I/O polling ---------------------------------------------------------- */

/* fn(arg) is called when no thread is ready (before the domain would
 * block), on every yield, and at least every millisecond while threads
 * keep running.  It must not block; it reads its device, wakes threads
 * and returns how much work it found (> 0: do not block yet).  event_mask
 * is what the domain blocks on in the hypervisor (pv_block()); fn must
 * clear those pending bits (pv_events_clear()) before it looks, or the
 * domain never sleeps.  Returns 0, or -ENOSPC when the table is full. */
int pv_thread_poll_register(int (*fn)(void *arg), void *arg,
			    uint64_t event_mask);

#ifdef __cplusplus
}
#endif

#endif
