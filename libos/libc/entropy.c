/* getentropy(): RDRAND when CPUID has it, which is what arc4random() and
 * any app wanting seeds get.  Without RDRAND the Kconfig choice
 * LIBOS_WEAK_ENTROPY decides: TSC-mixed bytes that are NOT cryptographic
 * (libc/entropy_tsc.c) or ENOSYS (libc/entropy_none.c). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cpu.h"
#include "libos.h"

#define GETENTROPY_MAX 256	/* as on Linux and OpenBSD */
#define RDRAND_RETRIES 10	/* Intel's advice: it may briefly run dry */

static int rdrand_word(uint64_t *v)
{
	for (int i = 0; i < RDRAND_RETRIES; i++) {
		if (libos_rdrand64(v))
			return 1;
		libos_pause();
	}
	return 0;
}

static int fill_rdrand(unsigned char *p, size_t len)
{
	uint64_t v;

	while (len) {
		size_t n = len < sizeof(v) ? len : sizeof(v);

		if (!rdrand_word(&v))
			return -1;
		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
	return 0;
}

int getentropy(void *buf, size_t len)
{
	static int has_rdrand = -1;

	if (len > GETENTROPY_MAX) {
		return libos_fail(EIO);
	}
	if (has_rdrand < 0)
		has_rdrand = libos_has_rdrand();
	if (has_rdrand && fill_rdrand(buf, len) == 0)
		return 0;
	return libos_entropy_fallback(buf, len);
}
