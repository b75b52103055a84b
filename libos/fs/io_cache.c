/* The block cache (see io_cache.h).  A fixed array of slots, a hash of
 * block numbers over them and an LRU list; one staging buffer turns runs
 * of neighbouring blocks into single device requests both ways. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "io_cache.h"

#define STAGE_BYTES (128u << 10)     /* longest device request */
#define READ_AHEAD  (64u << 10)      /* beyond a sequential read */

struct slot {
	uint64_t block;
	uint8_t *data;
	int valid, dirty;
	struct slot *hnext;              /* hash chain */
	struct slot *prev, *next;        /* LRU: head is the most recent */
};

struct io_cache {
	unsigned bsize;
	size_t nslots, nbuckets;
	struct slot *slots;
	struct slot **bucket;
	struct slot lru;                 /* list head */
	uint8_t *stage;                  /* reads: runs of missing blocks */
	uint8_t *wstage;                 /* write-back (which a read may cause) */
	uint64_t next_seq;               /* the block a sequential read asks next */
	io_dev_fn *fn;
	void *dev;
};

/* ---- lists ------------------------------------------------------------------ */

static void lru_unlink(struct slot *s)
{
	s->prev->next = s->next;
	s->next->prev = s->prev;
}

static void lru_front(struct io_cache *c, struct slot *s)
{
	s->next = c->lru.next;
	s->prev = &c->lru;
	c->lru.next->prev = s;
	c->lru.next = s;
}

static struct slot **chain(struct io_cache *c, uint64_t block)
{
	return &c->bucket[(block * 0x9E3779B97F4A7C15ull >> 20) & (c->nbuckets - 1)];
}

static struct slot *find(struct io_cache *c, uint64_t block)
{
	for (struct slot *s = *chain(c, block); s; s = s->hnext)
		if (s->block == block)
			return s;
	return NULL;
}

static void unhash(struct io_cache *c, struct slot *s)
{
	for (struct slot **p = chain(c, s->block); *p; p = &(*p)->hnext)
		if (*p == s) {
			*p = s->hnext;
			break;
		}
	s->valid = s->dirty = 0;
}

/* ---- setup ------------------------------------------------------------------- */

struct io_cache *io_cache_new(unsigned bsize, size_t bytes, io_dev_fn *fn, void *dev)
{
	struct io_cache *c = calloc(1, sizeof(*c));
	size_t n = bytes / bsize < 16 ? 16 : bytes / bsize;

	if (!c)
		return NULL;
	*c = (struct io_cache){ .bsize = bsize, .nslots = n, .fn = fn, .dev = dev };
	for (c->nbuckets = 1; c->nbuckets < n; c->nbuckets <<= 1)
		;
	c->slots = calloc(n, sizeof(*c->slots));
	c->bucket = calloc(c->nbuckets, sizeof(*c->bucket));
	c->stage = malloc(STAGE_BYTES > bsize ? STAGE_BYTES : bsize);
	c->wstage = malloc(STAGE_BYTES > bsize ? STAGE_BYTES : bsize);
	uint8_t *mem = malloc(n * bsize);

	if (!c->slots || !c->bucket || !c->stage || !c->wstage || !mem) {
		free(mem);
		io_cache_free(c);
		return NULL;
	}
	c->lru.next = c->lru.prev = &c->lru;
	for (size_t i = 0; i < n; i++) {
		c->slots[i].data = mem + i * bsize;
		lru_front(c, &c->slots[i]);
	}
	return c;
}

unsigned io_cache_bsize(const struct io_cache *c)
{
	return c->bsize;
}

void io_cache_free(struct io_cache *c)
{
	if (!c)
		return;
	if (c->slots)
		free(c->slots[0].data);
	free(c->slots);
	free(c->bucket);
	free(c->stage);
	free(c->wstage);
	free(c);
}

/* ---- write-back ---------------------------------------------------------------- */

static int by_block(const void *a, const void *b)
{
	const struct slot *x = *(struct slot *const *)a, *y = *(struct slot *const *)b;

	return x->block < y->block ? -1 : x->block > y->block;
}

/* Dirty slots list[0..n) (sorted), neighbours staged into one request. */
static int write_runs(struct io_cache *c, struct slot **list, size_t n)
{
	size_t per = STAGE_BYTES / c->bsize ? STAGE_BYTES / c->bsize : 1;

	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && j - i < per && list[j]->block == list[j - 1]->block + 1; j++)
			;
		for (size_t k = i; k < j; k++)
			memcpy(c->wstage + (k - i) * c->bsize, list[k]->data, c->bsize);
		int e = c->fn(c->dev, 1, list[i]->block * c->bsize, c->wstage, (j - i) * c->bsize);

		if (e)
			return e;
		for (size_t k = i; k < j; k++)
			list[k]->dirty = 0;
	}
	return 0;
}

