/* The AP start-up page (arch/x86_64/ap_boot.S, smp.c): where smp.c puts
 * the parameters the real-mode code reads, as offsets into the page. */
#ifndef HV_AP_BOOT_H
#define HV_AP_BOOT_H

#define AP_SEL_CODE32 0x08
#define AP_SEL_DATA   0x10
#define AP_SEL_CODE64 0x18

#define AP_PARAMS     0xF00
#define AP_GDTR       0xF00   /* u16 limit, u32 base (lgdtl) */
#define AP_FAR32      0xF08   /* u32 offset, u16 selector (ljmpl *) */
#define AP_CR4        0xF10
#define AP_CR3        0xF18   /* start-up PML4: below 4 GiB */
#define AP_EFER       0xF20
#define AP_CR0        0xF28
#define AP_STACK      0xF30
#define AP_CPU        0xF38   /* struct cpu *, ap_entry64's argument */
#define AP_FULL_CR3   0xF40   /* the hypervisor's PML4 */
#define AP_ENTRY      0xF48   /* ap_boot_upper, which loads AP_FULL_CR3 */
#define AP_FAR64      0xF50   /* u32 offset, u16 selector: into 64-bit code */

#endif
