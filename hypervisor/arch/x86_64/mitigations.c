/* Deciding the speculation mitigations (hv/mitigations.h).
 *
 * Meltdown (and L1TF) let ring 3 read whatever the loaded page tables map,
 * so a CPU that is not known immune gets page-table isolation.  Intel
 * CPUs say they are immune with ARCH_CAPABILITIES.RDCL_NO; AMD and Hygon
 * CPUs are not affected.  MDS likewise (MDS_NO), and VERW only clears the
 * buffers where the microcode says so (MD_CLEAR).  IBPB and eIBRS are used
 * wherever the CPU has them; the return stack is refilled on every domain
 * switch, which costs a few dozen instructions.  Retpolines are a build
 * choice (CONFIG_ISOLATION adds -mindirect-branch=thunk). */
#include <manifest.h>
#include <hv/config.h>
#include <hv/cpu.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mitigations.h>
#include <hv/percpu.h>
#include <hv/x86.h>

#define MSR_SPEC_CTRL          0x48
#define MSR_PRED_CMD           0x49
#define MSR_ARCH_CAPABILITIES  0x10a
#define SPEC_CTRL_IBRS         1
#define PRED_CMD_IBPB          1
#define ARCH_CAP_RDCL_NO       (1u << 0)
#define ARCH_CAP_IBRS_ALL      (1u << 1)
#define ARCH_CAP_MDS_NO        (1u << 5)

struct mitigations mitigations;

struct spec_cpuid {
	bool ibpb, md_clear, arch_caps;
	uint64_t caps;           /* IA32_ARCH_CAPABILITIES, 0 when absent */
	bool amd;                /* AMD or Hygon: no Meltdown, no MDS */
};

static struct spec_cpuid probe(void)
{
	struct spec_cpuid s = { 0 };
	uint32_t r[4];

	s.amd = !strcmp(cpu.vendor, "AuthenticAMD") || !strcmp(cpu.vendor, "HygonGenuine");
	cpuid(0, 0, r);
	if (r[0] >= 7) {
		cpuid(7, 0, r);
		s.ibpb = r[3] & (1u << 26);
		s.md_clear = r[3] & (1u << 10);
		s.arch_caps = r[3] & (1u << 29);
	}
	cpuid(0x80000000, 0, r);
	if (r[0] >= 0x80000008) {
		cpuid(0x80000008, 0, r);
		s.ibpb |= (r[1] >> 12) & 1;     /* AMD's IBPB bit */
	}
	if (s.arch_caps)
		s.caps = rdmsr(MSR_ARCH_CAPABILITIES);
	return s;
}

static bool meltdown_immune(const struct spec_cpuid *s)
{
	return s->amd || (s->caps & ARCH_CAP_RDCL_NO);
}

static bool mds_immune(const struct spec_cpuid *s)
{
	return s->amd || (s->caps & ARCH_CAP_MDS_NO);
}

/* Test builds (CONFIG_ISOLATION_AUTO_ON) treat auto as on, so that every
 * system test runs isolated whatever CPU QEMU emulates. */
static void decide_pti(const struct spec_cpuid *s, int mode)
{
	bool forced = IS_ENABLED(CONFIG_ISOLATION_AUTO_ON) && mode == MANIFEST_ISOLATION_AUTO;

	if (!IS_ENABLED(CONFIG_ISOLATION)) {
		mitigations.why = "not-built";
	} else if (mode == MANIFEST_ISOLATION_OFF) {
		mitigations.why = "manifest-off";
	} else if (mode == MANIFEST_ISOLATION_ON || forced) {
		mitigations.pti = true;
		mitigations.why = forced ? "test-build" : "manifest-on";
	} else {
		mitigations.pti = !meltdown_immune(s);
		mitigations.why = mitigations.pti ? "cpu-affected" : "cpu-immune";
	}
}

static void decide_barriers(const struct spec_cpuid *s, int mode)
{
	bool on = IS_ENABLED(CONFIG_ISOLATION) && mode != MANIFEST_ISOLATION_OFF;

	mitigations.ibpb = on && s->ibpb;
	mitigations.rsb = on;
	mitigations.verw = on && s->md_clear && (mode == MANIFEST_ISOLATION_ON || !mds_immune(s));
	mitigations.ibrs = on && (s->caps & ARCH_CAP_IBRS_ALL);
	mitigations.retpoline = IS_ENABLED(CONFIG_ISOLATION);
}

void mitigations_apply_cpu(struct cpu *c)
{
	uint8_t bits = (mitigations.pti ? MITIGATE_PTI : 0) | (mitigations.verw ? MITIGATE_VERW : 0);

	percpu_set_mitigations(c, bits);
	if (mitigations.ibrs)
		wrmsr(MSR_SPEC_CTRL, rdmsr(MSR_SPEC_CTRL) | SPEC_CTRL_IBRS);
}

static const char *yn(bool b)
{
	return b ? "on" : "off";
}

void mitigations_init(int mode)
{
	struct spec_cpuid s = probe();
	const struct mitigations *m = &mitigations;

	decide_pti(&s, mode);
	decide_barriers(&s, mode);
	mitigations_apply_cpu(this_cpu());
	log_info("mitigations: page-table isolation %s (%s), ibpb %s, rsb-fill %s, verw %s, eibrs %s, retpoline %s",
		 yn(m->pti), m->why, yn(m->ibpb), yn(m->rsb), yn(m->verw), yn(m->ibrs), yn(m->retpoline));
	log_event("cpu-mitigations pti=%s why=%s ibpb=%s rsb=%s verw=%s eibrs=%s retpoline=%s",
		  yn(m->pti), m->why, yn(m->ibpb), yn(m->rsb), yn(m->verw), yn(m->ibrs), yn(m->retpoline));
}

/* Overwrite all 32 return-stack entries with harmless targets: a `ret`
 * in the next domain cannot be steered by what the last one left.
 * Unrolled (32 calls, each skipping its speculation trap), as Linux does:
 * half the instructions of a loop, on every switch between domains. */
static void fill_rsb(void)
{
	uint64_t sp;

	__asm__ volatile(
		"movq %%rsp, %0\n"
		".rept 32\n"
		"\tcall 1f\n"
		"\tpause; lfence\n"
		"1:\n"
		".endr\n"
		"\tmovq %0, %%rsp\n"
		"\tlfence"
		: "=&r"(sp) :: "memory");
}

void mitigations_domain_switch(void)
{
	if (mitigations.ibpb)
		wrmsr(MSR_PRED_CMD, PRED_CMD_IBPB);
	if (mitigations.rsb)
		fill_rsb();
}
