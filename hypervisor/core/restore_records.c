/* A restore's records, each checked by the stream reader before it gets
 * here (framing, sizes, order, page indices), and checked here for what
 * they mean on this host: the configuration by CREATE's rules, the image
 * by its hash, registers and FPU state that our exit paths can load
 * without faulting, pages the domain owns, devices it has.  A refusal
 * names the record and the field (save_reader_fail). */
#include <manifest.h>
#include <public/save.h>
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
#include <hv/x86.h>

_Static_assert(PV_SAVE_BLOCKS_MAX == MANIFEST_MAX_BLOCKS, "a save holds every block device");

#define USER_LIMIT (1ull << 47)      /* canonical lower half */
/* The flags ring 3 may have: arithmetic, DF, AC, ID; IF and bit 1 are set. */
#define RFLAGS_USER 0x240cd5ull
#define RFLAGS_FIXED 0x202ull

/* ---- DOMAIN ------------------------------------------------------------------ */

static void hex12(const uint8_t *hash, char out[13])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 6; i++) {
		out[2 * i] = digits[hash[i] >> 4];
		out[2 * i + 1] = digits[hash[i] & 15];
	}
	out[12] = 0;
}

/* The saved settings, as CREATE would take them: a boot domain's
 * power-off action means nothing for a domain made at run time. */
static bool settings_of(struct restore_ctx *x, const struct pv_save_domain *dom, struct manifest_guest *g)
{
	struct pv_domctl_config c = dom->config;
	char err[PV_DOMCTL_MSG_MAX];

	if (x->name[0])
		memcpy(c.name, x->name, sizeof(c.name));
	if (c.on_exit == PV_DOMCTL_ACTION_POWEROFF)
		c.on_exit = PV_DOMCTL_ACTION_DESTROY;
	if (c.on_crash == PV_DOMCTL_ACTION_POWEROFF)
		c.on_crash = PV_DOMCTL_ACTION_DESTROY;
	if (!domctl_settings(&c, g, err, sizeof(err))) {
		save_reader_fail(&x->r, "DOMAIN: %s", err);
		return false;
	}
	g->block_count = dom->block_count;     /* <= PV_SAVE_BLOCKS_MAX: the reader checked */
	for (uint32_t i = 0; i < dom->block_count; i++) {
		strlcpy(g->block[i].spec, dom->block[i].spec, sizeof(g->block[i].spec));
		strlcpy(g->block[i].name, dom->block[i].name, sizeof(g->block[i].name));
		g->block[i].readonly = dom->block[i].flags & PV_SAVE_BLOCK_RO;
	}
	return true;
}

/* The volumes it was given are here, as large as they were. */
static int volumes_same(struct restore_ctx *x, const struct pv_save_domain *dom)
{
	for (uint32_t i = 0; i < x->d->blk_count; i++) {
		uint64_t here = blkback_sectors(x->d->blk[i]);

		if (here != dom->block[i].sectors) {
			x->err = -ENODEV;
			return save_reader_fail(&x->r, "block device %s: volume data is missing or another size "
						"(%lu sectors here, %lu saved)", dom->block[i].name, here,
						dom->block[i].sectors);
		}
	}
	return 0;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && !strcmp(s + n - t, tail);
}

/* Why a build failed, as an errno the API can tell apart: out of memory;
 * a name or MAC another domain has; a volume another domain writes; a
 * volume that is not here; anything else. */
static int64_t build_error(const char *err)
{
	if (!strncmp(err, "out of", 6))
		return -ENOMEM;
	if (!strncmp(err, "name:", 5) || ends_with(err, "is already in use"))
		return -EEXIST;
	if (ends_with(err, "(one writer per extent)"))
		return -EBUSY;
	return !strncmp(err, "block device", 12) ? -ENODEV : -EINVAL;
}

static int domain_rec(struct restore_ctx *x, const struct pv_save_domain *dom)
{
	struct manifest_guest *g = domain_cfg_alloc();
	struct image *img;
	char err[PV_DOMCTL_MSG_MAX], hash[13];

	if (!g)
		return save_reader_fail(&x->r, "out of hypervisor memory");
	if (!settings_of(x, dom, g) ||
	    (dom->mem_base != PV_GUEST_BASE || dom->mem_pages != g->memory / PAGE_SIZE)) {
		if (!x->r.error[0])
			save_reader_fail(&x->r, "DOMAIN: the address range is not the memory size's");
		domain_cfg_free(g);
		return -1;
	}
	if (!(img = image_find(dom->image_hash))) {
		hex12(dom->image_hash, hash);
		domain_cfg_free(g);
		x->err = -ENOENT;
		return save_reader_fail(&x->r, "DOMAIN: its image (sha256 %s...) is not stored here; add it first", hash);
	}
	x->d = domain_create_held(g, img, err, sizeof(err));
	if (!x->d) {
		image_put(img);
		domain_cfg_free(g);
		x->err = build_error(err);
		return save_reader_fail(&x->r, "DOMAIN: %s", err);
	}
	x->d->shared_info->generation = dom->generation;
	return volumes_same(x, dom);
}

