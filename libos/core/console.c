/* Console output: the PV_HC_CONSOLE_WRITE hypercall, in chunks the
 * hypervisor accepts.  stdout and stderr end up here (libc/syscalls.c). */
#include <string.h>

#include <paravane.h>

#include "hypercall.h"
#include "libos.h"

long pv_console_write(const void *buf, size_t len)
{
	const char *p = buf;
	size_t done = 0;

	while (done < len) {
		size_t n = len - done;
		int64_t r;

		if (n > PV_CONSOLE_WRITE_MAX)
			n = PV_CONSOLE_WRITE_MAX;
		r = pv_hypercall2(PV_HC_CONSOLE_WRITE, (uintptr_t)(p + done),
				  n);
		if (r < 0)
			return done ? (long)done : r;
		if (r == 0)		/* no progress: do not spin */
			break;
		done += r;
	}
	return done;
}

void libos_console_puts(const char *s)
{
	pv_console_write(s, strlen(s));
}
