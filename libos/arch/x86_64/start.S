/* Guest entry point.  The hypervisor enters here in ring 3 with
 * rdi = gva of the read-only start_info page and rsp = top of the stack,
 * 16-byte aligned (public/start_info.h).  Nothing is set up yet: no heap,
 * no stdio.  libos_start() does that and never returns.
 *
 * rbp = 0 ends the frame-pointer chain that the hypervisor walks for crash
 * backtraces.  The stack is aligned again although the ABI promises it:
 * it costs one instruction.  rdi passes through to libos_start(si).
 */
	.cfi_sections .debug_frame

	.text
	.globl _start
	.type _start, @function
_start:
	.cfi_startproc
	.cfi_undefined rip	/* the outermost frame, for debuggers */
	xorl	%ebp, %ebp
	andq	$-16, %rsp
	call	libos_start
	ud2			/* not reached */
	.cfi_endproc
	.size _start, . - _start

	.section .note.GNU-stack, "", @progbits
