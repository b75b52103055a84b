/* lwIP port: compiler and C library glue (newlib, gcc, x86_64).
 *
 * Two pitfalls of newlib 3.3 (shared/TOOLCHAIN.md section 4): do not
 * define BYTE_ORDER (newlib's <machine/endian.h> does), and define
 * SSIZE_MAX, or lwIP's arch.h typedefs its own conflicting ssize_t.
 *
 * The system headers below come first on purpose: lwIP then uses newlib's
 * struct timeval, fd_set (FD_SETSIZE 64), errno values and O_NONBLOCK, so
 * the socket calls and an app's <sys/time.h>, <sys/select.h>, <errno.h>
 * and <fcntl.h> agree on every type and constant.
 */
#ifndef LWIP_ARCH_CC_H
#define LWIP_ARCH_CC_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <sys/types.h>

#ifndef SSIZE_MAX
#define SSIZE_MAX LONG_MAX
#endif

#define LWIP_ERRNO_STDINCLUDE 1		/* newlib's errno and E* values */
#define LWIP_TIMEVAL_PRIVATE  0		/* newlib's struct timeval */

/* stderr is unbuffered: the message is out before abort() ends the domain. */
#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x)						\
	do {								\
		fprintf(stderr, "lwip: assertion \"%s\" failed at %s:%d\n", \
			x, __FILE__, __LINE__);				\
		abort();						\
	} while (0)

/* TCP initial sequence numbers, ports, DNS and DHCP ids: getentropy()
 * underneath (RDRAND, or TSC mixing without it, docs/sdk.md). */
#define LWIP_RAND() ((u32_t)arc4random())

#endif
