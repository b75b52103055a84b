/* The save stream's framing (see hv/save_stream.h and public/save.h). */
#include <stdarg.h>
#include <hv/crc32.h>
#include <hv/errno.h>
#include <hv/lib.h>
#include <hv/save_stream.h>

#define CRC_INIT 0xffffffffu

static uint32_t crc_of(const void *buf, size_t len)
{
	return ~crc32_update(CRC_INIT, buf, len);
}

static size_t pad8(uint64_t len)
{
	return (size_t)((8 - (len & 7)) & 7);
}

const char *save_type_name(uint16_t type)
{
	switch (type) {
	case PV_SAVE_DOMAIN: return "DOMAIN";
	case PV_SAVE_CPU: return "CPU";
	case PV_SAVE_FPU: return "FPU";
	case PV_SAVE_CLOCK: return "CLOCK";
	case PV_SAVE_PAGES: return "PAGES";
	case PV_SAVE_DEVICE: return "DEVICE";
	case PV_SAVE_CONSOLE: return "CONSOLE";
	case PV_SAVE_END: return "END";
	default: return "unknown";
	}
}

/* ---- writing ------------------------------------------------------------------ */

/* END's checksum covers the stream's header and every record header
 * (each carries its payload's checksum, so this covers every byte) but
 * not the payloads again: a save checksums each page once. */
static void put(struct save_writer *w, const void *buf, size_t len, bool in_crc)
{
	if (w->error || !len)
		return;
	w->error = w->sink(w->ctx, buf, len);
	if (in_crc)
		w->crc_state = crc32_update(w->crc_state, buf, len);
	w->bytes += len;
}

void save_write_begin(struct save_writer *w, save_sink_fn *sink, void *ctx,
		      uint32_t flags, uint64_t created_ns)
{
	struct pv_save_header h = {
		.magic = PV_SAVE_MAGIC, .version = PV_SAVE_VERSION, .abi_version = PV_ABI_VERSION,
		.size = sizeof(h), .flags = flags, .created_ns = created_ns,
	};

	*w = (struct save_writer){ .sink = sink, .ctx = ctx, .crc_state = CRC_INIT };
	h.crc = crc_of(&h, offsetof(struct pv_save_header, crc));
	put(w, &h, sizeof(h), true);
}

static struct pv_save_record record_header(uint16_t type, uint16_t flags,
					   const struct save_part *parts, size_t n)
{
	struct pv_save_record rec = { .type = type, .flags = flags };
	uint32_t c = CRC_INIT;

	for (size_t i = 0; i < n; i++) {
		rec.length += parts[i].len;
		c = crc32_update(c, parts[i].buf, parts[i].len);
	}
	rec.payload_crc = ~c;
	rec.crc = crc_of(&rec, offsetof(struct pv_save_record, crc));
	return rec;
}

void save_write_record(struct save_writer *w, uint16_t type, uint16_t flags,
		       const struct save_part *parts, size_t nparts)
{
	static const uint8_t zeros[8];
	struct pv_save_record rec = record_header(type, flags, parts, nparts);

	put(w, &rec, sizeof(rec), true);
	for (size_t i = 0; i < nparts; i++)
		put(w, parts[i].buf, parts[i].len, false);
	put(w, zeros, pad8(rec.length), false);
	w->records++;
}

int save_write_end(struct save_writer *w)
{
	struct pv_save_end end = { .records = w->records, .bytes = w->bytes,
				   .stream_crc = ~w->crc_state };
	struct save_part p = { &end, sizeof(end) };

	save_write_record(w, PV_SAVE_END, 0, &p, 1);
	return w->error;
}

/* ---- reading ------------------------------------------------------------------ */

enum { RD_HEADER, RD_RECORD, RD_PAYLOAD, RD_DONE, RD_FAILED };

int save_reader_fail(struct save_reader *r, const char *fmt, ...)
{
	va_list ap;

	if (r->state != RD_FAILED) {
		va_start(ap, fmt);
		vsnprintf(r->error, sizeof(r->error), fmt, ap);
		va_end(ap);
		r->state = RD_FAILED;
	}
	return -PV_EINVAL;
}

