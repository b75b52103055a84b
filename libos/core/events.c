/* Events: a pending bitmap in shared_info that the hypervisor sets with an
 * atomic OR and the guest clears with an atomic AND.  No upcalls: the guest
 * polls, or blocks in the hypervisor until a bit it cares about is set. */
#include <paravane.h>

#include "hypercall.h"
#include "libos.h"

uint64_t pv_events_poll(void)
{
	return __atomic_load_n(&libos_shared->events_pending, __ATOMIC_ACQUIRE);
}

void pv_events_clear(uint64_t mask)
{
	__atomic_fetch_and(&libos_shared->events_pending, ~mask,
			   __ATOMIC_SEQ_CST);
}

int pv_event_notify(uint32_t port)
{
	return pv_hypercall1(PV_HC_EVENT_NOTIFY, port);
}

int pv_block(uint64_t deadline_ns, uint64_t mask)
{
	return pv_hypercall2(PV_HC_BLOCK, deadline_ns, mask);
}

/* The hypervisor may wake us early (a spurious or unmasked wake-up is
 * allowed), so loop on the clock, not on the return value.  "Forever"
 * becomes the farthest real deadline: PV_DEADLINE_NONE means "no deadline"
 * to the hypervisor, and with an empty mask that would be refused. */
void pv_block_until(uint64_t deadline_ns)
{
	if (deadline_ns == PV_DEADLINE_NONE)
		deadline_ns--;
	while (pv_monotonic_ns() < deadline_ns) {
		if (pv_block(deadline_ns, 0) < 0)
			pv_yield();	/* cannot block: be polite */
	}
}

void pv_yield(void)
{
	pv_hypercall0(PV_HC_YIELD);
}
