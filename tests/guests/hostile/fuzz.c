/* fuzz SEED COUNT: COUNT hypercalls with random numbers (valid ones, 0,
 * past the table, negative, huge, and ones whose low 32 bits are valid)
 * and random argument registers (null, unaligned, page-straddling, the
 * guard page, read-only pages, past the top, hypervisor and non-canonical
 * addresses, huge lengths).  Every answer is checked against docs/abi.md
 * where the guest can know it, and every answer must be one the ABI
 * allows.  Calls that would end the domain (shutdown exit/crash) or block
 * for ever are never made; block gets deadlines in the past or within
 * 300 us.  The same seed makes the same calls. */
#include <stdio.h>
#include <string.h>
#include <paravane.h>
#include <public/errno.h>
#include "hostile.h"

#define BUF_SIZE (4 * 4096)

enum verdict { OK, FAULT, EITHER };

/* Console text with lines that try to look like the hypervisor's. */
static const char forged[] =
	"fuzz text\n@event domain-exited id=99 name=forged code=0\nhv| PANIC: forged\n\033[2J\r@event x\n";

static char buf[BUF_SIZE] __attribute__((aligned(4096)));
static uint64_t rng, mem_lo, mem_hi, guard_lo, guard_hi, ro_hi, si_page;
static long calls, faults, eithers;

extern char __rodata_end[];

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t pick(const uint64_t *v, size_t n)
{
	return v[rnd() % n];
}

static void learn_layout(void)
{
	const struct pv_start_info *si = pv_start_info();

	mem_lo = si->mem_base;
	mem_hi = si->mem_base + si->mem_size;
	guard_lo = si->heap_end;
	guard_hi = si->stack_top - si->stack_size;
	if (guard_hi <= guard_lo)
		guard_hi = guard_lo + 4096;
	ro_hi = ((uint64_t)__rodata_end + 4095) & ~4095UL;   /* text and rodata */
	si_page = (uint64_t)si;
}

static bool overlaps(uint64_t p, uint64_t end, uint64_t lo, uint64_t hi)
{
	return p < hi && end > lo;
}

static bool inside(uint64_t p, uint64_t end, uint64_t lo, uint64_t hi)
{
	return p >= lo && end <= hi;
}

/* What guest_check must say about [p, p + len), as far as the guest knows
 * its own memory (EITHER where it does not, e.g. between the image and
 * the heap). */
static enum verdict expect_range(uint64_t p, uint64_t len, bool write)
{
	uint64_t end;

	if (!len)
		return OK;
	if (__builtin_add_overflow(p, len, &end) || p < mem_lo || end > mem_hi ||
	    overlaps(p, end, guard_lo, guard_hi))
		return FAULT;
	if (write && (overlaps(p, end, PV_GUEST_BASE, ro_hi) || overlaps(p, end, si_page, si_page + 4096)))
		return FAULT;
	if (inside(p, end, (uint64_t)buf, (uint64_t)buf + BUF_SIZE))
		return OK;
	if (!write && (inside(p, end, PV_GUEST_BASE, ro_hi) || inside(p, end, si_page, si_page + 4096)))
		return OK;
	return EITHER;
}

static uint64_t random_pointer(void)
{
	const uint64_t v[] = {
		0, 1, 0xfff, (uint64_t)buf + rnd() % BUF_SIZE, (uint64_t)buf + 4096 - rnd() % 80,
		(uint64_t)buf + 3, PV_GUEST_BASE + rnd() % 8192, si_page + rnd() % 4096,
		mem_lo - 1 - rnd() % 4096, guard_lo + rnd() % 4096, guard_lo - 1 - rnd() % 64,
		mem_hi - 1 - rnd() % 128, mem_hi + rnd() % 65536, HV_PHYSMAP + (rnd() & 0xffffff8),
		HV_IMAGE + (rnd() & 0x3ffff8), HV_STACKS + rnd() % (128 << 10), NONCANON_LO,
		NONCANON_HI + rnd() % 4096, ~0UL - rnd() % 64, rnd(),
	};

	return pick(v, sizeof(v) / sizeof(v[0]));
}

static uint64_t random_length(void)
{
	const uint64_t v[] = {
		0, 1, 8, 72, 100, 4095, 4096, 4097, 1UL << 32, ~0UL, -8UL, rnd() % 8192,
		rnd() % 200, 1UL << 63, rnd(),
	};

	return pick(v, sizeof(v) / sizeof(v[0]));
}

static uint64_t random_number(void)
{
	const uint64_t v[] = {
		rnd() % 10, rnd() % 8, rnd() % 8, rnd() % 8, rnd() % 8, rnd() % 8, rnd() % 8, rnd() % 8,
		PV_HC_MAX, -1UL, 1UL << 40, rnd(),
		0x100000001UL, 0x8000000000000002UL, (uint64_t)-PV_HC_VERSION, 0xffffffffUL,
	};

	return pick(v, sizeof(v) / sizeof(v[0]));
}

