/* The boot banner: what this machine is and what the hypervisor made of it.
 * Lines are stable; tests read them. */
#include <boot_info.h>
#include <manifest.h>
#include <hv/acpi.h>
#include <hv/boot.h>
#include <hv/cpu.h>
#include <hv/domain.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/percpu.h>
#include <hv/smp.h>
#include <hv/time.h>

#define KIB(x) ((x) >> 10)
#define MIB(x) ((x) >> 20)

static void banner_cpu(void)
{
	log_info("cpu: %s (%s family %u model %u)", cpu.brand, cpu.vendor, cpu.family, cpu.model);
	log_info("cpu: enabled %s", boot.features);
	log_info("cpus: %u started of %u (MADT: %u enabled, %u I/O APIC), boot CPU APIC id %u",
		 cpu_count, smp_cpus_found(), acpi.cpu_count, acpi.ioapic_count, lapic_id());
	log_event("cpus started=%u found=%u", cpu_count, smp_cpus_found());
}

static void banner_memory(void)
{
	struct frame_stats fs;
	struct kspace_stats ks;

	frame_stats(&fs);
	kspace_stats(&ks);
	log_info("memory: total %lu MiB, managed %lu MiB, free %lu MiB, reclaimed %lu KiB from loader/boot services",
		 MIB(memmap_total_ram(boot.info)), MIB(fs.total * PAGE_SIZE),
		 MIB(fs.free * PAGE_SIZE), KIB(fs.reclaimed * PAGE_SIZE));
	log_info("memory: hypervisor image %lu KiB, page tables %lu KiB, frame allocator %lu KiB, heap %lu KiB",
		 KIB(ks.image_bytes), KIB(ks.table_frames * PAGE_SIZE), KIB(fs.meta * PAGE_SIZE),
		 KIB(heap_bytes_in_use()));
	log_event("memory total_kib=%lu managed_kib=%lu free_kib=%lu reclaimed_kib=%lu image_kib=%lu",
		  KIB(memmap_total_ram(boot.info)), KIB(fs.total * PAGE_SIZE), KIB(fs.free * PAGE_SIZE),
		  KIB(fs.reclaimed * PAGE_SIZE), KIB(ks.image_bytes));
}

static void banner_time(void)
{
	log_info("time: TSC %lu.%03lu MHz (%s)%s, LAPIC timer %lu kHz, tickless (one-shot per CPU)",
		 tsc_hz / 1000000, (tsc_hz / 1000) % 1000, tsc_source,
		 cpu.invariant_tsc ? " invariant" : "", lapic_timer_hz / 1000);
	log_info("acpi: %s, oem '%s', %u tables, PM timer port 0x%x, S5 %s",
		 acpi.xsdt ? "XSDT" : "RSDT", acpi.oem, acpi.table_count, acpi.pm_timer_port,
		 acpi.s5_valid ? "found" : "missing");
	if (boot.info->fb.base)
		log_info("framebuffer: %ux%u at 0x%lx", boot.info->fb.width, boot.info->fb.height,
			 boot.info->fb.base);
}

static void banner_manifest(void)
{
	const struct manifest *m = boot.manifest;
	char err[MANIFEST_FILE_MAX + MANIFEST_KEY_MAX + MANIFEST_MSG_MAX + 16];

	log_info("manifest: %s: %u guests, %u valid, %u errors", m->file, m->guest_count,
		 manifest_valid_guests(m), m->error_count);
	for (uint32_t i = 0; i < m->error_count && i < MANIFEST_MAX_ERRORS; i++) {
		manifest_format_error(m, i, err, sizeof(err));
		log_warn("manifest: %s", err);
	}
	for (uint32_t i = 0; i < m->guest_count; i++) {
		const struct manifest_guest *g = &m->guest[i];
		const struct boot_module *mod = boot_module_for(i);

		if (!g->valid)
			log_info("  guest %s: skipped (manifest errors)", g->name);
		else
			log_info("  guest %s: image %s (%s%lu KiB), memory %lu KiB, on_exit %s, on_crash %s",
				 g->name, g->image, mod ? "" : "not loaded, ", mod ? KIB(mod->size) : 0,
				 KIB(g->memory), manifest_action_name(g->on_exit),
				 manifest_action_name(g->on_crash));
	}
}

void banner_print(void)
{
	banner_cpu();
	banner_memory();
	banner_time();
	banner_manifest();
}

/* Both figures come from the TSC: loader start and ExitBootServices are
 * stamped by the loader, banner and ready by us. */
void banner_print_timing(void)
{
	const struct boot_info *bi = boot.info;
	uint64_t to_banner = tsc_to_ns(boot.tsc_banner - bi->tsc_loader_start) / 1000;
	uint64_t to_ready = tsc_to_ns(boot.tsc_ready - bi->tsc_before_ebs) / 1000;

	log_info("boot: loader start -> banner %lu.%03lu ms; ExitBootServices -> ready %lu.%03lu ms (%u EBS attempts)",
		 to_banner / 1000, to_banner % 1000, to_ready / 1000, to_ready % 1000, bi->ebs_attempts);
	log_event("boot loader_to_banner_us=%lu ebs_to_ready_us=%lu ebs_attempts=%u",
		  to_banner, to_ready, bi->ebs_attempts);
	log_event("ready");
}
