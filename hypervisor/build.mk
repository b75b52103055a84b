# The hypervisor ELF.  Linked twice: the second link adds the symbol table
# (sdk/tools/ksyms.py) in .ksyms, last in the image, so nothing moves.

HV_DIR := $(O)/hypervisor
HV_ELF := $(HV_DIR)/paravane.elf

hv-y := arch/x86_64/mitigations.o arch/x86_64/hwevent.o arch/x86_64/entry.o arch/x86_64/isr.o arch/x86_64/percpu.o arch/x86_64/smp.o arch/x86_64/ipi.o arch/x86_64/ap_boot.o arch/x86_64/idt.o \
	arch/x86_64/trap.o arch/x86_64/cpu.o arch/x86_64/paging.o arch/x86_64/tsc.o \
	arch/x86_64/apic.o arch/x86_64/ioapic.o arch/x86_64/syscall.o arch/x86_64/syscall_entry.o arch/x86_64/fpu.o \
	mm/buddy.o mm/frame.o mm/heap.o mm/memmap.o mm/kspace.o mm/guest_mem.o \
	core/main.o core/banner.o core/log.o core/power.o core/clock.o core/symbols.o \
	core/selftest.o core/selftest_smp.o core/selftest_ptdump.o core/lock.o core/domain.o core/domain_build.o core/sched.o core/sched_switch.o core/sched_timer.o core/sched_fair.o core/work.o core/sched_queue.o core/hypercall.o \
	core/console.o core/console_keep.o core/serial_tx.o core/guest_fault.o core/elf_image.o core/domctl.o core/domctl_create.o core/domain_query.o core/text_ring.o core/save_stream.o core/image_store.o core/domctl_image.o core/domctl_config.o \
	lib/sha256.o \
	drivers/uart16550.o drivers/acpi.o drivers/rtc.o \
	lib/string.o lib/format.o lib/stack_protector.o lib/sanitize.o
hv-y += core/domctl_stats.o core/domain_restart.o

# Save and restore (docs/migration.md): the stream's framing is core/save_stream.o.
hv-y += core/save.o core/save_records.o core/save_live.o core/restore.o core/restore_records.o core/snapshot.o core/clone.o

# Disks: the registry, synchronous I/O and the drivers (PCI and the
# virtio transport are shared with the NIC).
hv-y += io/disk.o io/disk_check.o io/disk_sync.o drivers/pci.o drivers/virtio_pci.o \
	drivers/virtio_blk.o drivers/nvme.o core/selftest_disk.o core/selftest_disk_smp.o

# Block devices: the backends over the volume layer (io/volume.c).
hv-y += io/blkback.o io/blkback_io.o io/blkback_save.o

# Networking (CONFIG_NET): callers test IS_ENABLED(CONFIG_NET), so the
# compiler drops every reference when it is off.
hv-$(CONFIG_NET) += io/net.o io/netback.o io/netback_save.o io/netback_park.o io/vswitch.o io/ipguard.o io/dhcp_snoop.o \
	drivers/virtio_net.o

# Volumes (hv/volume.h): LVM2 and GPT readers over the disk registry.
hv-y += io/volume.o io/lvm2.o io/lvm2_label.o io/lvm2_text.o io/gpt.o lib/crc32.o \
	core/selftest_volumes.o

# The manifest parser, one object per source (MANIFEST_SRCS in
# sdk/manifest/build.mk, which is included after this file).
HV_MANIFEST_OBJS := $(HV_DIR)/manifest.o $(HV_DIR)/manifest_text.o \
	$(HV_DIR)/manifest_keys.o $(HV_DIR)/manifest_block.o \
	$(HV_DIR)/manifest_mount.o

# Retpolines for the hypervisor's own indirect branches (docs/security.md).
ifeq ($(CONFIG_ISOLATION),y)
HV_CFLAGS += -mindirect-branch=thunk -mindirect-branch-register
endif

HV_OBJS := $(addprefix $(HV_DIR)/,$(hv-y)) $(HV_MANIFEST_OBJS)
HV_LDS  := hypervisor/arch/x86_64/hypervisor.ld
HV_LDFLAGS := -nostdlib -static -z max-page-size=4096 -z noexecstack --gc-sections \
	--no-warn-rwx-segments -T $(HV_LDS)

$(HV_DIR)/%.o: hypervisor/%.c $(GEN)/autoconf.h
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(HV_CFLAGS) -c $< -o $@

$(HV_DIR)/%.o: hypervisor/%.S $(GEN)/autoconf.h
	@mkdir -p $(dir $@)
	@echo "  AS      $@"
	$(Q)$(CC) $(HV_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

$(HV_MANIFEST_OBJS): $(HV_DIR)/%.o: sdk/manifest/%.c $(GEN)/autoconf.h
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(HV_CFLAGS) -c $< -o $@

$(HV_DIR)/ksyms-empty.o: sdk/tools/ksyms.py
	@mkdir -p $(dir $@)
	$(Q)$(PY) sdk/tools/ksyms.py --empty > $(HV_DIR)/ksyms-empty.S
	$(Q)$(CC) -c $(HV_DIR)/ksyms-empty.S -o $@

$(HV_DIR)/paravane.pass1.elf: $(HV_OBJS) $(HV_DIR)/ksyms-empty.o $(HV_LDS)
	$(Q)$(LD) $(HV_LDFLAGS) -o $@ $(HV_OBJS) $(HV_DIR)/ksyms-empty.o

$(HV_ELF): $(HV_DIR)/paravane.pass1.elf sdk/tools/ksyms.py
	@echo "  LD      $@"
	$(Q)$(PY) sdk/tools/ksyms.py $< > $(HV_DIR)/ksyms.S
	$(Q)$(CC) -c $(HV_DIR)/ksyms.S -o $(HV_DIR)/ksyms.o
	$(Q)$(LD) $(HV_LDFLAGS) -o $@ $(HV_OBJS) $(HV_DIR)/ksyms.o
	$(Q)$(PY) sdk/tools/ksyms.py --verify $< $@

-include $(HV_OBJS:.o=.d)
