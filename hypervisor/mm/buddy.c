/* Binary buddy allocator (see hv/buddy.h).  Freestanding, no locks. */
#include <hv/buddy.h>
#include <hv/lib.h>

/* A frame's state byte: 0 while unmanaged; ST_USED | zone while allocated
 * or inside a free block; ST_FREE | zone << 5 | order at a free block's
 * head.  Only heads change as blocks split and merge. */
#define ST_HOLE    0x00
#define ST_USED    0x40
#define ST_FREE    0x80
#define ZONE_SHIFT 5
#define ORDER_MASK 0x1f

_Static_assert(BUDDY_ORDERS <= ORDER_MASK + 1 && BUDDY_ZONES <= 4, "state byte layout");

static uint8_t used_state(unsigned zone)
{
	return (uint8_t)(ST_USED | zone);
}

static uint8_t free_state(unsigned zone, unsigned order)
{
	return (uint8_t)(ST_FREE | zone << ZONE_SHIFT | order);
}

static unsigned zone_of(uint8_t s)
{
	return s & ST_FREE ? (s >> ZONE_SHIFT) & 3 : s & 3;
}

size_t buddy_meta_bytes(uint32_t frames)
{
	return (size_t)frames * (2 * sizeof(uint32_t) + 1);
}

void buddy_init(struct buddy *b, void *meta, uint32_t frames)
{
	b->frames = frames;
	b->next = meta;
	b->prev = b->next + frames;
	b->state = (uint8_t *)(b->prev + frames);
	memset(b->state, ST_HOLE, frames);
	memset(b->head, 0xff, sizeof(b->head));     /* every list BUDDY_NONE */
	b->free = 0;
}

/* ---- free lists ------------------------------------------------------------- */

static void list_push(struct buddy *b, uint32_t f, unsigned zone, unsigned order)
{
	uint32_t *head = &b->head[zone][order];

	b->next[f] = *head;
	b->prev[f] = BUDDY_NONE;
	if (*head != BUDDY_NONE)
		b->prev[*head] = f;
	*head = f;
	b->state[f] = free_state(zone, order);
	b->free += 1ull << order;
}

static void list_remove(struct buddy *b, uint32_t f)
{
	unsigned zone = zone_of(b->state[f]), order = b->state[f] & ORDER_MASK;

	if (b->prev[f] != BUDDY_NONE)
		b->next[b->prev[f]] = b->next[f];
	else
		b->head[zone][order] = b->next[f];
	if (b->next[f] != BUDDY_NONE)
		b->prev[b->next[f]] = b->prev[f];
	b->state[f] = used_state(zone);
	b->free -= 1ull << order;
}

/* ---- freeing: merge with the buddy while it is free as a whole -------------- */

static void free_block(struct buddy *b, uint32_t f, unsigned order)
{
	unsigned zone = zone_of(b->state[f]);

	for (; order + 1 < BUDDY_ORDERS; order++) {
		uint32_t buddy = f ^ (1u << order);

		if (buddy >= b->frames || b->state[buddy] != free_state(zone, order))
			break;
		list_remove(b, buddy);
		f &= ~(1u << order);
	}
	list_push(b, f, zone, order);
}

/* The largest block that starts at f, is aligned to its size and ends by end. */
static unsigned block_order(uint64_t f, uint64_t end)
{
	unsigned k = 0;

	while (k + 1 < BUDDY_ORDERS && !(f & ((2ull << k) - 1)) && f + (2ull << k) <= end)
		k++;
	return k;
}

static void free_range(struct buddy *b, uint64_t f, uint64_t end)
{
	while (f < end) {
		unsigned k = block_order(f, end);

		free_block(b, (uint32_t)f, k);
		f += 1ull << k;
	}
}

/* ---- checks ------------------------------------------------------------------ */

static bool in_range(const struct buddy *b, uint64_t first, uint64_t n)
{
	return n && first < b->frames && n <= b->frames - first;
}

/* Inside a free block: some aligned block around f is a free head of
 * exactly that order. */
static bool in_free_block(const struct buddy *b, uint32_t f)
{
	for (unsigned k = 0; k < BUDDY_ORDERS; k++) {
		uint8_t s = b->state[f & ~((1u << k) - 1)];

		if ((s & ST_FREE) && (s & ORDER_MASK) == k)
			return true;
	}
	return false;
}

static bool all_allocated(const struct buddy *b, uint64_t first, uint64_t n)
{
	for (uint64_t f = first; f < first + n; f++)
		if (b->state[f] == ST_HOLE || in_free_block(b, (uint32_t)f))
			return false;
	return true;
}

static bool all_unmanaged(const struct buddy *b, uint64_t first, uint64_t n)
{
	for (uint64_t f = first; f < first + n; f++)
		if (b->state[f] != ST_HOLE)
			return false;
	return true;
}

/* ---- the interface ----------------------------------------------------------- */

int buddy_add(struct buddy *b, uint64_t first, uint64_t n, unsigned zone)
{
	if (zone >= BUDDY_ZONES || !in_range(b, first, n) || !all_unmanaged(b, first, n))
		return -1;
	memset(b->state + first, used_state(zone), n);
	free_range(b, first, first + n);
	return 0;
}

int buddy_free(struct buddy *b, uint64_t first, uint64_t n)
{
	if (!in_range(b, first, n) || !all_allocated(b, first, n))
		return -1;
	free_range(b, first, first + n);
	return 0;
}

/* Take the free block at f of order k, keeping the first 2^want frames:
 * the upper halves split off go back on their lists. */
static void take(struct buddy *b, uint32_t f, unsigned k, unsigned want)
{
	unsigned zone = zone_of(b->state[f]);

	list_remove(b, f);
	while (k > want) {
		k--;
		list_push(b, f + (1u << k), zone, k);
	}
}

static unsigned order_for(uint64_t n)
{
	unsigned k = 0;

	while ((1ull << k) < n)
		k++;
	return k;
}

int buddy_alloc(struct buddy *b, uint64_t n, uint32_t *first)
{
	unsigned want = order_for(n);

	if (!n || want >= BUDDY_ORDERS)
		return -1;
	for (unsigned z = 0; z < BUDDY_ZONES; z++)
		for (unsigned k = want; k < BUDDY_ORDERS; k++) {
			uint32_t f = b->head[z][k];

			if (f == BUDDY_NONE)
				continue;
			take(b, f, k, want);
			free_range(b, f + n, f + (1ull << want));   /* the tail beyond n */
			*first = f;
			return 0;
		}
	return -1;
}

int buddy_largest_order(const struct buddy *b)
{
	for (int k = BUDDY_ORDERS - 1; k >= 0; k--)
		for (unsigned z = 0; z < BUDDY_ZONES; z++)
			if (b->head[z][k] != BUDDY_NONE)
				return k;
	return -1;
}
