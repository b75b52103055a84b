/* Library OS internals shared between its own files.  Not for apps: they
 * use <paravane.h>.  Every symbol here is prefixed libos_ so it cannot
 * clash with an app's or newlib's names. */
#ifndef LIBOS_CORE_LIBOS_H
#define LIBOS_CORE_LIBOS_H

#include <stddef.h>
#include <stdint.h>

#include <public/shared_info.h>
#include <public/start_info.h>

/* Set once by libos_start(), before anything else runs. */
extern const struct pv_start_info *libos_si;
extern struct pv_shared_info *libos_shared;

/* Entry from _start (arch/x86_64/start.S); never returns. */
__attribute__((noreturn)) void libos_start(const struct pv_start_info *si);

/* Split a command line into argv words in buf (core/cmdline.c). */
int libos_cmdline_split(const char *line, size_t line_max, char *buf,
			size_t cap, char **argv, int max);

/* The range sbrk() hands out (libc/memory.c). */
void libos_heap_init(uint64_t start, uint64_t end);

/* Fill buf without RDRAND: weak or refused, by Kconfig (libc/entropy_*.c).
 * Returns 0, or -1 with errno set. */
int libos_entropy_fallback(void *buf, size_t len);

/* Set errno (both of newlib's copies, libc/errno.c); returns -1. */
int libos_fail(int err);

/* Write a NUL-terminated string straight to the console, no stdio: safe in
 * a crash (core/console.c). */
void libos_console_puts(const char *s);

#endif