void save_reader_init(struct save_reader *r, save_record_fn *on_record, void *ctx,
		      uint8_t *buf)
{
	*r = (struct save_reader){ .on_record = on_record, .ctx = ctx, .buf = buf,
				   .state = RD_HEADER, .want = sizeof(struct pv_save_header),
				   .crc_state = CRC_INIT };
}

static int check_header(struct save_reader *r)
{
	const struct pv_save_header *h = &r->cur.header;

	if (h->magic != PV_SAVE_MAGIC)
		return save_reader_fail(r, "not a Paravane save stream (bad magic)");
	if (h->crc != crc_of(h, offsetof(struct pv_save_header, crc)))
		return save_reader_fail(r, "stream header checksum does not match");
	if (h->version > PV_SAVE_VERSION)
		return save_reader_fail(r, "stream version %u is newer than this hypervisor's %u",
					h->version, PV_SAVE_VERSION);
	if (h->version == 0 || h->size != sizeof(*h) || h->reserved || (h->flags & ~PV_SAVE_LIVE))
		return save_reader_fail(r, "stream header is malformed");
	if (h->abi_version != PV_ABI_VERSION)
		return save_reader_fail(r, "saved under guest ABI %u, this hypervisor has %u",
					h->abi_version, PV_ABI_VERSION);
	r->live = h->flags & PV_SAVE_LIVE;
	return 0;
}

/* The most payload each type may carry. */
static uint64_t type_max(uint16_t type)
{
	switch (type) {
	case PV_SAVE_DOMAIN: return sizeof(struct pv_save_domain);
	case PV_SAVE_CPU: return sizeof(struct pv_save_cpu);
	case PV_SAVE_CLOCK: return sizeof(struct pv_save_clock);
	case PV_SAVE_DEVICE: return sizeof(struct pv_save_device);
	case PV_SAVE_END: return sizeof(struct pv_save_end);
	case PV_SAVE_CONSOLE: return 65536;
	default: return PV_SAVE_RECORD_MAX;
	}
}

static int known(uint16_t type)
{
	return (type >= PV_SAVE_DOMAIN && type <= PV_SAVE_CONSOLE) || type == PV_SAVE_END;
}

static int repeats(uint16_t type)
{
	return type == PV_SAVE_PAGES || type == PV_SAVE_DEVICE;
}

/* A live stream's round: PAGES between DOMAIN and CPU (the domain still
 * ran), which leaves the order where it was. */
static int round_pages(const struct save_reader *r, const struct pv_save_record *rec)
{
	return r->live && rec->type == PV_SAVE_PAGES && r->last_type == PV_SAVE_DOMAIN;
}

/* Order: DOMAIN first; then types in enum order, PAGES and DEVICE may
 * repeat; skippable unknown types anywhere after DOMAIN; a live stream's
 * rounds of PAGES right after DOMAIN too. */
static int check_order(struct save_reader *r, const struct pv_save_record *rec)
{
	if (!known(rec->type))
		return (rec->flags & PV_SAVE_SKIPPABLE) && r->last_type ? 0 :
			save_reader_fail(r, "unknown record type %u", rec->type);
	if (!r->last_type && rec->type != PV_SAVE_DOMAIN)
		return save_reader_fail(r, "the first record is %s, not DOMAIN",
					save_type_name(rec->type));
	if (round_pages(r, rec))
		return 0;
	if (rec->type < r->last_type || (rec->type == r->last_type && !repeats(rec->type)))
		return save_reader_fail(r, "record %s out of order (after %s)",
					save_type_name(rec->type), save_type_name(r->last_type));
	return 0;
}

static int check_record(struct save_reader *r)
{
	const struct pv_save_record *rec = &r->cur.rec;

	if (rec->crc != crc_of(rec, offsetof(struct pv_save_record, crc)))
		return save_reader_fail(r, "record %llu: header checksum does not match",
					(unsigned long long)r->records);
	if (rec->reserved || (rec->flags & ~PV_SAVE_SKIPPABLE))
		return save_reader_fail(r, "record %llu: reserved bits set",
					(unsigned long long)r->records);
	if (check_order(r, rec))
		return -PV_EINVAL;
	if (rec->length > type_max(rec->type))
		return save_reader_fail(r, "record %s: %llu bytes, at most %llu allowed",
					save_type_name(rec->type), (unsigned long long)rec->length,
					(unsigned long long)type_max(rec->type));
	return 0;
}

