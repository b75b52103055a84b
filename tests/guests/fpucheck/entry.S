/* The image's entry point: record the x87/SSE/AVX state exactly as the
 * hypervisor handed it over, before the libos or any compiled C code can
 * touch a vector register, then go on to the libos's _start with rdi and
 * rsp untouched.  main.c checks the record. */
	.text
	.globl fpu_entry
	.type fpu_entry, @function
fpu_entry:
	fnstcw	entry_fcw(%rip)
	stmxcsr	entry_mxcsr(%rip)
	fxsave64 entry_fxsave(%rip)		/* x87 stack, FSW, FTW, XMM0-15 */
	movl	$1, %eax
	cpuid
	btl	$27, %ecx			/* OSXSAVE: XGETBV and XSAVE usable */
	jnc	1f
	xorl	%ecx, %ecx
	xgetbv
	movl	%eax, entry_xcr0(%rip)
	movl	%edx, entry_xcr0+4(%rip)
	xsave64	entry_xsave(%rip)		/* every component XCR0 enables */
1:	xorl	%eax, %eax			/* registers as the ABI promised them */
	xorl	%ebx, %ebx
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	jmp	_start
	.size fpu_entry, . - fpu_entry

	.bss
	.globl entry_fcw, entry_mxcsr, entry_xcr0, entry_fxsave, entry_xsave
	.balign 64
entry_xsave:	.skip 16384
entry_fxsave:	.skip 512
entry_xcr0:	.skip 8
entry_fcw:	.skip 2
	.balign 4
entry_mxcsr:	.skip 4

	.section .note.GNU-stack, "", @progbits
