# Fuzzing the manifest parser, and the volume layer's readers of on-disk
# data (LVM2 metadata, GPT), with libFuzzer (clang).
#
#   make fuzz                   run for $(FUZZ_SECONDS) seconds (default 60)
#   make fuzz FUZZ_SECONDS=600 FUZZ_ARGS=-jobs=2
#   make fuzz-volumes           the same for tests/fuzz/fuzz_volumes.c
#
# The committed seeds in tests/fuzz/corpus/manifest/ are read, never
# written: new inputs go to $(FUZZ_O)/corpus, and a crash is saved as
# $(FUZZ_O)/crash-* (replay it: $(FUZZ_MANIFEST) FILE).

FUZZ_SECONDS ?= 60
FUZZ_ARGS ?=
FUZZ_CC := clang
FUZZ_O := $(O)/tests/fuzz
FUZZ_MANIFEST := $(FUZZ_O)/fuzz_manifest
FUZZ_CFLAGS := -std=gnu11 -O1 -g $(WARN) -Isdk/manifest \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer

$(FUZZ_MANIFEST): tests/fuzz/fuzz_manifest.c $(MANIFEST_SRCS) sdk/manifest/manifest.h \
		sdk/manifest/manifest_internal.h
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_manifest.c $(MANIFEST_SRCS)

# -max_len lets inputs grow past MANIFEST_LINE_MAX to reach the long-line path.
fuzz: $(FUZZ_MANIFEST)
	$(Q)mkdir -p $(FUZZ_O)/corpus
	$(FUZZ_MANIFEST) -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-dict=tests/fuzz/manifest.dict -artifact_prefix=$(FUZZ_O)/ \
		-print_final_stats=1 $(FUZZ_ARGS) \
		$(FUZZ_O)/corpus tests/fuzz/corpus/manifest

# The volume readers, with the unit tests' disk shim (tests/unit/disk_shim.c).
FUZZ_VOLUMES := $(FUZZ_O)/fuzz_volumes
FUZZ_VOLUMES_SRCS := hypervisor/io/volume.c hypervisor/io/lvm2.c hypervisor/io/lvm2_label.c \
	hypervisor/io/lvm2_text.c hypervisor/io/gpt.c hypervisor/lib/crc32.c \
	tests/unit/disk_shim.c tests/unit/host_shims.c

$(FUZZ_VOLUMES): tests/fuzz/fuzz_volumes.c $(FUZZ_VOLUMES_SRCS) hypervisor/include/hv/lvm2.h \
		hypervisor/include/hv/gpt.h hypervisor/include/hv/volume.h
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -Ihypervisor/include -Itests/unit -DCONFIG_LOCK_CHECK=1 \
		-o $@ tests/fuzz/fuzz_volumes.c $(FUZZ_VOLUMES_SRCS)

fuzz-volumes: $(FUZZ_VOLUMES)
	$(Q)mkdir -p $(FUZZ_O)/corpus-volumes
	$(FUZZ_VOLUMES) -max_total_time=$(FUZZ_SECONDS) -max_len=65537 \
		-artifact_prefix=$(FUZZ_O)/ -print_final_stats=1 $(FUZZ_ARGS) \
		$(FUZZ_O)/corpus-volumes tests/fuzz/corpus/volumes