/* ---- CPU, FPU, CLOCK ---------------------------------------------------------- */

/* An exit to ring 3 faults in ring 0 on a non-canonical RIP, and the
 * guest has no business anywhere but its own memory. */
static int cpu_rec(struct restore_ctx *x, const struct pv_save_cpu *c)
{
	struct domain *d = x->d;
	struct trap_frame *f = &d->regs;

	if (c->rip < d->mem.base || c->rip >= d->mem.base + d->mem.pages * PAGE_SIZE)
		return save_reader_fail(&x->r, "CPU: rip is outside the domain's memory");
	if (c->rsp >= USER_LIMIT || c->fs_base || c->gs_base)
		return save_reader_fail(&x->r, "CPU: rsp is not a user address, or fs_base/gs_base is set");
	memset(f, 0, sizeof(*f));
	f->rax = c->rax; f->rbx = c->rbx; f->rcx = c->rcx; f->rdx = c->rdx;
	f->rsi = c->rsi; f->rdi = c->rdi; f->rbp = c->rbp; f->rsp = c->rsp;
	f->r8 = c->r8; f->r9 = c->r9; f->r10 = c->r10; f->r11 = c->r11;
	f->r12 = c->r12; f->r13 = c->r13; f->r14 = c->r14; f->r15 = c->r15;
	f->rip = c->rip;
	f->rflags = (c->rflags & RFLAGS_USER) | RFLAGS_FIXED;
	f->cs = GDT_UCODE;
	f->ss = GDT_UDATA;
	f->vector = 0;            /* back through iretq, every register as saved */
	return 0;
}

static int fpu_rec(struct restore_ctx *x, const uint8_t *p)
{
	struct pv_save_fpu h;
	char err[96];

	memcpy(&h, p, sizeof(h));
	if (fpu_state_check(p + sizeof(h), h.size, h.xcr0, h.format, err, sizeof(err)))
		return save_reader_fail(&x->r, "%s", err);
	memcpy(x->d->fpu, p + sizeof(h), h.size);
	return 0;
}

static int clock_rec(struct restore_ctx *x, const struct pv_save_clock *c)
{
	x->system_ns = c->system_ns;
	x->wall_ns = c->wall_ns;
	x->clock_seen = true;
	return 0;
}

/* ---- PAGES ---------------------------------------------------------------------- */

static int page_rec(struct restore_ctx *x, uint64_t i, const uint8_t *data)
{
	struct guest_mem *mem = &x->d->mem;
	uint64_t f = mem->frame[i];   /* i < pages: the reader checked it against DOMAIN's */

	if (f & GF_SHARED)
		return save_reader_fail(&x->r, "PAGES: page %lu is the image's read-only page here", i);
	if (!(f & ~GF_FLAGS) && (!(f & GF_LAZY) || mem->populate(mem, i)))
		return save_reader_fail(&x->r, "PAGES: page %lu is not memory of the domain", i);
	memcpy(phys_to_virt(mem->frame[i] & ~GF_FLAGS), data, PAGE_SIZE);
	return 0;
}

static int pages_rec(struct restore_ctx *x, const uint8_t *p)
{
	struct pv_save_pages h;
	const uint8_t *idx = p + sizeof(h), *data;
	uint64_t i;

	memcpy(&h, p, sizeof(h));
	data = idx + (uint64_t)h.count * sizeof(uint64_t);
	for (uint32_t k = 0; k < h.count; k++) {
		memcpy(&i, idx + k * sizeof(uint64_t), sizeof(i));
		if (page_rec(x, i, data + (uint64_t)k * PAGE_SIZE))
			return -1;
	}
	return 0;
}

/* ---- DEVICE, CONSOLE ----------------------------------------------------------- */

static int blk_device_rec(struct restore_ctx *x, const struct pv_save_device *dev)
{
	struct domain *d = x->d;
	char err[PV_DOMCTL_MSG_MAX];

	if (dev->index >= d->blk_count || (x->blks_seen & (1u << dev->index)))
		return save_reader_fail(&x->r, "DEVICE: not a block device of the domain, or one seen twice");
	if (blkback_restore(d->blk[dev->index], dev, err, sizeof(err)))
		return save_reader_fail(&x->r, "%s", err);
	x->blks_seen |= 1u << dev->index;
	return 0;
}

static int device_rec(struct restore_ctx *x, const struct pv_save_device *dev)
{
	struct domain *d = x->d;
	char err[PV_DOMCTL_MSG_MAX];
	uint64_t f;
	int r;

	if (dev->kind == PV_SAVE_BLK)
		return blk_device_rec(x, dev);
	if (dev->kind != PV_SAVE_NET || dev->index >= d->net_count || (x->nets_seen & (1u << dev->index)))
		return save_reader_fail(&x->r, "DEVICE: not a net device of the domain, or one seen twice");
	if (!IS_ENABLED(CONFIG_NET))
		return -1;
	f = spin_lock(&net_lock);
	r = netback_restore(&d->net[dev->index], dev, err, sizeof(err));
	spin_unlock(&net_lock, f);
	if (r)
		return save_reader_fail(&x->r, "%s", err);
	x->nets_seen |= 1u << dev->index;
	return 0;
}

