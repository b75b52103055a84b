# How guest code is compiled and linked: one definition shared by
# libos/build.mk (top-level make) and sdk/mk/app.mk (an app's make).
# Paths are absolute ($(PV_ROOT)) so both can use them from any directory.
#
#   GUEST_CFLAGS   compile flags for libos and app C/asm files
#   GUEST_LDFLAGS  ld flags, linker script included
#   GUEST_LIBS     what follows the app's objects on the ld command line
#   LIBOS_LIB      $(O)/libos/libos.a (entry point and ELF note inside)
#   LIBOS_CFLAGS   libos only: GUEST_CFLAGS + its internal include dirs
#   GUEST_NET_*    networking (lwIP), see below
#   GUEST_FS_*     files (libext2fs), see below

ifndef SDK_GUEST_MK
SDK_GUEST_MK := 1

PV_ROOT ?= $(CURDIR)
include $(PV_ROOT)/sdk/deps/build.mk

GUEST_CC  := gcc
GUEST_LD  := ld
GUEST_GCC_INC := $(shell $(GUEST_CC) -print-file-name=include)
GUEST_LIBGCC  := $(shell $(GUEST_CC) -print-libgcc-file-name)

# Ring-3 code at 0x400000 in a static image: no PIE, small code model.
# Frame pointers: the hypervisor symbolizes crash backtraces by walking rbp.
# No red zone: kept in case the hypervisor ever pushes frames on the guest
# stack.  SSE is fine: the hypervisor saves each domain's FPU state.
# newlib's <time.h> hides clock_gettime, nanosleep and CLOCK_MONOTONIC
# unless the platform claims these POSIX options; the libos provides them.
GUEST_CFLAGS := -std=gnu11 -O2 -g -fno-pie -mcmodel=small -mno-red-zone \
	-fno-stack-protector -fno-asynchronous-unwind-tables \
	-fno-omit-frame-pointer -ffunction-sections -fdata-sections \
	-nostdinc -isystem $(NEWLIB_DIR)/include -isystem $(GUEST_GCC_INC) \
	-I$(PV_ROOT)/libos/include -I$(PV_ROOT)/hypervisor/include \
	-D_POSIX_TIMERS=1 -D_POSIX_MONOTONIC_CLOCK=200112L \
	-D_POSIX_CPUTIME=200112L -D_POSIX_CLOCK_SELECTION=200112L \
	-Wall -Wextra -Werror -Wno-unused-parameter -MMD -MP

LIBOS_LIB := $(O)/libos/libos.a
LIBOS_CFLAGS := $(GUEST_CFLAGS) -I$(PV_ROOT)/libos/core \
	-I$(PV_ROOT)/libos/arch/x86_64

GUEST_LDS := $(PV_ROOT)/sdk/mk/guest.ld
GUEST_LDFLAGS := -nostdlib -static -z max-page-size=4096 -z noexecstack \
	--gc-sections -T $(GUEST_LDS)

# The whole libos goes in, so its definitions (write, sbrk, abort, ...) are
# there before libc.a is searched: newlib's own abort() and friends are
# never pulled, whatever order the app's references come in.  --gc-sections
# drops what is unused.  libc, libm and libgcc refer to each other: a group.
GUEST_LIBS := --whole-archive $(LIBOS_LIB) --no-whole-archive \
	-L$(NEWLIB_DIR)/lib --start-group -lc -lm $(GUEST_LIBGCC) --end-group

# ---- networking: lwIP + the libos's port of it (docs/net.md) ----------------
# Used by libos/net and by apps that set PV_NET := 1 (sdk/mk/app.mk).
#
#   GUEST_NET_CFLAGS  added to GUEST_CFLAGS: the port's headers (lwipopts.h,
#                     arch/), lwIP's, and the POSIX socket headers
#                     (<sys/socket.h>, <netinet/in.h>, <poll.h>, ...)
#   GUEST_NET_LIBS    before GUEST_LIBS on the ld command line
#   LIBOS_NET_LIB     $(O)/libos/libos_net.a: the port (sys_arch, netif,
#                     pv_net_start, socket fds in read/write/close/fcntl)
#
# The port goes in whole: lwIP calls back into it (sys_*), and it must be
# there before liblwip.a is searched.  --wrap sends newlib's and the app's
# read/write/close/fcntl through the port, which hands socket descriptors
# to lwIP and the rest to the libos (libos/net/posix.c).
LIBOS_NET_LIB := $(O)/libos/libos_net.a
GUEST_NET_CFLAGS := -I$(LWIP_PORT) -I$(LWIP_DIR)/include \
	-I$(PV_ROOT)/libos/net/posix -I$(LWIP_DIR)/include/compat/posix
GUEST_NET_LIBS := --wrap=read --wrap=write --wrap=close --wrap=fcntl \
	--whole-archive $(LIBOS_NET_LIB) --no-whole-archive $(LWIP_LIB)

# ---- files: libext2fs + the libOS's I/O manager for it (docs/files.md) -----
# Used by libos/fs and by apps that set PV_FS := 1 (sdk/mk/app.mk).
#
#   GUEST_FS_CFLAGS  <ext2fs/ext2fs.h>, <et/com_err.h> on the include path
#   GUEST_FS_LIBS    before GUEST_LIBS on the ld command line
#   LIBOS_FS_LIB     $(O)/libos/libos_fs.a: the I/O manager over pv_blk
#                    (libos/fs/io_pvblk.c) and the checked open (ext2_open.c)
#
# The layer goes in whole: its definitions of open(), stat() & co. must
# replace the libos's weak ones (libos/libc/nofs.c), and its mounts are made
# by a constructor nothing refers to.  libext2fs is searched after it.
LIBOS_FS_LIB := $(O)/libos/libos_fs.a
GUEST_FS_CFLAGS := -I$(E2FS_DIR)/include
GUEST_FS_LIBS := --whole-archive $(LIBOS_FS_LIB) --no-whole-archive $(E2FS_LIBS)

endif
