/* hello.elf and spin.elf, embedded whole: the images ctl hands to domctl
 * CREATE and IMAGE_ADD. */
	.section .rodata
	.p2align 12
	.globl hello_image, hello_image_end, spin_image, spin_image_end
hello_image:
	.incbin HELLO_ELF
hello_image_end:
	.p2align 12
spin_image:
	.incbin SPIN_ELF
spin_image_end:
	.section .note.GNU-stack, "", @progbits
