/* NMIs and machine checks (hv/hwevent.h).
 *
 * Neither is ever the running guest's doing: a guest cannot send an NMI
 * or cause a machine check, so neither ends or blames a domain.  An NMI
 * nobody claims (a platform NMI, a button) is counted and reported; a
 * machine check the CPU can return from (MCG_STATUS.RIPV, no bank with
 * PCC, nothing that needs action on consumed data) is logged and cleared,
 * and everything goes on.  Only a machine check that corrupted the
 * interrupted context stops the hypervisor, with a report saying so. */
#include <hv/cpu.h>
#include <hv/domain.h>
#include <hv/hwevent.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/percpu.h>
#include <hv/trap.h>
#include <hv/x86.h>

#define MSR_MCG_CAP     0x179
#define MSR_MCG_STATUS  0x17a
#define MSR_MCG_CTL     0x17b
#define MSR_MC_CTL(i)    (0x400 + 4 * (i))
#define MSR_MC_STATUS(i) (0x401 + 4 * (i))
#define MSR_MC_ADDR(i)   (0x402 + 4 * (i))
#define MCG_CTL_P       (1UL << 8)
#define MCG_RIPV        (1UL << 0)
#define MCI_VAL         (1UL << 63)
#define MCI_UC          (1UL << 61)
#define MCI_ADDRV       (1UL << 58)
#define MCI_PCC         (1UL << 57)
#define MCI_AR          (1UL << 55)
#define CR4_MCE         (1UL << 6)
#define CPUID_MCE_MCA   ((1u << 7) | (1u << 14))

static nmi_handler_t nmi_handlers[HWEVENT_NMI_HANDLERS];
static uint32_t mce_banks;      /* 0: no machine-check architecture */

/* ---- set-up ----------------------------------------------------------------- */

static bool has_mca(void)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	return (r[3] & CPUID_MCE_MCA) == CPUID_MCE_MCA;
}

void hwevent_init_cpu(void)
{
	uint64_t cap;

	if (!has_mca())
		return;
	cap = rdmsr(MSR_MCG_CAP);
	mce_banks = cap & 0xff;
	if (cap & MCG_CTL_P)
		wrmsr(MSR_MCG_CTL, ~0UL);
	for (uint32_t i = 0; i < mce_banks; i++) {
		if (i)                 /* bank 0's control belongs to the firmware on some CPUs */
			wrmsr(MSR_MC_CTL(i), ~0UL);
		wrmsr(MSR_MC_STATUS(i), 0);
	}
	wrmsr(MSR_MCG_STATUS, 0);
	write_cr4(read_cr4() | CR4_MCE);
}

void hwevent_add_nmi_handler(nmi_handler_t h)
{
	for (int i = 0; i < HWEVENT_NMI_HANDLERS; i++) {
		if (!nmi_handlers[i]) {
			nmi_handlers[i] = h;
			return;
		}
	}
	panic("hwevent: more than %d NMI handlers", HWEVENT_NMI_HANDLERS);
}

/* ---- in NMI / #MC context: MSRs and this CPU's record only ---------------------- */

static uint32_t running_id(const struct cpu *c)
{
	return c->running ? c->running->id : 0;
}

void hwevent_nmi(struct trap_frame *f)
{
	struct cpu *c = this_cpu();
	struct hw_pending *p = &c->hw;

	for (int i = 0; i < HWEVENT_NMI_HANDLERS && nmi_handlers[i]; i++)
		if (nmi_handlers[i](f))
			return;
	p->nmis++;
	p->nmi_rip = f->rip;
	p->nmi_guest = (f->cs & 3) == 3;
	p->nmi_domain = running_id(c);
	p->any = true;
	c->sched.look = true;
}

/* How bad a bank's error is: 3 corrupt or action required, 2 uncorrected,
 * 1 corrected, 0 nothing logged. */
static int severity(uint64_t status)
{
	if (!(status & MCI_VAL))
		return 0;
	if (status & (MCI_PCC | MCI_AR))
		return 3;
	return (status & MCI_UC) ? 2 : 1;
}

