/* statvfs(): newlib has no <sys/statvfs.h>; this is POSIX's.  Answered by
 * the file system a path lives on (libos/fs, apps with PV_FS := 1). */
#ifndef PV_SYS_STATVFS_H
#define PV_SYS_STATVFS_H

#include <sys/types.h>

#define ST_RDONLY 1
#define ST_NOSUID 2

struct statvfs {
	unsigned long f_bsize;     /* block size */
	unsigned long f_frsize;    /* fundamental block size (f_blocks' unit) */
	fsblkcnt_t    f_blocks;
	fsblkcnt_t    f_bfree;
	fsblkcnt_t    f_bavail;    /* free for unprivileged users */
	fsfilcnt_t    f_files;
	fsfilcnt_t    f_ffree;
	fsfilcnt_t    f_favail;
	unsigned long f_fsid;
	unsigned long f_flag;      /* ST_* */
	unsigned long f_namemax;
};

#ifdef __cplusplus
extern "C" {
#endif
int statvfs(const char *path, struct statvfs *buf);
int fstatvfs(int fd, struct statvfs *buf);
#ifdef __cplusplus
}
#endif

#endif
