/* The run-time image store (hv/image_store.h).  images_lock guards the
 * list and every reference count; it is never held while bytes are
 * copied or hashed. */
#include <public/domctl.h>
#include <hv/errno.h>
#include <hv/guest_mem.h>
#include <hv/image_store.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/lock.h>
#include <hv/mm.h>

static struct spinlock images_lock = SPINLOCK_INIT("images", LOCK_RANK_IMAGES);
static struct image *images;
static uint32_t count;

/* The struct and the bytes share one run of frames (the struct on the
 * first), so a freed image returns exactly what it took. */
static void free_image(struct image *img)
{
	frame_free_contig(virt_to_phys(img), img->pages + 1);
}

/* The stored twin of img (one more reference), or img itself, now stored. */
static struct image *intern(struct image *img)
{
	uint64_t f = spin_lock(&images_lock);
	struct image *i = images;

	while (i && memcmp(i->hash, img->hash, SHA256_BYTES))
		i = i->next;
	if (i) {
		i->refs++;
	} else {
		img->refs = 1;
		img->next = images;
		images = img;
		count++;
	}
	spin_unlock(&images_lock, f);
	if (i)
		free_image(img);
	return i ? i : img;
}

static struct image *copy_in(const struct guest_mem *mem, uint64_t gva, uint64_t n, char *err, size_t errn)
{
	uint64_t pages = PAGE_ALIGN_UP(n) / PAGE_SIZE, pa = frame_alloc_contig(pages + 1);
	struct image *img;

	if (!pa) {
		snprintf(err, errn, "out of memory: the image needs %lu KiB contiguous", (pages + 1) * 4);
		return NULL;
	}
	img = phys_to_virt(pa);
	img->bytes = (char *)img + PAGE_SIZE;
	img->size = n;
	img->pages = pages;
	if (guest_copy_from(mem, (void *)img->bytes, gva, n)) {
		snprintf(err, errn, "the image is not readable memory of the caller");
		free_image(img);
		return NULL;
	}
	return img;
}

struct image *image_from_guest(const struct guest_mem *mem, uint64_t gva, uint64_t n,
			       char *err, size_t errn)
{
	struct image *img;

	if (!n || n > PV_DOMCTL_IMAGE_MAX) {
		snprintf(err, errn, "image_size must be 1..%u bytes", PV_DOMCTL_IMAGE_MAX);
		return NULL;
	}
	img = copy_in(mem, gva, n, err, errn);
	if (!img)
		return NULL;
	sha256(img->bytes, n, img->hash);
	return intern(img);
}

void image_put(struct image *img)
{
	uint64_t f = spin_lock(&images_lock);
	struct image **pp = &images;
	bool last = --img->refs == 0;

	if (last) {
		while (*pp != img)
			pp = &(*pp)->next;
		*pp = img->next;
		count--;
	}
	spin_unlock(&images_lock, f);
	if (last)
		free_image(img);
}

uint32_t image_count(void)
{
	return __atomic_load_n(&count, __ATOMIC_RELAXED);
}
