/* Hypercall entry: `syscall` from ring 3.  Builds the same struct
 * trap_frame as isr.S (vector = VEC_SYSCALL) on the trap stack and calls
 * hypercall_dispatch(frame).  The scheduler may replace the frame with
 * another domain's: if the frame is still a hypercall frame we leave with
 * sysretq (rcx/r11 are the guest's to lose), otherwise through iretq so that
 * an interrupted domain gets every register back.
 *
 * Single CPU for now: the user stack pointer is parked in a global.  With
 * SMP this becomes swapgs + a per-CPU area. */
#include "trap_frame.S.h"
#define VEC_SYSCALL 0x100
#define GDT_UCODE 0x23
#define GDT_UDATA 0x1b
#define USER_RIP_LIMIT 0x00007ffffffff000

	.section .text
	.p2align 4
	.globl syscall_entry
syscall_entry:
	movq %rsp, syscall_user_rsp(%rip)
	movq trap_stack_top(%rip), %rsp
	pushq $GDT_UDATA
	pushq syscall_user_rsp(%rip)
	pushq %r11                   /* rflags */
	pushq $GDT_UCODE
	pushq %rcx                   /* rip */
	pushq $0                     /* error */
	pushq $VEC_SYSCALL
	PUSH_GPRS
	movq %rsp, %rdi
	xorl %ebp, %ebp
	cld
	call hypercall_dispatch
	cmpq $VEC_SYSCALL, 15*8(%rsp)
	jne trap_return
	movq 17*8(%rsp), %rcx        /* rip: sysret only to a canonical user RIP */
	movabsq $USER_RIP_LIMIT, %rax
	cmpq %rax, %rcx
	jae trap_return
	POP_GPRS
	addq $16, %rsp               /* vector, error */
	movq 0(%rsp), %rcx           /* rip */
	movq 16(%rsp), %r11          /* rflags */
	movq 24(%rsp), %rsp          /* user rsp: no kernel access after this */
	sysretq

	.section .bss
	.p2align 3
syscall_user_rsp:
	.quad 0

	.section .note.GNU-stack, "", @progbits
