/* Hypervisor symbol table, linked into the image in a second link pass
 * (sdk/tools/ksyms.py), for symbolized backtraces. */
#ifndef HV_SYMBOLS_H
#define HV_SYMBOLS_H

#include <stdint.h>
#include <stddef.h>

/* Formats "name+0xoff" for addr into buf; returns 0 when unknown. */
int symbols_lookup(uint64_t addr, char *buf, size_t n);

#endif
