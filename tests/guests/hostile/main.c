/* hostile MODE [ARGS]: a guest that attacks the hypervisor from ring 3.
 *
 *   priv NAME           one privileged or trapping instruction (priv.c)
 *   probe OP ADDR       read, write, exec or call a hypervisor address
 *   flags               hypercalls with AC, DF, NT and IOPL set in RFLAGS
 *   tf                  a hypercall with TF set: must end in #DB
 *   stack [ENTRY_PAGE]  hypercalls with RSP null, hypervisor, non-canonical,
 *                       unaligned
 *   fuzz SEED COUNT     random hypercall numbers and arguments
 *
 * The crashing modes print "hostile: SURVIVED ..." and exit 3 if the
 * hypervisor let them through; the others exit with their wrong answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hostile.h"

int wrong_count;

void wrong(const char *what, long got, long want)
{
	printf("hostile: WRONG %s: got %ld (0x%lx), want %ld\n", what, got, (unsigned long)got, want);
	wrong_count++;
}

/* Not inline: the register variables must be bound right at the asm. */
__attribute__((noinline)) long hc6(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	register long r10 __asm__("r10") = a3;
	register long r8 __asm__("r8") = a4;
	register long r9 __asm__("r9") = a5;
	const long in[6] = { a0, a1, a2, a3, a4, a5 };

	__asm__ volatile("syscall" : "+a"(nr), "+D"(a0), "+S"(a1), "+d"(a2), "+r"(r10), "+r"(r8), "+r"(r9)
			 :: "rcx", "r11", "memory");
	/* docs/abi.md: only rcx and r11 may change */
	if (a0 != in[0] || a1 != in[1] || a2 != in[2] || r10 != in[3] || r8 != in[4] || r9 != in[5])
		wrong("argument registers preserved", 0, 1);
	return nr;
}

static uint64_t hex(const char *s)
{
	return s ? strtoull(s, NULL, 16) : 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	const char *a2 = argc > 2 ? argv[2] : NULL, *a3 = argc > 3 ? argv[3] : NULL;

	setvbuf(stdout, NULL, _IONBF, 0);   /* every line out before a crash */
	if (!strcmp(mode, "priv") && a2)
		return run_priv(a2);
	if (!strcmp(mode, "probe") && a2 && a3)
		return run_probe(a2, hex(a3));
	if (!strcmp(mode, "flags"))
		return run_flags();
	if (!strcmp(mode, "tf"))
		return run_tf();
	if (!strcmp(mode, "stack"))
		return run_stack(hex(a2));
	if (!strcmp(mode, "fuzz"))
		return run_fuzz(a2 ? strtoull(a2, NULL, 0) : 1, a3 ? atol(a3) : 10000);
	printf("hostile: unknown mode \"%s\"\n", mode);
	return 2;
}
