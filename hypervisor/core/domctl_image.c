/* domctl IMAGE_ADD, IMAGE_REMOVE and IMAGE_LIST (public/domctl.h): the
 * named image store's boundary.  The caller's structure is already our
 * copy (core/domctl.c); here the name is checked, the image bytes copied
 * in once and checked exactly as a boot image is (domain_image_check),
 * and the store (core/image_store.c) decides under its lock. */
#include <public/domctl.h>
#include <hv/domain.h>
#include <hv/domctl.h>
#include <hv/errno.h>
#include <hv/image_store.h>
#include <hv/lib.h>
#include <hv/x86.h>

#define MSG(q) (q)->hdr.message, sizeof((q)->hdr.message)

static int64_t fail(struct pv_domctl_hdr *h, int64_t r, const char *msg)
{
	strlcpy(h->message, msg, sizeof(h->message));
	return r;
}

/* A domain name that is not all digits (so a name never reads as an id). */
static bool image_name_ok(const char *name)
{
	size_t len = strnlen(name, PV_NAME_MAX);

	if (!domctl_name_ok(name))
		return false;
	for (size_t i = 0; i < len; i++)
		if (name[i] < '0' || name[i] > '9')
			return true;
	return false;
}

/* The fresh copy's ELF checked like a boot image's; false with the loader's
 * message.  The check only reads, so it runs without a lock. */
static bool image_ok(const struct image *fresh, char *err, size_t n)
{
	struct elf_image elf;

	return fresh->elf_ok || !domain_image_check(fresh->bytes, fresh->size, &elf, err, n);
}

/* Copy in, check and hash with interrupts on (O(size); the caller's own
 * hypercall, which nothing preempts, so its memory holds still). */
static struct image *fresh_image(struct domain *caller, struct pv_domctl_image *q, int64_t *r)
{
	struct image *fresh;

	sti();
	fresh = image_copy_in(&caller->mem, q->image_gva, q->image_size, r, MSG(q));
	if (fresh && !image_ok(fresh, MSG(q))) {
		image_discard(fresh);
		fresh = NULL;
		*r = -EINVAL;
	}
	cli();
	return fresh;
}

/* The name checked (NUL terminated within the field) and copied out of
 * the entry, which then carries only what we write. */
static int64_t take_name(struct pv_domctl_image *q, char name[PV_NAME_MAX])
{
	q->flags = 0;
	if (q->reserved || !image_name_ok(q->entry.name))
		return fail(&q->hdr, -EINVAL, "name: 1..31 of A-Z a-z 0-9 _ . -, not all digits (reserved must be 0)");
	strlcpy(name, q->entry.name, PV_NAME_MAX);
	memset(&q->entry, 0, sizeof(q->entry));
	return 0;
}

int64_t domctl_image_add(struct domain *caller, struct pv_domctl_image *q)
{
	char name[PV_NAME_MAX];
	struct image *fresh;
	int64_t r = take_name(q, name);

	if (r)
		return r;
	fresh = fresh_image(caller, q, &r);
	if (!fresh)
		return r;
	r = image_name_add(name, fresh, &q->entry, MSG(q));
	if (r == 1)
		q->flags = PV_DOMCTL_IMAGE_EXISTED;
	return r == 1 ? 0 : r;
}

int64_t domctl_image_remove(struct domain *caller, struct pv_domctl_image *q)
{
	char name[PV_NAME_MAX];
	int64_t r = take_name(q, name);

	(void)caller;
	if (r)
		return r;
	if (image_name_remove(name, &q->entry))
		return fail(&q->hdr, -ENOENT, "no image by that name");
	return 0;
}

struct image_listing { struct domain *caller; struct pv_domctl_image_list *l; };

/* Straight into the caller's buffer, checked writable beforehand. */
static void emit(const struct pv_domctl_image_entry *e, void *ctx)
{
	struct image_listing *w = ctx;

	guest_copy_to(&w->caller->mem, w->l->buf_gva + (uint64_t)w->l->count++ * sizeof(*e), e, sizeof(*e));
}

int64_t domctl_image_list(struct domain *caller, struct pv_domctl_image_list *l)
{
	struct image_listing w = { caller, l };

	l->count = l->total = 0;
	if (l->max > PV_DOMCTL_IMAGES_MAX || l->reserved)
		return fail(&l->hdr, -EINVAL, "max is above PV_DOMCTL_IMAGES_MAX (or reserved is set)");
	if (guest_check(&caller->mem, l->buf_gva, (uint64_t)l->max * sizeof(struct pv_domctl_image_entry), true))
		return fail(&l->hdr, -EFAULT, "the list buffer is not writable memory of the caller");
	l->total = image_name_walk(l->max, emit, &w);
	return 0;
}
