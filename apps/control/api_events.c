/* GET /v1/events: the hypervisor's event records as Server-Sent Events
 * (docs/api.md "Events").  The id of a record is its end offset in the
 * hypervisor's event ring, so a client resumes exactly where it was. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"

#define EVENTS_CHUNK  (64u << 10)
#define KEEPALIVE_MS  15000

static char bytes[EVENTS_CHUNK];

bool query_u63(struct request *r, const char *key, uint64_t dflt, uint64_t *out);

static long events_read(uint64_t offset, struct pv_domctl_read *rd)
{
	memset(rd, 0, sizeof(*rd));
	rd->offset = offset;
	rd->buf_gva = (uintptr_t)bytes;
	rd->len = EVENTS_CHUNK;
	return hv_call(rd, PV_DOMCTL_EVENTS_READ, sizeof(*rd), 0);
}

static void record(struct buf *out, uint64_t end, const char *p, size_t n)
{
	buf_printf(out, "id: %lu\ndata: ", (unsigned long)end);
	for (size_t i = 0; i < n; i++)
		buf_add(out, p[i] == '\r' ? " " : p + i, 1);
	buf_str(out, "\n\n");
}

/* The records in what was read, from *offset on; complete lines only. */
static void records(struct buf *out, const struct pv_domctl_read *rd, uint64_t *offset)
{
	size_t i = 0, nl;
	char lost[80];

	if (rd->start > *offset) {              /* the ring overwrote some: say so */
		const char *first = memchr(bytes, '\n', rd->count);
		uint64_t to = first ? rd->start + (uint64_t)(first - bytes) + 1 : rd->start;

		snprintf(lost, sizeof(lost), "events-lost from=%lu to=%lu", (unsigned long)*offset, (unsigned long)to);
		record(out, to, lost, strlen(lost));
		i = (size_t)(to - rd->start);
		*offset = to;
	}
	for (const char *e; i < rd->count && (e = memchr(bytes + i, '\n', rd->count - i)); i += nl + 1) {
		nl = (size_t)(e - (bytes + i));
		*offset += nl + 1;
		record(out, *offset, bytes + i, nl);
	}
}

/* Append what is new to out; false if the hypervisor refused. */
static bool pump(struct buf *out, uint64_t *offset)
{
	struct pv_domctl_read rd;

	if (events_read(*offset, &rd))
		return false;
	if (rd.start > rd.written)
		*offset = rd.written;               /* past the end: from the end */
	else
		records(out, &rd, offset);
	return true;
}

static bool events_poll(struct request *r, struct stream *s)
{
	struct buf b = { 0 };
	uint64_t now = now_ms();
	bool ok = pump(&b, &s->offset);

	if (b.len)
		s->last_ms = now;
	else if (now - s->last_ms >= KEEPALIVE_MS)
		buf_str(&b, ": keepalive\n\n"), s->last_ms = now;
	if (b.len)
		stream_chunk(r, b.p, b.len);
	buf_free(&b);
	return ok;
}

static bool start_offset(struct request *r, uint64_t *offset)
{
	const char *id = r->http->last_event_id;
	char *end;

	if (!*id)
		return query_u63(r, "offset", 0, offset);
	*offset = strtoull(id, &end, 10);
	if (*end || *id < '0' || *id > '9') {
		reply_error(r, 400, "bad_parameter", "Last-Event-ID", "Last-Event-ID: a decimal offset");
		return false;
	}
	return true;
}

void api_events(struct request *r)
{
	struct stream s = { .poll = events_poll, .sse = true }, *st;
	uint64_t follow;
	struct buf b = { 0 };

	if (!start_offset(r, &s.offset) || !query_u63(r, "follow", 1, &follow))
		return;
	if (follow > 1)
		return reply_error(r, 400, "bad_parameter", "follow", "follow: 0 or 1");
	buf_str(&b, "retry: 3000\n\n");
	if (!pump(&b, &s.offset)) {
		buf_free(&b);
		return reply_error(r, 500, "hypervisor_error", NULL, "reading the event records failed");
	}
	if (!follow) {
		reply(r, 200, "text/event-stream", NULL, b.p, b.len);
	} else if ((st = reply_stream(r, "text/event-stream", NULL, &s)) != NULL) {
		stream_chunk(r, b.p, b.len);
		st->offset = s.offset;
	}
	buf_free(&b);
}
