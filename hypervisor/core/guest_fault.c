/* A fault in ring 3 ends only that domain: report it (domain, vector, RIP,
 * fault address, registers, a backtrace from the guest's frame pointers,
 * symbolized from the image's own symbol table), then apply the policy. */
#include <hv/domain.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/layout.h>
#include <hv/sched.h>
#include <hv/x86.h>

#define MAX_FRAMES 16
#define SYM_MAX 96   /* a sanitized guest symbol and its offset */

static const char *sym(const struct domain *d, uint64_t addr, char *buf, size_t n)
{
	if (!elf_image_symbolize(d->image, d->image_size, &d->elf, addr, buf, n))
		strlcpy(buf, "?", n);
	return buf;
}

/* Frame pointers are guest data: every read goes through the checked copy. */
static void backtrace(const struct domain *d, const struct trap_frame *f)
{
	uint64_t rbp = f->rbp, fr[2];
	char name[SYM_MAX];

	log_rawf("hv|   backtrace:");
	log_rawf("hv|     #0 0x%016lx <%s>", f->rip, sym(d, f->rip, name, sizeof(name)));
	for (int i = 1; i < MAX_FRAMES; i++) {
		if (guest_copy_from(&d->mem, fr, rbp, sizeof(fr)) || !fr[1])
			break;
		log_rawf("hv|     #%d 0x%016lx <%s>", i, fr[1], sym(d, fr[1], name, sizeof(name)));
		if (fr[0] <= rbp)
			break;
		rbp = fr[0];
	}
}

static const char *reason_for(const struct domain *d, const struct trap_frame *f, uint64_t cr2)
{
	switch (f->vector) {
	case 0: return "divide-error";
	case 1: return "debug";          /* icebp, or a single step (TF) */
	case 3: return "breakpoint";
	case 6: return "invalid-opcode";
	case 13: return "general-protection";
	case 12: return "stack-fault";
	case 14:
		if (cr2 >= d->guard_gva && cr2 < d->guard_gva + PAGE_SIZE)
			return "stack-overflow";
		if (cr2 < PAGE_SIZE)
			return "null-dereference";
		return "page-fault";
	case 17: return "alignment-check";
	case 16:
	case 19: return "fpu-exception";
	default: return "exception";
	}
}

void guest_fault(struct trap_frame *f)
{
	struct domain *d = current;
	uint64_t cr2 = read_cr2();
	const char *reason;
	char name[SYM_MAX];
	uint64_t block;

	/* First touch of a demand-zero heap page, first write to a
	 * copy-on-write one: back it and retry. */
	if (f->vector == 14 && (f->error & 4) && domain_fault_in(d, cr2, (f->error & 3) == 3))
		return;
	reason = reason_for(d, f, cr2);
	block = log_block_begin();

	log_rawf("hv| ==== domain %u (%s) crashed: %s (vector %lu) on CPU %u ====", d->id, d->name,
	     trap_vector_name(f->vector), f->vector, this_cpu()->index);
	log_rawf("hv|   reason %s  rip 0x%016lx <%s>  error 0x%lx", reason, f->rip,
	     sym(d, f->rip, name, sizeof(name)), f->error);
	if (f->vector == 14)
		log_rawf("hv|   fault address 0x%016lx (%s, %s)", cr2, f->error & 2 ? "write" : "read",
		     f->error & 1 ? "protection" : "not mapped");
	log_rawf("hv|   rax %016lx rbx %016lx rcx %016lx rdx %016lx", f->rax, f->rbx, f->rcx, f->rdx);
	log_rawf("hv|   rsi %016lx rdi %016lx rbp %016lx rsp %016lx", f->rsi, f->rdi, f->rbp, f->rsp);
	backtrace(d, f);
	log_event("domain-fault id=%u name=%s vector=%lu rip=0x%lx addr=0x%lx", d->id, d->name,
		  f->vector, f->rip, f->vector == 14 ? cr2 : 0);
	log_block_end(block);
	domain_end(d, END_CRASH, (int)f->vector, reason);
}
