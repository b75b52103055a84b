/* Starting the application processors.
 *
 * For each enabled CPU in the MADT (up to [hypervisor] cpus and
 * CONFIG_MAX_CPUS), one at a time: allocate its struct cpu and guarded
 * stacks, fill in the start-up page's parameters, send INIT, SIPI, SIPI
 * (the MP specification's sequence), and wait a bounded time for it to say
 * it is online.  A CPU that does not answer is reported and left out; the
 * hypervisor goes on with the rest.
 *
 * The start-up page (loader-reserved, below 1 MiB) holds the real-mode
 * code (ap_boot.S) and, on the next three pages, page tables that
 * identity-map the first 2 MiB and share the hypervisor's upper half: the
 * 32-bit code can only load a CR3 below 4 GiB. */
#include <boot_info.h>
#include <manifest.h>
#include <hv/acpi.h>
#include <hv/ap_boot.h>
#include <hv/boot.h>
#include <hv/cpu.h>
#include <hv/domain.h>
#include <hv/hwevent.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mitigations.h>
#include <hv/mm.h>
#include <hv/percpu.h>
#include <hv/sched.h>
#include <hv/smp.h>
#include <hv/time.h>
#include <hv/trap.h>
#include <hv/x86.h>

#define AP_WAIT_MS 2000          /* generous: TCG on a loaded host is slow */

extern const char ap_boot_start[], ap_boot_end[], ap_boot_pm32[], ap_boot_lm64[];
extern const char ap_boot_gdt[], ap_boot_gdt_end[], ap_boot_upper[];

static uint32_t cpus_found;

uint32_t smp_cpus_found(void) { return cpus_found; }

static void put16(uint8_t *page, uint32_t off, uint16_t v) { memcpy(page + off, &v, 2); }
static void put32(uint8_t *page, uint32_t off, uint32_t v) { memcpy(page + off, &v, 4); }
static void put64(uint8_t *page, uint32_t off, uint64_t v) { memcpy(page + off, &v, 8); }

/* PML4 -> PDPT -> PD with one 2 MiB identity page, upper half shared. */
static void build_startup_tables(uint64_t phys)
{
	uint64_t *pml4 = phys_to_virt(phys + PAGE_SIZE);
	uint64_t *pdpt = phys_to_virt(phys + 2 * PAGE_SIZE);
	uint64_t *pd = phys_to_virt(phys + 3 * PAGE_SIZE);

	memset(pml4, 0, 3 * PAGE_SIZE);
	memcpy(pml4 + 256, (uint64_t *)phys_to_virt(kspace_pml4()) + 256, 256 * sizeof(uint64_t));
	pml4[0] = (phys + 2 * PAGE_SIZE) | PTE_P | PTE_W;
	pdpt[0] = (phys + 3 * PAGE_SIZE) | PTE_P | PTE_W;
	pd[0] = PTE_P | PTE_W | PTE_PS;
}

static void install_code(uint64_t phys)
{
	uint8_t *page = phys_to_virt(phys);
	uint64_t gdt_off = (uint64_t)(ap_boot_gdt - ap_boot_start);

	memcpy(page, ap_boot_start, (size_t)(ap_boot_end - ap_boot_start));
	put16(page, AP_GDTR, (uint16_t)(ap_boot_gdt_end - ap_boot_gdt - 1));
	put32(page, AP_GDTR + 2, (uint32_t)(phys + gdt_off));
	put32(page, AP_FAR32, (uint32_t)(phys + (uint64_t)(ap_boot_pm32 - ap_boot_start)));
	put16(page, AP_FAR32 + 4, AP_SEL_CODE32);
	put32(page, AP_FAR64, (uint32_t)(phys + (uint64_t)(ap_boot_lm64 - ap_boot_start)));
	put16(page, AP_FAR64 + 4, AP_SEL_CODE64);
	put64(page, AP_CR4, read_cr4());
	put64(page, AP_CR3, phys + PAGE_SIZE);
	put64(page, AP_EFER, rdmsr(MSR_EFER) & (EFER_SCE | EFER_LME | EFER_NXE));
	put64(page, AP_CR0, read_cr0());
	put64(page, AP_FULL_CR3, kspace_pml4());
	put64(page, AP_ENTRY, (uint64_t)ap_boot_upper);
	build_startup_tables(phys);
}

