/* What the hypervisor's lib provides and the host's libc (glibc 2.36) does
 * not, for unit tests that compile hypervisor sources. */
#include <string.h>

size_t strlcpy(char *d, const char *s, size_t n);

size_t strlcpy(char *d, const char *s, size_t n)
{
	size_t len = strlen(s);

	if (n) {
		size_t c = len < n - 1 ? len : n - 1;

		memcpy(d, s, c);
		d[c] = 0;
	}
	return len;
}
