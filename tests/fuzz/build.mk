# Fuzzing the manifest parser, the volume layer's readers of on-disk
# data (LVM2 metadata, GPT) and the libOS's ext2/3/4 mount path, with
# libFuzzer (clang).
#
#   make fuzz                   run for $(FUZZ_SECONDS) seconds (default 60)
#   make fuzz FUZZ_SECONDS=600 FUZZ_ARGS=-jobs=2
#   make fuzz-volumes           the same for tests/fuzz/fuzz_volumes.c
#   make fuzz-ext2              the same for tests/fuzz/fuzz_ext2.c
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

# The libOS's mount path (libos/fs/ext2_open.c, io_pvblk.c, unchanged) on
# hostile volumes, over an in-memory pv_blk (tests/fuzz/blk_mem.c), with
# libext2fs built from the guests' e2fsprogs source by the same script
# for the host: clang, the sanitizers, libFuzzer's coverage
# (sdk/deps/e2fsprogs.sh E2FS_CC; its own cached prefix, reached through
# $(FUZZ_O)/e2fsprogs).  Seeds are made at build time by mke2fs -d.
#
#   make fuzz-ext2              FUZZ_SECONDS as above; FUZZ_EXT2_ARGS adds options
FUZZ_EXT2 := $(FUZZ_O)/fuzz_ext2
FUZZ_E2FS := $(FUZZ_O)/e2fsprogs
FUZZ_E2FS_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer
# The mount path: what a guest runs from pv_ext2_open() down.
FUZZ_EXT2_SRCS := libos/fs/ext2_open.c libos/fs/io_pvblk.c libos/fs/io_cache.c \
	libos/fs/journal.c libos/fs/journal_replay.c tests/fuzz/blk_mem.c
FUZZ_EXT2_SEEDS := $(FUZZ_O)/seeds-ext2

.PHONY: fuzz-ext2 fuzz-e2fs-check
$(FUZZ_E2FS)/.stamp: fuzz-e2fs-check
	$(Q)E2FS_CC=$(FUZZ_CC) E2FS_CFLAGS='$(FUZZ_E2FS_CFLAGS)' \
		sh sdk/deps/e2fsprogs.sh --link $(FUZZ_E2FS)
fuzz-e2fs-check:

$(FUZZ_EXT2): tests/fuzz/fuzz_ext2.c tests/fuzz/blk_mem.h $(FUZZ_EXT2_SRCS) \
		libos/include/pv_ext2.h libos/include/pv_blk.h $(FUZZ_E2FS)/.stamp
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -Ilibos/include -Ihypervisor/include \
		-I$(FUZZ_E2FS)/include -Itests/fuzz -o $@ tests/fuzz/fuzz_ext2.c \
		$(FUZZ_EXT2_SRCS) $(FUZZ_E2FS)/lib/libext2fs.a $(FUZZ_E2FS)/lib/libcom_err.a

$(FUZZ_EXT2_SEEDS)/.stamp: tests/fuzz/ext2_seeds.py
	$(Q)rm -rf $(@D) && $(PY) tests/fuzz/ext2_seeds.py $(@D) && touch $@

# -timeout: libext2fs can be slow on hostile images (a hang would be a
# finding).  Big allocations fail as in a small guest (fuzz_ext2.c's ASan
# options); -rss_limit_mb is libFuzzer's default, 2048: with 1024 a corpus
# of 4,800 inputs (215 MB, held in memory) and ASan's quarantine passed it
# while no input needed more than 60 MB.
fuzz-ext2: $(FUZZ_EXT2) $(FUZZ_EXT2_SEEDS)/.stamp
	$(Q)mkdir -p $(FUZZ_O)/corpus-ext2
	FUZZ_EXT2_JOURNAL_BASE=$(FUZZ_O)/journal-base.img \
	$(FUZZ_EXT2) -max_total_time=$(FUZZ_SECONDS) -max_len=262144 -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix=$(FUZZ_O)/ -print_final_stats=1 \
		$(FUZZ_ARGS) $(FUZZ_EXT2_ARGS) $(FUZZ_O)/corpus-ext2 $(FUZZ_EXT2_SEEDS)
