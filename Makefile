# Paravane: the one entry point.
#
#   make              build everything (hypervisor, loader, tools, apps, image)
#   make run          build and boot the demo manifest in QEMU (TCG, OVMF)
#   make debug        same, with QEMU's gdb stub waiting
#   make test         unit tests (host), tool tests (pvctl) and system tests (QEMU)
#   make bench        print the benchmark table
#   make fuzz         fuzz the manifest parser for a bounded time
#   make image        the bootable GPT disk image, build/paravane.img
#   make check-manifest M=path/to/manifest.conf
#   make menuconfig | defconfig | olddefconfig | savedefconfig
#   make clean        remove build output (keeps the cached newlib/lwIP/libext2fs builds)
#
# Output goes to $(O) (default build/).  Each part has a build.mk fragment.

O         ?= build
DEFCONFIG ?= configs/defconfig
MANIFEST  ?= configs/demo.conf
PY        := /usr/bin/python3
SRC       := $(CURDIR)
V         ?= 0
Q         := $(if $(filter 1,$(V)),,@)

export srctree := $(SRC)
export KCONFIG_CONFIG := $(abspath $(O))/.config

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SUFFIXES:

# ---- host dependencies, then configuration ---------------------------------
DEPS_STAMP := build/.deps-ok
$(DEPS_STAMP): sdk/tools/ensure-deps.sh
	$(Q)sdk/tools/ensure-deps.sh
	$(Q)mkdir -p $(dir $@) && touch $@

KCONFIG_FILES := $(shell find . -name Kconfig -not -path './build/*')
GEN := $(O)/include/generated

# A changed defconfig (a new option in configs/test_defconfig, say)
# regenerates the configuration built from it.
$(O)/.config: $(wildcard $(DEFCONFIG)) | $(DEPS_STAMP)
	$(Q)mkdir -p $(O)
	$(Q)$(PY) -m defconfig --kconfig Kconfig $(DEFCONFIG) >/dev/null

$(O)/auto.conf $(GEN)/autoconf.h &: $(O)/.config $(KCONFIG_FILES) | $(DEPS_STAMP)
	$(Q)mkdir -p $(GEN)
	$(Q)$(PY) -m olddefconfig Kconfig >/dev/null
	$(Q)$(PY) -m genconfig --header-path $(GEN)/autoconf.h --config-out $(O)/auto.conf Kconfig
	$(Q)touch $(O)/auto.conf $(GEN)/autoconf.h

NOCONFIG_GOALS := clean distclean defconfig menuconfig savedefconfig olddefconfig
ifeq ($(filter $(NOCONFIG_GOALS),$(MAKECMDGOALS)),)
include $(O)/auto.conf
endif

.PHONY: defconfig olddefconfig menuconfig savedefconfig
defconfig: | $(DEPS_STAMP)
	$(Q)mkdir -p $(O)
	$(PY) -m defconfig --kconfig Kconfig $(DEFCONFIG)
olddefconfig: | $(DEPS_STAMP)
	$(Q)mkdir -p $(O)
	$(PY) -m olddefconfig Kconfig
menuconfig: | $(DEPS_STAMP)
	$(Q)mkdir -p $(O)
	$(PY) -m menuconfig Kconfig
savedefconfig: | $(DEPS_STAMP)
	$(PY) -m savedefconfig --kconfig Kconfig --out $(DEFCONFIG)
	@echo "saved $(DEFCONFIG)"

# ---- toolchains ------------------------------------------------------------
CC       := gcc
LD       := ld
OBJCOPY  := objcopy
HOSTCC   := gcc
WARN     := -Wall -Wextra -Werror -Wno-unused-parameter
GCC_INC  := $(shell $(CC) -print-file-name=include)

# Freestanding, ring 0, upper half, never touches FPU/SSE state.
HV_CFLAGS := -std=gnu11 -O2 -g $(WARN) -ffreestanding -nostdinc -isystem $(GCC_INC) \
	-fno-pie -fno-pic -mcmodel=kernel -mno-red-zone -mgeneral-regs-only \
	-fstack-protector-strong -mstack-protector-guard=global -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	-fno-strict-aliasing -ffunction-sections -fdata-sections \
	-include $(GEN)/autoconf.h -Ihypervisor/include -Isdk/manifest -MMD -MP

HOST_CFLAGS := -std=gnu11 -O1 -g $(WARN) -Isdk/manifest -Ihypervisor/include -MMD -MP

include hypervisor/build.mk
include boot/build.mk
include sdk/manifest/build.mk
include sdk/tools/build.mk
include tests/unit/build.mk
-include libos/build.mk
-include sdk/deps/build.mk
-include apps/build.mk
-include tests/guests/build.mk
-include tests/fuzz/build.mk

# ---- top-level goals -------------------------------------------------------
.PHONY: all image run debug test test-unit test-configs test-tools test-system bench fuzz fuzz-volumes fuzz-ext2 check-manifest clean distclean

