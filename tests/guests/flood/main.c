/* Floods its console for argv[1] seconds (default 3), then exits 0. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	long seconds = argc > 1 ? atol(argv[1]) : 3;
	struct timespec start, now;
	unsigned long line = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		printf("flood line %lu: the quick brown fox jumps over the lazy dog\n", line++);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - start.tv_sec < seconds);
	return 0;
}
