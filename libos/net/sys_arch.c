/* lwIP's OS layer (NO_SYS 0) on the libos's cooperative threads.
 *
 * Semaphores, mutexes and mailboxes are a counter or a ring plus wait
 * queues (arch/sys_arch.h).  Timeouts are in ms as lwIP wants them, turned
 * into thread deadlines; a wait returns the ms it took or SYS_ARCH_TIMEOUT.
 * Waking is "look again": a woken thread rechecks and may wait again, so
 * a thread that grabs the resource first in between is not a bug.
 */
#include <stdio.h>
#include <stdlib.h>

#include <paravane.h>
#include <pv_thread.h>

#include "lwip/opt.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"

#define NS_PER_MS 1000000ull

void sys_init(void)
{
}

u32_t sys_now(void)
{
	return (u32_t)(pv_monotonic_ns() / NS_PER_MS);
}

/* Threads are never preempted, and poll hooks run only where a thread
 * blocks or yields, which lwIP never does inside a protected region: the
 * code between SYS_ARCH_PROTECT and SYS_ARCH_UNPROTECT always runs alone. */
sys_prot_t sys_arch_protect(void)
{
	return 0;
}

void sys_arch_unprotect(sys_prot_t pval)
{
}

/* timeout_ms 0 means forever, as everywhere in lwIP. */
static uint64_t deadline_of(uint64_t start, u32_t timeout_ms)
{
	return timeout_ms ? start + timeout_ms * NS_PER_MS : PV_THREAD_FOREVER;
}

static u32_t elapsed_ms(uint64_t start)
{
	return (u32_t)((pv_monotonic_ns() - start) / NS_PER_MS);
}

/* ---- semaphores ------------------------------------------------------------ */

err_t sys_sem_new(sys_sem_t *sem, u8_t count)
{
	sem->count = count;
	pv_waitq_init(&sem->waiters);
	sem->valid = 1;
	return ERR_OK;
}

void sys_sem_free(sys_sem_t *sem)
{
	sem->valid = 0;
}

void sys_sem_signal(sys_sem_t *sem)
{
	sem->count++;
	pv_waitq_wake_one(&sem->waiters);
}

u32_t sys_arch_sem_wait(sys_sem_t *sem, u32_t timeout_ms)
{
	uint64_t start = pv_monotonic_ns();
	uint64_t deadline = deadline_of(start, timeout_ms);

	while (!sem->count) {
		if (pv_waitq_wait(&sem->waiters, deadline) == -ETIMEDOUT &&
		    !sem->count)
			return SYS_ARCH_TIMEOUT;
	}
	sem->count--;
	return elapsed_ms(start);
}

/* ---- mutexes ------------------------------------------------------------------ */

err_t sys_mutex_new(sys_mutex_t *mutex)
{
	mutex->owner = NULL;
	pv_waitq_init(&mutex->waiters);
	mutex->valid = 1;
	return ERR_OK;
}

void sys_mutex_free(sys_mutex_t *mutex)
{
	mutex->valid = 0;
}

void sys_mutex_lock(sys_mutex_t *mutex)
{
	struct pv_thread *self = pv_thread_self();

	LWIP_ASSERT("sys_mutex_lock: not recursive", mutex->owner != self);
	while (mutex->owner)
		pv_waitq_wait(&mutex->waiters, PV_THREAD_FOREVER);
	mutex->owner = self;
}

void sys_mutex_unlock(sys_mutex_t *mutex)
{
	LWIP_ASSERT("sys_mutex_unlock: not the owner",
		    mutex->owner == pv_thread_self());
	mutex->owner = NULL;
	pv_waitq_wake_one(&mutex->waiters);
}

/* Before tcpip_init() has made the lock, lwIP is being set up by the one
 * thread that calls it; afterwards the core belongs to the lock holder. */
void libos_net_assert_core_locked(void)
{
	if (!lock_tcpip_core.valid ||
	    lock_tcpip_core.owner == pv_thread_self())
		return;
	fprintf(stderr, "lwip: core function called from thread \"%s\" "
		"without LOCK_TCPIP_CORE() (docs/net.md, raw API)\n",
		pv_thread_name(pv_thread_self()));
	abort();
}

