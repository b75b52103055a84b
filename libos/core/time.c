/* Time without hypercalls: the hypervisor publishes a TSC-to-ns scale and a
 * wall-clock base in shared_info under a version counter (pvclock style,
 * public/shared_info.h).  A reader retries while the version is odd (an
 * update is in progress) or changed under it. */
#include <paravane.h>

#include "cpu.h"
#include "libos.h"

#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define barrier() __asm__ volatile("" ::: "memory")

struct pvclock {
	uint64_t system_ns;	/* system time now */
	uint64_t wall_sec;	/* wall clock at system time 0 */
	uint32_t wall_nsec;
};

/* delta * mul >> shift, in 128 bits: delta can be large after a long run.
 * The header does not define a negative shift (only a TSC slower than
 * about 0.25 Hz would need one); read it as a left shift. */
static uint64_t scale(uint64_t delta, uint32_t mul, int8_t shift)
{
	unsigned __int128 p = (unsigned __int128)delta * mul;

	return shift >= 0 ? (uint64_t)(p >> shift) : (uint64_t)(p << -shift);
}

/* System time at TSC value tsc, from one consistent set of fields. */
static uint64_t at_tsc(const struct pv_shared_info *s, uint64_t tsc)
{
	uint64_t base = s->tsc_timestamp;

	if (tsc >= base)
		return s->system_time_ns + scale(tsc - base, s->tsc_mul,
						 s->tsc_shift);
	return s->system_time_ns - scale(base - tsc, s->tsc_mul, s->tsc_shift);
}

static void pvclock_read(struct pvclock *c, int now, uint64_t tsc)
{
	const struct pv_shared_info *s = libos_shared;
	uint32_t v;

	do {
		v = READ_ONCE(s->time_version);
		barrier();
		c->system_ns = at_tsc(s, now ? libos_rdtsc() : tsc);
		c->wall_sec = s->wall_sec;
		c->wall_nsec = s->wall_nsec;
		barrier();
	} while ((v & 1) || v != READ_ONCE(s->time_version));
}

/* The hypervisor may re-base the scale; never let a reader see time step
 * back across that.  One vCPU, so a plain static suffices. */
uint64_t pv_monotonic_ns(void)
{
	static uint64_t last;
	struct pvclock c;

	pvclock_read(&c, 1, 0);
	if (c.system_ns < last)
		return last;
	last = c.system_ns;
	return last;
}

uint64_t pv_wallclock_ns(void)
{
	struct pvclock c;

	pvclock_read(&c, 1, 0);
	return c.wall_sec * 1000000000ull + c.wall_nsec + c.system_ns;
}

uint64_t pv_tsc_to_ns(uint64_t tsc)
{
	struct pvclock c;

	pvclock_read(&c, 0, tsc);
	return c.system_ns;
}
