/* newlib's clocks and sleeps, on the pvclock in shared_info (core/time.c)
 * and the PV_HC_BLOCK hypercall.  A sleep is never interrupted: there are
 * no signals, so EINTR never happens and *rem is always zero.
 *
 * CLOCK_MONOTONIC and the clock_* prototypes exist because the SDK
 * compiles guests with -D_POSIX_TIMERS -D_POSIX_MONOTONIC_CLOCK
 * -D_POSIX_CPUTIME -D_POSIX_CLOCK_SELECTION (sdk/mk/guest.mk): newlib's
 * <time.h> declares them only for RTEMS and Cygwin by itself.
 */
#define _GNU_SOURCE	/* the Linux clock ids, for apps that use them */
#include <errno.h>
#include <sched.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#include <paravane.h>
#include <pv_thread.h>

#include "libos.h"

#define NSEC_PER_SEC 1000000000ull

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static void ns_to_timespec(uint64_t ns, struct timespec *ts)
{
	ts->tv_sec = ns / NSEC_PER_SEC;
	ts->tv_nsec = ns % NSEC_PER_SEC;
}

/* CPU time this domain used, from the hypervisor's accounting. */
static uint64_t cpu_ns(void)
{
	struct pv_domain_info di;

	return pv_domain_info(&di) == 0 ? di.cpu_ns : pv_monotonic_ns();
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
	switch (id) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
		ns_to_timespec(pv_wallclock_ns(), ts);
		return 0;
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_MONOTONIC_COARSE:
		ns_to_timespec(pv_monotonic_ns(), ts);
		return 0;
	case CLOCK_PROCESS_CPUTIME_ID:
		ns_to_timespec(cpu_ns(), ts);
		return 0;
	default:
		return libos_fail(EINVAL);
	}
}

int clock_getres(clockid_t id, struct timespec *res)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) < 0)
		return -1;
	if (res)
		ns_to_timespec(1, res);
	return 0;
}

int gettimeofday(struct timeval *tv, void *tz)
{
	uint64_t ns = pv_wallclock_ns();

	if (tv) {
		tv->tv_sec = ns / NSEC_PER_SEC;
		tv->tv_usec = ns % NSEC_PER_SEC / 1000;
	}
	return 0;
}

static clock_t ns_to_clock(uint64_t ns)
{
	return ns / (NSEC_PER_SEC / CLOCKS_PER_SEC);
}

/* clock() adds up tms_utime and tms_stime: make it the domain's CPU time. */
clock_t times(struct tms *t)
{
	t->tms_utime = ns_to_clock(cpu_ns());
	t->tms_stime = 0;
	t->tms_cutime = 0;
	t->tms_cstime = 0;
	return ns_to_clock(pv_monotonic_ns());
}

/* Deadlines are in system time; a wall-clock deadline is converted once
 * (a later wall-clock step does not move it). */
int clock_nanosleep(clockid_t id, int flags, const struct timespec *req,
		    struct timespec *rem)
{
	uint64_t now, ns;

	if (id != CLOCK_MONOTONIC && id != CLOCK_REALTIME)
		return EINVAL;
	if (req->tv_sec < 0 || req->tv_nsec < 0 ||
	    (uint64_t)req->tv_nsec >= NSEC_PER_SEC)
		return EINVAL;
	ns = sat_add((uint64_t)req->tv_sec > UINT64_MAX / NSEC_PER_SEC ?
		     UINT64_MAX : req->tv_sec * NSEC_PER_SEC, req->tv_nsec);
	now = pv_monotonic_ns();
	if (flags & TIMER_ABSTIME) {
		uint64_t base = id == CLOCK_REALTIME ? pv_wallclock_ns() : now;

		ns = ns > base ? ns - base : 0;
	}
	/* Only this thread sleeps: others (and the network) go on; with no
	 * other thread the domain blocks in the hypervisor. */
	pv_thread_sleep_until(sat_add(now, ns));
	if (rem && !(flags & TIMER_ABSTIME))
		ns_to_timespec(0, rem);
	return 0;
}

int nanosleep(const struct timespec *req, struct timespec *rem)
{
	int err = clock_nanosleep(CLOCK_MONOTONIC, 0, req, rem);

	return err ? libos_fail(err) : 0;
}

int usleep(useconds_t us)
{
	struct timespec ts = { us / 1000000, us % 1000000 * 1000 };

	return nanosleep(&ts, NULL);
}

unsigned int sleep(unsigned int s)
{
	struct timespec ts = { s, 0 };

	nanosleep(&ts, NULL);
	return 0;
}

int sched_yield(void)
{
	pv_thread_yield();
	return 0;
}
