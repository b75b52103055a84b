/* The block cache (see io_cache.h).  An array of slots, a hash of block
 * numbers over them, an LRU list of the clean ones and a list of the
 * dirty ones; staging buffers turn runs of neighbouring blocks into
 * single device requests both ways.
 *
 * A dirty block is never evicted: it leaves only in a write-back, which
 * the file layer asks for at an operation's end (a sync point), so that a
 * journal transaction is a state between operations, never one half way
 * through.  When every slot is dirty the cache grows, up to GROW_MAX
 * times its size; past that it writes back where it stands. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "io_cache.h"

#define STAGE_BYTES (128u << 10)     /* longest device request */
#define READ_AHEAD  (64u << 10)      /* beyond a sequential read */
#define GROW_MAX    4                /* dirty blocks: at most this many times the size */

struct slot {
	uint64_t block;
	uint8_t *data;
	int valid, dirty;
	struct slot *hnext;              /* hash chain */
	struct slot *prev, *next;        /* LRU (head: the most recent) or dirty list */
	struct slot *extra;              /* slots grown beyond the array */
};

struct io_cache {
	unsigned bsize;
	size_t nslots, nbuckets;
	struct slot *slots;
	struct slot **bucket;
	struct slot lru;                 /* clean and empty slots */
	struct slot dirty;               /* dirty slots */
	size_t ndirty, nextra;
	struct slot *extras;
	const struct io_journal *journal;
	int committed;                   /* a transaction since io_cache_committed() */
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

static void list_front(struct slot *head, struct slot *s)
{
	s->next = head->next;
	s->prev = head;
	head->next->prev = s;
	head->next = s;
}

static void lru_front(struct io_cache *c, struct slot *s)
{
	list_front(&c->lru, s);
}

static void lru_back(struct io_cache *c, struct slot *s)
{
	list_front(c->lru.prev, s);
}

static void set_dirty(struct io_cache *c, struct slot *s)
{
	if (s->dirty)
		return;
	lru_unlink(s);
	list_front(&c->dirty, s);
	s->dirty = 1;
	c->ndirty++;
}

static void set_clean(struct io_cache *c, struct slot *s)
{
	if (!s->dirty)
		return;
	lru_unlink(s);                   /* from the dirty list */
	lru_front(c, s);
	s->dirty = 0;
	c->ndirty--;
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

/* Forget s's block (dirty or not): s becomes the next slot reused. */
static void drop(struct io_cache *c, struct slot *s)
{
	for (struct slot **p = chain(c, s->block); *p; p = &(*p)->hnext)
		if (*p == s) {
			*p = s->hnext;
			break;
		}
	set_clean(c, s);
	s->valid = 0;
	lru_unlink(s);
	lru_back(c, s);
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
	c->dirty.next = c->dirty.prev = &c->dirty;
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
	for (struct slot *s = c->extras, *next; s; s = next) {
		next = s->extra;
		free(s->data);
		free(s);
	}
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
			set_clean(c, list[k]);
	}
	return 0;
}

/* The journal's transaction of the dirty blocks list[0..n): 0 or 1 (then
 * the blocks go in place) or a negative errno (nothing written in place). */
static int journal_commit(struct io_cache *c, struct slot **list, size_t n)
{
	uint64_t *blocks = malloc(n * sizeof(*blocks));
	uint8_t **data = malloc(n * sizeof(*data));
	int e = -ENOMEM;

	if (blocks && data) {
		for (size_t i = 0; i < n; i++) {
			blocks[i] = list[i]->block;
			data[i] = list[i]->data;
		}
		e = c->journal->commit(c->journal->ctx, n, blocks, data);
	}
	free(blocks);
	free(data);
	return e;
}

static int write_list(struct io_cache *c, struct slot **list, size_t n)
{
	int j = c->journal ? journal_commit(c, list, n) : 1;   /* n 0: revokes alone */

	c->committed |= j == 0;
	return j < 0 ? j : write_runs(c, list, n);
}

int io_cache_writeback(struct io_cache *c)
{
	struct slot **list = malloc((c->ndirty + 1) * sizeof(*list));
	size_t n = 0;
	int e;

	if (!list)
		return -ENOMEM;
	for (struct slot *s = c->dirty.next; s != &c->dirty; s = s->next)
		list[n++] = s;
	qsort(list, n, sizeof(*list), by_block);
	e = write_list(c, list, n);
	free(list);
	return e;
}

size_t io_cache_dirty(const struct io_cache *c)
{
	return c->ndirty;
}

int io_cache_committed(struct io_cache *c)
{
	int was = c->committed;

	c->committed = 0;
	return was;
}

void io_cache_set_journal(struct io_cache *c, const struct io_journal *j)
{
	c->journal = j;
}

/* One more slot, beyond the array: every slot is dirty. */
static struct slot *grow(struct io_cache *c)
{
	struct slot *s = calloc(1, sizeof(*s));

	if (s && !(s->data = malloc(c->bsize))) {
		free(s);
		return NULL;
	}
	if (s) {
		s->extra = c->extras;
		c->extras = s;
		c->nextra++;
		lru_back(c, s);
	}
	return s;
}

/* The least recently used clean slot, emptied; when there is none, a new
 * one, or (grown too far) a write-back where things stand. */
static int take_slot(struct io_cache *c, struct slot **out)
{
	struct slot *s = c->lru.prev;
	int e;

	if (s == &c->lru && (c->nextra >= (GROW_MAX - 1) * c->nslots || !(s = grow(c)))) {
		if ((e = io_cache_writeback(c)))
			return e;
		s = c->lru.prev;
	}
	if (s->valid)
		drop(c, s);
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
	if (!s->dirty)
		lru_unlink(s), lru_front(c, s);
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
		set_dirty(c, s);
	}
	return 0;
}

/* Bytes [off, off + len) through whole cached blocks: read (and, for a
 * write, patched and marked dirty). */
int io_cache_bytes(struct io_cache *c, int write, uint64_t off, void *buf, size_t len)
{
	uint8_t *tmp = malloc(c->bsize), *p = buf;
	int e = tmp ? 0 : -ENOMEM;

	while (!e && len) {
		uint64_t block = off / c->bsize;
		size_t in = (size_t)(off % c->bsize), n = c->bsize - in < len ? c->bsize - in : len;

		if (!(e = io_cache_read(c, block, 1, tmp))) {
			if (write)
				memcpy(tmp + in, p, n);
			else
				memcpy(p, tmp + in, n);
			e = write ? io_cache_write(c, block, 1, tmp) : 0;
		}
		off += n;
		p += n;
		len -= n;
	}
	free(tmp);
	return e;
}

int io_cache_drop(struct io_cache *c, uint64_t block, size_t count)
{
	int e = c->journal ? c->journal->overwrite(c->journal->ctx, block, count) : 0;

	if (e)
		return e;
	for (size_t i = 0; i < count; i++) {
		struct slot *s = find(c, block + i);

		if (s)
			drop(c, s);
	}
	return 0;
}

int io_cache_dirty_in(struct io_cache *c, uint64_t block, size_t count)
{
	if (!c->ndirty)
		return 0;
	for (size_t i = 0; i < count; i++) {
		struct slot *s = find(c, block + i);

		if (s && s->dirty)
			return 1;
	}
	return 0;
}
