/* newlib's <sys/stat.h>, plus what its generic target leaves out and the
 * libOS provides (libos/fs with PV_FS := 1, else ENOENT): lstat() and
 * utimensat()'s UTIME_NOW / UTIME_OMIT. */
#ifndef PV_SYS_STAT_H
#define PV_SYS_STAT_H

#include_next <sys/stat.h>

#ifndef UTIME_NOW
#define UTIME_NOW  -2L
#define UTIME_OMIT -1L
#endif

#ifdef __cplusplus
extern "C" {
#endif
int lstat(const char *__restrict path, struct stat *__restrict buf);
#ifdef __cplusplus
}
#endif

#endif
