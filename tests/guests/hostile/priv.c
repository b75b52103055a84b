/* Privileged and trapping instructions, one per run: each must fault in
 * ring 3 (#GP, #UD or #DB; tests/system/test_hostile.py has the list of
 * which).  An instruction that returns is a hole in the hypervisor's
 * set-up (IOPL, the I/O bitmap, UMIP, gate DPLs, CR4.FSGSBASE, ...). */
#include <stdio.h>
#include <string.h>
#include "hostile.h"

#define INSN(name, text) \
	static void do_##name(void) { __asm__ volatile(text ::: "rax", "rcx", "rdx", "memory"); }

INSN(hlt, "hlt")
INSN(cli, "cli")
INSN(sti, "sti")
INSN(inb80, "inb $0x80, %%al")
INSN(outb80, "outb %%al, $0x80")
INSN(in3f8, "movw $0x3f8, %%dx; inb %%dx, %%al")
INSN(out3f8, "movw $0x3f8, %%dx; movb $0x41, %%al; outb %%al, %%dx")
INSN(incf8, "movw $0xcf8, %%dx; inl %%dx, %%eax")
INSN(outcf8, "movw $0xcf8, %%dx; movl $0x80000000, %%eax; outl %%eax, %%dx")
INSN(rdmsr, "movl $0xc0000101, %%ecx; rdmsr")          /* GS base */
INSN(wrmsr, "movl $0x174, %%ecx; xorl %%eax, %%eax; xorl %%edx, %%edx; wrmsr")   /* SYSENTER_CS */
INSN(rdcr0, "movq %%cr0, %%rax")
INSN(wrcr0, "xorl %%eax, %%eax; movq %%rax, %%cr0")
INSN(rdcr3, "movq %%cr3, %%rax")
INSN(wrcr3, "xorl %%eax, %%eax; movq %%rax, %%cr3")
INSN(rdcr4, "movq %%cr4, %%rax")
INSN(wrcr4, "xorl %%eax, %%eax; movq %%rax, %%cr4")
INSN(wrcr8, "xorl %%eax, %%eax; movq %%rax, %%cr8")
INSN(rddr7, "movq %%dr7, %%rax")
INSN(wrdr7, "movq $0x403, %%rax; movq %%rax, %%dr7")
INSN(clts, "clts")
INSN(lmsw, "xorl %%eax, %%eax; lmsw %%ax")
INSN(smsw, "smsw %%eax")                               /* UMIP */
INSN(str, "str %%eax")                                 /* UMIP */
INSN(sldt, "sldt %%eax")                               /* UMIP */
INSN(ltr, "movw $0x28, %%ax; ltr %%ax")
INSN(lldt, "xorl %%eax, %%eax; lldt %%ax")
INSN(invlpg, "invlpg (%%rsp)")
INSN(wbinvd, "wbinvd")
INSN(invd, "invd")
INSN(swapgs, "swapgs")
INSN(sysret, "sysretq")
INSN(sysexit, "sysexitq")
INSN(sysenter, "sysenter")
INSN(int80, "int $0x80")
INSN(intf0, "int $0xf0")                               /* the reschedule IPI's gate */
INSN(int2, "int $0x02")                                /* NMI's gate */
INSN(int3, "int3")
INSN(int1, ".byte 0xf1")                               /* icebp: #DB, no DPL check */
INSN(into, ".byte 0xce")                               /* invalid in 64-bit mode */
INSN(ud2, "ud2")
INSN(rdpmc, "xorl %%ecx, %%ecx; rdpmc")
INSN(rdgsbase, "rdgsbase %%rax")                       /* CR4.FSGSBASE is off */
INSN(wrgsbase, "movq $0xffffc00040001000, %%rax; wrgsbase %%rax")
INSN(xsetbv, "xorl %%ecx, %%ecx; movl $3, %%eax; xorl %%edx, %%edx; xsetbv")
INSN(movss, "movl $0x10, %%eax; movl %%eax, %%ss")     /* the hypervisor's data selector */
INSN(movds, "movl $0x10, %%eax; movl %%eax, %%ds")
INSN(movfs, "movl $0x28, %%eax; movl %%eax, %%fs")     /* the TSS selector */

