/* Self-tests that need guests running on every CPU (CONFIG_TEST_HOOKS):
 * armed by selftest_after_start() once domains exist, run as a hypervisor
 * timer on the boot CPU's normal path.
 *
 *   ipistorm  for IPISTORM_MS, reschedule IPIs to every other CPU in a
 *             tight loop, and a TLB shootdown every IPISTORM_CALL_EVERY
 *             rounds; the guests must finish as if nothing happened.
 *   kill      end every domain whose name starts with "victim", wherever
 *             it is: running on another CPU, queued, or blocked. */
#include <hv/domain.h>
#include <hv/ipi.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/sched.h>
#include <hv/selftest.h>
#include <hv/time.h>
#include <hv/x86.h>

#define START_DELAY_MS      300
#define IPISTORM_MS         1000
#define IPISTORM_CALL_EVERY 16

static void ipistorm(uint32_t unused)
{
	uint64_t end = rdtsc() + ns_to_tsc(IPISTORM_MS * 1000000ULL), rounds = 0, calls = 0;
	uint64_t sent0 = ipi_sent();

	while (rdtsc() < end) {
		for (uint32_t i = 0; i < cpu_count; i++)
			ipi_resched(cpu_get(i));
		if (++rounds % IPISTORM_CALL_EVERY == 0) {
			tlb_shootdown(KERNEL_VBASE, 1);
			calls++;
		}
	}
	log_event("selftest-ipistorm cpus=%u rounds=%lu shootdowns=%lu ipis=%lu ms=%d", cpu_count, rounds,
		  calls, ipi_sent() - sent0, IPISTORM_MS);
}

static void kill_victims(uint32_t unused)
{
	log_event("selftest-kill killed=%u", domain_kill_matching("victim"));
}

void selftest_after_start(enum manifest_selftest which)
{
	uint64_t when = rdtsc() + ns_to_tsc(START_DELAY_MS * 1000000ULL);

	if (!IS_ENABLED(CONFIG_TEST_HOOKS))
		return;
	if (which == MANIFEST_SELFTEST_IPISTORM)
		sched_timer_add(when, ipistorm, 0);
	else if (which == MANIFEST_SELFTEST_KILL)
		sched_timer_add(when, kill_victims, 0);
	else if (which == MANIFEST_SELFTEST_PTDUMP)
		sched_timer_add(when, selftest_ptdump, 0);
}
