/* Building a domain's address space (the layout is drawn in
 * public/start_info.h): frames for every page but the stack guard, the
 * image copied in and mapped W^X from its program headers, start_info and
 * shared_info filled in.  Everything allocated here is counted so that the
 * accounting can prove it all comes back. */
#include <manifest.h>
#include <hv/domain.h>
#include <hv/errno.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mitigations.h>
#include <hv/mm.h>
#include <hv/time.h>
#include <hv/rtc.h>
#include <hv/sched.h>
#include <hv/x86.h>

#define STACK_SIZE   ((uint64_t)CONFIG_GUEST_STACK_KB << 10)
#define INFO_PAGES   2             /* start_info, shared_info */
#define MIN_HEAP     (16UL << 10)

static uint64_t free_frames_kib(void)
{
	struct frame_stats s;

	frame_stats(&s);
	return (s.free - s.reserved) * (PAGE_SIZE / 1024);
}

static uint64_t pages_for(uint64_t bytes)
{
	return PAGE_ALIGN_UP(bytes) / PAGE_SIZE;
}

/* Bytes of device rings before net device nets and block
 * device blocks: net rings first, then block rings. */
static uint64_t ring_bytes(uint32_t nets, uint32_t blocks)
{
	return ((uint64_t)nets * NETBACK_RING_PAGES + (uint64_t)blocks * BLKBACK_RING_PAGES) * PAGE_SIZE;
}

static bool on_page(const struct elf_segment *s, uint64_t va)
{
	return va + PAGE_SIZE > s->vaddr && va < s->vaddr + s->memsz;
}

/* The image segment the page at va overlaps, or NULL (no two share a
 * page).  `last`, the previous page's, is tried first. */
static const struct elf_segment *segment_at(const struct domain *d, uint64_t va,
					    const struct elf_segment *last)
{
	if (last && on_page(last, va))
		return last;
	for (uint32_t i = 0; i < d->elf.nseg; i++)
		if (on_page(&d->elf.seg[i], va))
			return &d->elf.seg[i];
	return NULL;
}

/* Permissions of a page: from its segment s, else heap/stack data. */
static uint64_t page_flags(const struct domain *d, uint64_t va, const struct elf_segment *s)
{
	if (s)
		return (s->flags & ELF_PF_W ? GF_WRITE : 0) | (s->flags & ELF_PF_X ? GF_EXEC : 0);
	if (va == d->mem.base + (d->mem.pages - INFO_PAGES) * PAGE_SIZE)
		return 0;                  /* start_info: read-only to the guest */
	return GF_WRITE;
}

static uint64_t user_pte(uint64_t f)
{
	return PTE_U | (f & GF_WRITE ? PTE_W : 0) | (f & GF_EXEC ? 0 : pt_nx());
}

/* A read-only segment's page that lies wholly inside the image file is
 * mapped straight from the loaded image: no copy, no new frame, and every
 * domain running that image shares it.  0 when the page must be copied
 * (or has no segment s). */
static uint64_t shared_page(const struct domain *d, uint64_t va, const struct elf_segment *s)
{
	uint64_t off;

	if (!s || (s->flags & ELF_PF_W) || s->filesz != s->memsz ||
	    s->offset % PAGE_SIZE != s->vaddr % PAGE_SIZE)
		return 0;
	off = s->offset - (s->vaddr - va);   /* va is page aligned, so is off */
	if (va < PAGE_ALIGN_DOWN(s->vaddr) || off + PAGE_SIZE > d->image_size)
		return 0;
	return virt_to_phys(d->image) + off;
}

/* Page i (image, rings, the stack's first page, info pages) of segment s
 * (or none) at its leaf entry pte: shared with the image, or a frame of
 * its own. */
