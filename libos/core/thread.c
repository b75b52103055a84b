/* Cooperative threads (pv_thread.h).
 *
 * One vCPU, no preemption: a thread runs until it blocks, yields or exits,
 * and then the thread that gives up the CPU runs the scheduler on its own
 * stack.  The scheduler takes ready threads round-robin (a FIFO), wakes
 * sleepers whose deadline passed (a list sorted by deadline), and when
 * nobody is ready runs the poll hooks; if they find no work it blocks the
 * domain in the hypervisor until the earliest deadline or a hook's event.
 *
 * A switch saves the callee-saved registers, MXCSR and the x87 control
 * word on the old stack and the stack pointer in the thread; errno is
 * saved and restored around it.  main() is the first thread and keeps the
 * stack the hypervisor gave the domain (with its guard page); the others
 * get a malloc'd stack with canary words at the bottom, checked whenever
 * the thread is switched out.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <paravane.h>
#include <pv_thread.h>

#include "libos.h"

#define NAME_MAX_LEN      15
#define MAX_POLL_HOOKS    4
#define POLL_INTERVAL_NS  1000000ull	/* poll I/O at least this often */
#define CANARY_WORDS      4
#define STACK_FILL        0xa5u		/* untouched stack, for stack_unused */
#define INITIAL_MXCSR     0x1f80u	/* reset values: masked, nearest */
#define INITIAL_FPUCW     0x037fu

enum thread_state { T_RUNNING, T_READY, T_BLOCKED, T_EXITED };

struct pv_thread {
	uint64_t rsp;			/* saved while switched out */
	enum thread_state state;
	struct pv_list link;		/* ready list, a wait queue, or zombies */
	struct pv_list sleep_link;	/* sleepers, while a deadline is set */
	struct pv_waitq *waitq;		/* the queue it waits on, if any */
	uint64_t deadline;
	int wait_result;		/* 0 woken, -ETIMEDOUT */
	int saved_errno;
	int detached;
	struct pv_thread *joiner;
	void *(*fn)(void *);
	void *arg;
	void *ret;
	unsigned char *stack;		/* NULL for main */
	size_t stack_size;
	char name[NAME_MAX_LEN + 1];
};

struct poll_hook {
	int (*fn)(void *arg);
	void *arg;
};

static struct pv_thread main_thread = { .name = "main" };
static struct pv_thread *current;
static struct pv_list ready, sleepers, zombies;
static unsigned int live_threads = 1;	/* not yet exited, main included */

static struct poll_hook hooks[MAX_POLL_HOOKS];
static int nr_hooks, in_hooks;
static uint64_t hook_mask, last_poll_ns;

/* void libos_thread_switch(uint64_t *save_rsp, uint64_t new_rsp):
 * everything the SysV ABI makes callee-saved goes on the old stack. */
void libos_thread_switch(uint64_t *save_rsp, uint64_t new_rsp);
void libos_thread_trampoline(void);
__attribute__((noreturn, used)) void libos_thread_main(void);

__asm__(
	".pushsection .text.libos_thread_switch, \"ax\", @progbits\n"
	".globl libos_thread_switch\n"
	".type libos_thread_switch, @function\n"
	"libos_thread_switch:\n"
	"	pushq %rbp\n"
	"	pushq %rbx\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	subq $8, %rsp\n"
	"	stmxcsr (%rsp)\n"
	"	fnstcw 4(%rsp)\n"
	"	movq %rsp, (%rdi)\n"
	"	movq %rsi, %rsp\n"
	"	ldmxcsr (%rsp)\n"
	"	fldcw 4(%rsp)\n"
	"	addq $8, %rsp\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbx\n"
	"	popq %rbp\n"
	"	ret\n"
	".size libos_thread_switch, . - libos_thread_switch\n"
	/* A new thread's first switch returns here with rsp 16-byte
	 * aligned and rbp 0, which ends the backtrace chain. */
	".globl libos_thread_trampoline\n"
	".type libos_thread_trampoline, @function\n"
	"libos_thread_trampoline:\n"
	"	call libos_thread_main\n"
	"	ud2\n"
	".size libos_thread_trampoline, . - libos_thread_trampoline\n"
	".popsection\n");

/* ---- lists ---------------------------------------------------------------- */