/* ---- what each known record must hold ---- */

static int exact(struct save_reader *r, const struct pv_save_record *rec, size_t size)
{
	return rec->length == size ? 0 :
		save_reader_fail(r, "record %s: %llu bytes, should be %zu", save_type_name(rec->type),
				 (unsigned long long)rec->length, size);
}

static int check_domain(struct save_reader *r, const struct pv_save_record *rec,
			const uint8_t *p)
{
	struct pv_save_domain d;

	if (exact(r, rec, sizeof(d)))
		return -PV_EINVAL;
	memcpy(&d, p, sizeof(d));
	if (!d.mem_pages || d.saved_pages > d.mem_pages)
		return save_reader_fail(r, "record DOMAIN: %llu pages saved of %llu",
					(unsigned long long)d.saved_pages,
					(unsigned long long)d.mem_pages);
	if (d.block_count > PV_SAVE_BLOCKS_MAX)
		return save_reader_fail(r, "record DOMAIN: %u block devices", d.block_count);
	for (uint32_t i = 0; i < d.block_count; i++) {
		const struct pv_save_block *b = &d.block[i];

		if (strnlen(b->spec, sizeof(b->spec)) == sizeof(b->spec) ||
		    strnlen(b->name, sizeof(b->name)) == sizeof(b->name) ||
		    (b->flags & ~PV_SAVE_BLOCK_RO) || b->reserved)
			return save_reader_fail(r, "record DOMAIN: block device %u is malformed", i);
	}
	r->mem_pages = d.mem_pages;
	r->saved_pages = d.saved_pages;
	return 0;
}

static int check_fpu(struct save_reader *r, const struct pv_save_record *rec, const uint8_t *p)
{
	struct pv_save_fpu f;

	if (rec->length < sizeof(f))
		return exact(r, rec, sizeof(f));
	memcpy(&f, p, sizeof(f));
	return f.size == rec->length - sizeof(f) && (f.format == 1 || f.format == 2) ? 0 :
		save_reader_fail(r, "record FPU: malformed");
}

/* count ascending indices below mem_pages, then count pages. */
static int check_pages(struct save_reader *r, const struct pv_save_record *rec,
		       const uint8_t *p)
{
	struct pv_save_pages h;
	uint64_t prev = 0;

	if (rec->length < sizeof(h))
		return exact(r, rec, sizeof(h));
	memcpy(&h, p, sizeof(h));
	if (!h.count || h.count > PV_SAVE_PAGES_MAX || h.reserved ||
	    rec->length != sizeof(h) + (uint64_t)h.count * (8 + PV_PAGE_SIZE))
		return save_reader_fail(r, "record PAGES: malformed");
	for (uint32_t i = 0; i < h.count; i++) {
		uint64_t idx;

		memcpy(&idx, p + sizeof(h) + 8 * (size_t)i, 8);
		if (idx >= r->mem_pages || (i && idx <= prev))
			return save_reader_fail(r, "record PAGES: page index %llu out of order or "
						"past the domain's %llu pages", (unsigned long long)idx,
						(unsigned long long)r->mem_pages);
		prev = idx;
	}
	r->pages_seen += h.count;
	return 0;
}

static int check_end(struct save_reader *r, const struct pv_save_record *rec, const uint8_t *p)
{
	struct pv_save_end e;

	if (exact(r, rec, sizeof(e)))
		return -PV_EINVAL;
	memcpy(&e, p, sizeof(e));
	if (e.records != r->records || e.bytes != r->bytes || e.stream_crc != ~r->crc_state ||
	    e.reserved)
		return save_reader_fail(r, "END record does not match the stream (records, "
					"bytes or checksum): spliced or damaged");
	if (!r->seen_cpu)
		return save_reader_fail(r, "no CPU record");
	if (r->live ? r->pages_seen < r->saved_pages : r->pages_seen != r->saved_pages)
		return save_reader_fail(r, "%llu pages in PAGES records, DOMAIN says %llu",
					(unsigned long long)r->pages_seen,
					(unsigned long long)r->saved_pages);
	return 0;
}

