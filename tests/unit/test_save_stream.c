/* The save stream's framing (hypervisor/core/save_stream.c): a stream the
 * writer makes reads back record for record, in any chunking; every
 * truncation and every single damaged byte is refused with a reason and
 * no damaged record reaches the consumer; future versions, unknown
 * types, wrong order, splices, trailing bytes and out-of-range pages are
 * refused; skippable unknown records are skipped. */
#include <stdlib.h>
#include <hv/crc32.h>
#include <hv/save_stream.h>
#include "harness.h"

struct mem {
	uint8_t *p;
	size_t n, cap;
};

static int sink(void *ctx, const void *buf, size_t len)
{
	struct mem *m = ctx;

	if (m->n + len > m->cap) {
		m->cap = (m->n + len) * 2;
		m->p = realloc(m->p, m->cap);
	}
	memcpy(m->p + m->n, buf, len);
	m->n += len;
	return 0;
}

static uint8_t page_a[PV_PAGE_SIZE], page_b[PV_PAGE_SIZE], page_c[PV_PAGE_SIZE];

static void one(struct save_writer *w, uint16_t type, uint16_t flags, const void *p, size_t n)
{
	struct save_part part = { p, n };

	save_write_record(w, type, flags, &part, 1);
}

static void pages(struct save_writer *w, const uint64_t *idx, const uint8_t *const *data,
		  uint32_t count)
{
	struct pv_save_pages h = { .count = count };
	struct save_part parts[2 + 4] = { { &h, sizeof(h) }, { idx, 8 * (size_t)count } };

	for (uint32_t i = 0; i < count; i++)
		parts[2 + i] = (struct save_part){ data[i], PV_PAGE_SIZE };
	save_write_record(w, PV_SAVE_PAGES, 0, parts, 2 + count);
}

/* A stream of every record type; extra, if set, adds a record of that
 * type and flags after DOMAIN. */
static struct mem make_stream(int extra_type, uint16_t extra_flags)
{
	struct mem m = { 0 };
	struct save_writer w;
	struct pv_save_domain d = { .mem_base = 0x400000, .mem_pages = 16, .saved_pages = 3 };
	struct pv_save_cpu cpu = { .rip = 0x401000, .rsp = 0x40f000, .rax = 42 };
	uint8_t fpu[sizeof(struct pv_save_fpu) + 64] = { 0 };
	struct pv_save_clock clk = { 123456789, 987654321 };
	struct pv_save_device dev = { .kind = PV_SAVE_NET, .mac = { 2, 0, 0, 0, 0, 7 } };
	uint64_t i1[2] = { 1, 5 }, i2[1] = { 9 };
	const uint8_t *d1[2] = { page_a, page_b }, *d2[1] = { page_c };

	memcpy(d.config.name, "saved", 6);
	memcpy(fpu, &(struct pv_save_fpu){ .xcr0 = 3, .format = 1, .size = 64 }, 16);
	save_write_begin(&w, sink, &m, 0, 1);
	one(&w, PV_SAVE_DOMAIN, 0, &d, sizeof(d));
	if (extra_type)
		one(&w, (uint16_t)extra_type, extra_flags, "extra", 5);
	one(&w, PV_SAVE_CPU, 0, &cpu, sizeof(cpu));
	one(&w, PV_SAVE_FPU, 0, fpu, sizeof(fpu));
	one(&w, PV_SAVE_CLOCK, 0, &clk, sizeof(clk));
	pages(&w, i1, d1, 2);
	pages(&w, i2, d2, 1);
	one(&w, PV_SAVE_DEVICE, 0, &dev, sizeof(dev));
	one(&w, PV_SAVE_CONSOLE, 0, "hello\n", 6);
	CHECK_EQ_INT(save_write_end(&w), 0);
	return m;
}

/* What the consumer saw. */
struct seen {
	int records, types[16];
	uint32_t crcs[16];                /* of each record's type and payload */
	uint64_t rip;
	int pages_ok, refuse_type;
};

static int consume(struct save_reader *r, const struct pv_save_record *rec, const uint8_t *p)
{
	struct seen *s = r->ctx;

	if (s->records < 16) {
		s->types[s->records] = rec->type;
		s->crcs[s->records] = crc32_update(rec->type, p, (size_t)rec->length);
	}
	s->records++;
	if (rec->type == PV_SAVE_CPU)
		s->rip = ((const struct pv_save_cpu *)p)->rip;
	if (rec->type == PV_SAVE_PAGES && ((const struct pv_save_pages *)p)->count == 2)
		s->pages_ok = !memcmp(p + 8 + 16, page_a, PV_PAGE_SIZE) &&
			      !memcmp(p + 8 + 16 + PV_PAGE_SIZE, page_b, PV_PAGE_SIZE);
	if (rec->type == s->refuse_type)
		return save_reader_fail(r, "the consumer refuses %s", save_type_name(rec->type));
	return 0;
}

