/* The image store (hv/image_store.h): images by content, boot images and
 * names.  images_lock guards the list, the name table and every count; it
 * is never held while bytes are copied or hashed (both O(size)), and a
 * copy that turns out to be a twin is freed after it is dropped. */
#include <boot_info.h>
#include <manifest.h>
#include <public/domctl.h>
#include <hv/boot.h>
#include <hv/domain.h>
#include <hv/errno.h>
#include <hv/guest_mem.h>
#include <hv/image_store.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/lock.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/time.h>
#include <hv/x86.h>

static struct spinlock images_lock = SPINLOCK_INIT("images", LOCK_RANK_IMAGES);
static struct image *images;
static uint32_t count;

/* Names in name order, each holding one reference (image.names). */
struct name_slot {
	char name[PV_NAME_MAX];
	struct image *img;
};
static struct name_slot names[PV_DOMCTL_IMAGES_MAX];
static uint32_t name_count;
static uint64_t named_bytes;      /* of the distinct images names hold */

/* ---- images by content ------------------------------------------------------ */

/* A run-time image's struct and bytes share one run of frames (the struct
 * on the first), so a freed image returns exactly what it took. */
static void free_image(struct image *img)
{
	frame_free_contig(virt_to_phys(img), img->pages + 1);
}

/* images_lock held. */
static struct image *lookup(const uint8_t hash[SHA256_BYTES])
{
	struct image *i = images;

	while (i && memcmp(i->hash, hash, SHA256_BYTES))
		i = i->next;
	return i;
}

static void link_image(struct image *img)
{
	img->next = images;
	images = img;
	count++;
}

/* images_lock held: unlinked when nothing holds it; true: free it now. */
static bool unlink_if_unused(struct image *img)
{
	struct image **pp = &images;

	if (img->users || img->names || img->boot)
		return false;
	while (*pp != img)
		pp = &(*pp)->next;
	*pp = img->next;
	count--;
	return true;
}

/* The stored twin of fresh (one more user), or fresh itself, now stored. */
static struct image *intern(struct image *fresh)
{
	uint64_t f = spin_lock(&images_lock);
	struct image *i = lookup(fresh->hash);

	if (!i)
		link_image(i = fresh);
	i->users++;
	spin_unlock(&images_lock, f);
	if (i != fresh)
		free_image(fresh);
	return i;
}

/* The stored bytes never change, so neither does their parse. */
static void parse_once(struct image *img)
{
	char why[8];               /* the message is made again when needed */

	img->elf_ok = !domain_image_check(img->bytes, img->size, &img->elf, why, sizeof(why));
}

struct image *image_copy_in(const struct guest_mem *mem, uint64_t gva, uint64_t n, int64_t *r,
			    char *err, size_t errn)
{
	uint64_t pages = PAGE_ALIGN_UP(n) / PAGE_SIZE, pa;
	struct image *img;

	*r = -EINVAL;
	if (!n || n > PV_DOMCTL_IMAGE_MAX)
		return snprintf(err, errn, "image_size must be 1..%u bytes", PV_DOMCTL_IMAGE_MAX), NULL;
	pa = frame_alloc_contig(pages + 1);
	if (!pa) {
		*r = -ENOMEM;
		return snprintf(err, errn, "out of memory: the image needs %lu KiB contiguous", (pages + 1) * 4),
		       NULL;
	}
	img = phys_to_virt(pa);
	img->bytes = (char *)img + PAGE_SIZE;
	img->size = n;
	img->pages = pages;
	if (guest_copy_from(mem, (void *)img->bytes, gva, n)) {
		free_image(img);
		return snprintf(err, errn, "the image is not readable memory of the caller"), NULL;
	}
	sha256(img->bytes, n, img->hash);
	parse_once(img);
	return img;
}

void image_discard(struct image *fresh)
{
	free_image(fresh);
}

struct image *image_from_guest(const struct guest_mem *mem, uint64_t gva, uint64_t n,
			       char *err, size_t errn)
{
	int64_t r;
	struct image *img = image_copy_in(mem, gva, n, &r, err, errn);

	return img ? intern(img) : NULL;
}

