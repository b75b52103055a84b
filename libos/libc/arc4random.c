/* arc4random() and arc4random_buf() without a state: every call draws
 * from getentropy() (RDRAND, or what LIBOS_WEAK_ENTROPY chose).
 *
 * newlib's keeps a ChaCha20 state in memory, seeded once.  A clone
 * (docs/migration.md) starts with a copy of its snapshot's memory, so
 * every clone of one snapshot would draw the same numbers: the same TCP
 * sequence numbers, ports, DNS ids.  With no state there is nothing to
 * copy.  The cost is a getentropy() call per draw; the stack draws a few
 * per connection.  These definitions come before libc.a in every link,
 * so newlib's arc4random.o is never pulled in. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define CHUNK 256	/* getentropy's most per call */

void arc4random_buf(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n) {
		size_t k = n < CHUNK ? n : CHUNK;

		if (getentropy(p, k)) {		/* as newlib's: no randomness, no run */
			fputs("arc4random: no entropy source (LIBOS_WEAK_ENTROPY is off and no RDRAND)\n", stderr);
			abort();
		}
		p += k;
		n -= k;
	}
}

uint32_t arc4random(void)
{
	uint32_t v;

	arc4random_buf(&v, sizeof(v));
	return v;
}
