#include <hv/percpu_offsets.h>

#define TRAP_FRAME_SIZE (22 * 8)   /* sizeof(struct trap_frame) */

/* Saving and restoring the general registers of a struct trap_frame
 * (hv/trap.h): the order here IS that struct's layout, r15 at the lowest
 * address.  Shared by isr.S and syscall_entry.S. */
.macro PUSH_GPRS
	pushq %rax
	PUSH_GPRS_AFTER_RAX
.endm

/* The rest, when rax is already in place. */
.macro PUSH_GPRS_AFTER_RAX
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
.endm

.macro POP_GPRS
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
.endm

/* The sysretq exit's loads, RSP left at the frame: every general
 * register but rcx and r11, which sysretq takes the frame's RIP and
 * RFLAGS in (the caller loads them), so moves, not 15 pops and their
 * two dead loads. */
.macro LOAD_GPRS_EXCEPT_RCX_R11
	movq 0*8(%rsp), %r15
	movq 1*8(%rsp), %r14
	movq 2*8(%rsp), %r13
	movq 3*8(%rsp), %r12
	movq 5*8(%rsp), %r10
	movq 6*8(%rsp), %r9
	movq 7*8(%rsp), %r8
	movq 8*8(%rsp), %rbp
	movq 9*8(%rsp), %rdi
	movq 10*8(%rsp), %rsi
	movq 11*8(%rsp), %rdx
	movq 13*8(%rsp), %rbx
	movq 14*8(%rsp), %rax
.endm

/* MDS: overwrite the CPU's buffers (VERW with a memory operand, on CPUs
 * whose microcode makes it do that) as the last thing before ring 3.  GS
 * must still be ours.  Flags are clobbered: iretq/sysretq reload them. */
.macro CLEAR_CPU_BUFFERS
	testb $MITIGATE_VERW, %gs:CPU_MITIGATE
	jz 9f
	verw %gs:CPU_VERW_SEL
9:
.endm