struct image *image_find(const uint8_t hash[SHA256_BYTES])
{
	uint64_t f = spin_lock(&images_lock);
	struct image *i = lookup(hash);

	if (i)
		i->users++;
	spin_unlock(&images_lock, f);
	return i;
}

void image_put(struct image *img)
{
	uint64_t f = spin_lock(&images_lock);
	bool last;

	img->users--;
	last = unlink_if_unused(img);
	spin_unlock(&images_lock, f);
	if (last)
		free_image(img);
}

uint32_t image_count(void)
{
	return __atomic_load_n(&count, __ATOMIC_RELAXED);
}

/* ---- boot images ---------------------------------------------------------------- */

static struct image boot_images[MANIFEST_MAX_GUESTS];
static struct image *boot_of[MANIFEST_MAX_GUESTS];   /* by manifest guest index */

/* A module's bytes as a stored image; a second module with the same bytes
 * (two sections naming one file) gives its frames back and uses the first. */
static struct image *boot_intern(const struct boot_module *m, struct image *rec, uint64_t *given)
{
	struct image *twin;
	uint64_t f;

	rec->bytes = phys_to_virt(m->phys);
	rec->size = m->size;
	rec->pages = PAGE_ALIGN_UP(m->size) / PAGE_SIZE;
	rec->boot = true;
	sha256(rec->bytes, rec->size, rec->hash);
	parse_once(rec);
	f = spin_lock(&images_lock);
	twin = lookup(rec->hash);
	if (!twin)
		link_image(rec);
	spin_unlock(&images_lock, f);
	if (!twin)
		return rec;
	frame_add_range(m->phys, MAX(rec->pages, 1));   /* the loader took at least a page */
	frame_note_reclaimed(MAX(rec->pages, 1));
	*given += MAX(rec->pages, 1);
	return twin;
}

void image_boot_init(void)
{
	const struct boot_info *bi = boot.info;
	const struct boot_module *mods = bi->modules_phys ? phys_to_virt(bi->modules_phys) : NULL;
	uint64_t t0 = rdtsc(), bytes = 0, given = 0;
	uint32_t n = 0;

	for (uint32_t i = 0; mods && i < bi->module_count && n < MANIFEST_MAX_GUESTS; i++) {
		const struct boot_module *m = &mods[i];

		if (m->kind != BOOT_MODULE_IMAGE || m->guest_index >= MANIFEST_MAX_GUESTS)
			continue;
		boot_of[m->guest_index] = boot_intern(m, &boot_images[n++], &given);
		bytes += m->size;
	}
	log_info("images: %u boot images hashed (%lu KiB) in %lu us, %u distinct; %lu KiB of duplicates given back",
		 n, bytes >> 10, tsc_to_ns(rdtsc() - t0) / 1000, image_count(), given * (PAGE_SIZE >> 10));
}

struct image *image_boot_get(uint32_t gi)
{
	uint64_t f = spin_lock(&images_lock);
	struct image *img = gi < MANIFEST_MAX_GUESTS ? boot_of[gi] : NULL;

	if (img)
		img->users++;
	spin_unlock(&images_lock, f);
	return img;
}

/* ---- names ------------------------------------------------------------------------ */

/* images_lock held: true and its index, or false and where it would go. */
static bool find_name(const char *name, uint32_t *pos)
{
	for (uint32_t i = 0; i < name_count; i++) {
		int c = strcmp(names[i].name, name);

		if (c >= 0) {
			*pos = i;
			return !c;
		}
	}
	*pos = name_count;
	return false;
}

static void describe(const struct name_slot *s, struct pv_domctl_image_entry *e)
{
	memset(e, 0, sizeof(*e));
	strlcpy(e->name, s->name, sizeof(e->name));
	memcpy(e->hash, s->img->hash, sizeof(e->hash));
	e->size = s->img->size;
	e->users = s->img->users;
	e->names = s->img->names;
}

