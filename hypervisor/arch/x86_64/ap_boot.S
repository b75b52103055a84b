/* Application-processor start-up code.  smp.c copies ap_boot_start ..
 * ap_boot_end into the page below 1 MiB that the loader reserved, fills in
 * the parameter block at its end, and points a SIPI at it.  The AP starts
 * here in real mode with CS:IP = page:0, and goes
 *   real mode -> 32-bit protected mode -> long mode (on small start-up
 *   page tables that identity-map low memory and share the hypervisor's
 *   upper half) -> ap_entry64 in the hypervisor image, on its own stack.
 * Position independent: real mode addresses through CS/DS = the page;
 * 32- and 64-bit code through %ebx = the page's physical address. */
#include <hv/ap_boot.h>

	.section .rodata
	.p2align 12
	.globl ap_boot_start, ap_boot_end
	.code16
ap_boot_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	xorl %ebx, %ebx
	movw %ax, %bx
	shll $4, %ebx                       /* ebx = physical base of this page */
	lgdtl AP_GDTR
	movl %cr0, %eax
	orl $1, %eax                        /* PE */
	movl %eax, %cr0
	ljmpl *AP_FAR32

	.code32
	.globl ap_boot_pm32
ap_boot_pm32:
	movw $AP_SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl AP_CR4(%ebx), %eax             /* PAE and the boot CPU's other bits */
	movl %eax, %cr4
	movl AP_CR3(%ebx), %eax             /* start-up PML4, below 4 GiB */
	movl %eax, %cr3
	movl $0xC0000080, %ecx              /* EFER: LME, NXE, SCE as on the boot CPU */
	rdmsr
	orl AP_EFER(%ebx), %eax
	wrmsr
	movl AP_CR0(%ebx), %eax             /* PG: long mode is active now */
	movl %eax, %cr0
	ljmpl *AP_FAR64(%ebx)               /* no stack yet: jump through memory */

	.code64
	.globl ap_boot_lm64
ap_boot_lm64:
	movl %ebx, %ebx                     /* upper half undefined after the switch */
	movq AP_STACK(%rbx), %rsp
	movq AP_CPU(%rbx), %rdi
	movq AP_FULL_CR3(%rbx), %rsi
	movq AP_ENTRY(%rbx), %rcx
	xorl %ebp, %ebp
	jmp *%rcx                           /* ap_boot_upper, in the image */

	.p2align 3
	.globl ap_boot_gdt, ap_boot_gdt_end
ap_boot_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff            /* AP_SEL_CODE32 */
	.quad 0x00cf92000000ffff            /* AP_SEL_DATA */
	.quad 0x00af9a000000ffff            /* AP_SEL_CODE64 */
ap_boot_gdt_end:
ap_boot_end:

/* In the hypervisor image (upper half), where low memory may vanish: only
 * now is it safe to load the hypervisor's own page tables. */
	.section .text
	.globl ap_boot_upper
ap_boot_upper:
	movq %rsi, %cr3
	jmp ap_entry64

	.section .note.GNU-stack, "", @progbits
