/* Interrupt and exception entry stubs: one per vector, all funnelling into
 * trap_entry, which saves the registers as a struct trap_frame (hv/trap.h)
 * and calls trap_dispatch(frame).
 *
 * Frames: an entry from ring 3 saves straight into the running domain's
 * own frame (struct domain.regs, whose end cpu_entry.frame_top holds),
 * then runs C on the trap stack; the exit to ring 3 loads whichever
 * domain's frame cpu_entry.frame names by then.  That is how the
 * scheduler switches domains: it points both elsewhere, copying nothing.  An
 * entry from ring 0 (the idle loop's halt) keeps its frame on the stack
 * it interrupted and returns from there.
 *
 * GS: in ring 0 GS base is this CPU's struct cpu_entry (hv/percpu.h); in
 * ring 3 it is the guest's.  An entry from ring 3 swaps them first thing,
 * an exit to ring 3 swaps them back last thing; the interrupted CS says
 * which.  NMI, #DF and #MC (IST stacks) can interrupt the few instructions
 * around a swapgs, where CS and GS disagree, so their "paranoid" entry
 * reads the GS base MSR instead: ours is an upper-half address, a guest's
 * never is (guests cannot write MSRs, and CR4.FSGSBASE stays off).
 *
 * Page-table isolation (MITIGATE_PTI, docs/security.md): a guest's tables
 * map only this section (.entry.text), the IDT, and each CPU's entry page,
 * entry stack and IST stacks.  An entry from ring 3 lands on the entry
 * stack, switches to the hypervisor's tables (cpu_entry.kernel_cr3) and
 * moves its frame to the trap stack; an exit copies the frame back to the
 * entry stack, loads the guest's tables (cpu_entry.user_cr3), and leaves
 * from there.  Without PTI, TSS.RSP0 is the trap stack and nothing moves.
 *
 * The lfence after each conditional swapgs keeps a mispredicted branch
 * from running on with the wrong GS (the "swapgs" Spectre variant). */
#include "trap_frame.S.h"
#include <hv/percpu_offsets.h>
#define MSR_GS_BASE 0xC0000101

/* Vectors that push an error code: 8, 10-14, 17, 21, 29, 30. */
	.altmacro
.macro isr_stub vec
	.p2align 4
	.if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushq $0
	.endif
	pushq $\vec
	.if (\vec == 2) || (\vec == 8) || (\vec == 18)
	jmp paranoid_entry
	.else
	jmp trap_entry
	.endif
.endm

	.section .entry.text, "ax"
	.p2align 4
	.globl isr_table
isr_table:
	.set vec, 0
	.rept 256
	isr_stub %vec
	.set vec, vec + 1
	.endr

/* A guest may leave RFLAGS.AC set (popf is allowed in ring 3), and an
 * interrupt gate does not clear it: with AC set SMAP would be off for the
 * whole handler.  Clear it first (works with or without SMAP, unlike clac). */
.macro CLEAR_AC
	pushfq
	andq $~0x40000, (%rsp)
	popfq
.endm

	.p2align 4
	.globl trap_entry
trap_entry:
	testb $3, 24(%rsp)       /* CS above vector, error, rip */
	jz from_ring0
	swapgs
	lfence
	pushq %rax
	testb $MITIGATE_PTI, %gs:CPU_MITIGATE
	jz 1f
	movq %gs:CPU_KERNEL_CR3, %rax   /* the guest's tables were loaded */
	movq %rax, %cr3
	/* On the trap stack, the entry stack (PTI) or an IST stack (#DB,
	 * #BP): the frame so far (ss..vector, rax) moves into the domain's. */
1:	movq %rsp, %rax
	movq %gs:CPU_FRAME_TOP, %rsp
	.irp off, 56, 48, 40, 32, 24, 16, 8, 0
	pushq \off(%rax)
	.endr
	cld
	CLEAR_AC
	PUSH_GPRS_AFTER_RAX
	movq %rsp, %rdi
	movq %gs:CPU_TRAP_TOP, %rsp     /* interrupts stay off until C is on it */
	xorl %ebp, %ebp          /* backtraces stop at the trap boundary */
	call trap_dispatch
	/* fall through: back to whichever domain runs now */
	.globl user_return
user_return:
	movq %gs:CPU_FRAME, %rsp
	testb $MITIGATE_PTI, %gs:CPU_MITIGATE
	jz to_ring3
	/* The frame moves to the entry stack, which the guest's tables map. */
	movq %gs:CPU_ENTRY_TOP, %rdi
	subq $TRAP_FRAME_SIZE, %rdi
	movq %rsp, %rsi
	movl $TRAP_FRAME_SIZE / 8, %ecx
	rep movsq
	leaq -TRAP_FRAME_SIZE(%rdi), %rsp
	movq %gs:CPU_USER_CR3, %rax
	movq %rax, %cr3
to_ring3:
	POP_GPRS
	addq $16, %rsp           /* vector, error */
	CLEAR_CPU_BUFFERS
	swapgs
	iretq

from_ring0:
	lfence
	pushq %rax
	cld
	CLEAR_AC
	PUSH_GPRS_AFTER_RAX
	movq %rsp, %rdi
	xorl %ebp, %ebp
	call trap_dispatch
	POP_GPRS
	addq $16, %rsp
	iretq

/* A CPU's first way into ring 3 (boot CPU and APs alike): the scheduler
 * picks a domain (pointing frame_top at its frame) and we leave through
 * user_return.  C runs from the top of the trap stack, as on every entry. */
	.p2align 4
	.globl sched_start
sched_start:
	movq %gs:CPU_TRAP_TOP, %rsp
	xorl %ebp, %ebp
	call sched_first_frame
	jmp user_return

/* NMI, #DF, #MC: from either ring, maybe between a swapgs and the ring
 * change or between a CR3 write and the ring change.  rbx remembers
 * whether we swapped GS, r12 the tables to go back to (both callee-saved,
 * so trap_dispatch_paranoid keeps them). */
	.p2align 4
paranoid_entry:
	cld
	CLEAR_AC
	PUSH_GPRS
	movl $MSR_GS_BASE, %ecx
	rdmsr
	xorl %ebx, %ebx          /* rbx: 1 if we swapped */
	testl %edx, %edx
	js 1f                    /* upper-half base: already ours */
	swapgs
	movl $1, %ebx
1:	lfence
	movq %cr3, %r12
	cmpq %gs:CPU_USER_CR3, %r12
	jne 2f                   /* not on a guest's view */
	movq %gs:CPU_KERNEL_CR3, %rax
	movq %rax, %cr3
2:	movq %rsp, %rdi
	xorl %ebp, %ebp
	call trap_dispatch_paranoid
	movq %cr3, %rax
	cmpq %rax, %r12
	je 3f
	movq %r12, %cr3
3:	testl %ebx, %ebx
	jz 4f
	swapgs
4:	POP_GPRS
	addq $16, %rsp
	iretq

	.section .note.GNU-stack, "", @progbits
