/* What the hypervisor learnt while booting, for the banner and for later
 * stages (core/main.c, core/banner.c). */
#ifndef HV_BOOT_H
#define HV_BOOT_H

#include <stdint.h>

struct boot_info;
struct manifest;

struct boot_state {
	const struct boot_info *info;    /* via the direct map */
	struct manifest *manifest;       /* parsed by the same parser as the loader */
	const char *features;            /* hardening actually enabled */
	uint64_t reclaimed_pages;
	uint64_t tsc_banner, tsc_ready;
};

extern struct boot_state boot;

void banner_print(void);
void banner_print_timing(void);
/* Create and run the manifest's domains; never returns. */
__attribute__((noreturn)) void domains_start(void);

#endif
