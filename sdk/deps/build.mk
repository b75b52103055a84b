# newlib (and later lwIP) for guests, built from Debian's source packages by
# sdk/deps/*.sh into build/deps/, which every $(O) shares: `make clean` and
# test builds (O=build/test) keep and reuse it.  docs/sdk.md has the details.
#
#   NEWLIB_DIR    the target dir: $(NEWLIB_DIR)/include, $(NEWLIB_DIR)/lib
#   NEWLIB_STAMP  exists once that build is complete; depend on it
#   make deps     build whatever is missing (NEWLIB_FORCE=1: rebuild newlib)
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

# lwIP: not yet (its own issue); it will get LWIP_DIR/LWIP_STAMP the same way.

# app.mk gets these built by running the top-level make (`make deps`).
ifndef PV_APP_MK
.PHONY: deps newlib-force
deps: $(NEWLIB_STAMP)
	@:

$(NEWLIB_STAMP): $(if $(NEWLIB_FORCE),newlib-force) | $(DEPS_STAMP)
	$(Q)NEWLIB_FORCE=$(NEWLIB_FORCE) sh $(PV_ROOT)/sdk/deps/newlib.sh
endif

endif
