/* Byte ring read by offset (see hv/text_ring.h). */
#include <hv/lib.h>
#include <hv/text_ring.h>

void text_ring_init(struct text_ring *r, void *buf, uint32_t size)
{
	r->buf = buf;
	r->size = size;
	r->head = 0;
}

void text_ring_append(struct text_ring *r, const void *p, size_t n)
{
	const char *s = p;
	uint64_t h = r->head;
	size_t at, first;

	if (n > r->size) {            /* only the last size bytes can stay */
		h += n - r->size;
		s += n - r->size;
		n = r->size;
	}
	at = h & (r->size - 1);
	first = MIN(n, r->size - at);          /* up to the end, then from the start */
	memcpy(r->buf + at, s, first);
	memcpy(r->buf, s + first, n - first);
	__atomic_store_n(&r->head, h + n, __ATOMIC_RELEASE);
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t oldest(const struct text_ring *r, uint64_t head)
{
	return head > r->size ? head - r->size : 0;
}

size_t text_ring_read(const struct text_ring *r, uint64_t from, void *out, size_t len, uint64_t *start)
{
	char *o = out;
	uint64_t head = text_ring_head(r), s = max_u64(from, oldest(r, head)), valid;
	size_t n = s < head ? (size_t)(head - s < len ? head - s : len) : 0, lost;

	for (size_t i = 0; i < n; i++)
		o[i] = __atomic_load_n(&r->buf[(s + i) & (r->size - 1)], __ATOMIC_RELAXED);
	/* what the writer overwrote while we copied is not ours to return */
	valid = oldest(r, text_ring_head(r));
	lost = valid > s ? (size_t)(valid - s < n ? valid - s : n) : 0;
	for (size_t i = lost; i < n; i++)
		o[i - lost] = o[i];
	*start = s + lost;
	return n - lost;
}