/* images_lock held: room for one more name holding fresh's bytes?  The
 * bytes count against the limit only if no name holds them yet. */
static int admit(const struct image *twin, const struct image *fresh, uint64_t limit, char *err, size_t n)
{
	uint64_t need = twin && twin->names ? 0 : fresh->size, left = limit - MIN(named_bytes, limit);

	if (name_count == PV_DOMCTL_IMAGES_MAX)
		return snprintf(err, n, "image store full: all %u names (PV_DOMCTL_IMAGES_MAX) in use, 0 left",
				PV_DOMCTL_IMAGES_MAX), -ENOSPC;
	if (need > left)
		return snprintf(err, n, "image store full: the image needs %lu KiB, %lu KiB of the %lu KiB limit left",
				(need + 1023) >> 10, left >> 10, limit >> 10), -ENOSPC;
	return 0;
}

/* images_lock held: the name at pos, on fresh's twin or fresh itself. */
static struct image *insert(uint32_t pos, const char *name, struct image *fresh)
{
	struct image *img = lookup(fresh->hash);

	if (!img)
		link_image(img = fresh);
	if (!img->names++)
		named_bytes += img->size;
	memmove(&names[pos + 1], &names[pos], (name_count - pos) * sizeof(names[0]));
	strlcpy(names[pos].name, name, sizeof(names[pos].name));
	names[pos].img = img;
	name_count++;
	return img;
}

int image_name_add(const char *name, struct image *fresh, struct pv_domctl_image_entry *out,
		   char *err, size_t errn)
{
	uint64_t limit = image_limit(), f = spin_lock(&images_lock);
	struct image *kept = NULL;
	uint32_t pos;
	int r;

	if (find_name(name, &pos)) {
		r = memcmp(names[pos].img->hash, fresh->hash, SHA256_BYTES) ? -EEXIST : 1;
		if (r < 0)
			snprintf(err, errn, "name: it holds other bytes (remove it first)");
	} else if (!(r = admit(lookup(fresh->hash), fresh, limit, err, errn))) {
		kept = insert(pos, name, fresh);
	}
	if (r >= 0)
		describe(&names[pos], out);
	spin_unlock(&images_lock, f);
	if (kept != fresh)
		free_image(fresh);
	return r;
}

int image_name_remove(const char *name, struct pv_domctl_image_entry *out)
{
	uint64_t f = spin_lock(&images_lock);
	struct image *img = NULL;
	bool found, last = false;
	uint32_t pos;

	found = find_name(name, &pos);
	if (found) {
		describe(&names[pos], out);
		img = names[pos].img;
		if (!--img->names)
			named_bytes -= img->size;
		memmove(&names[pos], &names[pos + 1], (name_count - pos - 1) * sizeof(names[0]));
		name_count--;
		last = unlink_if_unused(img);
	}
	spin_unlock(&images_lock, f);
	if (last)
		free_image(img);
	return found ? 0 : -ENOENT;
}

uint32_t image_name_walk(uint32_t max, void (*fn)(const struct pv_domctl_image_entry *e, void *ctx), void *ctx)
{
	uint64_t f = spin_lock(&images_lock);
	struct pv_domctl_image_entry e;
	uint32_t total = name_count;

	for (uint32_t i = 0; i < name_count && i < max; i++) {
		describe(&names[i], &e);
		fn(&e, ctx);
	}
	spin_unlock(&images_lock, f);
	return total;
}

void image_name_stats(uint32_t *n, uint64_t *bytes)
{
	uint64_t f = spin_lock(&images_lock);

	*n = name_count;
	*bytes = named_bytes;
	spin_unlock(&images_lock, f);
}

/* A quarter of the memory the hypervisor manages: the store cannot starve
 * domains of memory, yet holds several images of the largest size on any
 * machine worth running domains on (64 MiB images: 1 GiB of RAM). */
uint64_t image_limit(void)
{
	struct frame_stats s;

	frame_stats(&s);
	return s.total * PAGE_SIZE / 4;
}
