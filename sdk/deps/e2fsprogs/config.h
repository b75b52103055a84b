/* config.h for e2fsprogs' lib/ext2fs and lib/et built for Paravane guests
 * (sdk/deps/e2fsprogs.sh).  e2fsprogs' configure cannot run for a
 * freestanding newlib target (it runs test programs), so this replaces the
 * config.h it would write.  Everything not defined here stays undefined on
 * purpose: no threads, no /proc or /etc, no ioctls, no NLS.  A define says
 * what the guest's newlib (3.3, sdk/deps/newlib.sh) and libOS provide. */
#ifndef PV_E2FSPROGS_CONFIG_H
#define PV_E2FSPROGS_CONFIG_H

/* ISO C headers: newlib has them all. */
#define STDC_HEADERS 1
#define HAVE_STDARG_H 1
#define HAVE_STDINT_H 1
#define HAVE_STDIO_H 1
#define HAVE_STDLIB_H 1
#define HAVE_STRING_H 1
#define HAVE_INTTYPES_H 1
#define HAVE_INTPTR_T 1
/* errno is newlib's (the libOS sets it in its system calls). */
#define HAVE_ERRNO_H 1

/* POSIX headers that newlib ships and whose declarations compile; the
 * functions behind them are the libOS's (libos/libc/syscalls.c). */
#define HAVE_UNISTD_H 1
#define HAVE_SYS_TYPES_H 1
#define HAVE_SYS_STAT_H 1
#define HAVE_SYS_TIME_H 1
#define HAVE_STRINGS_H 1
#define HAVE_TYPE_SSIZE_T 1

/* ext2fs_get_memalign(): newlib has memalign() in <malloc.h>.  Not
 * HAVE_POSIX_MEMALIGN: newlib 3.3 declares no posix_memalign() (the
 * libOS defines one for libc's own use, libos/libc/memory.c). */
#define HAVE_MALLOC_H 1
#define HAVE_MEMALIGN 1

/* String and stdio functions newlib has. */
#define HAVE_SNPRINTF 1
#define HAVE_VPRINTF 1
#define HAVE_STRDUP 1
#define HAVE_STRNLEN 1
#define HAVE_STRCASECMP 1
#define HAVE_STRTOULL 1

/* The LP64 x86_64 ABI; newlib's off_t and time_t are 64-bit there. */
#define SIZEOF_SHORT 2
#define SIZEOF_INT 4
#define SIZEOF_LONG 8
#define SIZEOF_LONG_LONG 8
#define SIZEOF_OFF_T 8
#define SIZEOF_TIME_T 8
/* x86_64 is little-endian: WORDS_BIGENDIAN stays undefined. */

/* lib/et: no backtrace() in newlib; com_err's error tables need no lock
 * (single vCPU, cooperative threads: HAVE_SEM_INIT/HAVE_PTHREAD off). */
#define DISABLE_BACKTRACE 1

/* Left out on purpose:
 *  CONFIG_MMP   multi-mount protection opens the device again with
 *               O_DIRECT; a Paravane volume has one writer by design
 *               (docs/storage.md), so ext2fs_mmp_* answer "not supported"
 *               and a file system with the mmp feature is refused.
 *  CONFIG_TDB   tdb.c (undo files) is not built.
 *  ENABLE_NLS   no gettext: messages stay English.
 *  HAVE_PTHREAD no threads: ext2fs's optional parallel bitmap loading
 *               (rw_bitmaps.c) stays serial. */

#define PACKAGE "e2fsprogs"
#define VERSION "0.14.1"          /* what configure sets, as upstream */

#endif
