# Turns an app's three-line Makefile into a Paravane guest image:
#
#   APP  := hello                 # the image is $(O)/apps/hello/hello.elf
#   SRCS := main.c                # .c and .S files, relative to the app dir
#   include ../../sdk/mk/app.mk
#
# Optional, before the include: APP_CFLAGS (extra compile flags, e.g.
# -Wno-error), APP_LDLIBS (extra archives, searched before libc), and
# PV_NET := 1 for networking: lwIP's headers and <sys/socket.h> & co. on
# the include path, lwIP and the libos's port of it linked in (docs/net.md);
# PV_FS := 1 for files: libext2fs's headers, libext2fs and the libos's I/O
# manager for it linked in (docs/files.md).
#
# Works two ways, with the same result:
#  - `make` in apps/NAME: finds the repo root from this file's path, uses
#    the top-level output dir (build/, or O=...) and asks the top-level
#    make for newlib (`make deps`) and the libos (`make libos`) first;
#  - from the top-level build, which runs this Makefile for every app in
#    APPS (apps/build.mk) after building those itself (PV_TOP=1).
# The image keeps its symbols: the hypervisor symbolizes crash backtraces
# from .symtab.  docs/sdk.md is the guide.

ifeq ($(strip $(APP)),)
$(error APP is not set: put "APP := name" before including app.mk)
endif
ifeq ($(strip $(SRCS)),)
$(error SRCS is not set: put "SRCS := main.c ..." before including app.mk)
endif

PV_APP_MK := 1
PV_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))../..)
# O is the top-level output dir: a relative O means relative to the root.
O ?= build
override O := $(abspath $(if $(filter /%,$(O)),$(O),$(PV_ROOT)/$(O)))
V ?= 0
Q := $(if $(filter 1,$(V)),,@)

include $(PV_ROOT)/sdk/mk/guest.mk

APP_O    := $(O)/apps/$(APP)
APP_ELF  := $(APP_O)/$(APP).elf
APP_OBJS := $(addprefix $(APP_O)/,$(addsuffix .o,$(basename $(SRCS))))
show      = $(patsubst $(PV_ROOT)/%,%,$@)

# ---- PV_NET := 1: lwIP and the libos's port (sdk/mk/guest.mk GUEST_NET_*) ----
ifeq ($(strip $(PV_NET)),1)
APP_NET_CFLAGS := $(GUEST_NET_CFLAGS)
APP_NET_LIBS   := $(GUEST_NET_LIBS)
APP_NET_DEPS   := $(LIBOS_NET_LIB) $(LWIP_STAMP)
endif

# ---- PV_FS := 1: libext2fs and the libos's I/O manager (GUEST_FS_*) ----------
ifeq ($(strip $(PV_FS)),1)
APP_FS_CFLAGS := $(GUEST_FS_CFLAGS)
APP_FS_LIBS   := $(GUEST_FS_LIBS)
APP_FS_DEPS   := $(LIBOS_FS_LIB) $(E2FS_STAMP)
endif

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SUFFIXES:
.PHONY: all clean

all: $(APP_ELF)
	@:

clean:
	rm -rf $(APP_O)

$(APP_O)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $(show)"
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) $(APP_NET_CFLAGS) $(APP_FS_CFLAGS) $(APP_CFLAGS) -c $< -o $@

$(APP_O)/%.o: %.S
	@mkdir -p $(@D)
	@echo "  AS      $(show)"
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) $(APP_NET_CFLAGS) $(APP_FS_CFLAGS) $(APP_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

$(APP_ELF): $(APP_OBJS) $(APP_LDLIBS) $(LIBOS_LIB) $(APP_NET_DEPS) $(APP_FS_DEPS) $(GUEST_LDS)
	@echo "  LD      $(show)"
	$(Q)$(GUEST_LD) $(GUEST_LDFLAGS) -Map $(APP_O)/$(APP).map -o $@ \
		$(APP_OBJS) $(APP_LDLIBS) $(APP_FS_LIBS) $(APP_NET_LIBS) $(GUEST_LIBS)

# newlib's (and lwIP's, libext2fs's) headers: a rebuilt one rebuilds the app.
$(APP_OBJS): $(NEWLIB_STAMP) $(if $(APP_NET_DEPS),$(LWIP_STAMP)) \
	$(if $(APP_FS_DEPS),$(E2FS_STAMP))

# Run on its own: the top-level make knows how newlib and the libos are
# built (and the configuration they need), so ask it every time; it does
# nothing when they are current, and make then sees unchanged files.
ifndef PV_TOP
.PHONY: pv-top
pv-top:
	$(Q)$(MAKE) --no-print-directory -C $(PV_ROOT) \
		O=$(patsubst $(PV_ROOT)/%,%,$(O)) deps libos \
		$(if $(APP_NET_DEPS),libos-net) $(if $(APP_FS_DEPS),libos-fs)

$(LIBOS_LIB) $(NEWLIB_STAMP) $(APP_NET_DEPS) $(APP_FS_DEPS): pv-top
	@:
endif

-include $(APP_OBJS:.o=.d)
