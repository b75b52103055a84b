# The library OS: $(O)/libos/libos.a, which every guest links whole
# (sdk/mk/guest.mk has the flags, sdk/mk/app.mk the link).  Objects are
# listed Kconfig-style: libos-y always, libos-$(CONFIG_X) when X is set.

include sdk/mk/guest.mk

LIBOS_O := $(O)/libos

libos-y := arch/x86_64/start.o arch/x86_64/note.o \
	core/start.o core/cmdline.o core/console.o core/time.o \
	core/events.o core/domain.o core/thread.o \
	libc/syscalls.o libc/errno.o libc/memory.o libc/clock.o libc/entropy.o libc/arc4random.o \
	libc/fd.o libc/fd_console.o libc/nofs.o
libos-$(CONFIG_LIBOS_WEAK_ENTROPY) += libc/entropy_tsc.o
libos-$(if $(CONFIG_LIBOS_WEAK_ENTROPY),,y) += libc/entropy_none.o

libos-y += drivers/netfront.o drivers/blkfront.o

LIBOS_OBJS := $(addprefix $(LIBOS_O)/,$(libos-y))

# newlib's headers: a rebuilt newlib (new flags) rebuilds everything.
$(LIBOS_O)/%.o: libos/%.c $(NEWLIB_STAMP)
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(GUEST_CC) $(LIBOS_CFLAGS) -c $< -o $@

$(LIBOS_O)/%.o: libos/%.S $(NEWLIB_STAMP)
	@mkdir -p $(@D)
	@echo "  AS      $@"
	$(Q)$(GUEST_CC) $(LIBOS_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

# Rebuilt from scratch: a Kconfig change may drop a member, and two members
# share a name (arch and core start.o), which only a fresh `ar rc` keeps
# apart.  Guests link the archive whole, so both go in.
$(LIBOS_LIB): $(LIBOS_OBJS) $(O)/auto.conf
	@echo "  AR      $@"
	$(Q)rm -f $@
	$(Q)ar rcsD $@ $(LIBOS_OBJS)

.PHONY: libos
libos: $(LIBOS_LIB)
	@:

-include $(LIBOS_OBJS:.o=.d)

# ---- networking: $(O)/libos/libos_net.a, the lwIP port ----------------------
# Only apps with PV_NET := 1 link it (sdk/mk/guest.mk GUEST_NET_LIBS), so an
# app without networking carries no lwIP.  lwIP's options come from
# libos/net/include/lwipopts.h, which reads the CONFIG_LIBOS_NET_* values
# that lwIP was built with ($(LWIP_DIR)/include/pv_netconfig.h).
libos-net-y := net/sys_arch.o net/netif.o net/posix.o net/listen.o

LIBOS_NET_OBJS := $(addprefix $(LIBOS_O)/,$(libos-net-y))

$(LIBOS_NET_OBJS): $(LIBOS_O)/%.o: libos/%.c $(NEWLIB_STAMP) $(LWIP_STAMP)
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(GUEST_CC) $(LIBOS_CFLAGS) $(GUEST_NET_CFLAGS) \
		-I$(PV_ROOT)/libos/drivers -c $< -o $@

$(LIBOS_NET_LIB): $(LIBOS_NET_OBJS) $(O)/auto.conf
	@echo "  AR      $@"
	$(Q)rm -f $@
	$(Q)ar rcsD $@ $(LIBOS_NET_OBJS)

.PHONY: libos-net
libos-net: $(LIBOS_NET_LIB)
	@:

-include $(LIBOS_NET_OBJS:.o=.d)

# ---- files: $(O)/libos/libos_fs.a, libext2fs's I/O manager over pv_blk -------
# Only apps with PV_FS := 1 link it (sdk/mk/guest.mk GUEST_FS_LIBS), so an
# app without files carries no libext2fs.  Its path calls (open, stat, ...)
# replace the libos's weak ENOENT ones (libc/nofs.c).
libos-fs-y := fs/io_pvblk.o fs/io_cache.o fs/journal.o fs/journal_replay.o fs/ext2_open.o fs/mount.o fs/path.o fs/calls.o \
	fs/file.o fs/dir.o fs/node.o fs/rename.o fs/inode.o fs/errcode.o fs/dcache.o fs/orphan.o fs/held.o

LIBOS_FS_OBJS := $(addprefix $(LIBOS_O)/,$(libos-fs-y))

$(LIBOS_FS_OBJS): $(LIBOS_O)/%.o: libos/%.c $(NEWLIB_STAMP) $(E2FS_STAMP)
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(GUEST_CC) $(LIBOS_CFLAGS) $(GUEST_FS_CFLAGS) -I$(PV_ROOT)/libos/fs -c $< -o $@

$(LIBOS_FS_LIB): $(LIBOS_FS_OBJS) $(O)/auto.conf
	@echo "  AR      $@"
	$(Q)rm -f $@
	$(Q)ar rcsD $@ $(LIBOS_FS_OBJS)

.PHONY: libos-fs
libos-fs: $(LIBOS_FS_LIB)
	@:

-include $(LIBOS_FS_OBJS:.o=.d)
