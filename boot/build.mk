# boot/: the UEFI loader, \EFI\BOOT\BOOTX64.EFI.
#
# GNU-EFI's classic flow: objects built -fpic, linked as a shared object
# with crt0 and elf_x86_64_efi.lds, then turned into a PE32+ by objcopy.
# The manifest parser is compiled a second time here with these flags
# (its sources are listed as MANIFEST_SRCS in sdk/manifest/build.mk,
# which is included after this file).

LOADER_EFI := $(O)/boot/BOOTX64.EFI
LOADER_SO  := $(O)/boot/loader.so

EFI_INC  := /usr/include/efi
EFI_LIB  := /usr/lib
EFI_CRT0 := $(EFI_LIB)/crt0-efi-x86_64.o
EFI_LDS  := $(EFI_LIB)/elf_x86_64_efi.lds

# crt0 calls efi_main with the SysV ABI; GNU_EFI_USE_MS_ABI makes EFIAPI
# (firmware calls) ms_abi.  See docs/boot.md.
LOADER_CFLAGS := -std=gnu11 -O2 -g $(WARN) -ffreestanding -fno-stack-protector \
	-fpic -fshort-wchar -mno-red-zone -maccumulate-outgoing-args \
	-fno-strict-aliasing -DGNU_EFI_USE_MS_ABI \
	-I$(EFI_INC) -I$(EFI_INC)/x86_64 -I$(EFI_INC)/protocol \
	-I$(GEN) -include autoconf.h -Ihypervisor/include -Isdk/manifest -MMD -MP

LOADER_SRCS := $(wildcard boot/*.c) sdk/manifest/manifest.c \
	sdk/manifest/manifest_text.c sdk/manifest/manifest_keys.c \
	sdk/manifest/manifest_block.c sdk/manifest/manifest_mount.c
LOADER_OBJS := $(patsubst %.c,$(O)/boot/obj/%.o,$(LOADER_SRCS))

EFI_SECTIONS := -j .text -j .sdata -j .data -j .dynamic -j .dynsym \
	-j .rel -j .rela -j .rel.* -j .rela.* -j .reloc

$(O)/boot/obj/%.o: %.c $(GEN)/autoconf.h
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(LOADER_CFLAGS) -c $< -o $@

# --no-undefined: an unresolved symbol in a -shared link would otherwise
# become a relocation that nobody resolves at run time.
$(LOADER_SO): $(LOADER_OBJS) $(EFI_CRT0) $(EFI_LDS)
	@echo "  LD      $@"
	$(Q)$(LD) -shared -Bsymbolic -nostdlib -znocombreloc --no-undefined \
		-L$(EFI_LIB) -T $(EFI_LDS) $(EFI_CRT0) $(LOADER_OBJS) \
		-o $@ -lefi -lgnuefi

$(LOADER_EFI): $(LOADER_SO)
	@echo "  EFI     $@"
	$(Q)$(OBJCOPY) $(EFI_SECTIONS) --target=efi-app-x86_64 --subsystem=10 \
		$< $@

-include $(LOADER_OBJS:.o=.d)
