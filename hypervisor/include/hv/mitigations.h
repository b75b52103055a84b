/* Page-table isolation and speculation barriers (docs/security.md): what
 * this CPU needs, decided once at boot from CPUID, IA32_ARCH_CAPABILITIES
 * and the manifest's [hypervisor] isolation, then applied to every CPU. */
#ifndef HV_MITIGATIONS_H
#define HV_MITIGATIONS_H

#include <stdbool.h>
#include <stdint.h>

struct cpu;

struct mitigations {
	bool pti;        /* guests' tables hold only the entry set */
	bool ibpb;       /* indirect-branch predictor barrier between domains */
	bool rsb;        /* return stack filled when switching domains */
	bool verw;       /* CPU buffers cleared on every exit to a guest (MDS) */
	bool ibrs;       /* enhanced IBRS set once per CPU */
	bool retpoline;  /* the hypervisor's indirect branches compiled as retpolines */
	const char *why; /* one word: why PTI is on or off */
};

extern struct mitigations mitigations;

/* Decide (boot CPU, after the manifest), apply to the boot CPU, report in
 * the log and as `@event cpu-mitigations`.  mode: enum manifest_isolation. */
void mitigations_init(int mode);
void mitigations_apply_cpu(struct cpu *c);   /* each AP, as it starts */

/* Switching this CPU from one domain to another (never the same again). */
void mitigations_domain_switch(void);

#endif
