/* Hypercall entry: `syscall` from ring 3.  Swaps to this CPU's GS, parks
 * the guest RSP in struct cpu, builds the same struct trap_frame as isr.S
 * (vector = VEC_SYSCALL) in the running domain's own frame (frame_top,
 * isr.S explains) and calls hypercall_dispatch(frame) on the trap stack,
 * or for PV_HC_YIELD hypercall_yield(frame): the context switch's own way
 * in, without the table (core/hypercall.c).
 * The scheduler may meanwhile have pointed frame_top at another domain's
 * frame: if the frame we leave from is a hypercall frame we leave with
 * sysretq (rcx/r11 are the guest's to lose), otherwise through iretq so that
 * an interrupted domain gets every register back.  Interrupts stay off
 * throughout (SFMASK clears IF), so only NMI/#MC can land between the
 * swapgs and sysretq; their paranoid entry copes.
 *
 * Under page-table isolation (isr.S explains it) the switch to the
 * hypervisor's tables comes first, with RSP as the only free register,
 * and the switch back last, after RSP holds the guest's value again. */
#include "trap_frame.S.h"
#include <hv/percpu_offsets.h>
#define VEC_SYSCALL 0x100
#define HC_YIELD 3                   /* PV_HC_YIELD (hypercall.c asserts it) */
#define GDT_UCODE 0x23
#define GDT_UDATA 0x1b
#define USER_RIP_LIMIT 0x00007ffffffff000

	.section .entry.text, "ax"
	.p2align 4
	.globl syscall_entry
syscall_entry:
	swapgs
	movq %rsp, %gs:CPU_USER_RSP
	testb $MITIGATE_PTI, %gs:CPU_MITIGATE
	jz 1f
	movq %gs:CPU_KERNEL_CR3, %rsp
	movq %rsp, %cr3
1:	movq %gs:CPU_FRAME_TOP, %rsp
	pushq $GDT_UDATA
	pushq %gs:CPU_USER_RSP
	pushq %r11                   /* rflags */
	pushq $GDT_UCODE
	pushq %rcx                   /* rip */
	pushq $0                     /* error */
	pushq $VEC_SYSCALL
	PUSH_GPRS
	movq %rsp, %rdi
	movq %gs:CPU_TRAP_TOP, %rsp
	xorl %ebp, %ebp              /* DF is already clear: SFMASK (syscall.c) */
	cmpq $HC_YIELD, %rax         /* rax is still the guest's */
	je 3f
	call hypercall_dispatch
4:	movq %gs:CPU_FRAME, %rsp
	cmpq $VEC_SYSCALL, 15*8(%rsp)
	jne user_return
	movq 17*8(%rsp), %rcx        /* rip: sysret only to a canonical user RIP */
	cmpq user_rip_limit(%rip), %rcx
	jae user_return
	LOAD_GPRS_EXCEPT_RCX_R11
	movq 19*8(%rsp), %r11        /* rflags */
	movq 20*8(%rsp), %rsp        /* user rsp: the frame is done with */
	testb $(MITIGATE_PTI | MITIGATE_VERW), %gs:CPU_MITIGATE
	jz 5f                        /* neither (the common case): one test, not two */
	testb $MITIGATE_PTI, %gs:CPU_MITIGATE
	jz 2f
	movq %rsp, %gs:CPU_USER_RSP
	movq %gs:CPU_USER_CR3, %rsp
	movq %rsp, %cr3
	movq %gs:CPU_USER_RSP, %rsp
2:	CLEAR_CPU_BUFFERS
5:	swapgs
	sysretq
3:	call hypercall_yield
	jmp 4b

	.section .rodata, "a"   /* read on kernel CR3 */
	.p2align 3
user_rip_limit:
	.quad USER_RIP_LIMIT

	.section .note.GNU-stack, "", @progbits
