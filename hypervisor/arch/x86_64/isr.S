/* Interrupt and exception entry stubs: one per vector, all funnelling into
 * trap_entry, which saves the registers as a struct trap_frame (hv/trap.h)
 * and calls trap_dispatch(frame).  Returning from trap_dispatch restores
 * whatever the frame then holds, which is how the scheduler switches
 * domains: it rewrites the frame. */

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
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	xorl %ebp, %ebp          /* backtraces stop at the trap boundary */
	call trap_dispatch
	.globl trap_return
trap_return:
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp           /* vector, error */
	iretq

	.section .note.GNU-stack, "", @progbits
