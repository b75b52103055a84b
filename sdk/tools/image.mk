# The bootable disk image: GPT + one EFI System Partition (mkimage.py).
#
# Included from sdk/tools/build.mk.  Uses LOADER_EFI (boot/build.mk), HV_ELF
# (hypervisor/build.mk), CHECK_MANIFEST (sdk/tools/build.mk), MANIFEST (top).
# Apps add files with
#     IMAGE_FILES += $(O)/apps/hello/hello.elf:/paravane/hello.elf
# from any fragment, before or after this one: the prerequisites are
# expanded a second time, after every makefile has been read.

IMAGE       := $(O)/paravane.img
IMAGE_SIZE  ?= 64M
IMAGE_FILES ?=
MKIMAGE     := sdk/tools/mkimage.py

image_srcs = $(foreach f,$(IMAGE_FILES),$(firstword $(subst :, ,$(f))))
image_args = --out $(IMAGE) --size $(IMAGE_SIZE) --loader $(LOADER_EFI) \
	--hypervisor $(HV_ELF) --manifest $(MANIFEST) \
	--check-manifest $(CHECK_MANIFEST) $(addprefix --file ,$(IMAGE_FILES))

# Rebuild when the argument list changes (another manifest, a new file),
# not only when an input is newer.
$(O)/.image-args: .image-args-force
	@mkdir -p $(dir $@)
	@echo '$(image_args)' | cmp -s - $@ || echo '$(image_args)' > $@

.PHONY: .image-args-force
.SECONDEXPANSION:
$(IMAGE): $$(LOADER_EFI) $$(HV_ELF) $$(MANIFEST) $$(CHECK_MANIFEST) \
		$$(image_srcs) $(MKIMAGE) $(O)/.image-args
	@echo "  IMAGE   $@"
	$(Q)$(PY) $(MKIMAGE) --quiet $(image_args)