static uint8_t *buf;

/* Feed m in chunks of `chunk` bytes (0: whole); the result of finish. */
static int read_stream(const struct mem *m, size_t len, size_t chunk, struct seen *s,
		       struct save_reader *r)
{
	save_reader_init(r, consume, s, buf);
	for (size_t off = 0; off < len;) {
		size_t n = chunk && len - off > chunk ? chunk : len - off;

		if (save_reader_feed(r, m->p + off, n))
			return -1;
		off += n;
	}
	return save_reader_finish(r);
}

static void fill_pages(void)
{
	for (size_t i = 0; i < PV_PAGE_SIZE; i++) {
		page_a[i] = (uint8_t)i;
		page_b[i] = (uint8_t)(i * 7);
		page_c[i] = (uint8_t)(i * 13 + 1);
	}
}

static void test_round_trip_in_any_chunking(void)
{
	struct mem m = make_stream(0, 0);
	static const size_t chunks[] = { 0, 1, 3, 24, 4096, 5000 };

	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		struct seen s = { 0 };
		struct save_reader r;

		CHECK_EQ_INT(read_stream(&m, m.n, chunks[c], &s, &r), 0);
		CHECK_EQ_INT(s.records, 9);
		CHECK_EQ_INT(s.types[0], PV_SAVE_DOMAIN);
		CHECK_EQ_INT(s.types[8], PV_SAVE_END);
		CHECK_EQ_U64(s.rip, 0x401000);
		CHECK(s.pages_ok);
	}
	free(m.p);
}

static void test_every_truncation_is_refused(void)
{
	struct mem m = make_stream(0, 0);

	for (size_t len = 0; len < m.n; len++) {
		struct seen s = { 0 };
		struct save_reader r;

		if (!CHECK(read_stream(&m, len, 0, &s, &r) != 0) ||
		    !CHECK(strstr(r.error, "truncated") != NULL))
			break;
		CHECK(s.records < 9);
	}
	free(m.p);
}

/* Every byte flipped: refused, and every record the consumer got is one
 * of the undamaged stream's. */
static void test_every_damaged_byte_is_refused(void)
{
	struct mem m = make_stream(0, 0);
	struct seen good = { 0 };
	struct save_reader r;

	CHECK_EQ_INT(read_stream(&m, m.n, 0, &good, &r), 0);
	for (size_t at = 0; at < m.n; at++) {
		struct seen s = { 0 };

		m.p[at] ^= 0x20;
		if (!CHECK(read_stream(&m, m.n, 0, &s, &r) != 0) || !CHECK(r.error[0]))
			break;
		CHECK(s.records < 9);
		for (int k = 0; k < s.records; k++)
			if (!CHECK_EQ_U64(s.crcs[k], good.crcs[k]))
				break;
		m.p[at] ^= 0x20;
	}
	free(m.p);
}

static void fix_header_crc(struct mem *m)
{
	struct pv_save_header *h = (void *)m->p;

	h->crc = ~crc32_update(0xffffffffu, h, offsetof(struct pv_save_header, crc));
}

static void test_future_version_is_refused(void)
{
	struct mem m = make_stream(0, 0);
	struct seen s = { 0 };
	struct save_reader r;

	((struct pv_save_header *)m.p)->version = PV_SAVE_VERSION + 1;
	fix_header_crc(&m);
	CHECK(read_stream(&m, m.n, 0, &s, &r) != 0);
	CHECK(strstr(r.error, "newer than this hypervisor") != NULL);
	CHECK_EQ_INT(s.records, 0);
	free(m.p);
}

static void test_unknown_types(void)
{
	struct mem skip = make_stream(0x100, PV_SAVE_SKIPPABLE), must = make_stream(0x100, 0);
	struct seen s = { 0 };
	struct save_reader r;

	CHECK_EQ_INT(read_stream(&skip, skip.n, 7, &s, &r), 0);
	CHECK_EQ_INT(s.records, 9);          /* the unknown one was not handed on */
	memset(&s, 0, sizeof(s));
	CHECK(read_stream(&must, must.n, 0, &s, &r) != 0);
	CHECK(strstr(r.error, "unknown record type 256") != NULL);
	free(skip.p);
	free(must.p);
}

