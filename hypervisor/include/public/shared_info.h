/* Paravane guest ABI: shared_info, the page both sides write.
 *
 * Time (pvclock style, no hypercall needed):
 *   do {
 *       v = time_version;            (odd: an update is in progress, retry)
 *       read barrier;
 *       ns = system_time_ns + (((rdtsc() - tsc_timestamp) * tsc_mul) >> tsc_shift);
 *       read barrier;
 *   } while (v & 1 || v != time_version);
 * system time counts nanoseconds since the hypervisor started; the wall
 * clock is wall_sec/wall_nsec (UTC, from the RTC) at system time 0.
 * tsc_shift is a right shift in 0..63.  The product needs 128 bits (or split
 * it) when the delta is large.
 *
 * time_jumps counts the times the clocks jumped under the guest: a restore
 * or a migration (docs/migration.md).  Monotonic time stays monotonic (it
 * went on while the guest was saved, or stood still if the new host's
 * clock is behind); the wall clock is the new host's.  A guest that keeps
 * timeouts or leases may look at it to re-check them.
 *
 * generation is the guest's identity counter: it changes when the guest
 * becomes a new copy of itself (a clone), so that a libOS reseeds its
 * random numbers and an application can renew what must be unique.
 *
 * Events: bit N of events_pending is port N.  The hypervisor sets bits
 * with an atomic OR; the guest clears the bits it handled with an atomic
 * AND (e.g. __atomic_fetch_and).  There are no upcalls: the guest polls,
 * or blocks with PV_HC_BLOCK until a bit in its mask is set.
 */
#ifndef PARAVANE_PUBLIC_SHARED_INFO_H
#define PARAVANE_PUBLIC_SHARED_INFO_H

#include "abi.h"

#define PV_SHARED_INFO_MAGIC 0x44524853u   /* "SHRD" */

struct pv_shared_info {
	uint32_t magic;           /* PV_SHARED_INFO_MAGIC */
	uint32_t abi_version;
	/* time */
	uint32_t time_version;
	uint32_t tsc_mul;
	int8_t   tsc_shift;
	uint8_t  pad0[7];
	uint64_t tsc_timestamp;
	uint64_t system_time_ns;
	uint64_t tsc_hz;
	uint64_t wall_sec;
	uint32_t wall_nsec;
	uint32_t time_jumps;      /* restores and migrations so far */
	/* events: on their own cache line (offset 64) */
	uint64_t events_pending;
	uint32_t generation;      /* identity: changes in a clone */
	uint8_t  pad3[52];
};
PV_ASSERT_OFFSET(struct pv_shared_info, tsc_timestamp, 24);
PV_ASSERT_OFFSET(struct pv_shared_info, events_pending, 64);
PV_ASSERT_OFFSET(struct pv_shared_info, generation, 72);
PV_ASSERT_SIZE(struct pv_shared_info, 128);

#endif
