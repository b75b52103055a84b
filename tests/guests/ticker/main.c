/* Prints "ticker: tick N" every MS milliseconds, COUNT times (0: for
 * ever), then exits 0: a guest that keeps running and keeps talking, for
 * console-follow, pause/resume, save and dashboard tests.
 *   ticker [COUNT [MS [KIB]]]      (defaults: 0, 500, 0)
 * KIB: memory to fill first (a save stream of some size). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
	long count = argc > 1 ? atol(argv[1]) : 0, ms = argc > 2 ? atol(argv[2]) : 500;
	struct timespec gap = { ms / 1000, ms % 1000 * 1000000 };
	size_t fill = argc > 3 ? (size_t)atol(argv[3]) << 10 : 0;
	char *mem = fill ? malloc(fill) : NULL;

	if (mem)
		memset(mem, 0x5a, fill);

	printf("ticker: started, %ld ms apart\n", ms);
	for (long i = 1; count == 0 || i <= count; i++) {
		nanosleep(&gap, NULL);
		printf("ticker: tick %ld\n", i);
		fflush(stdout);
	}
	return 0;
}
