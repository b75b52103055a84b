/* Freestanding string and formatting helpers (hypervisor/lib). */
#ifndef HV_LIB_H
#define HV_LIB_H

#include <stdarg.h>
#include <hv/config.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))
#define unlikely(x) __builtin_expect(!!(x), 0)

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
size_t strlcpy(char *d, const char *s, size_t n);

/* printf subset: %d %i %u %x %X %p %s %c %%, flags '-' '0', width,
 * precision for %s, length modifiers l ll z.  Always NUL terminates. */
int vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);
int snprintf(char *buf, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* lib/stack_protector.c: pick the canary; first thing at boot, from a
 * function that is not itself protected. */
void stack_protector_init(void) __attribute__((no_stack_protector));

/* Guest bytes made safe for the log (lib/sanitize.c): printable ASCII
 * stays, any other byte becomes "\xNN" and a backslash two of them.
 * Writes at most cap - 1 bytes and a NUL, never half an escape; returns
 * the length written. */
size_t sanitize(char *dst, size_t cap, const char *src, size_t n);
size_t sanitize_width(char c);   /* what sanitize() turns c into: 1, 2 or 4 bytes */

#endif
