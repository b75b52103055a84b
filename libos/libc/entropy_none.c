/* CONFIG_LIBOS_WEAK_ENTROPY=n: without RDRAND there is no entropy source
 * worth the name, so getentropy() fails rather than pretend. */
#include <errno.h>

#include "libos.h"

int libos_entropy_fallback(void *buf, size_t len)
{
	return libos_fail(ENOSYS);
}
