# Host tools.  Each tool has its own delimited block below; add new tools
# as new blocks and append them to TOOLS.

# ---- check-manifest: validate boot manifests (sdk/tools/check_manifest.c) --
CHECK_MANIFEST := $(O)/tools/check-manifest
TOOLS += $(CHECK_MANIFEST)

$(O)/tools/check_manifest.o: sdk/tools/check_manifest.c
	$(Q)mkdir -p $(@D)
	$(Q)$(HOSTCC) $(HOST_CFLAGS) -c -o $@ $<

$(CHECK_MANIFEST): $(O)/tools/check_manifest.o $(MANIFEST_HOST_OBJS)
	$(Q)$(HOSTCC) -o $@ $^

-include $(O)/tools/check_manifest.d
# ---- end check-manifest -----------------------------------------------------

# ---- the bootable disk image (sdk/tools/image.mk) ---------------------------
include sdk/tools/image.mk
