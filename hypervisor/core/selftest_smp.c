/* Self-tests that need guests running on every CPU (CONFIG_TEST_HOOKS):
 * armed by selftest_after_start() once domains exist, run as a hypervisor
 * timer on the boot CPU's normal path.
 *
 *   ipistorm  for IPISTORM_MS, reschedule IPIs to every other CPU in a
 *             tight loop, and a TLB shootdown every IPISTORM_CALL_EVERY
 *             rounds; the guests must finish as if nothing happened.
 *   kill      end every domain whose name starts with "victim", wherever
 *             it is: running on another CPU, queued, or blocked.
 *   strayirq  a self-IPI on a vector nobody registered, above the timer's
 *             priority class: unacknowledged, it would hold the timer
 *             back for good (guests on the boot CPU would never wake).
 *   cpustate  every CPU reports CR0, CR4, EFER, DR7 and SYSENTER_CS
 *             (the loader left junk in them for this test). */
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
#define STRAY_VECTOR        0xe5   /* class 14: above the timer (0x20), below the IPIs (0xf0) */

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

static void stray_irq(uint32_t unused)
{
	log_event("selftest-strayirq vector=%u cpu=%u", STRAY_VECTOR, this_cpu()->index);
	lapic_send_ipi(this_cpu()->apic_id, STRAY_VECTOR);
}

struct cpu_state { uint64_t cr0, cr4, efer, dr7, sysenter_cs; };
static struct cpu_state cpu_states[CONFIG_MAX_CPUS];

static void read_cpu_state(void *unused)
{
	struct cpu_state *s = &cpu_states[this_cpu()->index];

	s->cr0 = read_cr0();
	s->cr4 = read_cr4();
	s->efer = rdmsr(MSR_EFER);
	__asm__ volatile("movq %%dr7, %0" : "=r"(s->dr7));
	s->sysenter_cs = rdmsr(MSR_SYSENTER_CS);
}

static void cpu_state_report(uint32_t unused)
{
	read_cpu_state(NULL);
	ipi_call_others(read_cpu_state, NULL);
	for (uint32_t i = 0; i < cpu_count; i++) {
		const struct cpu_state *s = &cpu_states[i];

		log_event("cpu-state cpu=%u cr0=0x%lx cr4=0x%lx efer=0x%lx dr7=0x%lx sysenter_cs=0x%lx", i,
			  s->cr0, s->cr4, s->efer, s->dr7, s->sysenter_cs);
	}
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
	else if (which == MANIFEST_SELFTEST_STRAYIRQ)
		sched_timer_add(when, stray_irq, 0);
	else if (which == MANIFEST_SELFTEST_CPUSTATE)
		sched_timer_add(when, cpu_state_report, 0);
	else if (which == MANIFEST_SELFTEST_DISK)
		selftest_disk_smp();          /* queues work on every CPU */
}