static int map_page(struct domain *d, uint64_t i, const struct elf_segment *s, uint64_t *pte)
{
	uint64_t va = d->mem.base + i * PAGE_SIZE, pa, f;

	pa = shared_page(d, va, s);
	f = page_flags(d, va, s);
	if (pa) {
		f |= GF_SHARED;
	} else if ((pa = frame_alloc())) {
		d->private_frames++;
	} else {
		return -ENOMEM;
	}
	d->mem.frame[i] = pa | f;
	*pte = pa | user_pte(f) | PTE_P;
	return 0;
}

/* d's mem_lock held: a copy-on-write page gets a frame of its own (one
 * its reservation kept for it).  Its old mapping may be in the TLB of the
 * CPU running d, so this happens only where no other CPU runs d: on its
 * own CPU (which flushes the entry) or while it runs nowhere (its next
 * switch-in loads CR3, which flushes).  Its run-queue lock keeps it off
 * the CPUs meanwhile. */
static int cow_break_locked(struct domain *d, struct guest_mem *mem, uint64_t i)
{
	uint64_t va = mem->base + i * PAGE_SIZE, f = mem->frame[i], flags, pa;
	uint64_t keep = f & (GF_WRITE | GF_EXEC);
	struct cpu *c = sched_lock_domain(d, &flags);
	bool here = c->running == d;
	int r = 0;

	if (!(f & GF_WRITE))
		r = -EFAULT;              /* a read-only page stays shared */
	else if (here && c != this_cpu())
		r = -EAGAIN;
	else if (!d->lazy_reserved || !(pa = frame_alloc_reserved()))
		r = -ENOMEM;              /* cannot happen: reserved when it was cloned */
	if (!r) {
		memcpy(phys_to_virt(pa), phys_to_virt(f & ~GF_FLAGS), PAGE_SIZE);
		pt_map(d->pml4, va, pa, user_pte(keep));
		d->lazy_reserved--;
		d->private_frames++;
		__atomic_store_n(&mem->frame[i], pa | keep, __ATOMIC_RELEASE);
	}
	spin_unlock(&c->sched.lock, flags);
	if (!r && here)
		invlpg(va);
	return r;
}

/* A clone's page i maps the snapshot's frame pa (its permissions gf)
 * read-only until written (core/clone.c).  A lazy page keeps its
 * reservation for the copy; a page the build backed gives its frame back
 * and takes a reservation instead (none if it can never be written), so
 * the clone's reservation is exactly what it may write.  False when no
 * frame could be reserved (the page stays its own; the caller copies).
 * pte: the page's leaf entry (the caller walks once per table). */
bool domain_map_cow(struct domain *d, uint64_t i, uint64_t pa, uint64_t gf, uint64_t *pte)
{
	uint64_t f = d->mem.frame[i], keep = gf & (GF_WRITE | GF_EXEC);

	if (f & ~GF_FLAGS) {
		if ((keep & GF_WRITE) && frame_reserve(1))
			return false;
		frame_free(f & ~GF_FLAGS);
		d->private_frames--;
		d->lazy_reserved += !!(keep & GF_WRITE);
	} else if (!(keep & GF_WRITE)) {
		frame_unreserve(1);       /* a lazy page is writable: cannot happen */
		d->lazy_reserved--;
	}
	d->mem.frame[i] = pa | keep | GF_COW;
	*pte = pa | user_pte(keep & GF_EXEC) | PTE_P;
	return true;
}

uint64_t *domain_pte(struct domain *d, uint64_t i, struct pte_cursor *c)
{
	uint64_t va = d->mem.base + i * PAGE_SIZE, region = va & ~(LARGE_PAGE - 1);

	if (c->region != region) {
		c->table = pt_leaf(d->pml4, region, true);
		c->region = region;
	}
	return c->table + (va - region) / PAGE_SIZE;
}