int restore_record(struct save_reader *r, const struct pv_save_record *rec, const uint8_t *p)
{
	struct restore_ctx *x = r->ctx;

	switch (rec->type) {
	case PV_SAVE_DOMAIN: return domain_rec(x, (const void *)p);
	case PV_SAVE_CPU: return cpu_rec(x, (const void *)p);
	case PV_SAVE_FPU: return fpu_rec(x, p);
	case PV_SAVE_CLOCK: return clock_rec(x, (const void *)p);
	case PV_SAVE_PAGES: return pages_rec(x, p);
	case PV_SAVE_DEVICE: return device_rec(x, (const void *)p);
	case PV_SAVE_CONSOLE:
		text_ring_append(&x->d->console.ring, p, rec->length);   /* untrusted bytes, as ever */
		return 0;
	case PV_SAVE_END:
		x->ended = true;
		return 0;
	default:
		return 0;                 /* a skippable record this hypervisor does not know */
	}
}

/* ---- the last fix-ups ------------------------------------------------------------- */

/* The guest's monotonic clock goes on from the saved value or later: it
 * runs clock_offset_ns ahead of ours when ours is behind (another host,
 * or a restart).  The wall clock is ours; time_jumps tells the guest. */
void domain_clock_continue(struct domain *d, uint64_t system_ns)
{
	struct pv_shared_info *sh = d->shared_info;
	uint64_t now = time_ns(), off = system_ns > now ? system_ns - now : 0;
	uint64_t wall0 = rtc_boot_epoch * 1000000000ull - off;

	d->clock_offset_ns = off;
	sh->time_version |= 1;
	pv_wmb();
	sh->magic = PV_SHARED_INFO_MAGIC;
	sh->abi_version = PV_ABI_VERSION;
	tsc_scale(&sh->tsc_mul, &sh->tsc_shift);
	sh->tsc_timestamp = tsc_boot;
	sh->system_time_ns = off;
	sh->tsc_hz = tsc_hz;
	sh->wall_sec = wall0 / 1000000000ull;
	sh->wall_nsec = (uint32_t)(wall0 % 1000000000ull);
	sh->time_jumps++;
	pv_wmb();
	sh->time_version++;
}

/* start_info is the saved one but for who the domain is now. */
static void fix_identity(struct domain *d)
{
	struct pv_start_info *si = d->start_info;

	si->domid = d->id;
	strlcpy(si->name, d->name, sizeof(si->name));
	si->created_tsc = d->created_tsc;
}

/* A string field of n bytes that came in a stream, NUL terminated or not. */
static void copy_field(char *dst, const char *src, size_t n)
{
	size_t len = strnlen(src, n - 1);

	memcpy(dst, src, len);
	dst[len] = 0;
}

/* The saved start_info's mounts, into the settings a restart builds it
 * from again (the restore made them without). */
static void keep_mounts(struct domain *d)
{
	struct manifest_guest *g = (struct manifest_guest *)d->cfg;   /* the restore's own */
	const struct pv_start_info *si = d->start_info;
	uint32_t n = MIN(si->mount_count, (uint32_t)MANIFEST_MAX_BLOCKS);

	for (uint32_t i = 0; i < n; i++) {
		copy_field(g->mount[i].path, si->mount[i].path, sizeof(g->mount[i].path));
		copy_field(g->mount[i].device, si->mount[i].device, sizeof(g->mount[i].device));
		g->mount[i].readonly = si->mount[i].flags & PV_MOUNT_READONLY;
	}
	g->mount_count = n;
}

int restore_finish(struct restore_ctx *x)
{
	struct domain *d = x->d;

	if (!d || !x->ended)
		return save_reader_fail(&x->r, "the stream has no domain");
	if (!x->clock_seen)
		return save_reader_fail(&x->r, "CLOCK: missing");
	if (x->nets_seen != (1u << d->net_count) - 1 || x->blks_seen != (1u << d->blk_count) - 1)
		return save_reader_fail(&x->r, "DEVICE: a device of the domain has no record");
	domain_clock_continue(d, x->system_ns);
	fix_identity(d);
	keep_mounts(d);
	domain_devices_look_again(d);
	return 0;
}

/* Wake-ups it may have missed while saved: every device looks again. */
void domain_devices_look_again(struct domain *d)
{
	uint64_t ports = 0;

	for (uint32_t i = 0; i < d->net_count; i++)
		ports |= 1ull << d->net[i].port;
	for (uint32_t i = 0; i < d->blk_count; i++)
		ports |= 1ull << blkback_port(d->blk[i]);
	__atomic_fetch_or(&d->shared_info->events_pending, ports, __ATOMIC_SEQ_CST);
}
