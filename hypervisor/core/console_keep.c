/* Consoles of ended domains (hv/console_keep.h).  A fixed table used
 * round-robin: the oldest kept console makes room for the newest.
 * keep_lock guards the table and the copies' bytes; readers copy out to
 * the caller under it, so a copy never changes while it is read. */
#include <hv/console_keep.h>
#include <hv/domain.h>
#include <hv/lib.h>
#include <hv/lock.h>

struct kept {
	uint32_t id;                      /* 0: free */
	struct text_ring ring;
};

static struct spinlock keep_lock = SPINLOCK_INIT("console-keep", LOCK_RANK_CONSOLE_KEEP);
static struct kept kept[CONSOLE_KEEP_MAX];
static char bytes[CONSOLE_KEEP_MAX][CONSOLE_RING_BYTES];
static uint32_t next_slot;

void console_keep(const struct domain *d)
{
	uint64_t f = spin_lock(&keep_lock);
	uint32_t i = next_slot++ % CONSOLE_KEEP_MAX;

	kept[i].id = d->id;
	text_ring_init(&kept[i].ring, bytes[i], CONSOLE_RING_BYTES);
	memcpy(bytes[i], d->console.ring.buf, CONSOLE_RING_BYTES);   /* same size: same layout */
	kept[i].ring.head = text_ring_head(&d->console.ring);
	spin_unlock(&keep_lock, f);
}

bool console_kept(uint32_t id, void (*fn)(const struct text_ring *ring, void *ctx), void *ctx)
{
	uint64_t f = spin_lock(&keep_lock);
	bool found = false;

	for (uint32_t i = 0; i < CONSOLE_KEEP_MAX && !found && id; i++) {
		found = kept[i].id == id;
		if (found)
			fn(&kept[i].ring, ctx);
	}
	spin_unlock(&keep_lock, f);
	return found;
}
