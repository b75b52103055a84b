/* libext2fs's error codes as errno values (fuse2fs maps them the same
 * way).  Codes below the com_err base are errno values already (the I/O
 * manager's EIO, ENOTCONN, EROFS ...); what has no POSIX meaning is EIO. */
#include <errno.h>
#include <stdio.h>
#include <et/com_err.h>

#include "fs.h"

static const struct { errcode_t code; int err; } map[] = {
	{ EXT2_ET_NO_MEMORY, ENOMEM },
	{ EXT2_ET_INVALID_ARGUMENT, EINVAL },
	{ EXT2_ET_NO_DIRECTORY, ENOTDIR },
	{ EXT2_ET_FILE_NOT_FOUND, ENOENT },
	{ EXT2_ET_DIR_NO_SPACE, ENOSPC },
	{ EXT2_ET_TOOSMALL, ENOSPC },
	{ EXT2_ET_BLOCK_ALLOC_FAIL, ENOSPC },
	{ EXT2_ET_INODE_ALLOC_FAIL, ENOSPC },
	{ EXT2_ET_EA_NO_SPACE, ENOSPC },
	{ EXT2_ET_SYMLINK_LOOP, ELOOP },
	{ EXT2_ET_FILE_TOO_BIG, EFBIG },
	{ EXT2_ET_FILE_EXISTS, EEXIST },
	{ EXT2_ET_DIR_EXISTS, EEXIST },
	{ EXT2_ET_RO_FILSYS, EROFS },
	{ EXT2_ET_FILE_RO, EBADF },
	{ EXT2_ET_UNIMPLEMENTED, EOPNOTSUPP },
	{ EXT2_ET_SHORT_READ, EIO },
	{ EXT2_ET_SHORT_WRITE, EIO },
};

int fs_errno(errcode_t e)
{
	if (e > 0 && e < 256)
		return -(int)e;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].code == e)
			return -map[i].err;
	/* Loud: a file system problem the app only sees as EIO. */
	fprintf(stderr, "fs: %s (answered EIO)\n", error_message(e));
	return -EIO;
}