static void list_init(struct pv_list *h)
{
	h->next = h->prev = h;
}

static int list_empty(const struct pv_list *h)
{
	return h->next == h;
}

static void list_insert_before(struct pv_list *pos, struct pv_list *e)
{
	e->prev = pos->prev;
	e->next = pos;
	pos->prev->next = e;
	pos->prev = e;
}

static void list_add_tail(struct pv_list *h, struct pv_list *e)
{
	list_insert_before(h, e);
}

/* Leaves e pointing at itself, so "on a list?" is !list_empty(e). */
static void list_del(struct pv_list *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	list_init(e);
}

#define thread_of(ptr, member) \
	((struct pv_thread *)((char *)(ptr) - offsetof(struct pv_thread, member)))

/* ---- run queue and deadlines (no I/O, no switching) ------------------------ */

/* Sorted by deadline; equal deadlines keep their arrival order. */
static void sleepers_insert(struct pv_thread *t)
{
	struct pv_list *pos;

	for (pos = sleepers.next; pos != &sleepers; pos = pos->next)
		if (thread_of(pos, sleep_link)->deadline > t->deadline)
			break;
	list_insert_before(pos, &t->sleep_link);
}

static uint64_t earliest_deadline(void)
{
	if (list_empty(&sleepers))
		return PV_THREAD_FOREVER;
	return thread_of(sleepers.next, sleep_link)->deadline;
}

/* A thread woken by a poll hook goes first: it handles I/O that is
 * waiting (lwIP's tcpip thread with received frames), and running it late
 * only lets the frames pile up until they are dropped. */
static void make_ready(struct pv_thread *t, int result)
{
	if (t->waitq) {
		list_del(&t->link);
		t->waitq = NULL;
	}
	if (!list_empty(&t->sleep_link))
		list_del(&t->sleep_link);
	t->wait_result = result;
	t->state = T_READY;
	if (in_hooks)
		list_insert_before(ready.next, &t->link);
	else
		list_add_tail(&ready, &t->link);
}

static void wake_expired(uint64_t now)
{
	while (!list_empty(&sleepers)) {
		struct pv_thread *t = thread_of(sleepers.next, sleep_link);

		if (t->deadline > now)
			break;
		make_ready(t, -ETIMEDOUT);
	}
}

static struct pv_thread *pop_ready(void)
{
	struct pv_thread *t = thread_of(ready.next, link);

	list_del(&t->link);
	return t;
}

static void threads_init(void)
{
	if (current)
		return;
	list_init(&ready);
	list_init(&sleepers);
	list_init(&zombies);
	list_init(&main_thread.link);
	list_init(&main_thread.sleep_link);
	main_thread.state = T_RUNNING;
	current = &main_thread;
}

/* ---- stacks ----------------------------------------------------------------- */

static uint64_t canary(const struct pv_thread *t, int i)
{
	return 0x5ca1ab1e0ddba11ull ^ (uintptr_t)t ^ ((uint64_t)i << 56);
}

static void canary_set(struct pv_thread *t)
{
	uint64_t *w = (uint64_t *)t->stack;

	for (int i = 0; i < CANARY_WORDS; i++)
		w[i] = canary(t, i);
}

/* No stdio: the heap around the stack may be what got overwritten. */
static void canary_check(const struct pv_thread *t)
{
	const uint64_t *w = (const uint64_t *)t->stack;

	if (!t->stack)
		return;
	for (int i = 0; i < CANARY_WORDS; i++) {
		if (w[i] != canary(t, i)) {
			libos_console_puts("libos: thread \"");
			libos_console_puts(t->name);
			libos_console_puts("\" overflowed its stack (give it a bigger one)\n");
			pv_shutdown(PV_SHUTDOWN_CRASH, SIGSEGV);
		}
	}
}

size_t pv_thread_stack_unused(const struct pv_thread *t)
{
	size_t n = CANARY_WORDS * sizeof(uint64_t);

	if (!t->stack)
		return 0;
	while (n < t->stack_size && t->stack[n] == STACK_FILL)
		n++;
	return n - CANARY_WORDS * sizeof(uint64_t);
}

/* The frame libos_thread_switch pops: MXCSR/FPU CW, r15..r12, rbx, rbp,
 * then the return address into the trampoline. */