all: $(HV_ELF) $(LOADER_EFI) $(TOOLS) $(IMAGE)

image: $(IMAGE)

# Host ports are checked before QEMU starts; a taken one gets advice naming
# the variable to change.  qemu.py stops QEMU (by PID) on SIGTERM/HUP/INT.
# The demo's control domain (10.0.2.15) serves the API and dashboard on
# API_PORT, its web guest (10.0.2.16) on HTTP_PORT.
API_PORT  ?= 8080
HTTP_PORT ?= 8081
GDB_PORT  ?= 1234
CPUS      ?= 2
RUN_NET = --smp $(CPUS) --drive $(DEMO_DISK) --net --hostfwd tcp:127.0.0.1:$(API_PORT)-10.0.2.15:80 \
	--hostfwd tcp:127.0.0.1:$(HTTP_PORT)-10.0.2.16:80 \
	--port-hint '$(API_PORT)=make $@ API_PORT={free}' --port-hint '$(HTTP_PORT)=make $@ HTTP_PORT={free}'

# The demo's data disk: a GPT partition "www" holding an ext4 made from
# apps/httpd/www by the real mkfs.ext4 -d (sdk/tools/mkdisk.py --fs), which
# the web guest mounts at /srv (configs/demo.conf).
DEMO_DISK := $(O)/demo-disk.img
DEMO_WWW  := $(shell find apps/httpd/www -type f 2>/dev/null)
$(DEMO_DISK): $(DEMO_WWW) sdk/tools/mkdisk.py sdk/tools/mkvol.py | $(DEPS_STAMP)
	@echo "  DISK    $@"
	$(Q)rm -f $@
	$(Q)$(PY) sdk/tools/mkdisk.py $@ --size 16M --gpt www:12M --fs gpt:www=apps/httpd/www >/dev/null

run: all $(DEMO_DISK)
	@echo "Dashboard and API: http://127.0.0.1:$(API_PORT)/  (the control domain prints its token:"
	@echo "  control| control: API token: ...).  Then, in another terminal:"
	@echo "  export PARAVANE_URL=http://127.0.0.1:$(API_PORT) PARAVANE_TOKEN=<token>"
	@echo "  sdk/tools/pvctl create $(O)/apps/hello/hello.elf --memory 1M -c -- hi there"
	@echo "The web guest: curl http://127.0.0.1:$(HTTP_PORT)/  and, from its volume, /files/index.html"
	$(PY) sdk/tools/qemu.py --image $(IMAGE) --interactive $(RUN_NET)

debug: all $(DEMO_DISK)
	$(PY) sdk/tools/qemu.py --image $(IMAGE) --interactive --gdb $(GDB_PORT) \
		--port-hint '$(GDB_PORT)=make debug GDB_PORT={free}' --symbols $(HV_ELF) $(RUN_NET)

TEST_O := build/test
# The tests run one after another; the builds under them use every CPU.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
test: test-unit test-configs test-tools test-system

# Host tools against fakes (pvctl against an in-memory API server, the
# dashboard in headless chromium against the same server): seconds.
test-tools: | $(DEPS_STAMP)
	cd tests/tools && $(PY) -m pytest -q

# Every config in configs/ must still build (hypervisor and loader).
test-configs: | $(DEPS_STAMP)
	$(Q)set -e; for c in configs/defconfig configs/*_defconfig; do n=$$(basename $$c _defconfig); \
		echo "== config $$n"; \
		$(MAKE) --no-print-directory -j$(JOBS) O=build/cfg-$$n DEFCONFIG=$$c \
			build/cfg-$$n/hypervisor/paravane.elf build/cfg-$$n/boot/BOOTX64.EFI >/dev/null; \
	done

test-unit: $(UNIT_TESTS)
	$(Q)set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t; done

test-system: | $(DEPS_STAMP)
	$(MAKE) -j$(JOBS) O=$(TEST_O) DEFCONFIG=configs/test_defconfig all test-guests
	cd tests/system && PARAVANE_BUILD=$(SRC)/$(TEST_O) $(PY) -m pytest -q --durations=15 $(PYTEST_ARGS)

# Benchmarks use their own build: test hooks, but no lock checker.
BENCH_O := build/bench
bench: | $(DEPS_STAMP)
	$(MAKE) O=$(BENCH_O) DEFCONFIG=configs/bench_defconfig all test-guests
	PARAVANE_BUILD=$(SRC)/$(BENCH_O) $(PY) tests/bench/bench.py

check-manifest: $(CHECK_MANIFEST)
	$(CHECK_MANIFEST) $(M)

clean:
	rm -rf $(O)/hypervisor $(O)/boot $(O)/tools $(O)/tests $(O)/libos $(O)/apps \
		$(O)/include $(O)/*.img $(O)/esp $(TEST_O) $(BENCH_O) build/cfg-*

distclean:
	rm -rf build
