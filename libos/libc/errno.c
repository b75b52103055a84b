/* errno has two homes in this newlib: the reent field that the errno macro
 * reads, and a plain global int (libc's reent.c) that the _write_r()-style
 * wrappers clear before a call and copy into the reent field after it.  A
 * stub may be reached either way (printf -> _write_r -> write, or an app
 * calling write() itself), so set both. */
#include <errno.h>

#include "libos.h"

int libos_fail(int err)
{
	*__errno() = err;
#undef errno
	{
		extern int errno;

		errno = err;
	}
	return -1;
}
