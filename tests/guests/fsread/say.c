/* printf under the hypervisor's console budget (CONFIG_CONSOLE_RATE, 8 KiB/s
 * by default, and a 16 KiB burst): a walk prints tens of KiB, and what
 * goes over the budget is dropped.  Wait instead. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include "fsread.h"

#define BURST 8000
#define PACE  5000                /* bytes per second */

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* A token bucket like the hypervisor's, a little slower: credit earned
 * while the walk was busy reading is capped at BURST, as there. */
static void pace(size_t n)
{
	static uint64_t last;
	static uint64_t tokens = BURST;
	uint64_t t = now_ns(), need = n + 8;  /* + the "NAME| " prefix, to be safe */

	if (last)
		tokens += (t - last) * PACE / 1000000000u;
	if (tokens > BURST)
		tokens = BURST;
	last = t;
	if (tokens < need) {
		uint64_t wait = (need - tokens) * 1000000000u / PACE;
		struct timespec ts = { (time_t)(wait / 1000000000u), (long)(wait % 1000000000u) };

		nanosleep(&ts, NULL);
		last = now_ns();
		tokens = need;
	}
	tokens -= need;
}

void say(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	pace(n > 0 ? (size_t)n : 0);
}