static void do_sgdt(void)
{
	char buf[16];

	__asm__ volatile("sgdt %0" : "=m"(buf));   /* UMIP: else the GDT's address */
}

static void do_sidt(void)
{
	char buf[16];

	__asm__ volatile("sidt %0" : "=m"(buf));
}

static void do_lgdt(void)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) d = { 0xfff, 0x400000 };

	__asm__ volatile("lgdt %0" :: "m"(d));
}

static void do_lidt(void)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) d = { 0xfff, 0x400000 };

	__asm__ volatile("lidt %0" :: "m"(d));
}

/* iretq to the hypervisor's code selector: CPL 3 may not return to 0. */
static void do_iretq0(void)
{
	__asm__ volatile("movq %%rsp, %%rax\n\t"
			 "pushq $0x10\n\t"      /* ss */
			 "pushq %%rax\n\t"      /* rsp */
			 "pushq $2\n\t"         /* rflags */
			 "pushq $0x08\n\t"      /* cs: ring 0 */
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "iretq\n"
			 "1:" ::: "rax", "memory");
}

/* A far jump through a ring-0 code selector. */
static void do_farjmp0(void)
{
	struct { uint32_t off; uint16_t sel; } __attribute__((packed)) to = { 0x400000, 0x08 };

	__asm__ volatile("ljmpl *%0" :: "m"(to));
}

static uint64_t iopl_now(void)
{
	uint64_t f;

	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return f & RFLAGS_IOPL;
}

/* popf may not raise IOPL in ring 3 (it leaves it alone): the cli after
 * it must still fault. */
static void do_iopl(void)
{
	__asm__ volatile("pushfq; orq $0x3000, (%%rsp); popfq" ::: "memory", "cc");
	printf("hostile: IOPL after popf: %lu\n", iopl_now() >> 12);
	__asm__ volatile("cli");
}

/* Nor may iretq (to ring 3, with IOPL 3 in the frame). */
static void do_iretiopl(void)
{
	__asm__ volatile("movq %%rsp, %%rax\n\t"
			 "pushq $0x1b\n\t"
			 "pushq %%rax\n\t"
			 "pushfq\n\t"
			 "orq $0x3000, (%%rsp)\n\t"
			 "pushq $0x23\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "iretq\n"
			 "1:" ::: "rax", "memory", "cc");
	printf("hostile: IOPL after iretq: %lu\n", iopl_now() >> 12);
	__asm__ volatile("cli");
}

static const struct { const char *name; void (*fn)(void); } insns[] = {
#define I(n) { #n, do_##n }
	I(hlt), I(cli), I(sti), I(inb80), I(outb80), I(in3f8), I(out3f8), I(incf8), I(outcf8),
	I(rdmsr), I(wrmsr), I(rdcr0), I(wrcr0), I(rdcr3), I(wrcr3), I(rdcr4), I(wrcr4), I(wrcr8),
	I(rddr7), I(wrdr7), I(clts), I(lmsw), I(smsw), I(str), I(sldt), I(ltr), I(lldt),
	I(invlpg), I(wbinvd), I(invd), I(swapgs), I(sysret), I(sysexit), I(sysenter),
	I(int80), I(intf0), I(int2), I(int3), I(int1), I(into), I(ud2), I(rdpmc),
	I(rdgsbase), I(wrgsbase), I(xsetbv), I(movss), I(movds), I(movfs),
	I(sgdt), I(sidt), I(lgdt), I(lidt), I(iretq0), I(farjmp0), I(iopl), I(iretiopl),
#undef I
};

int run_priv(const char *name)
{
	for (size_t i = 0; i < sizeof(insns) / sizeof(insns[0]); i++) {
		if (strcmp(insns[i].name, name))
			continue;
		printf("hostile: trying %s\n", name);
		insns[i].fn();
		printf("hostile: SURVIVED %s\n", name);
		return 3;
	}
	printf("hostile: no instruction \"%s\"\n", name);
	return 2;
}