/* d's mem_lock held. */
static int populate_locked(struct domain *d, struct guest_mem *mem, uint64_t i)
{
	uint64_t pa, va = mem->base + i * PAGE_SIZE;

	if (mem->frame[i] & GF_COW)
		return cow_break_locked(d, mem, i);
	if (mem->frame[i] & ~GF_FLAGS)
		return 0;                 /* another CPU backed it first: fine */
	if (!(mem->frame[i] & GF_LAZY) || !d->lazy_reserved)
		return -EFAULT;
	pa = frame_alloc_reserved();
	if (!pa || pt_map(d->pml4, va, pa, user_pte(GF_WRITE)))
		return -ENOMEM;           /* cannot happen: reserved, tables prepared */
	d->lazy_reserved--;
	d->private_frames++;
	__atomic_store_n(&mem->frame[i], pa | GF_WRITE, __ATOMIC_RELEASE);
	return 0;
}

/* The domain's own fault (its CPU) and a backend writing into its buffers
 * (another CPU) may want the same page at once: one backs it, the other
 * finds it backed. */
static int populate(struct guest_mem *mem, uint64_t i)
{
	struct domain *d = (struct domain *)((char *)mem - __builtin_offsetof(struct domain, mem));
	uint64_t f = spin_lock(&d->mem_lock);
	int r = populate_locked(d, mem, i);

	spin_unlock(&d->mem_lock, f);
	return r;
}

bool domain_fault_in(struct domain *d, uint64_t gva, bool write)
{
	uint64_t i, f;

	if (gva < d->mem.base || gva >= d->mem.base + d->mem.pages * PAGE_SIZE)
		return false;
	i = (gva - d->mem.base) / PAGE_SIZE;
	f = d->mem.frame[i];
	if (write && (f & GF_COW) && (f & GF_WRITE))
		return populate(&d->mem, i) == 0;
	return !write && (f & GF_LAZY) && populate(&d->mem, i) == 0;
}

static void copy_image(struct domain *d)
{
	const uint8_t *img = d->image;

	for (uint32_t i = 0; i < d->elf.nseg; i++) {
		const struct elf_segment *s = &d->elf.seg[i];

		/* Within bounds: checked by elf_image_parse; frames are zeroed.
		 * Shared pages ARE the image: never written. */
		for (uint64_t done = 0; done < s->filesz;) {
			uint64_t va = s->vaddr + done;
			uint64_t n = MIN(s->filesz - done, PAGE_SIZE - va % PAGE_SIZE);
			uint64_t f = d->mem.frame[(va - d->mem.base) / PAGE_SIZE];

			if (!(f & GF_SHARED))
				memcpy((uint8_t *)phys_to_virt(f & ~GF_FLAGS) + va % PAGE_SIZE,
				       img + s->offset + done, n);
			done += n;
		}
	}
}

static void *info_page(struct domain *d, uint64_t index_from_top)
{
	uint64_t fr = d->mem.frame[d->mem.pages - index_from_top] & ~GF_FLAGS;

	return phys_to_virt(fr);
}

static void fill_shared_info(struct domain *d)
{
	struct pv_shared_info *sh = info_page(d, 1);

	sh->magic = PV_SHARED_INFO_MAGIC;
	sh->abi_version = PV_ABI_VERSION;
	tsc_scale(&sh->tsc_mul, &sh->tsc_shift);
	sh->tsc_timestamp = tsc_boot;
	sh->system_time_ns = 0;
	sh->tsc_hz = tsc_hz;
	sh->wall_sec = rtc_boot_epoch;
	sh->wall_nsec = 0;
	sh->time_version = 2;
	d->shared_info = sh;
}

static void describe_net(struct pv_device *dev, const struct manifest_net *net, uint32_t i,
			 uint64_t ring_gva)
{
	dev->type = PV_DEV_NET;
	dev->index = i;
	dev->event_port = 1 + i;
	dev->ring_gva = ring_gva;
	dev->ring_pages = NETBACK_RING_PAGES;
	memcpy(dev->mac, net->mac, 6);
	dev->dhcp = net->dhcp;
	dev->prefix_len = net->prefix_len;
	dev->ipv4 = net->ipv4;
	dev->gateway = net->gateway;
}

