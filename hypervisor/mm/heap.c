/* Kernel heap: power-of-two size classes from 32 B to 2 KiB carved from
 * whole frames, larger blocks as contiguous frames.  Every block carries a
 * 16-byte header so kfree needs no size and can catch a bad pointer. */
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/lock.h>
#include <hv/mm.h>

#define HEAP_MAGIC   0x48454150u   /* "HEAP" */
#define MIN_SHIFT    5
#define MAX_SHIFT    11
#define CLASSES      (MAX_SHIFT - MIN_SHIFT + 1)
#define LARGE_CLASS  0xff

struct header {
	uint32_t magic;
	uint8_t cls;          /* size class or LARGE_CLASS */
	uint8_t pad[3];
	uint64_t pages;       /* LARGE_CLASS only */
};
_Static_assert(sizeof(struct header) == 16, "heap header keeps 16-byte alignment");

struct free_block { struct free_block *next; };

static struct free_block *free_lists[CLASSES];
static uint64_t in_use;
/* Guards the free lists and in_use. */
static struct spinlock heap_lock = SPINLOCK_INIT("heap", LOCK_RANK_HEAP);

static int size_class(size_t total)
{
	for (int c = 0; c < CLASSES; c++)
		if (total <= (1UL << (c + MIN_SHIFT)))
			return c;
	return -1;
}

static bool refill(int c)
{
	uint64_t pa = frame_alloc();
	size_t sz = 1UL << (c + MIN_SHIFT);
	char *page;

	if (!pa)
		return false;
	page = phys_to_virt(pa);
	for (size_t off = 0; off + sz <= PAGE_SIZE; off += sz) {
		struct free_block *b = (struct free_block *)(page + off);

		b->next = free_lists[c];
		free_lists[c] = b;
	}
	return true;
}

static void *alloc_large(size_t total)
{
	uint64_t pages = PAGE_ALIGN_UP(total) / PAGE_SIZE;
	uint64_t pa = frame_alloc_contig(pages);
	struct header *h;

	if (!pa)
		return NULL;
	h = phys_to_virt(pa);
	h->magic = HEAP_MAGIC;
	h->cls = LARGE_CLASS;
	h->pages = pages;
	in_use += pages * PAGE_SIZE;
	return h + 1;
}

static void *kmalloc_locked(size_t n)
{
	size_t total = n + sizeof(struct header);
	int c = size_class(total);
	struct header *h;

	if (n > (1UL << 40))
		return NULL;
	if (c < 0)
		return alloc_large(total);
	if (!free_lists[c] && !refill(c))
		return NULL;
	h = (struct header *)free_lists[c];
	free_lists[c] = free_lists[c]->next;
	h->magic = HEAP_MAGIC;
	h->cls = (uint8_t)c;
	in_use += 1UL << (c + MIN_SHIFT);
	return h + 1;
}

void *kmalloc(size_t n)
{
	uint64_t f = spin_lock(&heap_lock);
	void *p = kmalloc_locked(n);

	spin_unlock(&heap_lock, f);
	return p;
}

void *kzalloc(size_t n)
{
	void *p = kmalloc(n);

	if (p)
		memset(p, 0, n);
	return p;
}

static void kfree_locked(void *p)
{
	struct header *h;
	struct free_block *b;
	uint8_t c;

	if (!p)
		return;
	h = (struct header *)p - 1;
	if (h->magic != HEAP_MAGIC || (h->cls >= CLASSES && h->cls != LARGE_CLASS))
		panic("kfree: bad pointer %p", p);
	h->magic = 0;
	c = h->cls;
	if (c == LARGE_CLASS) {
		in_use -= h->pages * PAGE_SIZE;
		frame_free_contig(virt_to_phys(h), h->pages);
		return;
	}
	in_use -= 1UL << (c + MIN_SHIFT);
	b = (struct free_block *)h;   /* overwrites the header: c read above */
	b->next = free_lists[c];
	free_lists[c] = b;
}

void kfree(void *p)
{
	uint64_t f;

	if (!p)
		return;
	f = spin_lock(&heap_lock);
	kfree_locked(p);
	spin_unlock(&heap_lock, f);
}

uint64_t heap_bytes_in_use(void)
{
	return in_use;
}
