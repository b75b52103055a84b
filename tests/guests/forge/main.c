/* A hostile image for the serial log.  It prints escapes, forged "@event"
 * and "hv|" lines, bare CRs, NULs and bytes >= 0x80, then crashes inside a
 * function whose symbol name is itself a forged log line with terminal
 * escapes (patched into the linked image by rename_symbol.py: no compiler
 * or assembler writes such a name).  The hypervisor must print every byte
 * of it sanitized, behind its own "forge| " or "hv| " prefix. */
#include <string.h>
#include <paravane.h>

static void out(const char *s, size_t n)
{
	pv_console_write(s, n);
}

#define OUT(lit) out(lit, sizeof(lit) - 1)

static void forged_lines(void)
{
	static const char split[] = "@event domain-exited id=98 name=forged-split\n";
	char longline[160 + sizeof(split)];

	OUT("\x1b[2J\x1b]0;forged title\x07" "after the escapes\n");
	OUT("@event domain-exited id=99 name=forged-console code=0\n");
	OUT("ok\n@event poweroff status=0 reason=forged-console\n");
	OUT("cr\rhv| forged-console carriage return\n");
	OUT("high \xff\xfe\x9b" "2J and a lone ESC \x1b" "X\n");
	OUT("nul\0hv| forged-console after a NUL\n");
	memset(longline, 'A', 160);          /* the console splits at 160 bytes */
	memcpy(longline + 160, split, sizeof(split) - 1);
	out(longline, sizeof(longline) - 1);
}

/* Its name becomes FORGED_NAME (rename_symbol.py); a null write in it. */
__attribute__((noinline)) void forge_symbol_placeholder_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS(void)
{
	volatile int *volatile p = 0;

	*p = 42;
}

int main(void)
{
	forged_lines();
	OUT("forge: crashing in the renamed function\n");
	forge_symbol_placeholder_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS();
	return 0;
}
