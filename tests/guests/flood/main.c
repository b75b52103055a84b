/* Console load, and a victim that measures what it costs the others.
 *   flood [SECONDS]          printf lines for SECONDS (default 3), exit 0
 *   flood chunks N [GAP_US]  N console writes of 4 KiB (64 lines of 64
 *                            bytes) straight to the hypercall, GAP_US apart;
 *                            times those printed whole (nothing dropped):
 *                            "flood: chunks=N printed=N min_us= avg_us= max_us="
 *   flood tick SECONDS PERIOD_US
 *                            sleeps PERIOD_US again and again; reports its
 *                            five latest wake-ups, latest first:
 *                            "flood: tick wakeups=N late_us=L1,L2,L3,L4,L5" */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <paravane.h>

#define CHUNK 4096
#define LINE 64
#define WORST 5

static int lines(long seconds)
{
	struct timespec start, now;
	unsigned long line = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		printf("flood line %lu: the quick brown fox jumps over the lazy dog\n", line++);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - start.tv_sec < seconds);
	return 0;
}

static void sleep_us(uint64_t us)
{
	struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static void fill(char *buf, int chunk)
{
	for (int i = 0; i < CHUNK / LINE; i++) {
		char *l = buf + i * LINE;

		memset(l, '.', LINE);
		memcpy(l, "chunk", 5);
		l[6] = (char)('0' + chunk % 10);
		l[8] = (char)('0' + i / 10);
		l[9] = (char)('0' + i % 10);
		l[LINE - 1] = '\n';
	}
}

static uint64_t dropped(void)
{
	struct pv_domain_info di;

	return pv_domain_info(&di) == 0 ? di.console_dropped : 0;
}

static int chunks(int n, uint64_t gap_us)
{
	static char buf[CHUNK];
	uint64_t min = UINT64_MAX, max = 0, total = 0, printed = 0;

	for (int c = 0; c < n; c++) {
		uint64_t before = dropped(), t0, dt;

		fill(buf, c);
		t0 = pv_monotonic_ns();
		pv_console_write(buf, CHUNK);
		dt = pv_monotonic_ns() - t0;
		if (dropped() == before) {
			printed++;
			total += dt;
			min = dt < min ? dt : min;
			max = dt > max ? dt : max;
		}
		if (gap_us)
			sleep_us(gap_us);
	}
	sleep_us(1000000);   /* the token bucket refills: the report is not cut */
	printf("\nflood: chunks=%d printed=%lu min_us=%lu avg_us=%lu max_us=%lu\n", n,
	       (unsigned long)printed, (unsigned long)(printed ? min / 1000 : 0),
	       (unsigned long)(printed ? total / printed / 1000 : 0), (unsigned long)(max / 1000));
	return 0;
}

/* worst[] stays sorted, the latest wake-up first. */
static void note(uint64_t *worst, uint64_t late)
{
	for (int i = 0; i < WORST; i++) {
		if (late > worst[i]) {
			memmove(&worst[i + 1], &worst[i], (WORST - 1 - i) * sizeof(*worst));
			worst[i] = late;
			return;
		}
	}
}

static int tick(uint64_t seconds, uint64_t period_us)
{
	uint64_t end = pv_monotonic_ns() + seconds * 1000000000ULL, worst[WORST] = { 0 }, n = 0;

	while (pv_monotonic_ns() < end) {
		uint64_t due = pv_monotonic_ns() + period_us * 1000, now;

		sleep_us(period_us);
		now = pv_monotonic_ns();
		note(worst, now > due ? now - due : 0);
		n++;
	}
	printf("flood: tick wakeups=%lu late_us=%lu,%lu,%lu,%lu,%lu\n", (unsigned long)n,
	       (unsigned long)(worst[0] / 1000), (unsigned long)(worst[1] / 1000),
	       (unsigned long)(worst[2] / 1000), (unsigned long)(worst[3] / 1000),
	       (unsigned long)(worst[4] / 1000));
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (!strcmp(mode, "chunks") && argc > 2)
		return chunks(atoi(argv[2]), argc > 3 ? strtoull(argv[3], NULL, 0) : 0);
	if (!strcmp(mode, "tick") && argc > 3)
		return tick(strtoull(argv[2], NULL, 0), strtoull(argv[3], NULL, 0));
	return lines(argc > 1 ? atol(argv[1]) : 3);
}
