# The boot manifest parser.  One source, built three ways: here for the
# host tools; boot/build.mk and hypervisor/build.mk compile $(MANIFEST_SRC)
# again with their own freestanding flags.

MANIFEST_SRC := sdk/manifest/manifest.c
MANIFEST_HOST_OBJ := $(O)/tools/manifest.o

$(MANIFEST_HOST_OBJ): $(MANIFEST_SRC)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOSTCC) $(HOST_CFLAGS) -c -o $@ $<

-include $(MANIFEST_HOST_OBJ:.o=.d)
