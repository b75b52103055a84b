# newlib, lwIP and libext2fs for guests, built from Debian's source packages
# by sdk/deps/*.sh into build/deps/, which every $(O) shares: `make clean`
# and test builds (O=build/test) keep and reuse it.  docs/sdk.md,
# docs/net.md and docs/files.md have the details.
#
#   NEWLIB_DIR    the target dir: $(NEWLIB_DIR)/include, $(NEWLIB_DIR)/lib
#   NEWLIB_STAMP  exists once that build is complete; depend on it
#   LWIP_*, E2FS_*  below
#   make deps     build whatever is missing (NEWLIB_FORCE=1: rebuild newlib,
#                 LWIP_FORCE=1: rebuild lwIP, E2FS_FORCE=1: libext2fs)
#
# Included by the top Makefile, by sdk/mk/guest.mk (so by libos/build.mk)
# and by sdk/mk/app.mk; the guard makes repeated inclusion harmless.

ifndef SDK_DEPS_MK
SDK_DEPS_MK := 1

PV_ROOT ?= $(CURDIR)

# The prefix is named after newlib's version and a hash of the recipe, so
# changing a flag builds a new one.  Before the host packages are installed
# (first run on a fresh machine) the script cannot name it; make restarts
# once $(O)/auto.conf is made, and asks again.
# Sub-makes (every app) inherit the answer instead of asking again.
ifeq ($(PV_NEWLIB_PREFIX),)
PV_NEWLIB_PREFIX := $(shell sh $(PV_ROOT)/sdk/deps/newlib.sh --prefix 2>/dev/null)
endif
ifeq ($(PV_NEWLIB_PREFIX),)
NEWLIB_PREFIX := $(PV_ROOT)/build/deps/newlib-unavailable
else
NEWLIB_PREFIX := $(PV_NEWLIB_PREFIX)
export PV_NEWLIB_PREFIX
endif
NEWLIB_DIR   := $(NEWLIB_PREFIX)/x86_64-pv-elf
NEWLIB_STAMP := $(NEWLIB_PREFIX)/.stamp

# lwIP's prefix is named after the Debian package version and a hash that
# includes this build's CONFIG_LIBOS_NET_* values, and its version is only
# known once the source package is fetched.  So make never computes it:
# lwip.sh keeps $(O)/lwip a symlink to the right prefix, and make reads
# everything through it.  lwip.sh runs on every make (about 0.05 s when
# cached) and moves the link only on a change, which changes the stamp's
# time as seen through the link, so dependents rebuild exactly then.
#
#   LWIP_DIR    $(LWIP_DIR)/include (lwIP's headers), $(LWIP_DIR)/lib/liblwip.a
#   LWIP_STAMP  changes when lwIP (or its configuration) changes; depend on it
#   LWIP_PORT   the port's headers: lwipopts.h, arch/cc.h, arch/sys_arch.h
LWIP_DIR   := $(O)/lwip
LWIP_STAMP := $(LWIP_DIR)/.stamp
LWIP_LIB   := $(LWIP_DIR)/lib/liblwip.a
LWIP_PORT  := $(PV_ROOT)/libos/net/include

# libext2fs and com_err (e2fsprogs), found the same way as lwIP, through
# the symlink $(O)/e2fsprogs that sdk/deps/e2fsprogs.sh keeps.
#
#   E2FS_DIR    $(E2FS_DIR)/include/{ext2fs,et}/, $(E2FS_DIR)/lib/
#   E2FS_STAMP  changes when the library (or its flags) changes; depend on it
#   E2FS_LIBS   the archives, libext2fs before the com_err it calls
E2FS_DIR   := $(O)/e2fsprogs
E2FS_STAMP := $(E2FS_DIR)/.stamp
E2FS_LIBS  := $(E2FS_DIR)/lib/libext2fs.a $(E2FS_DIR)/lib/libcom_err.a

# app.mk gets these built by running the top-level make (`make deps`).
ifndef PV_APP_MK
.PHONY: deps newlib-force lwip-check e2fs-check
deps: $(NEWLIB_STAMP) $(LWIP_STAMP) $(E2FS_STAMP)
	@:

$(NEWLIB_STAMP): $(if $(NEWLIB_FORCE),newlib-force) | $(DEPS_STAMP)
	$(Q)NEWLIB_FORCE=$(NEWLIB_FORCE) sh $(PV_ROOT)/sdk/deps/newlib.sh

# GUEST_CFLAGS (sdk/mk/guest.mk) is expanded when the recipe runs.
$(LWIP_STAMP): $(NEWLIB_STAMP) $(GEN)/autoconf.h lwip-check | $(DEPS_STAMP)
	$(Q)LWIP_CFLAGS='$(GUEST_CFLAGS)' LWIP_PORT='$(LWIP_PORT)' \
		LWIP_AUTOCONF='$(GEN)/autoconf.h' LWIP_FORCE=$(LWIP_FORCE) \
		sh $(PV_ROOT)/sdk/deps/lwip.sh --link $(LWIP_DIR)

lwip-check:

$(E2FS_STAMP): $(NEWLIB_STAMP) e2fs-check | $(DEPS_STAMP)
	$(Q)E2FS_CFLAGS='$(GUEST_CFLAGS)' E2FS_FORCE=$(E2FS_FORCE) \
		sh $(PV_ROOT)/sdk/deps/e2fsprogs.sh --link $(E2FS_DIR)

e2fs-check:
endif

endif
