/* hello.elf, embedded whole: the image ctl hands to domctl CREATE. */
	.section .rodata
	.p2align 12
	.globl hello_image, hello_image_end
hello_image:
	.incbin HELLO_ELF
hello_image_end:
	.section .note.GNU-stack, "", @progbits