/* ---- mailboxes: a ring of size message pointers ---------------------------------- */

err_t sys_mbox_new(sys_mbox_t *mbox, int size)
{
	if (size <= 0)
		return ERR_VAL;
	mbox->msgs = malloc((size_t)size * sizeof(void *));
	if (!mbox->msgs)
		return ERR_MEM;
	mbox->size = (unsigned int)size;
	mbox->head = 0;
	mbox->count = 0;
	pv_waitq_init(&mbox->readers);
	pv_waitq_init(&mbox->writers);
	mbox->valid = 1;
	return ERR_OK;
}

void sys_mbox_free(sys_mbox_t *mbox)
{
	LWIP_ASSERT("sys_mbox_free: nobody waits",
		    pv_waitq_empty(&mbox->readers) &&
		    pv_waitq_empty(&mbox->writers));
	free(mbox->msgs);
	mbox->msgs = NULL;
	mbox->valid = 0;
}

static void mbox_put(sys_mbox_t *mbox, void *msg)
{
	mbox->msgs[(mbox->head + mbox->count) % mbox->size] = msg;
	mbox->count++;
	pv_waitq_wake_one(&mbox->readers);
}

static void *mbox_get(sys_mbox_t *mbox)
{
	void *msg = mbox->msgs[mbox->head];

	mbox->head = (mbox->head + 1) % mbox->size;
	mbox->count--;
	pv_waitq_wake_one(&mbox->writers);
	return msg;
}

err_t sys_mbox_trypost(sys_mbox_t *mbox, void *msg)
{
	if (mbox->count == mbox->size)
		return ERR_MEM;
	mbox_put(mbox, msg);
	return ERR_OK;
}

/* There are no interrupts: the poll hooks post from thread context. */
err_t sys_mbox_trypost_fromisr(sys_mbox_t *mbox, void *msg)
{
	return sys_mbox_trypost(mbox, msg);
}

void sys_mbox_post(sys_mbox_t *mbox, void *msg)
{
	while (mbox->count == mbox->size)
		pv_waitq_wait(&mbox->writers, PV_THREAD_FOREVER);
	mbox_put(mbox, msg);
}

u32_t sys_arch_mbox_tryfetch(sys_mbox_t *mbox, void **msg)
{
	if (!mbox->count)
		return SYS_MBOX_EMPTY;
	*msg = mbox_get(mbox);
	return 0;
}

u32_t sys_arch_mbox_fetch(sys_mbox_t *mbox, void **msg, u32_t timeout_ms)
{
	uint64_t start = pv_monotonic_ns();
	uint64_t deadline = deadline_of(start, timeout_ms);
	void *m;

	while (!mbox->count) {
		if (pv_waitq_wait(&mbox->readers, deadline) == -ETIMEDOUT &&
		    !mbox->count)
			return SYS_ARCH_TIMEOUT;
	}
	m = mbox_get(mbox);
	if (msg)
		*msg = m;
	return elapsed_ms(start);
}

/* ---- threads ------------------------------------------------------------------------ */

struct thread_start {
	lwip_thread_fn fn;
	void *arg;
};

static void *thread_entry(void *p)
{
	struct thread_start s = *(struct thread_start *)p;

	free(p);
	s.fn(s.arg);
	return NULL;
}

/* No priorities: every thread gets its turn. */
sys_thread_t sys_thread_new(const char *name, lwip_thread_fn fn, void *arg,
			    int stacksize, int prio)
{
	struct thread_start *s = malloc(sizeof(*s));
	struct pv_thread *t;

	LWIP_ASSERT("sys_thread_new: out of memory", s != NULL);
	s->fn = fn;
	s->arg = arg;
	t = pv_thread_create(name, thread_entry, s,
			     stacksize > 0 ? (size_t)stacksize : 0);
	LWIP_ASSERT("sys_thread_new: cannot create thread", t != NULL);
	pv_thread_detach(t);
	return t;
}
