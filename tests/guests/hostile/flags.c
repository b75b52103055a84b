/* What a guest controls at the moment it calls: RFLAGS and RSP.
 *
 * flags: AC (which would open SMAP's window in ring 0), DF (which would
 * run the hypervisor's memcpy backwards), NT and an attempted IOPL,
 * alone and together, around every kind of hypercall; each must answer
 * right, return the guest's own flags (IOPL still 0) and copy data the
 * right way round.  Then a while in ring 3 with AC, DF and NT set, so
 * interrupts arrive with them.
 *
 * stack: `syscall` does not switch stacks, so the hypervisor must never
 * use the guest's RSP: hypercalls with RSP null, in the hypervisor,
 * non-canonical and unaligned must all work (and come back to that RSP).
 *
 * tf: a hypercall with TF set.  The hypervisor masks TF on entry, and
 * returns the guest's RFLAGS: the single step lands in ring 3 as a #DB,
 * which ends the guest. */
#include <stdio.h>
#include <string.h>
#include <paravane.h>
#include <public/errno.h>
#include "hostile.h"

#define SPIN_LOOPS 20000000UL

static uint64_t rflags_after;

/* A hypercall with `set` ORed into RFLAGS; RFLAGS as it came back is left
 * in rflags_after, then the caller's flags are restored.  No C code runs
 * with DF set. */
__attribute__((noinline)) static long flagged_call(uint64_t set, long nr, long a0, long a1)
{
	uint64_t saved, after;

	__asm__ volatile("pushfq\n\t"
			 "popq %[saved]\n\t"
			 "movq %[saved], %[after]\n\t"
			 "orq %[set], %[after]\n\t"
			 "pushq %[after]\n\t"
			 "popfq\n\t"
			 "syscall\n\t"
			 "pushfq\n\t"
			 "popq %[after]\n\t"
			 "pushq %[saved]\n\t"
			 "popfq"
			 : "+a"(nr), [saved] "=&r"(saved), [after] "=&r"(after)
			 : [set] "r"(set), "D"(a0), "S"(a1)
			 : "rcx", "r11", "memory", "cc");
	rflags_after = after;
	return nr;
}

static void check(const char *what, uint64_t set, long got, long want)
{
	char buf[96];

	if (got != want) {
		snprintf(buf, sizeof(buf), "%s with rflags |= 0x%lx", what, (unsigned long)set);
		wrong(buf, got, want);
	}
	if ((rflags_after & (set | RFLAGS_IOPL)) != (set & ~RFLAGS_IOPL))
		wrong("rflags after the hypercall", (long)rflags_after, (long)(set & ~RFLAGS_IOPL));
}

static void check_info(uint64_t set)
{
	struct pv_domain_info info;

	memset(&info, 0xff, sizeof(info));
	check("domain_info", set, flagged_call(set, PV_HC_DOMAIN_INFO, (long)&info, 0), 0);
	/* DF honoured by the hypervisor's copy would scramble these */
	if (info.magic != PV_DOMAIN_INFO_MAGIC || info.abi_version != PV_ABI_VERSION ||
	    info.domid != pv_domid())
		wrong("domain_info contents", (long)info.magic, PV_DOMAIN_INFO_MAGIC);
}

static void check_console(uint64_t set)
{
	char msg[80];
	int n = snprintf(msg, sizeof(msg), "hostile: console write under rflags |= 0x%lx\n",
			 (unsigned long)set);

	check("console_write", set, flagged_call(set, PV_HC_CONSOLE_WRITE, (long)msg, n), n);
}

static void check_block(uint64_t set)
{
	uint64_t deadline = pv_monotonic_ns() + 1000000;

	check("block", set, flagged_call(set, PV_HC_BLOCK, (long)deadline, 0), 0);
	if (pv_monotonic_ns() < deadline)
		wrong("block woke early", (long)pv_monotonic_ns(), (long)deadline);
}

static void check_all(uint64_t set)
{
	check("version", set, flagged_call(set, PV_HC_VERSION, 0, 0), PV_ABI_VERSION);
	check_info(set);
	check_console(set);
	check_block(set);
	check("yield", set, flagged_call(set, PV_HC_YIELD, 0, 0), 0);
	check("unknown number", set, flagged_call(set, 99, 0, 0), -PV_ENOSYS);
}

/* A while in ring 3 with the flags set, so interrupts (timer, IPIs) come
 * in with them; they must still be set afterwards. */