static int check_payload(struct save_reader *r, const struct pv_save_record *rec,
			 const uint8_t *p)
{
	switch (rec->type) {
	case PV_SAVE_DOMAIN: return check_domain(r, rec, p);
	case PV_SAVE_CPU: return (r->seen_cpu = 1), exact(r, rec, sizeof(struct pv_save_cpu));
	case PV_SAVE_FPU: return check_fpu(r, rec, p);
	case PV_SAVE_CLOCK: return exact(r, rec, sizeof(struct pv_save_clock));
	case PV_SAVE_PAGES: return check_pages(r, rec, p);
	case PV_SAVE_DEVICE: return exact(r, rec, sizeof(struct pv_save_device));
	case PV_SAVE_END: return check_end(r, rec, p);
	default: return 0;               /* CONSOLE text; skippable unknown types */
	}
}

/* A whole record (header, payload, padding) is in: check it, hand it on. */
static int record_done(struct save_reader *r)
{
	const struct pv_save_record *rec = &r->cur.rec;

	if (rec->payload_crc != crc_of(r->buf, (size_t)rec->length))
		return save_reader_fail(r, "record %s: payload checksum does not match",
					save_type_name(rec->type));
	for (size_t i = (size_t)rec->length; i < r->want; i++)
		if (r->buf[i])
			return save_reader_fail(r, "record %s: padding is not zero",
						save_type_name(rec->type));
	if (check_payload(r, rec, r->buf))
		return -PV_EINVAL;
	if (known(rec->type) && !round_pages(r, rec))
		r->last_type = rec->type;
	if (known(rec->type) && r->on_record(r, rec, r->buf))
		return save_reader_fail(r, "record %s refused", save_type_name(rec->type));
	return 0;
}

/* END's totals: every byte before END's own record header is counted,
 * the headers are checksummed (see put()). */
static void account(struct save_reader *r, const void *p, size_t n, bool in_crc)
{
	if (in_crc)
		r->crc_state = crc32_update(r->crc_state, p, n);
	r->bytes += n;
}

/* The part being read (cur.raw for headers, buf for payloads) is whole. */
static int part_done(struct save_reader *r)
{
	int end = r->cur.rec.type == PV_SAVE_END;

	switch (r->state) {
	case RD_HEADER:
		if (check_header(r))
			return -PV_EINVAL;
		account(r, r->cur.raw, sizeof(struct pv_save_header), true);
		r->state = RD_RECORD;
		r->want = sizeof(struct pv_save_record);
		return 0;
	case RD_RECORD:
		if (check_record(r))
			return -PV_EINVAL;
		if (!end)
			account(r, r->cur.raw, sizeof(struct pv_save_record), true);
		r->state = RD_PAYLOAD;
		r->want = (size_t)r->cur.rec.length + pad8(r->cur.rec.length);
		return 0;
	default:
		if (record_done(r))
			return -PV_EINVAL;
		if (!end)
			account(r, r->buf, r->want, false);
		r->records++;
		r->state = r->cur.rec.type == PV_SAVE_END ? RD_DONE : RD_RECORD;
		r->want = r->state == RD_DONE ? 0 : sizeof(struct pv_save_record);
		return 0;
	}
}

static uint8_t *part_buffer(struct save_reader *r)
{
	return r->state == RD_PAYLOAD ? r->buf : r->cur.raw;
}

int save_reader_feed(struct save_reader *r, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len && r->state != RD_FAILED) {
		if (r->state == RD_DONE)
			return save_reader_fail(r, "data after the END record");
		size_t n = r->want - r->have < len ? r->want - r->have : len;

		memcpy(part_buffer(r) + r->have, p, n);
		r->have += n;
		p += n;
		len -= n;
		if (r->have == r->want) {
			r->have = 0;
			if (part_done(r))
				break;
		}
	}
	return r->state == RD_FAILED ? -PV_EINVAL : 0;
}

int save_reader_finish(struct save_reader *r)
{
	if (r->state == RD_DONE)
		return 0;
	if (r->state == RD_FAILED)
		return -PV_EINVAL;
	return save_reader_fail(r, "stream truncated (%llu records read%s)",
				(unsigned long long)r->records,
				r->state == RD_HEADER ? ", in the header" : "");
}