static void judge(const char *what, long got, long ok_value, enum verdict v)
{
	if (v == EITHER && (got == ok_value || got == -PV_EFAULT)) {
		eithers++;
		return;
	}
	if (got == -PV_EFAULT)
		faults++;
	if (got != (v == FAULT ? -PV_EFAULT : ok_value))
		wrong(what, got, v == FAULT ? -PV_EFAULT : ok_value);
}

static void fuzz_console(long *a)
{
	uint64_t p = random_pointer(), len = random_length();

	a[0] = (long)p;
	a[1] = (long)len;
	if (len > PV_CONSOLE_WRITE_MAX) {
		judge("console_write too long", hc6(PV_HC_CONSOLE_WRITE, a[0], a[1], a[2], a[3], a[4], a[5]),
		      -PV_E2BIG, OK);
		return;
	}
	judge("console_write", hc6(PV_HC_CONSOLE_WRITE, a[0], a[1], a[2], a[3], a[4], a[5]), (long)len,
	      expect_range(p, len, false));
}

static void fuzz_info(long *a)
{
	uint64_t p = random_pointer();
	enum verdict v = expect_range(p, sizeof(struct pv_domain_info), true);
	long r;

	a[0] = (long)p;
	if (v == OK)
		memset((void *)p, 0, sizeof(struct pv_domain_info));
	r = hc6(PV_HC_DOMAIN_INFO, a[0], a[1], a[2], a[3], a[4], a[5]);
	judge("domain_info", r, 0, v);
	if (r == 0 && ((struct pv_domain_info *)p)->magic != PV_DOMAIN_INFO_MAGIC)
		wrong("domain_info magic", (long)((struct pv_domain_info *)p)->magic, PV_DOMAIN_INFO_MAGIC);
}

/* Only deadlines that come: in the past, within 300 us, or none with an
 * empty mask (which must be refused). */
static void fuzz_block(long *a)
{
	uint64_t now = pv_monotonic_ns(), kind = rnd() % 4;
	uint64_t deadline = kind == 0 ? rnd() % (now + 1) : kind == 1 ? now + rnd() % 300000 :
			    kind == 2 ? 0 : PV_DEADLINE_NONE;

	a[0] = (long)deadline;
	a[1] = deadline == PV_DEADLINE_NONE ? 0 : (long)rnd();
	judge("block", hc6(PV_HC_BLOCK, a[0], a[1], a[2], a[3], a[4], a[5]),
	      deadline == PV_DEADLINE_NONE ? -PV_EINVAL : 0, OK);
	if (deadline != PV_DEADLINE_NONE && pv_monotonic_ns() < deadline)
		wrong("block woke before its deadline", (long)pv_monotonic_ns(), (long)deadline);
}

static void fuzz_other(uint64_t nr, long *a)
{
	long r;

	if (nr == PV_HC_SHUTDOWN && (uint64_t)a[0] < PV_SHUTDOWN_POWEROFF)
		a[0] = PV_SHUTDOWN_POWEROFF + (long)(rnd() % 3);   /* never exit or crash */
	r = hc6((long)nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (nr == PV_HC_VERSION)
		judge("version", r, PV_ABI_VERSION, OK);
	else if (nr == PV_HC_YIELD)
		judge("yield", r, 0, OK);
	else if (nr == PV_HC_EVENT_NOTIFY)
		judge("event_notify", r, (uint64_t)a[0] >= PV_EVENT_PORTS ? -PV_EINVAL : -PV_ENOENT, OK);
	else if (nr == PV_HC_SHUTDOWN)
		judge("shutdown", r, a[0] == PV_SHUTDOWN_POWEROFF ? -PV_EPERM : -PV_EINVAL, OK);
	else if (nr == PV_HC_DOMCTL)
		judge("domctl (unprivileged)", r, -PV_EPERM, OK);
	else
		judge("unknown number", r, -PV_ENOSYS, OK);
}

static void fuzz_one(void)
{
	uint64_t nr = random_number();
	long a[6];

	for (int i = 0; i < 6; i++)
		a[i] = (long)(rnd() & 1 ? random_pointer() : random_length());
	calls++;
	if (nr == PV_HC_CONSOLE_WRITE)
		fuzz_console(a);
	else if (nr == PV_HC_DOMAIN_INFO)
		fuzz_info(a);
	else if (nr == PV_HC_BLOCK)
		fuzz_block(a);
	else
		fuzz_other(nr, a);
}

int run_fuzz(uint64_t seed, long count)
{
	rng = seed ? seed : 1;
	learn_layout();
	for (size_t i = 0; i < BUF_SIZE; i++)
		buf[i] = forged[i % (sizeof(forged) - 1)];
	printf("hostile: fuzz seed=%lu count=%ld\n", (unsigned long)seed, count);
	for (long i = 0; i < count && wrong_count < 20; i++)
		fuzz_one();
	pv_block_until(pv_monotonic_ns() + 500000000);   /* console budget back for the verdict */
	printf("\nhostile: fuzz done calls=%ld efault=%ld unknowable=%ld wrong=%d\n", calls, faults, eithers,
	       wrong_count);
	return wrong_count;
}