static void test_order_is_checked(void)
{
	struct mem twice = make_stream(PV_SAVE_DOMAIN, 0);
	struct seen s = { 0 };
	struct save_reader r;

	CHECK(read_stream(&twice, twice.n, 0, &s, &r) != 0);
	CHECK(strstr(r.error, "out of order") != NULL);
	free(twice.p);
}

static void test_trailing_bytes_and_splices_are_refused(void)
{
	struct mem m = make_stream(0, 0), other = make_stream(PV_SAVE_CONSOLE + 0x200,
							      PV_SAVE_SKIPPABLE);
	struct seen s = { 0 };
	struct save_reader r;
	size_t end = sizeof(struct pv_save_record) + sizeof(struct pv_save_end);

	sink(&m, "x", 1);
	CHECK(read_stream(&m, m.n, 0, &s, &r) != 0);
	CHECK(strstr(r.error, "data after the END record") != NULL);
	/* m's records with other's END: the totals do not match. */
	memcpy(m.p + m.n - 1 - end, other.p + other.n - end, end);
	memset(&s, 0, sizeof(s));
	CHECK(read_stream(&m, m.n - 1, 0, &s, &r) != 0);
	CHECK(strstr(r.error, "spliced or damaged") != NULL);
	free(m.p);
	free(other.p);
}

static void test_the_consumer_can_refuse(void)
{
	struct mem m = make_stream(0, 0);
	struct seen s = { .refuse_type = PV_SAVE_DEVICE };
	struct save_reader r;

	CHECK(read_stream(&m, m.n, 0, &s, &r) != 0);
	CHECK_STR(r.error, "the consumer refuses DEVICE");
	free(m.p);
}

/* A live stream (a migration's): rounds of PAGES between DOMAIN and CPU,
 * a page sent again, the last pages after CLOCK. */
static struct mem make_live(uint32_t flags)
{
	struct mem m = { 0 };
	struct save_writer w;
	struct pv_save_domain d = { .mem_base = 0x400000, .mem_pages = 16, .saved_pages = 2 };
	struct pv_save_cpu cpu = { .rip = 0x401000, .rsp = 0x40f000 };
	struct pv_save_clock clk = { 1, 2 };
	uint64_t i1[2] = { 1, 5 }, i2[1] = { 5 };
	const uint8_t *d1[2] = { page_a, page_b }, *d2[1] = { page_c };

	save_write_begin(&w, sink, &m, flags, 1);
	one(&w, PV_SAVE_DOMAIN, 0, &d, sizeof(d));
	pages(&w, i1, d1, 2);                /* round 1 */
	pages(&w, i2, d2, 1);                /* round 2: page 5 again */
	one(&w, PV_SAVE_CPU, 0, &cpu, sizeof(cpu));
	one(&w, PV_SAVE_CLOCK, 0, &clk, sizeof(clk));
	pages(&w, i2, d2, 1);                /* the last, the domain stopped */
	CHECK_EQ_INT(save_write_end(&w), 0);
	return m;
}

static void test_live_streams_carry_rounds(void)
{
	struct mem live = make_live(PV_SAVE_LIVE), plain = make_live(0);
	struct save_reader r;
	struct seen s = { 0 };

	CHECK_EQ_INT(read_stream(&live, live.n, 4096, &s, &r), 0);
	CHECK_EQ_INT(s.records, 7);
	CHECK_EQ_INT(s.types[1], PV_SAVE_PAGES);
	CHECK_EQ_INT(s.types[3], PV_SAVE_CPU);
	CHECK(s.pages_ok);
	memset(&s, 0, sizeof(s));
	CHECK(read_stream(&plain, plain.n, 0, &s, &r) != 0);    /* without LIVE: out of order */
	CHECK(strstr(r.error, "out of order") != NULL);
	live.p[20] |= 2;                     /* an unknown header flag */
	fix_header_crc(&live);
	CHECK(read_stream(&live, live.n, 0, &s, &r) != 0);
	CHECK(strstr(r.error, "malformed") != NULL);
	free(live.p);
	free(plain.p);
}

int main(void)
{
	buf = malloc(PV_SAVE_RECORD_MAX);
	fill_pages();
	RUN(test_round_trip_in_any_chunking);
	RUN(test_every_truncation_is_refused);
	RUN(test_every_damaged_byte_is_refused);
	RUN(test_future_version_is_refused);
	RUN(test_unknown_types);
	RUN(test_order_is_checked);
	RUN(test_trailing_bytes_and_splices_are_refused);
	RUN(test_the_consumer_can_refuse);
	RUN(test_live_streams_carry_rounds);
	free(buf);
	return harness_report();
}
