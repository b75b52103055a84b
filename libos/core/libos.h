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

/* ---- file descriptors (libc/fd.c) ---------------------------------------
 * A descriptor names an open file description: ops and the object they
 * act on, shared by dup().  Every op returns a value >= 0 or a negative
 * errno; a NULL op answers the POSIX error for a file that cannot do it.
 * The console's three descriptors are built in (libc/fd_console.c); the
 * file system (libos/fs) installs its files; lwIP keeps its sockets'
 * numbers (libos_fd_reserved_end, net/posix.c). */
struct stat;

struct libos_file_ops {
	long (*read)(void *obj, void *buf, size_t n);
	long (*write)(void *obj, const void *buf, size_t n, int flags);  /* O_APPEND... */
	long (*pread)(void *obj, void *buf, size_t n, int64_t off);
	long (*pwrite)(void *obj, const void *buf, size_t n, int64_t off);
	int64_t (*lseek)(void *obj, int64_t off, int whence);
	int (*fstat)(void *obj, struct stat *st);
	int (*ftruncate)(void *obj, int64_t len);
	int (*fsync)(void *obj, int datasync);
	int (*close)(void *obj);     /* the last descriptor for it was closed */
	int (*isatty)(void *obj);    /* NULL: not a terminal */
};

#define LIBOS_FD_MAX 256         /* descriptors 0..255; EMFILE beyond */

/* Descriptors below this are not the table's: 3 (after the console), or
 * the end of lwIP's socket range when networking is linked in. */
extern const int libos_fd_reserved_end;

/* A new descriptor (the lowest free) for obj, opened with O_* flags;
 * or -EMFILE / -ENOMEM. */
int libos_fd_install(const struct libos_file_ops *ops, void *obj, int flags);
/* The object behind fd if its ops are ops, else NULL. */
void *libos_fd_object(int fd, const struct libos_file_ops *ops);
/* Fill one of the console's descriptors 0-2 (libc/fd_console.c). */
void libos_fd_set_static(int fd, const struct libos_file_ops *ops, void *obj, int flags);
void libos_fd_console_init(void);

/* Called by _exit() once stdio is flushed: the file system unmounts
 * (libos/fs; a no-op without files, libc/nofs.c). */
void libos_exit_hook(void);

#endif
