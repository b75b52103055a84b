/* Directory entries for newlib's <dirent.h>, which includes this file
 * (newlib's own is an #error on targets without directories).  DIR is
 * the libOS's: opendir() and friends are in libos/fs/dir.c (apps built
 * with PV_FS := 1; without it opendir() answers ENOENT). */
#ifndef PV_SYS_DIRENT_H
#define PV_SYS_DIRENT_H

#include <sys/types.h>

#define DT_UNKNOWN 0
#define DT_FIFO    1
#define DT_CHR     2
#define DT_DIR     4
#define DT_BLK     6
#define DT_REG     8
#define DT_LNK     10
#define DT_SOCK    12

#define NAME_MAX_DIRENT 255

struct dirent {
	ino_t          d_ino;
	off_t          d_off;             /* telldir() of the next entry */
	unsigned short d_reclen;
	unsigned char  d_type;            /* DT_* */
	char           d_name[NAME_MAX_DIRENT + 1];
};

typedef struct pv_dir DIR;

#endif
