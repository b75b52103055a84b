# Guest apps: each apps/NAME is built by its own Makefile (three lines that
# include sdk/mk/app.mk) into $(O)/apps/NAME/NAME.elf and put on the ESP as
# /paravane/NAME.elf.  Running the app's own Makefile keeps paths in it
# relative to its folder, exactly as when someone types `make` there.
#
#   make APPS="hello httpd"    choose the apps (default: hello httpd echo fetch control)

APPS ?= hello httpd echo fetch control

APP_ELFS := $(foreach a,$(APPS),$(O)/apps/$(a)/$(a).elf)
IMAGE_FILES += $(foreach a,$(APPS),$(O)/apps/$(a)/$(a).elf:/paravane/$(a).elf)

.PHONY: apps apps-force
all: $(APP_ELFS)
apps: $(APP_ELFS)

# Always ask the app's make (it knows its sources); the ELF's time stamp
# only moves when it was really relinked.  The lwIP port (and so lwIP) and
# the file layer (and so libext2fs) are made first for every app: only the
# app's make knows whether it sets PV_NET or PV_FS, and it does not build
# them itself.
$(O)/apps/%.elf: $(LIBOS_LIB) $(NEWLIB_STAMP) $(LIBOS_NET_LIB) $(LIBOS_FS_LIB) apps-force
	$(Q)$(MAKE) --no-print-directory -C apps/$(*D) \
		O=$(abspath $(O)) PV_TOP=1

apps-force:
