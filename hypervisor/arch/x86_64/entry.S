/* Hypervisor entry from the UEFI loader (boot_info.h states the hand-over):
 * rdi = physical address of struct boot_info, loader page tables, IF=0.
 * Switch to our own stack at once: the firmware's belongs to memory we are
 * about to reclaim. */
	.section .text.entry, "ax"
	.globl _start
_start:
	cli
	leaq boot_stack_top(%rip), %rsp
	xorl %ebp, %ebp
	call hv_main
1:	hlt
	jmp 1b

	.section .bss
	.p2align 12
	.globl boot_stack, boot_stack_top
boot_stack:                  /* the first page stays unmapped: a guard */
	.skip 4096 + 16384
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
