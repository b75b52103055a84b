/* A byte ring read by offset: the newest `size` bytes of everything ever
 * appended, each byte named by its offset in that stream (a 64-bit count
 * that never wraps).  A reader asks for bytes from an offset and learns
 * where its copy really started (later, when older bytes were overwritten)
 * and where to ask next, so nothing is read twice and a loss is visible.
 *
 * One writer at a time (the caller serializes appends); readers need no
 * lock: they copy, then check that the writer did not overwrite what they
 * copied meanwhile, and drop what it did.  Freestanding (unit test:
 * tests/unit/test_text_ring.c). */
#ifndef HV_TEXT_RING_H
#define HV_TEXT_RING_H

#include <stddef.h>
#include <stdint.h>

struct text_ring {
	char *buf;
	uint32_t size;            /* a power of two */
	uint64_t head;            /* bytes ever appended; published with release */
};

void text_ring_init(struct text_ring *r, void *buf, uint32_t size);
void text_ring_append(struct text_ring *r, const void *p, size_t n);

/* Up to len bytes from offset `from` (or from the oldest kept, if that is
 * later) into out.  *start: offset of out[0]; returns the bytes copied
 * (0 when from is at or past the head). */
size_t text_ring_read(const struct text_ring *r, uint64_t from, void *out, size_t len, uint64_t *start);

static inline uint64_t text_ring_head(const struct text_ring *r)
{
	return __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
}

#endif
