/* Command lines <-> argument lists, with the libos's quoting (args.c). */
#ifndef CONTROL_ARGS_H
#define CONTROL_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include "buf.h"

/* argv[0] then args, quoted as the libos splits them; false if it does
 * not fit in n bytes (out is then cut). */
bool args_join(char *out, size_t n, const char *argv0, char *const *args, int nargs);
/* The words of cmdline after the first, as a JSON array. */
void args_json(struct buf *b, const char *cmdline);

#endif
