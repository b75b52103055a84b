/* Interrupt/exception entry: the register frame isr.S builds and the
 * dispatch that C code sees. */
#ifndef HV_TRAP_H
#define HV_TRAP_H

#include <stdbool.h>
#include <stdint.h>

/* Layout shared with isr.S and syscall.S: keep in sync (offsets checked). */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;   /* pushed by the CPU */
};
_Static_assert(sizeof(struct trap_frame) == 22 * 8, "trap_frame layout");
_Static_assert(__builtin_offsetof(struct trap_frame, vector) == 15 * 8, "trap_frame layout");

#define GDT_KCODE 0x08
#define GDT_KDATA 0x10
#define GDT_UDATA 0x1b   /* 0x18 | RPL 3 */
#define GDT_UCODE 0x23   /* 0x20 | RPL 3 */
#define GDT_TSS   0x28

#define VEC_TIMER    0x20
#define VEC_SPURIOUS 0xff

void idt_init(void);   /* build the IDT (boot CPU) */
void idt_load(void);   /* load it on this CPU */
const void *idt_page(void);

void trap_dispatch(struct trap_frame *f);
/* Handlers registered by other subsystems. */
typedef void (*irq_handler_t)(struct trap_frame *f);
void trap_set_irq(uint8_t vector, irq_handler_t h);
/* A fault in ring 3: the domain layer decides (set by core/domain.c). */
void trap_set_user_fault(irq_handler_t h);

/* Exception report: vector, error, RIP, CR2, registers, backtrace.
 * Uses nothing that can fault (no heap, bounded stack walk). */
void trap_report(const char *who, const struct trap_frame *f);
const char *trap_vector_name(uint64_t vector);

#endif
