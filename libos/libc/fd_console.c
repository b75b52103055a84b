/* Descriptors 0-2: the console.  stdin is always at end of file (the
 * console has no input yet); stdout and stderr write to it.  A character
 * device, so newlib makes stdout line-buffered. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include <paravane.h>

#include "libos.h"

static long console_read(void *obj, void *buf, size_t n)
{
	return 0;
}

static long console_write(void *obj, const void *buf, size_t n, int flags)
{
	return pv_console_write(buf, n);
}

static int console_fstat(void *obj, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFCHR | 0620;
	return 0;
}

static int console_isatty(void *obj)
{
	return 1;
}

static const struct libos_file_ops console_ops = {
	.read = console_read,
	.write = console_write,
	.fstat = console_fstat,
	.isatty = console_isatty,
};

void libos_fd_console_init(void)
{
	libos_fd_set_static(0, &console_ops, NULL, O_RDONLY);
	libos_fd_set_static(1, &console_ops, NULL, O_WRONLY);
	libos_fd_set_static(2, &console_ops, NULL, O_WRONLY);
}

/* Without networking, descriptors after the console are the table's. */
__attribute__((weak)) const int libos_fd_reserved_end = 3;