static void stack_init(struct pv_thread *t)
{
	uint64_t *top = (uint64_t *)(t->stack + t->stack_size);
	uint64_t *sp = top - 8;

	memset(t->stack, STACK_FILL, t->stack_size);
	canary_set(t);
	sp[0] = INITIAL_MXCSR | ((uint64_t)INITIAL_FPUCW << 32);
	for (int i = 1; i <= 6; i++)
		sp[i] = 0;				/* r15 .. rbx, rbp = 0 */
	sp[7] = (uintptr_t)libos_thread_trampoline;
	t->rsp = (uintptr_t)sp;
}

static void thread_free(struct pv_thread *t)
{
	if (t != &main_thread)
		free(t->stack);		/* t itself lives above its stack */
}

/* ---- switching ---------------------------------------------------------------- */

/* Runs on the stack of the thread that just got the CPU: no zombie can be
 * the current thread here, so their stacks can go. */
static void after_switch(void)
{
	while (!list_empty(&zombies)) {
		struct pv_thread *z = thread_of(zombies.next, link);

		list_del(&z->link);
		thread_free(z);
	}
	libos_fail(current->saved_errno);	/* sets both errno copies */
}

static void switch_to(struct pv_thread *next)
{
	struct pv_thread *prev = current;

	canary_check(prev);
	prev->saved_errno = errno;
	next->state = T_RUNNING;
	current = next;
	libos_thread_switch(&prev->rsp, next->rsp);
	after_switch();
}

/* ---- I/O polling and idling --------------------------------------------------- */

static int run_hooks(uint64_t now)
{
	int work = 0;

	if (in_hooks)
		return 0;
	in_hooks = 1;
	last_poll_ns = now;
	for (int i = 0; i < nr_hooks; i++)
		work += hooks[i].fn(hooks[i].arg);
	in_hooks = 0;
	return work;
}

/* Every thread waits without a deadline and no device can wake one. */
__attribute__((noreturn)) static void deadlock(void)
{
	libos_console_puts("libos: deadlock: every thread waits forever, "
			   "no deadline, no I/O to wake one (last: \"");
	libos_console_puts(current->name);
	libos_console_puts("\")\n");
	pv_shutdown(PV_SHUTDOWN_CRASH, SIGABRT);
}

/* Nobody is ready: sleep in the hypervisor until the earliest deadline or
 * an event a hook waits for.  Early returns are fine; the caller loops. */
static void idle(void)
{
	uint64_t deadline = earliest_deadline();

	if (deadline == PV_THREAD_FOREVER && !hook_mask)
		deadlock();
	if (deadline == PV_THREAD_FOREVER)
		deadline = PV_DEADLINE_NONE;
	if (pv_block(deadline, hook_mask) < 0)
		pv_yield();
}

static struct pv_thread *pick_next(void)
{
	for (;;) {
		uint64_t now = pv_monotonic_ns();

		wake_expired(now);
		if (!list_empty(&ready)) {
			/* busy threads must not starve the device */
			if (nr_hooks && now - last_poll_ns >= POLL_INTERVAL_NS)
				run_hooks(now);
			return pop_ready();
		}
		if (run_hooks(now) > 0 || !list_empty(&ready))
			continue;
		idle();
	}
}

/* The caller has set its own state (ready and queued, blocked, exited). */
static void schedule(void)
{
	struct pv_thread *next = pick_next();

	if (next != current)
		switch_to(next);
	else
		current->state = T_RUNNING;
}

/* ---- waiting ------------------------------------------------------------------- */

static int block_current(struct pv_waitq *q, uint64_t deadline)
{
	struct pv_thread *t = current;

	t->state = T_BLOCKED;
	t->wait_result = -ETIMEDOUT;
	t->deadline = deadline;
	if (q) {
		t->waitq = q;
		list_add_tail(&q->waiters, &t->link);
	}
	if (deadline != PV_THREAD_FOREVER)
		sleepers_insert(t);
	schedule();
	return t->wait_result;
}

void pv_waitq_init(struct pv_waitq *q)
{
	list_init(&q->waiters);
}

int pv_waitq_wait(struct pv_waitq *q, uint64_t deadline_ns)
{
	threads_init();
	if (deadline_ns <= pv_monotonic_ns())
		return -ETIMEDOUT;
	return block_current(q, deadline_ns);
}