static bool wait_online(struct cpu *c)
{
	uint64_t limit = rdtsc() + ns_to_tsc(AP_WAIT_MS * 1000000ULL);

	while (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE) && rdtsc() < limit)
		pause();
	return c->online;
}

/* Test builds: `selftest = deadcpu` withholds the SIPIs from the last CPU
 * in the MADT, which then never answers, as a broken one would not. */
static bool withheld(uint32_t apic_id)
{
	return IS_ENABLED(CONFIG_TEST_HOOKS) && boot.manifest->hv.selftest == MANIFEST_SELFTEST_DEADCPU &&
	       acpi.cpu_count > 1 && apic_id == acpi.apic_id[MIN(acpi.cpu_count, (uint32_t)ACPI_MAX_CPUS) - 1];
}

static void send_sipis(uint64_t phys, uint32_t apic_id, const struct cpu *c)
{
	if (withheld(apic_id))
		return;
	lapic_send_sipi(apic_id, (uint8_t)(phys >> 12));
	tsc_delay_us(200);
	if (!c->online)
		lapic_send_sipi(apic_id, (uint8_t)(phys >> 12));
}

static bool start_one(uint64_t phys, uint32_t index, uint32_t apic_id)
{
	struct cpu *c = percpu_alloc(index, apic_id);
	uint8_t *page = phys_to_virt(phys);

	if (!c) {
		log_err("smp: no memory for CPU %u (APIC id %u)", index, apic_id);
		return false;
	}
	put64(page, AP_STACK, c->trap_stack.hi);
	put64(page, AP_CPU, (uint64_t)c);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	lapic_send_init(apic_id);
	tsc_delay_us(10000);
	send_sipis(phys, apic_id, c);
	if (wait_online(c))
		return true;
	/* INIT parks it again, so it cannot wake later on a reused stack. */
	lapic_send_init(apic_id);
	log_err("smp: CPU with APIC id %u did not start within %d ms; left out", apic_id, AP_WAIT_MS);
	log_event("cpu-failed apic_id=%u", apic_id);
	return false;
}

static uint32_t cap(uint32_t manifest_cpus)
{
	uint32_t n = MIN(acpi.cpu_count, (uint32_t)ACPI_MAX_CPUS);

	n = MIN(n, (uint32_t)MAX_CPUS);
	return manifest_cpus ? MIN(n, manifest_cpus) : n;
}

void smp_start(uint32_t manifest_cpus)
{
	uint64_t phys = boot.info->ap_trampoline_phys;
	uint32_t want = cap(manifest_cpus), bsp = this_cpu()->apic_id;

	cpus_found = MAX(acpi.cpu_count, 1u);
	if (want > 1 && (!phys || boot.info->ap_trampoline_pages < BOOT_AP_TRAMPOLINE_PAGES)) {
		log_warn("smp: the loader reserved no start-up page below 1 MiB; running on one CPU");
		return;
	}
	if (want > 1)
		install_code(phys);
	for (uint32_t i = 0; i < acpi.cpu_count && i < ACPI_MAX_CPUS && cpu_count < want; i++)
		if (acpi.apic_id[i] != bsp && start_one(phys, cpu_count, acpi.apic_id[i]))
			cpu_count++;
}

/* ---- on the new CPU ------------------------------------------------------- */

__attribute__((noreturn)) void ap_entry64(struct cpu *c)
{
	percpu_load(c);
	mitigations_apply_cpu(c);
	idt_load();
	cpu_harden_ap();
	hwevent_init_cpu();
	syscall_init();
	lapic_init_ap();
	c->apic_id = lapic_id();
	__atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
	sched_wait_ready();
	sched_start();
}
