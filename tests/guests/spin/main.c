/* Spins forever without a hypercall: only preemption can take the CPU
 * back.  argv[1] = seconds to spin before exiting (default: forever). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	long seconds = argc > 1 ? atol(argv[1]) : 0;
	struct timespec start, now;
	volatile unsigned long n = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	printf("spin: spinning %s\n", seconds ? argv[1] : "forever");
	fflush(stdout);
	for (;;) {
		n++;
		if (seconds && !(n & 0xfffff)) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - start.tv_sec >= seconds)
				break;
		}
	}
	printf("spin: done after %lu iterations\n", n);
	return 0;
}
