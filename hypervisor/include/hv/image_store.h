/* Guest images created at run time (domctl CREATE), kept once per
 * content (SHA-256) and shared read-only by every domain running them;
 * freed with the last one (core/image_store.c).  Boot images stay where
 * the loader put them and are not in the store. */
#ifndef HV_IMAGE_STORE_H
#define HV_IMAGE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <hv/sha256.h>

struct guest_mem;

struct image {
	uint8_t hash[SHA256_BYTES];
	const void *bytes;         /* page-aligned copy in hypervisor frames */
	uint64_t size, pages;
	uint32_t refs;             /* domains running it (images_lock) */
	struct image *next;
};

/* Copy n bytes at gva of mem into hypervisor memory, then find the stored
 * image with the same content (one more reference) or store this one.
 * NULL with a message on failure.  Long: call with interrupts on and no
 * lock held. */
struct image *image_from_guest(const struct guest_mem *mem, uint64_t gva, uint64_t n,
			       char *err, size_t errn);
void image_put(struct image *img);
uint32_t image_count(void);

#endif