/* The volume's capacity (and a read-only disk) are added when it is
 * opened (core/domain.c). */
static void describe_block(struct pv_device *dev, const struct manifest_block *b, uint32_t i,
			   uint64_t ring_gva)
{
	dev->type = PV_DEV_BLOCK;
	dev->index = i;
	dev->event_port = BLKBACK_PORT(i);
	dev->ring_gva = ring_gva;
	dev->ring_pages = BLKBACK_RING_PAGES;
	dev->sector_size = PV_BLK_SECTOR;
	dev->flags = b->readonly ? PV_DEV_READONLY : 0;
	blkback_cfg_name(b, i, dev->name, sizeof(dev->name));
}

static void describe_mounts(struct pv_start_info *si, const struct manifest_guest *g)
{
	_Static_assert(MANIFEST_MOUNT_PATH_MAX == PV_MOUNT_PATH_MAX, "mount paths have one length");
	_Static_assert(MANIFEST_MAX_BLOCKS <= PV_MAX_MOUNTS, "every mount fits start_info");
	for (uint32_t i = 0; i < g->mount_count; i++) {
		struct pv_mount *m = &si->mount[si->mount_count++];

		strlcpy(m->path, g->mount[i].path, sizeof(m->path));
		strlcpy(m->device, g->mount[i].device, sizeof(m->device));
		m->flags = g->mount[i].readonly ? PV_MOUNT_READONLY : 0;
	}
}

static void fill_start_info(struct domain *d, const struct manifest_guest *g, uint64_t heap_start)
{
	struct pv_start_info *si = info_page(d, 2);
	uint64_t top = d->mem.base + d->mem.pages * PAGE_SIZE;

	si->magic = PV_START_INFO_MAGIC;
	si->abi_version = PV_ABI_VERSION;
	si->domid = d->id;
	si->flags = d->privileged ? PV_START_PRIVILEGED : 0;
	strlcpy(si->name, d->name, sizeof(si->name));
	si->mem_base = d->mem.base;
	si->mem_size = d->mem.pages * PAGE_SIZE;
	si->heap_start = heap_start;
	si->heap_end = d->guard_gva;
	si->stack_top = top - INFO_PAGES * PAGE_SIZE;
	si->stack_size = STACK_SIZE;
	si->shared_info = top - PAGE_SIZE;
	si->created_tsc = d->created_tsc;
	strlcpy(si->cmdline, g->cmdline, sizeof(si->cmdline));
	for (uint32_t i = 0; i < g->net_count; i++)
		describe_net(&si->device[si->device_count++], &g->net[i], i,
			     d->rings_gva + (uint64_t)i * NETBACK_RING_PAGES * PAGE_SIZE);
	for (uint32_t i = 0; i < g->block_count; i++)
		describe_block(&si->device[si->device_count++], &g->block[i], i,
			       d->rings_gva + ring_bytes(g->net_count, i));
	describe_mounts(si, g);
	d->start_info = si;
}

static void init_regs(struct domain *d)
{
	memset(&d->regs, 0, sizeof(d->regs));
	d->regs.rip = d->elf.entry;
	d->regs.rsp = d->start_info->stack_top;
	d->regs.rdi = d->mem.base + (d->mem.pages - INFO_PAGES) * PAGE_SIZE;
	d->regs.rflags = 0x202;
	d->regs.cs = GDT_UCODE;
	d->regs.ss = GDT_UDATA;
}

/* Validated against the largest possible memory, so that an image that is
 * fine but too big for a domain gets a message about memory, not the ELF.
 * The one check for boot images and run-time ones (CREATE, IMAGE_ADD). */
int domain_image_check(const void *bytes, uint64_t size, struct elf_image *elf, char *err, size_t n)
{
	return elf_image_parse(bytes, size, PV_GUEST_BASE, PV_GUEST_BASE + MANIFEST_MEMORY_MAX, elf, err, n);
}

