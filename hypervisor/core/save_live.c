/* A live save's rounds (docs/migration.md, "Live migration"): the
 * domain runs while its pages go out, each round the pages it wrote
 * during the last.
 *
 * Which pages were written comes from two marks, both cleared at the
 * start of each round: the dirty bit of the page's entry in the domain's
 * page tables, which the CPU sets on the guest's own writes, and
 * GF_DIRTY, which guest_copy_to sets on the hypervisor's writes for it
 * (a received frame, a hypercall's result).  The info pages, written by
 * the hypervisor through its own pointers, always go in the last round.
 *
 * The marks are read and cleared while the domain is stopped off every
 * CPU: a CPU that ran it may still hold a TLB entry whose dirty bit is
 * set, and would then write without setting it again; going off its CPU
 * loads another CR3, and no guest entry is global, so none survives.
 *
 * The rounds end when few pages are left (the domain is then held, as a
 * save holds it, and they go with its registers and devices), after
 * LIVE_ROUNDS_MAX, or when a round no longer shrinks: a domain that
 * writes faster than its pages travel is stopped rather than chased. */
#include <hv/domain.h>
#include <hv/errno.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/save.h>
#include <hv/time.h>
#include <hv/x86.h>

#define LIVE_FINAL_PAGES 64u      /* 256 KiB: sent while it is stopped */
#define LIVE_ROUNDS_MAX 30u
#define LIVE_STALL_ROUND 4u       /* from here a round that did not shrink is the last */
#define INFO_PAGES 2u             /* start_info, shared_info: the top two pages */

static void set_bit(uint64_t *map, uint64_t i, bool on)
{
	if (on)
		map[i / 64] |= 1ull << (i % 64);
	else
		map[i / 64] &= ~(1ull << (i % 64));
}

/* Written since its marks were cleared? */
static bool dirty(struct domain *d, uint64_t i, struct pte_cursor *c)
{
	return (*domain_pte(d, i, c) & PTE_D) || (__atomic_load_n(&d->mem.frame[i], __ATOMIC_ACQUIRE) & GF_DIRTY);
}

/* Written since its marks were cleared?  They are cleared. */
static bool take_dirty(struct domain *d, uint64_t i, struct pte_cursor *c)
{
	uint64_t *pte = domain_pte(d, i, c);
	bool by_guest = *pte & PTE_D, for_guest = d->mem.frame[i] & GF_DIRTY;

	if (by_guest)
		__atomic_fetch_and(pte, ~PTE_D, __ATOMIC_RELAXED);
	if (for_guest)
		__atomic_fetch_and(&d->mem.frame[i], ~GF_DIRTY, __ATOMIC_ACQ_REL);
	return by_guest || for_guest;
}

static uint64_t count_dirty(struct save_cursor *s)
{
	struct domain *d = s->d;
	struct pte_cursor c = { 1, NULL };
	uint64_t n = 0;

	for (uint64_t i = 0; i < d->mem.pages; i++)
		n += save_owns_page(d->mem.frame[i]) && dirty(d, i, &c);
	return n;
}

/* The domain is stopped: the round map from the marks (every page it
 * owns in the first round, and the info pages in the last). */
static uint64_t collect(struct save_cursor *s, bool all, bool last)
{
	struct domain *d = s->d;
	struct pte_cursor c = { 1, NULL };
	uint64_t n = 0;

	for (uint64_t i = 0; i < d->mem.pages; i++) {
		bool was = take_dirty(d, i, &c);
		bool want = save_owns_page(d->mem.frame[i]) &&
			    (was || all || (last && i >= d->mem.pages - INFO_PAGES));

		set_bit(s->round_map, i, want);
		n += want;
	}
	s->round++;
	s->round_pages = n;
	s->next_page = 0;
	return n;
}

int64_t save_live_first_round(struct save_cursor *s)
{
	int64_t err = save_hold_live(s);

	if (err)
		return err;
	s->pages = collect(s, true, false);
	domain_unhold_round(s->d, !s->was_paused);
	return 0;
}

static bool rounds_over(const struct save_cursor *s, uint64_t left)
{
	return left <= LIVE_FINAL_PAGES || s->round >= LIVE_ROUNDS_MAX ||
	       (s->round >= LIVE_STALL_ROUND && left >= s->round_pages);
}

int save_live_round(struct save_cursor *s)
{
	uint64_t stop = rdtsc(), left;

	if (save_hold_live(s))
		return -1;
	left = count_dirty(s);
	if (!rounds_over(s, left)) {
		collect(s, false, false);
		domain_unhold_round(s->d, !s->was_paused);
		return 1;
	}
	if (save_hold_final(s))
		return -1;
	s->stop_tsc = stop;
	s->final = true;
	collect(s, false, true);         /* after the backends stopped writing */
	log_event("domain-save-stopped id=%u name=%s round=%u pages_left=%lu", s->d->id, s->d->name,
		  s->round, s->round_pages);
	return 0;
}