static void spin_with(uint64_t set)
{
	uint64_t saved, after, n = SPIN_LOOPS;

	__asm__ volatile("pushfq\n\t"
			 "popq %[saved]\n\t"
			 "movq %[saved], %[after]\n\t"
			 "orq %[set], %[after]\n\t"
			 "pushq %[after]\n\t"
			 "popfq\n"
			 "1:\tdecq %[n]\n\t"
			 "jnz 1b\n\t"
			 "pushfq\n\t"
			 "popq %[after]\n\t"
			 "pushq %[saved]\n\t"
			 "popfq"
			 : [saved] "=&r"(saved), [after] "=&r"(after), [n] "+r"(n)
			 : [set] "r"(set)
			 : "memory", "cc");
	if ((after & set) != set)
		wrong("flags kept across interrupts", (long)after, (long)set);
}

int run_flags(void)
{
	static const uint64_t sets[] = {
		0, RFLAGS_AC, RFLAGS_DF, RFLAGS_NT, RFLAGS_IOPL,
		RFLAGS_AC | RFLAGS_DF | RFLAGS_NT | RFLAGS_IOPL,
	};

	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		check_all(sets[i]);
	spin_with(RFLAGS_AC | RFLAGS_DF | RFLAGS_NT);
	printf("hostile: flags: %d wrong\n", wrong_count);
	return wrong_count;
}

int run_tf(void)
{
	printf("hostile: a hypercall with TF set\n");
	flagged_call(RFLAGS_TF, PV_HC_VERSION, 0, 0);
	printf("hostile: SURVIVED TF (rflags 0x%lx)\n", (unsigned long)rflags_after);
	return 3;
}

/* One hypercall on RSP = sp, which must come back unchanged. */
static long on_stack(uint64_t sp, long nr, long a0, long a1)
{
	uint64_t back = sp;

	__asm__ volatile("movq %%rsp, %%r12\n\t"
			 "movq %[back], %%rsp\n\t"
			 "syscall\n\t"
			 "movq %%rsp, %[back]\n\t"
			 "movq %%r12, %%rsp"
			 : "+a"(nr), [back] "+r"(back)
			 : "D"(a0), "S"(a1)
			 : "rcx", "r11", "r12", "memory");
	if (back != sp)
		wrong("rsp after a hypercall", (long)back, (long)sp);
	return nr;
}

/* Every kind of hypercall from RSP = sp; checks answers and that RSP came
 * back unchanged. */
static void stack_round(uint64_t sp)
{
	static const char msg[] = "hostile: console write from a strange stack\n";
	struct pv_domain_info info = { 0 };
	uint64_t deadline = pv_monotonic_ns() + 1000000;
	char what[64];

	snprintf(what, sizeof(what), "version on rsp 0x%lx", (unsigned long)sp);
	if (on_stack(sp, PV_HC_VERSION, 0, 0) != PV_ABI_VERSION)
		wrong(what, 0, PV_ABI_VERSION);
	if (on_stack(sp, PV_HC_CONSOLE_WRITE, (long)msg, sizeof(msg) - 1) != (long)sizeof(msg) - 1)
		wrong("console_write on a strange stack", 0, sizeof(msg) - 1);
	if (on_stack(sp, PV_HC_DOMAIN_INFO, (long)&info, 0) != 0 || info.magic != PV_DOMAIN_INFO_MAGIC)
		wrong("domain_info on a strange stack", (long)info.magic, PV_DOMAIN_INFO_MAGIC);
	if (on_stack(sp, PV_HC_YIELD, 0, 0) != 0)
		wrong("yield on a strange stack", 1, 0);
	if (on_stack(sp, PV_HC_BLOCK, (long)deadline, 0) != 0 || pv_monotonic_ns() < deadline)
		wrong("block on a strange stack", 1, 0);
}

int run_stack(uint64_t entry_page)
{
	char local[64];
	uint64_t here = ((uint64_t)local & ~15UL) - 4096;
	const uint64_t sps[] = {
		0, 8, HV_PHYSMAP, HV_IMAGE, HV_STACKS + 0x5000, entry_page ? entry_page : HV_STACKS + 0x1000,
		NONCANON_LO, NONCANON_HI, ~7UL, here + 1, here + 3, here + 8,
	};

	for (size_t i = 0; i < sizeof(sps) / sizeof(sps[0]); i++)
		stack_round(sps[i]);
	printf("hostile: stack: %zu stacks, %d wrong\n", sizeof(sps) / sizeof(sps[0]), wrong_count);
	return wrong_count;
}
