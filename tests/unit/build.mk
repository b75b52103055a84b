# Host unit tests: every tests/unit/test_NAME.c becomes $(O)/tests/unit/test_NAME,
# built with sanitizers and linked with the project sources it tests.
#
# To add a test, write tests/unit/test_NAME.c (see harness.h) and list the
# sources it needs below as test_NAME_SRCS (above the rule generator, which
# reads them when this file is parsed).  `make test-unit` runs them all.

test_manifest_SRCS := $(MANIFEST_SRCS)
test_guest_mem_SRCS := hypervisor/mm/guest_mem.c
test_sched_queue_SRCS := hypervisor/core/sched_queue.c
test_sched_fair_SRCS := hypervisor/core/sched_fair.c
test_elf_image_SRCS := hypervisor/core/elf_image.c hypervisor/lib/sanitize.c
test_sanitize_SRCS := hypervisor/lib/sanitize.c
NET_SWITCH_SRCS := hypervisor/io/vswitch.c hypervisor/io/ipguard.c hypervisor/io/dhcp_snoop.c
test_vswitch_SRCS := $(NET_SWITCH_SRCS) tests/unit/host_shims.c
test_netback_SRCS := hypervisor/io/netback.c hypervisor/io/netback_park.c $(NET_SWITCH_SRCS) hypervisor/mm/guest_mem.c tests/unit/host_shims.c
test_ring_SRCS :=
test_buddy_SRCS := hypervisor/mm/buddy.c
test_sha256_SRCS := hypervisor/lib/sha256.c
test_text_ring_SRCS := hypervisor/core/text_ring.c
test_save_stream_SRCS := hypervisor/core/save_stream.c hypervisor/lib/crc32.c
test_control_input_SRCS := apps/control/json_in.c apps/control/http.c apps/control/buf.c apps/control/args.c
test_http_chunked_SRCS := apps/control/http_chunked.c apps/control/http.c
VOLUME_SRCS := hypervisor/io/volume.c hypervisor/io/lvm2.c hypervisor/io/lvm2_label.c \
	hypervisor/io/lvm2_text.c hypervisor/io/gpt.c hypervisor/lib/crc32.c \
	tests/unit/disk_shim.c tests/unit/host_shims.c
test_lvm2_SRCS := $(VOLUME_SRCS)
test_gpt_SRCS := $(VOLUME_SRCS)
test_blkback_SRCS := hypervisor/io/blkback.c hypervisor/io/blkback_io.c hypervisor/mm/guest_mem.c \
	hypervisor/io/disk_check.c $(VOLUME_SRCS)
# volume.c's and blkback's locks go through the checked path, which
# disk_shim.c provides.
$(O)/tests/unit/obj/hypervisor/io/volume.o: UNIT_CFLAGS += -DCONFIG_LOCK_CHECK=1
$(O)/tests/unit/obj/hypervisor/io/blkback.o: UNIT_CFLAGS += -DCONFIG_LOCK_CHECK=1
$(O)/tests/unit/obj/hypervisor/io/blkback_io.o: UNIT_CFLAGS += -DCONFIG_LOCK_CHECK=1

# ---- rule generator: nothing to edit below ---------------------------------
UNIT_O := $(O)/tests/unit
UNIT_CFLAGS := $(HOST_CFLAGS) -Itests/unit \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
UNIT_NAMES := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))

# Objects live under $(UNIT_O)/obj/ by source path, so a source shared by
# several tests is compiled (with sanitizers) once.
$(UNIT_O)/obj/%.o: %.c
	$(Q)mkdir -p $(@D)
	$(Q)$(HOSTCC) $(UNIT_CFLAGS) -c -o $@ $<

define unit_test_rule
$(UNIT_O)/$(1): $(UNIT_O)/obj/tests/unit/$(1).o $(patsubst %.c,$(UNIT_O)/obj/%.o,$($(1)_SRCS))
	$$(Q)$$(HOSTCC) $$(UNIT_CFLAGS) -o $$@ $$^
UNIT_OBJS += $(UNIT_O)/obj/tests/unit/$(1).o $(patsubst %.c,$(UNIT_O)/obj/%.o,$($(1)_SRCS))
endef
$(foreach t,$(UNIT_NAMES),$(eval $(call unit_test_rule,$(t))))

UNIT_TESTS += $(addprefix $(UNIT_O)/,$(UNIT_NAMES))

-include $(sort $(UNIT_OBJS:.o=.d))