int pv_waitq_wake_one(struct pv_waitq *q)
{
	if (pv_waitq_empty(q))
		return 0;
	make_ready(thread_of(q->waiters.next, link), 0);
	return 1;
}

int pv_waitq_wake_all(struct pv_waitq *q)
{
	int n = 0;

	while (pv_waitq_wake_one(q))
		n++;
	return n;
}

void pv_thread_sleep_until(uint64_t deadline_ns)
{
	threads_init();
	while (pv_monotonic_ns() < deadline_ns)
		block_current(NULL, deadline_ns);
}

void pv_thread_sleep_ns(uint64_t ns)
{
	uint64_t now = pv_monotonic_ns();

	pv_thread_sleep_until(now + ns < now ? PV_THREAD_FOREVER : now + ns);
}

void pv_thread_yield(void)
{
	uint64_t now;

	threads_init();
	now = pv_monotonic_ns();
	run_hooks(now);
	wake_expired(now);
	if (list_empty(&ready)) {
		pv_yield();
		return;
	}
	current->state = T_READY;
	list_add_tail(&ready, &current->link);
	schedule();
}

int pv_thread_poll_register(int (*fn)(void *arg), void *arg,
			    uint64_t event_mask)
{
	threads_init();
	if (nr_hooks == MAX_POLL_HOOKS)
		return -ENOSPC;
	hooks[nr_hooks].fn = fn;
	hooks[nr_hooks].arg = arg;
	nr_hooks++;
	hook_mask |= event_mask;
	return 0;
}

/* ---- thread life ------------------------------------------------------------------ */

void libos_thread_main(void)
{
	struct pv_thread *t = current;

	after_switch();
	pv_thread_exit(t->fn(t->arg));
}

struct pv_thread *pv_thread_create(const char *name, void *(*fn)(void *),
				   void *arg, size_t stack_size)
{
	struct pv_thread *t;
	unsigned char *mem;

	threads_init();
	if (!stack_size)
		stack_size = PV_THREAD_STACK_DEFAULT;
	if (!fn || stack_size < PV_THREAD_STACK_MIN) {
		libos_fail(EINVAL);
		return NULL;
	}
	/* One block, the thread above its stack: an overflow runs over the
	 * canary, then into other heap memory, but not into t. */
	stack_size = (stack_size + 63) & ~(size_t)63;
	mem = memalign(64, stack_size + sizeof(*t));
	if (!mem) {
		libos_fail(ENOMEM);
		return NULL;
	}
	t = (struct pv_thread *)(mem + stack_size);
	memset(t, 0, sizeof(*t));
	t->stack = mem;
	t->stack_size = stack_size;
	t->fn = fn;
	t->arg = arg;
	strncpy(t->name, name ? name : "thread", NAME_MAX_LEN);
	list_init(&t->link);
	list_init(&t->sleep_link);
	stack_init(t);
	live_threads++;
	t->state = T_READY;
	list_add_tail(&ready, &t->link);
	return t;
}

void pv_thread_detach(struct pv_thread *t)
{
	threads_init();
	if (t->state == T_EXITED && !t->joiner)
		thread_free(t);
	else
		t->detached = 1;
}

int pv_thread_join(struct pv_thread *t, void **ret)
{
	threads_init();
	if (t == current)
		return -EDEADLK;
	if (t->detached || t->joiner)
		return -EINVAL;
	t->joiner = current;
	while (t->state != T_EXITED)
		block_current(NULL, PV_THREAD_FOREVER);
	if (ret)
		*ret = t->ret;
	thread_free(t);
	return 0;
}

void pv_thread_exit(void *ret)
{
	struct pv_thread *t;

	threads_init();
	t = current;
	canary_check(t);
	t->ret = ret;
	t->state = T_EXITED;
	if (--live_threads == 0)
		exit(0);
	if (t->joiner)
		make_ready(t->joiner, 0);
	else if (t->detached && t != &main_thread)
		list_add_tail(&zombies, &t->link);
	schedule();
	__builtin_unreachable();	/* nobody switches back to it */
}

struct pv_thread *pv_thread_self(void)
{
	threads_init();
	return current;
}

const char *pv_thread_name(const struct pv_thread *t)
{
	return t->name;
}
