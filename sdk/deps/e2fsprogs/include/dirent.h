/* Stands in for <dirent.h> in the e2fsprogs build only (sdk/deps/e2fsprogs.sh
 * puts this dir first on its include path).  lib/ext2fs/mkjournal.c
 * includes e2p/e2p.h, which includes <dirent.h> for one prototype that
 * takes a struct dirent *; newlib's generic target has no dirent and its
 * <sys/dirent.h> is an #error.  An incomplete struct is all it needs. */
#ifndef PV_E2FS_DIRENT_H
#define PV_E2FS_DIRENT_H
struct dirent;
#endif
