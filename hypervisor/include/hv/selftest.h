/* Test hooks (CONFIG_TEST_HOOKS): run what the manifest's selftest asks. */
#ifndef HV_SELFTEST_H
#define HV_SELFTEST_H

#include <manifest.h>

void selftest_run(enum manifest_selftest which);           /* at boot */
void selftest_after_start(enum manifest_selftest which);   /* once domains exist */
void selftest_ptdump(uint32_t unused);   /* core/selftest_ptdump.c */
void selftest_disk(void);                /* core/selftest_disk.c */
void selftest_disk_smp(void);            /* core/selftest_disk_smp.c */
void selftest_volumes(void);             /* core/selftest_volumes.c */

#endif
