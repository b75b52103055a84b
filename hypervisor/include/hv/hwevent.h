/* NMIs and machine checks (arch/x86_64/hwevent.c).  Both arrive through
 * the paranoid entry, in either ring, maybe while this CPU holds a lock:
 * the handlers only read MSRs and write this CPU's struct hw_pending; the
 * report is printed later on the normal path (work_run). */
#ifndef HV_HWEVENT_H
#define HV_HWEVENT_H

#include <stdbool.h>
#include <stdint.h>

struct cpu;
struct trap_frame;

/* What the last NMI or recovered machine check left to report. */
struct hw_pending {
	bool any;                     /* something below to print */
	uint32_t nmis;                /* NMIs nobody claimed */
	uint64_t nmi_rip;
	uint32_t nmi_domain;          /* running here then, 0 = none */
	bool nmi_guest;               /* arrived in ring 3 */
	uint32_t mces;                /* machine checks recovered */
	uint32_t mce_bank, mce_domain;
	uint64_t mce_status, mce_addr, mce_rip;
	bool mce_guest;
};

/* Machine-check architecture on this CPU: CR4.MCE, every bank enabled and
 * cleared (each CPU, at start). */
void hwevent_init_cpu(void);

/* An NMI handler claims the NMI by returning true (cross-CPU stop now; a
 * watchdog later).  At most HWEVENT_NMI_HANDLERS, registered at boot. */
#define HWEVENT_NMI_HANDLERS 4
typedef bool (*nmi_handler_t)(struct trap_frame *f);
void hwevent_add_nmi_handler(nmi_handler_t h);

void hwevent_nmi(struct trap_frame *f);   /* from the paranoid entry */
/* A machine check: returns when the CPU can go on (the interrupted
 * context is intact, RIPV and no PCC); otherwise reports and panics. */
void hwevent_mce(struct trap_frame *f);

/* Normal path: print what the handlers recorded on this CPU. */
void hwevent_report(struct cpu *c);

#endif
