/* Touch one address that is not the guest's: read, write, jump or call.
 * Mapped supervisor pages (the entry text, the IDT, a CPU's entry page,
 * which page-table isolation leaves in every guest's tables) must fault
 * like unmapped ones; non-canonical addresses give #GP. */
#include <stdio.h>
#include <string.h>
#include "hostile.h"

__attribute__((noinline)) static void probe_read(uint64_t a)
{
	printf("hostile: SURVIVED read 0x%lx = 0x%lx\n", (unsigned long)a,
	       (unsigned long)*(volatile uint64_t *)a);
}

__attribute__((noinline)) static void probe_write(uint64_t a)
{
	*(volatile uint64_t *)a = 0x4141414141414141UL;
	printf("hostile: SURVIVED write 0x%lx\n", (unsigned long)a);
}

__attribute__((noinline)) static void probe_exec(uint64_t a)
{
	__asm__ volatile("jmp *%0" :: "r"(a) : "memory");
}

__attribute__((noinline)) static void probe_call(uint64_t a)
{
	__asm__ volatile("call *%0" :: "r"(a) : "memory", "rax", "rcx", "rdx", "rsi", "rdi",
			 "r8", "r9", "r10", "r11");
	printf("hostile: SURVIVED call 0x%lx\n", (unsigned long)a);
}

int run_probe(const char *op, uint64_t addr)
{
	printf("hostile: %s 0x%lx\n", op, (unsigned long)addr);
	if (!strcmp(op, "read"))
		probe_read(addr);
	else if (!strcmp(op, "write"))
		probe_write(addr);
	else if (!strcmp(op, "exec"))
		probe_exec(addr);
	else if (!strcmp(op, "call"))
		probe_call(addr);
	else
		return 2;
	return 3;
}
