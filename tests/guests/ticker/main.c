/* Prints "ticker: tick N" every MS milliseconds, COUNT times (0: for
 * ever), then exits 0: a guest that keeps running and keeps talking, for
 * console-follow, pause/resume, save and dashboard tests.
 *   ticker [COUNT [MS [KIB [FLAGS]]]]      (defaults: 0, 500, 0)
 * KIB: memory to fill first (a save stream of some size).  FLAGS, any of:
 * "late": a tick that comes 50 ms or more after it was due also prints
 * "ticker: late N us" (the time this guest saw itself stopped: a save, a
 * pause); "rand": each tick also prints "ticker: rand X" (arc4random(),
 * which a clone must not share with its snapshot's other clones) and
 * "ticker: generation G" when pv_generation() changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <paravane.h>

static void report_late(const struct timespec *t0, const struct timespec *t1, long ms)
{
	long long us = (t1->tv_sec - t0->tv_sec) * 1000000LL + (t1->tv_nsec - t0->tv_nsec) / 1000;

	if (us - ms * 1000 >= 50000)
		printf("ticker: late %lld us\n", us - ms * 1000);
}

int main(int argc, char **argv)
{
	long count = argc > 1 ? atol(argv[1]) : 0, ms = argc > 2 ? atol(argv[2]) : 500;
	struct timespec gap = { ms / 1000, ms % 1000 * 1000000 };
	size_t fill = argc > 3 ? (size_t)atol(argv[3]) << 10 : 0;
	char *mem = fill ? malloc(fill) : NULL;

	if (mem)
		memset(mem, 0x5a, fill);

	const char *flags = argc > 4 ? argv[4] : "";
	int late = strstr(flags, "late") != NULL, rnd = strstr(flags, "rand") != NULL;
	uint32_t gen = pv_generation();
	struct timespec t0, t1;

	printf("ticker: started, %ld ms apart\n", ms);
	for (long i = 1; count == 0 || i <= count; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		nanosleep(&gap, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("ticker: tick %ld\n", i);
		if (late)
			report_late(&t0, &t1, ms);
		if (rnd && gen != pv_generation())
			printf("ticker: generation %u\n", gen = pv_generation());
		if (rnd)
			printf("ticker: rand %08x\n", (unsigned)arc4random());
		fflush(stdout);
	}
	return 0;
}
