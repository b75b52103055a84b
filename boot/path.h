/* Normalising the paths the manifest and the configuration name. */
#ifndef PARAVANE_BOOT_PATH_H
#define PARAVANE_BOOT_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* "/a/b" is absolute; "b" or "./b" is relative to dir (itself absolute).
 * '/' and '\' both separate.  The result is normalised ("/x/./y/../z" is
 * "/x/z"); false if it does not fit in n bytes or climbs above the root. */
bool path_resolve(const char *dir, const char *path, char *out, size_t n);

#endif
