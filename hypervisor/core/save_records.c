/* The records of a held domain's save stream (public/save.h), one at a
 * time into the cursor's stage: DOMAIN, CPU, FPU, CLOCK, PAGES..., a
 * DEVICE per device, CONSOLE, END.  The domain neither runs nor has its
 * backends write (core/save.c), so what is read here stands still.
 *
 * A live save (core/save_live.c) has PAGES records of its rounds after
 * DOMAIN, while the domain runs: their pages are copied aside first, so
 * each checksum is of the bytes that go.  Its last PAGES records, after
 * CLOCK, are the pages written in the last round, the domain held. */
#include <manifest.h>
#include <hv/domain.h>
#include <hv/domctl.h>
#include <hv/errno.h>
#include <hv/fpu.h>
#include <hv/image_store.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/mm.h>
#include <hv/net.h>
#include <hv/rtc.h>
#include <hv/save.h>
#include <hv/time.h>

enum step { S_DOMAIN, S_ROUNDS, S_CPU, S_FPU, S_CLOCK, S_PAGES, S_DEVICES, S_CONSOLE, S_END };

static uint64_t count_pages(const struct domain *d)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < d->mem.pages; i++)
		n += save_owns_page(d->mem.frame[i]);
	return n;
}

static uint64_t wall_now_ns(void)
{
	return rtc_boot_epoch * 1000000000ull + time_ns();
}

static uint64_t console_bytes(const struct domain *d)
{
	return MIN(text_ring_head(&d->console.ring), (uint64_t)d->console.ring.size);
}

static uint64_t record_bytes(uint64_t payload)
{
	return sizeof(struct pv_save_record) + ALIGN_UP(payload, 8);
}

/* Exactly what the records below add up to, so a reader can be told. */
static uint64_t stream_size(const struct domain *d, uint64_t pages)
{
	uint64_t full = pages / SAVE_STAGE_PAGES, rest = pages % SAVE_STAGE_PAGES;
	uint64_t per_page = sizeof(uint64_t) + PAGE_SIZE, hdr = sizeof(struct pv_save_pages);
	uint64_t n = sizeof(struct pv_save_header) + record_bytes(sizeof(struct pv_save_domain)) +
		     record_bytes(sizeof(struct pv_save_cpu)) +
		     record_bytes(sizeof(struct pv_save_fpu) + fpu_state_size()) +
		     record_bytes(sizeof(struct pv_save_clock)) +
		     full * record_bytes(hdr + SAVE_STAGE_PAGES * per_page) +
		     (rest ? record_bytes(hdr + rest * per_page) : 0) +
		     (d->net_count + d->blk_count) * record_bytes(sizeof(struct pv_save_device)) +
		     record_bytes(sizeof(struct pv_save_end));

	return n + (console_bytes(d) ? record_bytes(console_bytes(d)) : 0);
}

static void one_part(struct save_cursor *s, uint16_t type, const void *p, size_t n)
{
	struct save_part part = { p, n };

	save_write_record(&s->w, type, 0, &part, 1);
}

/* Records go into the stage, whence SAVE_READ hands them out. */
static int stage_sink(void *ctx, const void *buf, size_t len)
{
	struct save_cursor *s = ctx;

	if (s->stage_len + len > s->stage_cap)
		return -ENOSPC;           /* a record larger than the stage: a bug */
	memcpy(s->stage + s->stage_len, buf, len);
	s->stage_len += len;
	return 0;
}

/* A live save's size is not known: its rounds decide. */
void save_records_begin(struct save_cursor *s)
{
	if (!s->live) {
		s->pages = count_pages(s->d);
		s->size = stream_size(s->d, s->pages);
	}
	save_write_begin(&s->w, stage_sink, s, s->live ? PV_SAVE_LIVE : 0, wall_now_ns());
}

static void domain_record(struct save_cursor *s)
{
	struct domain *d = s->d;
	struct pv_save_domain r = {
		.mem_base = d->mem.base, .mem_pages = d->mem.pages, .saved_pages = s->pages,
		.generation = d->shared_info->generation,
	};

	domain_config_of(d, &r.config);
	memcpy(r.image_hash, d->img->hash, sizeof(r.image_hash));
	r.block_count = d->blk_count;
	for (uint32_t i = 0; i < d->blk_count; i++) {
		struct pv_save_block *b = &r.block[i];

		strlcpy(b->spec, blkback_cfg_spec(&d->cfg->block[i]), sizeof(b->spec));
		strlcpy(b->name, blkback_name(d->blk[i]), sizeof(b->name));
		b->flags = d->cfg->block[i].readonly ? PV_SAVE_BLOCK_RO : 0;
		b->sectors = blkback_sectors(d->blk[i]);
	}
	one_part(s, PV_SAVE_DOMAIN, &r, sizeof(r));
}

/* Its registers as its next return to ring 3 would load them: a blocked
 * domain's are its block hypercall's, whose result says "woken". */
