/* Interrupt and exception entry stubs: one per vector, all funnelling into
 * trap_entry, which saves the registers as a struct trap_frame (hv/trap.h)
 * and calls trap_dispatch(frame).  Returning from trap_dispatch restores
 * whatever the frame then holds, which is how the scheduler switches
 * domains: it rewrites the frame. */
#include "trap_frame.S.h"

/* Vectors that push an error code: 8, 10-14, 17, 21, 29, 30. */
	.altmacro
.macro isr_stub vec
	.p2align 4
	.if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushq $0
	.endif
	pushq $\vec
	jmp trap_entry
.endm

	.section .text
	.p2align 4
	.globl isr_table
isr_table:
	.set vec, 0
	.rept 256
	isr_stub %vec
	.set vec, vec + 1
	.endr

	.p2align 4
	.globl trap_entry
trap_entry:
	cld
	/* A guest may leave RFLAGS.AC set (popf is allowed in ring 3), and an
	 * interrupt gate does not clear it: with AC set SMAP would be off for
	 * the whole handler.  Clear it first (works with or without SMAP,
	 * unlike clac). */
	pushfq
	andq $~0x40000, (%rsp)
	popfq
	PUSH_GPRS
	movq %rsp, %rdi
	xorl %ebp, %ebp          /* backtraces stop at the trap boundary */
	call trap_dispatch
	.globl trap_return
trap_return:
	POP_GPRS
	addq $16, %rsp           /* vector, error */
	iretq

	.section .note.GNU-stack, "", @progbits
