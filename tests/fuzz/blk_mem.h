/* A host stand-in for the libOS's <pv_blk.h> block frontend: one device,
 * "vol", over a buffer in memory, so that the libOS's file code (the
 * libext2fs I/O manager and pv_ext2_open) runs unchanged on the host
 * under libFuzzer (fuzz_ext2.c). */
#ifndef BLK_MEM_H
#define BLK_MEM_H

#include <stddef.h>
#include <stdint.h>

#define BLK_MEM_NAME "vol"

/* The disk is bytes long (fixed for the process: the I/O manager keeps
 * the capacity it saw at the first open); set its contents with
 * blk_mem_load(): data, then zeros. */
void blk_mem_init(uint64_t bytes);
void blk_mem_load(const uint8_t *data, size_t len);
uint8_t *blk_mem_bytes(void);

#endif
