/* Checked access to guest memory (see hv/guest_mem.h). */
#include <hv/errno.h>
#include <hv/guest_mem.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/mm.h>

static bool in_range(const struct guest_mem *mem, uint64_t gva, uint64_t len)
{
	uint64_t end;

	if (__builtin_add_overflow(gva, len, &end))
		return false;
	return gva >= mem->base && end <= mem->base + mem->pages * PAGE_SIZE;
}

int guest_check(const struct guest_mem *mem, uint64_t gva, uint64_t len, bool write)
{
	uint64_t first, last;

	if (!len)
		return 0;
	if (!in_range(mem, gva, len))
		return -EFAULT;
	first = (gva - mem->base) / PAGE_SIZE;
	last = (gva + len - 1 - mem->base) / PAGE_SIZE;
	for (uint64_t p = first; p <= last; p++) {
		uint64_t f = mem->frame[p];
		int r;

		/* Backing a lazy page, or copying a copy-on-write one, changes
		 * nothing the caller can see (the bytes read the same), hence
		 * the cast. */
		if (((!(f & ~GF_FLAGS) && (f & GF_LAZY)) || (write && (f & GF_COW))) && mem->populate) {
			r = mem->populate((struct guest_mem *)mem, p);
			if (r == -EAGAIN)
				return r;
			f = mem->frame[p];
		}
		if (!(f & ~GF_FLAGS) || (write && (!(f & GF_WRITE) || (f & GF_COW))))
			return -EFAULT;
	}
	return 0;
}

static void *page_ptr(const struct guest_mem *mem, uint64_t gva)
{
	uint64_t off = gva - mem->base;

	return (char *)phys_to_virt(mem->frame[off / PAGE_SIZE] & ~GF_FLAGS) + off % PAGE_SIZE;
}

int guest_copy_from(const struct guest_mem *mem, void *dst, uint64_t gva, uint64_t len)
{
	char *d = dst;
	int r = guest_check(mem, gva, len, false);

	if (r)
		return r;
	while (len) {
		uint64_t chunk = MIN(len, PAGE_SIZE - gva % PAGE_SIZE);

		memcpy(d, page_ptr(mem, gva), chunk);
		d += chunk;
		gva += chunk;
		len -= chunk;
	}
	return 0;
}

/* Set after the copy: a live save that clears the mark between the two
 * sends the page again in its next round, never misses the new bytes. */
static void mark_dirty(const struct guest_mem *mem, uint64_t gva)
{
	__atomic_fetch_or(&mem->frame[(gva - mem->base) / PAGE_SIZE], GF_DIRTY, __ATOMIC_RELEASE);
}

int guest_copy_to(const struct guest_mem *mem, uint64_t gva, const void *src, uint64_t len)
{
	const char *s = src;
	int r = guest_check(mem, gva, len, true);

	if (r)
		return r;
	while (len) {
		uint64_t chunk = MIN(len, PAGE_SIZE - gva % PAGE_SIZE);

		memcpy(page_ptr(mem, gva), s, chunk);
		mark_dirty(mem, gva);
		s += chunk;
		gva += chunk;
		len -= chunk;
	}
	return 0;
}

int guest_unshare(const struct guest_mem *mem, uint64_t gva, uint64_t len)
{
	if (!len)
		return 0;
	if (!in_range(mem, gva, len))
		return -EFAULT;
	for (uint64_t p = (gva - mem->base) / PAGE_SIZE; p <= (gva + len - 1 - mem->base) / PAGE_SIZE; p++) {
		int r = (mem->frame[p] & GF_COW) && mem->populate ?
			mem->populate((struct guest_mem *)mem, p) : 0;

		if (r)
			return r;
	}
	return 0;
}