static void cpu_record(struct save_cursor *s)
{
	const struct trap_frame *f = &s->d->regs;
	struct pv_save_cpu r = {
		.rax = f->rax, .rbx = f->rbx, .rcx = f->rcx, .rdx = f->rdx, .rsi = f->rsi, .rdi = f->rdi,
		.rbp = f->rbp, .rsp = f->rsp, .r8 = f->r8, .r9 = f->r9, .r10 = f->r10, .r11 = f->r11,
		.r12 = f->r12, .r13 = f->r13, .r14 = f->r14, .r15 = f->r15, .rip = f->rip, .rflags = f->rflags,
	};

	one_part(s, PV_SAVE_CPU, &r, sizeof(r));
}

static void fpu_record(struct save_cursor *s)
{
	struct pv_save_fpu h = { .xcr0 = cpu.xsave ? cpu.xcr0 : 0, .format = cpu.xsave ? 1 : 2,
				 .size = fpu_state_size() };
	struct save_part parts[2] = { { &h, sizeof(h) }, { s->d->fpu, h.size } };

	save_write_record(&s->w, PV_SAVE_FPU, 0, parts, 2);
}

static void clock_record(struct save_cursor *s)
{
	struct pv_save_clock r = { .system_ns = time_ns() + s->d->clock_offset_ns, .wall_ns = wall_now_ns() };

	one_part(s, PV_SAVE_CLOCK, &r, sizeof(r));
}

static bool page_wanted(const struct save_cursor *s, uint64_t i, uint64_t f)
{
	return save_owns_page(f) && (!s->live || (s->round_map[i / 64] >> (i % 64) & 1));
}

/* A running domain's page is copied aside (it may change meanwhile: then
 * it is dirty again and goes in the next round). */
static struct save_part page_part(struct save_cursor *s, uint64_t f, uint32_t k)
{
	void *p = phys_to_virt(f & ~GF_FLAGS);

	if (s->live && !s->final)
		p = memcpy(s->bounce + (uint64_t)k * PAGE_SIZE, p, PAGE_SIZE);
	return (struct save_part){ p, PAGE_SIZE };
}

/* The next SAVE_STAGE_PAGES pages to send from s->next_page; false when
 * there are none left. */
static bool pages_record(struct save_cursor *s)
{
	const struct domain *d = s->d;
	uint64_t idx[SAVE_STAGE_PAGES];
	struct pv_save_pages h = { 0 };
	struct save_part parts[2 + SAVE_STAGE_PAGES];

	for (; s->next_page < d->mem.pages && h.count < SAVE_STAGE_PAGES; s->next_page++) {
		uint64_t f = __atomic_load_n(&d->mem.frame[s->next_page], __ATOMIC_ACQUIRE);

		if (!page_wanted(s, s->next_page, f))
			continue;
		idx[h.count] = s->next_page;
		parts[2 + h.count] = page_part(s, f, h.count);
		h.count++;
	}
	if (!h.count)
		return false;
	parts[0] = (struct save_part){ &h, sizeof(h) };
	parts[1] = (struct save_part){ idx, h.count * sizeof(uint64_t) };
	save_write_record(&s->w, PV_SAVE_PAGES, 0, parts, 2 + h.count);
	s->sent_pages += h.count;
	return true;
}

/* A live save's rounds: a PAGES record of this round, or of the next; false
 * once the domain is held for the rest.  A failed round stays here with
 * s->why set (SAVE_READ stops on it). */
static bool round_pages(struct save_cursor *s)
{
	int r = 1;

	if (!s->live)
		return false;
	while (r > 0 && !pages_record(s))
		r = save_live_round(s);
	return r != 0;
}

/* Net devices, then block devices: one record each. */
static bool device_record(struct save_cursor *s)
{
	const struct domain *d = s->d;
	uint64_t i = s->next_dev++;
	struct pv_save_device r;

	if (i < d->net_count && IS_ENABLED(CONFIG_NET))
		netback_save(&d->net[i], &r);      /* quiesced: stands still */
	else if (i >= d->net_count && i - d->net_count < d->blk_count)
		blkback_save(d->blk[i - d->net_count], &r);   /* idle: stands still */
	else
		return false;
	one_part(s, PV_SAVE_DEVICE, &r, sizeof(r));
	return true;
}

/* The newest bytes of its console, which may wrap round the ring. */
static bool console_record(struct save_cursor *s)
{
	const struct text_ring *ring = &s->d->console.ring;
	uint64_t n = console_bytes(s->d), from = text_ring_head(ring) - n, off = from % ring->size;
	struct save_part parts[2] = { { ring->buf + off, MIN(n, ring->size - off) } };

	if (!n)
		return false;
	parts[1] = (struct save_part){ ring->buf, n - parts[0].len };
	save_write_record(&s->w, PV_SAVE_CONSOLE, 0, parts, 2);
	return true;
}

void save_records_next(struct save_cursor *s)
{
	switch (s->step) {
	case S_DOMAIN: domain_record(s); break;
	case S_ROUNDS: if (round_pages(s)) return; break;
	case S_CPU: cpu_record(s); break;
	case S_FPU: fpu_record(s); break;
	case S_CLOCK: clock_record(s); break;
	case S_PAGES: if (pages_record(s)) return; break;
	case S_DEVICES: if (device_record(s)) return; break;
	case S_CONSOLE: console_record(s); break;
	default:
		save_write_end(&s->w);
		s->done = true;
		return;
	}
	s->step++;
	if (!s->stage_len)           /* a step that had nothing to write */
		save_records_next(s);
}
