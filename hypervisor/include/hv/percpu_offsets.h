/* Offsets into struct cpu_entry that entry assembly reads through %gs
 * (hv/percpu.h asserts them against the struct). */
#ifndef HV_PERCPU_OFFSETS_H
#define HV_PERCPU_OFFSETS_H

#define CPU_SELF       0    /* struct cpu * */
#define CPU_USER_RSP   8    /* guest RSP parked by the syscall entry */
#define CPU_TRAP_TOP   16   /* top of this CPU's trap stack */
#define CPU_KERNEL_CR3 24   /* the hypervisor's view: entries switch to it */
#define CPU_USER_CR3   32   /* the guest's view: exits to ring 3 load it */
#define CPU_ENTRY_TOP  40   /* top of the entry stack */
#define CPU_MITIGATE   48   /* u8: MITIGATE_* */
#define CPU_VERW_SEL   50   /* u16 */
#define CPU_FRAME_TOP  56   /* end of the running domain's struct trap_frame */
#define CPU_FRAME      64   /* its start */

/* CPU_MITIGATE bits */
#define MITIGATE_PTI   1    /* switch page tables on entry and exit */
#define MITIGATE_VERW  2    /* clear CPU buffers (VERW) on exit to a guest */

#endif
