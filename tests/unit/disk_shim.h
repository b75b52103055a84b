/* Disks for host unit tests of the volume layer: the registry of hv/disk.h
 * over images held in memory (so tests can damage them), plus what the
 * volume code takes from the rest of the hypervisor (heap, locks). */
#ifndef PARAVANE_TEST_DISK_SHIM_H
#define PARAVANE_TEST_DISK_SHIM_H

#include <stdint.h>
#include <hv/disk.h>

/* Loads path as the next disk ("vdX"); returns it, or NULL (and says why). */
struct disk *shim_disk_add(const char *path);
/* A disk of n bytes of memory (zeroed). */
struct disk *shim_disk_mem(uint64_t bytes);
uint8_t *shim_disk_bytes(struct disk *d);
void shim_disks_reset(void);        /* frees and forgets every disk */

/* The last io a disk saw through disk_submit (completed at once, 0). */
extern struct disk_io *shim_last_io;
extern uint64_t shim_last_sector;

/* Runs tests/unit/make_volumes.py into a new temporary directory with
 * the given parts ("lvm", "gpt"); returns the directory or NULL. */
const char *shim_make_volumes(const char *parts);
/* Reads dir/expect.txt into lines (at most max); returns the count. */
int shim_expect(const char *dir, char lines[][256], int max);
void shim_remove_volumes(const char *dir);

#endif
