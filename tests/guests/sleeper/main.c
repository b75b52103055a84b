/* Measures nanosleep: argv[1] sleeps of argv[2] ms each, timed with
 * CLOCK_MONOTONIC.  Prints one machine-readable summary line; exits 1 if a
 * sleep ever returned early. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : 10;
	long ms = argc > 2 ? atol(argv[2]) : 20;
	long long min_late = -1, max_late = 0, total = 0;
	int early = 0;

	for (int i = 0; i < count; i++) {
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
		long long t0 = now_ns(), late;

		nanosleep(&ts, NULL);
		late = now_ns() - t0 - ms * 1000000LL;
		if (late < 0)
			early++;
		if (min_late < 0 || late < min_late)
			min_late = late;
		if (late > max_late)
			max_late = late;
		total += late;
	}
	printf("sleeper: count=%d ms=%ld early=%d min_late_us=%lld max_late_us=%lld avg_late_us=%lld\n",
	       count, ms, early, min_late / 1000, max_late / 1000, total / count / 1000);
	return early ? 1 : 0;
}