static int plan_layout(struct domain *d, const struct manifest_guest *g, const struct elf_image *parsed,
		       char *err, size_t n)
{
	uint64_t top = PV_GUEST_BASE + g->memory, fixed = (INFO_PAGES + 1) * PAGE_SIZE + STACK_SIZE;
	uint64_t need;

	if (parsed)
		d->elf = *parsed;
	else if (domain_image_check(d->image, d->image_size, &d->elf, err, n))
		return -ENOEXEC;
	if (d->elf.need_net > g->net_count || d->elf.need_block > g->block_count) {
		snprintf(err, n, "image expects %u net and %u block devices; the manifest gives %u and %u",
			 d->elf.need_net, d->elf.need_block, g->net_count, g->block_count);
		return -ENODEV;
	}
	d->rings_gva = d->elf.hi;
	fixed += ring_bytes(g->net_count, g->block_count);
	need = (d->elf.hi - PV_GUEST_BASE) + MIN_HEAP + fixed;
	if (g->memory < need) {
		snprintf(err, n, "memory %lu KiB is too small: image %lu KiB + heap %lu KiB + stack, rings and info pages %lu KiB need %lu KiB",
			 g->memory >> 10, (d->elf.hi - PV_GUEST_BASE) >> 10, MIN_HEAP >> 10,
			 fixed >> 10, need >> 10);
		return -ENOMEM;
	}
	fixed -= ring_bytes(g->net_count, g->block_count);
	d->mem.base = PV_GUEST_BASE;
	d->mem.pages = g->memory / PAGE_SIZE;
	d->guard_gva = top - fixed;
	return 0;
}

/* The guest's view copies the top-level slots once: every guest address
 * must lie under slot 0, which the mapping loop has created by then. */
_Static_assert(PV_GUEST_BASE + MANIFEST_MEMORY_MAX <= (1ull << 39), "guests fit PML4 slot 0");

/* Pages [from, to) mapped one by one; the first that could not be, or to. */
static uint64_t map_range(struct domain *d, uint64_t from, uint64_t to)
{
	uint64_t *pte = NULL;
	const struct elf_segment *s = NULL;

	for (uint64_t i = from; i < to; i++) {
		uint64_t va = d->mem.base + i * PAGE_SIZE;

		/* one walk per page table, then its next entries */
		pte = pte && va % LARGE_PAGE ? pte + 1 : pt_leaf(d->pml4, va, true);
		s = segment_at(d, va, s);
		if (!pte || map_page(d, i, s, pte))
			return i;
	}
	return to;
}

/* Heap pages are demand-zero: reserved now, zeroed and mapped on first
 * touch (a fault, or a hypercall that reads or writes them), so creating a
 * domain costs its image, not its memory size.  Their page tables are
 * made here (one walk per 2 MiB), so backing them never needs another
 * allocation.  The first page of [from, to) that failed, or to. */
static uint64_t map_lazy_range(struct domain *d, uint64_t from, uint64_t to)
{
	for (uint64_t i = from; i < to; i++) {
		uint64_t va = d->mem.base + i * PAGE_SIZE;

		if ((i == from || va % LARGE_PAGE == 0) && !pt_leaf(d->pml4, va, true))
			return i;
		d->mem.frame[i] = GF_LAZY | GF_WRITE;
		d->lazy_reserved++;
	}
	return to;
}

static uint64_t page_index(const struct domain *d, uint64_t va)
{
	return (va - d->mem.base) / PAGE_SIZE;
}

/* Every page mapped (or prepared, demand-zero) and the guest's own view
 * made; the demand-zero pages are only counted, not yet reserved.  In
 * address order: image and rings, heap (demand-zero), the stack guard
 * (never mapped), the stack (demand-zero but its first page), info pages. */
