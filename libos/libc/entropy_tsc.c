/* CONFIG_LIBOS_WEAK_ENTROPY=y: without RDRAND, getentropy() returns TSC
 * readings mixed through splitmix64.  Good enough to seed hash tables or
 * pick ports; NOT cryptographic (an observer who knows roughly when the
 * guest ran can guess them).  Choose n in menuconfig to refuse instead. */
#include <string.h>

#include <paravane.h>

#include "cpu.h"
#include "libos.h"

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

int libos_entropy_fallback(void *buf, size_t len)
{
	static uint64_t state;
	unsigned char *p = buf;

	/* Fresh TSC jitter and the domain id each call, on top of the state. */
	state ^= libos_rdtsc() ^ ((uint64_t)pv_domid() << 32);
	while (len) {
		uint64_t v = splitmix64(&state) ^ libos_rdtsc();
		size_t n = len < sizeof(v) ? len : sizeof(v);

		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
	return 0;
}