static uint32_t worst_bank(uint64_t *status)
{
	uint32_t worst = 0;

	*status = 0;
	for (uint32_t i = 0; i < mce_banks; i++) {
		uint64_t s = rdmsr(MSR_MC_STATUS(i));

		if (severity(s) > severity(*status)) {
			worst = i;
			*status = s;
		}
	}
	return worst;
}

static void clear_banks(void)
{
	for (uint32_t i = 0; i < mce_banks; i++)
		wrmsr(MSR_MC_STATUS(i), 0);
}

static void record_mce(struct cpu *c, const struct trap_frame *f, uint32_t bank, uint64_t status)
{
	struct hw_pending *p = &c->hw;

	p->mces++;
	p->mce_bank = bank;
	p->mce_status = status;
	p->mce_addr = (status & MCI_ADDRV) ? rdmsr(MSR_MC_ADDR(bank)) : 0;
	p->mce_rip = f->rip;
	p->mce_guest = (f->cs & 3) == 3;
	p->mce_domain = running_id(c);
	p->any = true;
	c->sched.look = true;
}

static __attribute__((noreturn)) void mce_fatal(struct cpu *c, const struct trap_frame *f,
						 uint32_t bank, uint64_t status, uint64_t mcg)
{
	panic_begin();
	log_rawf("hv| ==== machine check on CPU %u: hardware error, not caused by the %s ====",
		 c->index, (f->cs & 3) == 3 ? "running guest" : "hypervisor");
	log_rawf("hv|   bank %u status 0x%016lx mcg_status 0x%lx: %s", bank, status, mcg,
		 !(mcg & MCG_RIPV) ? "the interrupted context cannot be resumed" :
		 (status & MCI_PCC) ? "processor context corrupt" : "data was consumed");
	if (c->running)
		log_rawf("hv|   domain %u was running", c->running->id);
	trap_report("machine-check", f);
	panic("machine check on CPU %u (bank %u status 0x%lx)", c->index, bank, status);
}

void hwevent_mce(struct trap_frame *f)
{
	struct cpu *c = this_cpu();
	uint64_t mcg = mce_banks ? rdmsr(MSR_MCG_STATUS) : 0, status;
	uint32_t bank = worst_bank(&status);

	if (!(mcg & MCG_RIPV) || (status & (MCI_PCC | MCI_AR)))
		mce_fatal(c, f, bank, status, mcg);
	record_mce(c, f, bank, status);
	clear_banks();
	wrmsr(MSR_MCG_STATUS, 0);      /* MCIP off: the next one is a #MC, not a shutdown */
}

/* ---- on the normal path --------------------------------------------------------- */

static const char *where(bool guest)
{
	return guest ? "while a guest ran" : "in the hypervisor";
}

/* The handlers only add to the counters (on this CPU, where nothing can
 * interrupt them); taking them here is one exchange each. */
void hwevent_report(struct cpu *c)
{
	struct hw_pending *h = &c->hw;
	uint32_t nmis, mces;

	if (!__atomic_exchange_n(&h->any, false, __ATOMIC_ACQ_REL))
		return;
	nmis = __atomic_exchange_n(&h->nmis, 0, __ATOMIC_ACQ_REL);
	mces = __atomic_exchange_n(&h->mces, 0, __ATOMIC_ACQ_REL);
	if (nmis) {
		log_warn("NMI on CPU %u at rip 0x%lx %s (domain %u), not claimed: ignored (%u since the last report)",
			 c->index, h->nmi_rip, where(h->nmi_guest), h->nmi_domain, nmis);
		log_event("nmi cpu=%u count=%u guest=%d domain=%u", c->index, nmis, h->nmi_guest, h->nmi_domain);
	}
	if (mces) {
		log_warn("machine check on CPU %u %s (domain %u): bank %u status 0x%lx addr 0x%lx, recovered",
			 c->index, where(h->mce_guest), h->mce_domain, h->mce_bank, h->mce_status, h->mce_addr);
		log_event("machine-check cpu=%u count=%u bank=%u status=0x%lx recovered=1 guest=%d domain=%u",
			  c->index, mces, h->mce_bank, h->mce_status, h->mce_guest, h->mce_domain);
	}
}
