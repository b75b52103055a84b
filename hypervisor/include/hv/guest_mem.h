/* Guest memory as the hypervisor sees it, and the ONE place where a guest
 * address is checked: every hypercall argument and every ring descriptor
 * goes through guest_check / guest_copy_*.  Guest memory is reached via
 * each page's frame (direct map), never through the guest's own mapping,
 * so SMAP stays on and a backend can serve a domain that is not running. */
#ifndef HV_GUEST_MEM_H
#define HV_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Per-page entry: physical frame | flags.  0 = not backed (guard page). */
#define GF_WRITE   (1UL << 0)   /* the guest may write it, so may we on its behalf */
#define GF_EXEC    (1UL << 1)
#define GF_LAZY    (1UL << 2)   /* valid, backed on first touch (demand-zero) */
#define GF_SHARED  (1UL << 3)   /* the image's own page, read-only, not ours to free */
#define GF_COW     (1UL << 4)   /* a snapshot's page, mapped read-only: copied on the first
				 * write (a clone's; the snapshot owns the frame) */
#define GF_DIRTY   (1UL << 5)   /* the hypervisor wrote it for the guest (guest_copy_to): a
				 * live save's dirty log beside the PTEs' own dirty bits */
#define GF_FLAGS   0xfffUL

struct guest_mem {
	uint64_t base;              /* gva of page 0 */
	uint64_t pages;
	uint64_t *frame;            /* [pages] */
	/* Back lazy page index with a zeroed frame, or give a copy-on-write
	 * page a frame of its own; 0, -ENOMEM, or -EAGAIN (a copy-on-write
	 * page of a domain running on another CPU: try again later).  NULL:
	 * lazy pages count as unbacked. */
	int (*populate)(struct guest_mem *mem, uint64_t index);
};

/* 0 when [gva, gva + len) lies inside mem, every page is backed (lazy pages
 * are backed now) and, with write, writable (copy-on-write pages copied
 * now); else -EFAULT, or -EAGAIN (see populate).
 * Overflow-checked.  len 0 is always ok. */
int guest_check(const struct guest_mem *mem, uint64_t gva, uint64_t len, bool write);
int guest_copy_from(const struct guest_mem *mem, void *dst, uint64_t gva, uint64_t len);
/* The copy-on-write pages in [gva, gva + len) copied now (lazy ones are
 * left as they are); 0, -EFAULT outside mem, or populate's error. */
int guest_unshare(const struct guest_mem *mem, uint64_t gva, uint64_t len);
/* Marks every page it wrote GF_DIRTY, after the bytes are in. */
int guest_copy_to(const struct guest_mem *mem, uint64_t gva, const void *src, uint64_t len);

#endif