int io_cache_writeback(struct io_cache *c)
{
	struct slot **list = malloc(c->nslots * sizeof(*list));
	size_t n = 0;
	int e;

	if (!list)
		return -ENOMEM;
	for (size_t i = 0; i < c->nslots; i++)
		if (c->slots[i].dirty)
			list[n++] = &c->slots[i];
	qsort(list, n, sizeof(*list), by_block);
	e = write_runs(c, list, n);
	free(list);
	return e;
}

/* The least recently used slot, emptied (all dirty ones written back
 * first when it is dirty: one sorted pass instead of one block). */
static int take_slot(struct io_cache *c, struct slot **out)
{
	struct slot *s = c->lru.prev;
	int e;

	if (s->dirty && (e = io_cache_writeback(c)))
		return e;
	if (s->valid)
		unhash(c, s);
	*out = s;
	return 0;
}

static int install(struct io_cache *c, uint64_t block, const void *data, struct slot **out)
{
	struct slot *s;
	int e = take_slot(c, &s);

	if (e)
		return e;
	s->block = block;
	s->valid = 1;
	memcpy(s->data, data, c->bsize);
	s->hnext = *chain(c, block);
	*chain(c, block) = s;
	lru_unlink(s);
	lru_front(c, s);
	*out = s;
	return 0;
}

/* ---- reads and writes --------------------------------------------------------------- */

/* Missing blocks from block on: how many in a row (at most max). */
static size_t missing_run(struct io_cache *c, uint64_t block, size_t max)
{
	size_t n = 0;

	while (n < max && !find(c, block + n))
		n++;
	return n;
}

/* Read n missing blocks from block into the cache (and to out, if set). */
static int fill(struct io_cache *c, uint64_t block, size_t n, uint8_t *out)
{
	struct slot *s;
	int e = c->fn(c->dev, 0, block * c->bsize, c->stage, n * c->bsize);

	for (size_t i = 0; !e && i < n; i++)
		if (!(e = install(c, block + i, c->stage + i * c->bsize, &s)) && out)
			memcpy(out + i * c->bsize, s->data, c->bsize);
	return e;
}

static void touch(struct io_cache *c, struct slot *s)
{
	lru_unlink(s);
	lru_front(c, s);
}

int io_cache_read(struct io_cache *c, uint64_t block, size_t count, void *buf)
{
	size_t per = STAGE_BYTES / c->bsize ? STAGE_BYTES / c->bsize : 1;
	size_t ahead = READ_AHEAD / c->bsize;
	uint8_t *out = buf;
	int seq = block == c->next_seq;

	c->next_seq = block + count;
	for (size_t i = 0; i < count;) {
		struct slot *s = find(c, block + i);
		int e;

		if (s) {
			memcpy(out + i * c->bsize, s->data, c->bsize);
			touch(c, s);
			i++;
			continue;
		}
		size_t n = missing_run(c, block + i, count - i < per ? count - i : per);

		if ((e = fill(c, block + i, n, out + i * c->bsize)))
			return e;
		i += n;
		if (seq && i == count && n < per && c->nslots > 4 * ahead &&
		    (n = missing_run(c, block + count, ahead)))
			fill(c, block + count, n, NULL);   /* a failure: read later */
	}
	return 0;
}

int io_cache_write(struct io_cache *c, uint64_t block, size_t count, const void *buf)
{
	const uint8_t *in = buf;

	for (size_t i = 0; i < count; i++) {
		struct slot *s = find(c, block + i);
		int e;

		if (s) {
			memcpy(s->data, in + i * c->bsize, c->bsize);
			touch(c, s);
		} else if ((e = install(c, block + i, in + i * c->bsize, &s))) {
			return e;
		}
		s->dirty = 1;
	}
	return 0;
}

int io_cache_bypass(struct io_cache *c, uint64_t off, size_t len)
{
	uint64_t first = off / c->bsize, last = (off + len + c->bsize - 1) / c->bsize;
	int e = 0;

	for (uint64_t b = first; b < last; b++) {
		struct slot *s = find(c, b);

		if (s && s->dirty && (e = io_cache_writeback(c)))
			return e;
		if (s)
			unhash(c, s);
	}
	return 0;
}
