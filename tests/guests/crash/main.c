/* Crashes on purpose, the way argv[1] says, after printing what it does
 * (and, with argv[2], after living that many milliseconds).  The
 * hypervisor must end only this domain, with a report. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile int zero;

/* Through a volatile pointer: gcc deletes a literal null store as UB. */
__attribute__((noinline)) static void null_write(void)
{
	volatile int *volatile p = 0;

	*p = 42;
}

/* In asm: gcc folds 1 / x into compares, with no division left to trap. */
__attribute__((noinline)) static int divide(int a, int b)
{
	__asm__ volatile("cltd; idivl %1" : "+a"(a) : "r"(b) : "rdx");
	return a;
}

/* Unbounded on purpose: only the guard page below the stack stops it. */
__attribute__((noinline)) static int recurse(int n)
{
	volatile char pad[256];

	pad[0] = (char)n;
	if (zero == 12345)
		return n;
	return recurse(n + 1) + pad[0];
}

__attribute__((noinline)) static void crash_by(const char *mode)
{
	if (!strcmp(mode, "null"))
		null_write();
	else if (!strcmp(mode, "ud"))
		__asm__ volatile("ud2");
	else if (!strcmp(mode, "div"))
		printf("%d\n", divide(1, zero));
	else if (!strcmp(mode, "stack"))
		printf("%d\n", recurse(0));
	else if (!strcmp(mode, "abort"))
		abort();
	else if (!strcmp(mode, "assert"))
		assert(zero == 1);
	else if (!strcmp(mode, "cli"))
		__asm__ volatile("cli");      /* privileged: #GP in ring 3 */
	else if (!strcmp(mode, "text"))
		*(volatile char *)(void *)crash_by = 0;   /* W^X: text is read-only */
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "null";
	long ms = argc > 2 ? atol(argv[2]) : 0;

	if (ms > 0)
		nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000 }, NULL);
	printf("crash: about to crash by %s\n", mode);
	fflush(stdout);
	crash_by(mode);
	printf("crash: still alive after %s?\n", mode);
	return 3;
}
