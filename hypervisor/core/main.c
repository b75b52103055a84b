/* hv_main: bring the machine up in dependency order, print the banner, then
 * hand over to the domains the manifest names. */
#include <boot_info.h>
#include <manifest.h>
#include <hv/acpi.h>
#include <hv/boot.h>
#include <hv/cpu.h>
#include <hv/disk.h>
#include <hv/layout.h>
#include <hv/hwevent.h>
#include <hv/ipi.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mitigations.h>
#include <hv/mm.h>
#include <hv/percpu.h>
#include <hv/power.h>
#include <hv/rtc.h>
#include <hv/selftest.h>
#include <hv/smp.h>
#include <hv/time.h>
#include <hv/trap.h>
#include <hv/uart.h>
#include <hv/version.h>
#include <hv/x86.h>

struct boot_state boot;

static void check_boot_info(const struct boot_info *bi)
{
	if (bi->magic != BOOT_INFO_MAGIC || bi->version != BOOT_INFO_VERSION ||
	    bi->size < sizeof(*bi)) {
		log_err("boot_info: magic 0x%lx version %u size %u; need magic 0x%llx version %d",
			bi->magic, bi->version, bi->size, BOOT_INFO_MAGIC, BOOT_INFO_VERSION);
		power_off(POWER_STATUS_BOOT_ERROR);
	}
}

/* Everything before the direct map exists: CPU tables, hardening, the
 * first free memory, our own page tables. */
static const struct boot_info *bring_up_cpu_and_memory(uint64_t bi_phys)
{
	const struct boot_info *bi = (const struct boot_info *)bi_phys;

	check_boot_info(bi);
	percpu_load(this_cpu());
	idt_init();
	cpu_detect();
	boot.features = cpu_harden();
	hwevent_init_cpu();
	memmap_add_free(bi, false);
	kspace_init(bi);
	if (percpu_map_stacks(this_cpu()))
		panic("no memory for the boot CPU's stacks");
	return phys_to_virt(bi_phys);
}

static void bring_up_platform(const struct boot_info *bi)
{
	acpi_init(bi->acpi_rsdp);
	/* ACPI is parsed and the loader's data copied: nothing needs loader or
	 * boot-services memory any more. */
	boot.reclaimed_pages = memmap_add_free(bi, true);
	tsc_calibrate();
	rtc_init();
	lapic_init();
	this_cpu()->apic_id = lapic_id();
	clock_init();
	ipi_init();
}

static void load_manifest(const struct boot_info *bi)
{
	boot.manifest = kzalloc(sizeof(*boot.manifest));
	if (!boot.manifest)
		panic("no memory for the manifest");
	manifest_parse(boot.manifest, bi->manifest_path[0] ? bi->manifest_path : "manifest.conf",
		       phys_to_virt(bi->manifest_phys), bi->manifest_size);
	log_set_level((int)boot.manifest->hv.log_level);
}

/* No canary here: the guard changes under this frame. */
void hv_main(uint64_t bi_phys) __attribute__((no_stack_protector));
void hv_main(uint64_t bi_phys)
{
	const struct boot_info *bi;

	tsc_boot = rdtsc();
	stack_protector_init();
	percpu_init_boot_cpu(0);   /* GS first: locks and logging use it */
	uart_init(CONFIG_SERIAL_PORT, CONFIG_SERIAL_BAUD);
	log_info("Paravane %s hypervisor starting", PARAVANE_VERSION);
	boot.tsc_banner = rdtsc();
	bi = bring_up_cpu_and_memory(bi_phys);
	boot.info = bi;
	bring_up_platform(bi);
	load_manifest(bi);
	mitigations_init((int)boot.manifest->hv.isolation);
	smp_start(boot.manifest->hv.cpus);
	banner_print();
	disk_init();              /* before the self-tests and the volume layer */
	selftest_run(boot.manifest->hv.selftest);
	boot.tsc_ready = rdtsc();
	banner_print_timing();
	domains_start();
}
