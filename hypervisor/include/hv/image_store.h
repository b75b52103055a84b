/* Guest images kept once per content (SHA-256) and shared read-only by
 * every domain running them (core/image_store.c):
 *   - boot images, hashed when the hypervisor starts and kept for good
 *     where the loader put them (a second module with the same bytes is
 *     given back to the frame allocator);
 *   - run-time images, copied in from a privileged caller (domctl CREATE
 *     or IMAGE_ADD) and freed with their last reference;
 *   - names (domctl IMAGE_*): up to PV_DOMCTL_IMAGES_MAX, each holding one
 *     reference on the bytes it names, so that images outlive the control
 *     domain that added them.
 * One lock, `images`, guards the list, the names and every count; it is
 * never held while bytes are copied or hashed. */
#ifndef HV_IMAGE_STORE_H
#define HV_IMAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <hv/elf_image.h>
#include <hv/sha256.h>

struct guest_mem;
struct pv_domctl_image_entry;

struct image {
	uint8_t hash[SHA256_BYTES];
	const void *bytes;         /* page-aligned, never written */
	uint64_t size, pages;
	uint32_t users;            /* live domains running it (images lock) */
	uint32_t names;            /* names holding it (images lock) */
	bool boot;                 /* a boot module: kept for good */
	/* The bytes' ELF, parsed once when stored (they never change), so a
	 * create does not parse again; when elf_ok is false a build parses
	 * anyway, for the loader's message. */
	bool elf_ok;
	struct elf_image elf;
	struct image *next;
};

/* ---- images by content ---------------------------------------------------- */

/* Copy n bytes at gva of mem into hypervisor memory, then find the stored
 * image with the same content (one more user) or store this one.  NULL
 * with a message on failure.  Long: call with interrupts on, no lock held. */
struct image *image_from_guest(const struct guest_mem *mem, uint64_t gva, uint64_t n,
			       char *err, size_t errn);
/* The stored image with this hash, one more user taken under the lock (a
 * racing REMOVE cannot free it); NULL: none. */
struct image *image_find(const uint8_t hash[SHA256_BYTES]);
/* Drop a user; the bytes go with the last reference (never a boot image's). */
void image_put(struct image *img);
uint32_t image_count(void);          /* distinct images stored */

/* ---- boot images ------------------------------------------------------------ */

/* Hash and intern every module the loader read; before any domain exists. */
void image_boot_init(void);
/* Manifest guest gi's image, one more user; NULL: it was not loaded. */
struct image *image_boot_get(uint32_t gi);

/* ---- names (domctl IMAGE_ADD, IMAGE_REMOVE, IMAGE_LIST) ----------------------- */

/* A fresh copy of the caller's bytes, hashed, not stored; NULL with the
 * error (-EINVAL, -ENOMEM) and a message.  Long: interrupts on. */
struct image *image_copy_in(const struct guest_mem *mem, uint64_t gva, uint64_t n, int64_t *r,
			    char *err, size_t errn);
void image_discard(struct image *fresh);
/* Store fresh (consumed in every case) under name: 0 stored, 1 the name
 * already held these bytes, -EEXIST other bytes, -ENOSPC no room (names or
 * the byte limit; the message says which and what is left).  out: the entry. */
int image_name_add(const char *name, struct image *fresh, struct pv_domctl_image_entry *out,
		   char *err, size_t errn);
/* Drop name; out: its entry as it was.  -ENOENT if no such name. */
int image_name_remove(const char *name, struct pv_domctl_image_entry *out);
/* fn(entry, ctx) for the first max names in name order, under the lock;
 * the number of names in all. */
uint32_t image_name_walk(uint32_t max, void (*fn)(const struct pv_domctl_image_entry *e, void *ctx),
			 void *ctx);
/* Names, and bytes of the distinct images they hold. */
void image_name_stats(uint32_t *names, uint64_t *bytes);
/* The most those bytes may grow to: a quarter of the memory managed. */
uint64_t image_limit(void);

#endif
