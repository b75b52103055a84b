/* crash.elf, embedded whole: the image ctlstat restarts through domctl CREATE. */
	.section .rodata
	.p2align 12
	.globl crash_image, crash_image_end
crash_image:
	.incbin CRASH_ELF
crash_image_end:
	.section .note.GNU-stack, "", @progbits
