# The boot manifest parser.  Three sources, built three ways: here for the
# host tools; boot/build.mk and hypervisor/build.mk compile the same files
# again with their own freestanding flags.  Those two are included before
# this file, so they name the sources themselves: keep their lists in step
# with MANIFEST_SRCS (a missing one fails their link).

MANIFEST_SRCS := sdk/manifest/manifest.c sdk/manifest/manifest_text.c \
	sdk/manifest/manifest_keys.c sdk/manifest/manifest_block.c \
	sdk/manifest/manifest_mount.c
MANIFEST_HOST_OBJS := $(patsubst sdk/manifest/%.c,$(O)/tools/%.o,$(MANIFEST_SRCS))

$(MANIFEST_HOST_OBJS): $(O)/tools/%.o: sdk/manifest/%.c
	$(Q)mkdir -p $(@D)
	$(Q)$(HOSTCC) $(HOST_CFLAGS) -c -o $@ $<

-include $(MANIFEST_HOST_OBJS:.o=.d)
