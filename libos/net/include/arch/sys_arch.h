/* lwIP port: the OS primitives on the libos's cooperative threads
 * (pv_thread.h).  Threads never preempt each other, so each primitive is a
 * plain counter or ring plus a wait queue; nothing needs atomics. */
#ifndef LWIP_ARCH_SYS_ARCH_H
#define LWIP_ARCH_SYS_ARCH_H

#include <pv_thread.h>

typedef struct {
	int valid;
	unsigned int count;
	struct pv_waitq waiters;
} sys_sem_t;

/* Not recursive.  owner lets LWIP_ASSERT_CORE_LOCKED() check the caller. */
typedef struct {
	int valid;
	struct pv_thread *owner;
	struct pv_waitq waiters;
} sys_mutex_t;

typedef struct {
	int valid;
	unsigned int size, head, count;
	void **msgs;
	struct pv_waitq readers, writers;
} sys_mbox_t;

typedef struct pv_thread *sys_thread_t;
typedef int sys_prot_t;			/* SYS_ARCH_PROTECT: a no-op */

#define sys_sem_valid(s)          ((s)->valid)
#define sys_sem_set_invalid(s)    ((s)->valid = 0)
#define sys_mutex_valid(m)        ((m)->valid)
#define sys_mutex_set_invalid(m)  ((m)->valid = 0)
#define sys_mbox_valid(m)         ((m)->valid)
#define sys_mbox_set_invalid(m)   ((m)->valid = 0)

#endif
