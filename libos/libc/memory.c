/* The heap: newlib's malloc grows it with sbrk() inside the range the
 * hypervisor gave this domain (start_info heap_start..heap_end, mapped and
 * zeroed).  There is no way to get more: beyond it malloc returns NULL
 * with errno ENOMEM.  The stack lives elsewhere, above a guard page. */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <unistd.h>

#include "libos.h"

static uintptr_t heap_start, heap_cur, heap_end;

void libos_heap_init(uint64_t start, uint64_t end)
{
	heap_start = start;
	heap_cur = start;
	heap_end = end;
}

void *sbrk(ptrdiff_t incr)
{
	uintptr_t old = heap_cur;

	if (incr > 0 ? (uintptr_t)incr > heap_end - old :
		       (uintptr_t)-incr > old - heap_start) {
		libos_fail(ENOMEM);
		return (void *)-1;
	}
	heap_cur += incr;
	return (void *)old;
}

/* newlib 3.3 has memalign() but not posix_memalign(), which its own
 * aligned_alloc() calls. */
int posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	p = memalign(align, size);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}