static int map_all(struct domain *d, const struct manifest_guest *g, char *err, size_t n)
{
	uint64_t heap = page_index(d, d->heap_gva), guard = page_index(d, d->guard_gva);
	uint64_t stack = page_index(d, d->start_stack_page), done;

	pt_tables_created();   /* from zero: the tables made below are this domain's */
	done = map_range(d, 0, heap);
	if (done == heap)
		done = map_lazy_range(d, heap, guard);
	if (done == guard)
		done = map_lazy_range(d, guard + 1, stack);
	if (done == stack)
		done = map_range(d, stack, d->mem.pages);
	if (done != d->mem.pages) {
		snprintf(err, n, "out of memory: %lu KiB requested, %lu KiB mapped",
			 g->memory >> 10, (done * PAGE_SIZE) >> 10);
		return -ENOMEM;
	}
	if (mitigations.pti && !(d->user_pml4 = kspace_new_user_view(d->pml4))) {
		snprintf(err, n, "out of hypervisor memory");
		return -ENOMEM;
	}
	d->overhead_frames += pt_tables_created() + (d->user_pml4 != 0);
	return 0;
}

/* Last, after every other frame is taken: whether a domain fits is this
 * one check, and its message says by how much it does not. */
static int reserve_lazy(struct domain *d, const struct manifest_guest *g, char *err, size_t n)
{
	if (!frame_reserve(d->lazy_reserved))
		return 0;
	snprintf(err, n, "out of memory: %lu KiB requested; its demand-zero pages need %lu KiB, %lu KiB are free",
		 g->memory >> 10, d->lazy_reserved * (PAGE_SIZE / 1024), free_frames_kib());
	return -ENOMEM;
}

int domain_build(struct domain *d, const struct manifest_guest *g, const struct elf_image *parsed,
		 char *err, size_t n)
{
	uint64_t list_pages, list_pa;
	int r = plan_layout(d, g, parsed, err, n);

	if (r)
		return r;
	list_pages = pages_for(d->mem.pages * sizeof(uint64_t));
	list_pa = frame_alloc_contig_raw(list_pages);     /* zeroed below, as far as used */
	if (list_pa)
		d->mem.frame = memset(phys_to_virt(list_pa), 0, d->mem.pages * sizeof(uint64_t));
	d->pml4 = kspace_new_pml4();
	if (!list_pa || !d->pml4) {
		snprintf(err, n, "out of hypervisor memory");
		return -ENOMEM;
	}
	d->overhead_frames += list_pages + 1;
	d->heap_gva = d->rings_gva + ring_bytes(g->net_count, g->block_count);
	/* The stack is demand-zero too, all but the page the entry runs on. */
	d->start_stack_page = PV_GUEST_BASE + g->memory - (INFO_PAGES + 1) * PAGE_SIZE;
	d->mem.populate = populate;
	r = map_all(d, g, err, n);
	if (r || (r = reserve_lazy(d, g, err, n))) {
		d->lazy_reserved = 0;     /* counted, never reserved */
		return r;
	}
	copy_image(d);
	fill_shared_info(d);
	fill_start_info(d, g, d->heap_gva);
	init_regs(d);
	return 0;
}

void domain_free_memory(struct domain *d)
{
	frame_unreserve(d->lazy_reserved);
	d->lazy_reserved = 0;
	if (d->mem.frame) {
		for (uint64_t i = 0; i < d->mem.pages; i++)
			if ((d->mem.frame[i] & ~GF_FLAGS) && !(d->mem.frame[i] & (GF_SHARED | GF_COW)))
				frame_free(d->mem.frame[i] & ~GF_FLAGS);
		frame_free_contig(virt_to_phys(d->mem.frame),
				  pages_for(d->mem.pages * sizeof(uint64_t)));
	}
	d->mem.frame = NULL;
	if (d->user_pml4)
		frame_free(d->user_pml4);
	d->user_pml4 = 0;
	if (d->pml4) {
		pt_free_user(d->pml4);
		frame_free(d->pml4);
		d->pml4 = 0;
	}
}
