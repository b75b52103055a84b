/* Offsets into struct cpu that entry assembly reads through %gs
 * (hv/percpu.h asserts them against the struct). */
#ifndef HV_PERCPU_OFFSETS_H
#define HV_PERCPU_OFFSETS_H

#define CPU_SELF      0    /* struct cpu *self */
#define CPU_USER_RSP  8    /* guest RSP parked by the syscall entry */
#define CPU_TRAP_TOP  16   /* top of this CPU's trap stack (TSS.RSP0) */

#endif
