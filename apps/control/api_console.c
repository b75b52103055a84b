/* GET /v1/domains/{ref}/console: a domain's console ring by offset, or
 * followed as a chunked stream (docs/api.md "Console"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"

#define CONSOLE_CHUNK  (64u << 10)
#define FOLLOW_QUIET_MS 25000

static char bytes[CONSOLE_CHUNK];

static long console_read(uint32_t domid, uint64_t offset, struct pv_domctl_read *rd)
{
	long err;

	memset(rd, 0, sizeof(*rd));
	rd->offset = offset;
	rd->buf_gva = (uintptr_t)bytes;
	rd->len = CONSOLE_CHUNK;
	err = hv_call(rd, PV_DOMCTL_CONSOLE_READ, sizeof(*rd), domid);
	if (!err && rd->start > rd->written)
		rd->start = rd->next = rd->written;   /* past the end: from the end */
	return err;
}

/* ?name=N: a decimal 0..2^63-1; dflt when absent; false (400) if bad. */
bool query_u63(struct request *r, const char *key, uint64_t dflt, uint64_t *out)
{
	char v[32];
	const char *s = http_query(r->http, key, v, sizeof(v));
	uint64_t x = 0;

	*out = dflt;
	if (!s)
		return true;
	for (size_t i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 19) {
			reply_error(r, 400, "bad_parameter", key, "%s: a decimal integer 0..2^63-1", key);
			return false;
		}
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	if (!*s || x >> 63) {
		reply_error(r, 400, "bad_parameter", key, "%s: a decimal integer 0..2^63-1", key);
		return false;
	}
	*out = x;
	return true;
}

static bool follow_poll(struct request *r, struct stream *s)
{
	struct pv_domctl_dominfo d;
	struct pv_domctl_read rd;
	uint64_t now = now_ms();
	bool live = hv_info(s->domid, &d) == 0;     /* before the read: no last bytes missed */

	if (console_read(s->domid, s->offset, &rd) || rd.start != s->offset)
		return false;                       /* gone, or fell behind: the client asks again */
	if (rd.count) {
		stream_chunk(r, bytes, rd.count);
		s->offset = rd.next;
		s->last_ms = now;
	}
	return live && now - s->last_ms < FOLLOW_QUIET_MS;
}

/* The domain ref names: a live one, or by id one that ended and whose
 * console the hypervisor still keeps (a guest that printed and exited). */
static uint32_t console_ref(struct request *r, bool *live)
{
	struct pv_domctl_dominfo d;
	struct pv_domctl_read rd;
	char *end;
	unsigned long id = strtoul(r->arg, &end, 10);

	*live = hv_lookup(r->arg, &d) != 0;
	if (*live)
		return d.domid;
	if (!*end && *r->arg >= '1' && *r->arg <= '9' && id <= UINT32_MAX && !console_read((uint32_t)id, 0, &rd))
		return (uint32_t)id;
	reply_error(r, 404, "no_such_domain", NULL, "no domain \"%s\"", r->arg);
	return 0;
}

/* A follow stream from what rd read on.  An ended domain's follower that
 * has every byte gets 404, the end docs/api.md promises it: a 200 with
 * nothing would have it ask again for ever. */
static void follow_start(struct request *r, uint32_t id, bool live, uint64_t offset,
			 const struct pv_domctl_read *rd)
{
	struct stream s = { .poll = follow_poll, .domid = id, .offset = rd->start }, *st;
	char extra[160];

	if (!live && !rd->count)
		return reply_error(r, 404, "no_such_domain", NULL, "domain %u has ended", id);
	snprintf(extra, sizeof(extra), "Paravane-Console-Offset: %lu\r\nParavane-Console-Lost: %lu\r\n",
		 (unsigned long)rd->start, (unsigned long)(offset < rd->start ? rd->start - offset : 0));
	st = reply_stream(r, "text/plain; charset=utf-8", extra, &s);
	if (st && rd->count) {
		stream_chunk(r, bytes, rd->count);
		st->offset = rd->next;
	}
}

void api_console(struct request *r)
{
	struct pv_domctl_read rd;
	uint64_t offset, follow;
	bool live;
	uint32_t id = console_ref(r, &live);
	char extra[160];
	long err;

	if (!id || !query_u63(r, "offset", 0, &offset) || !query_u63(r, "follow", 0, &follow))
		return;
	if (follow > 1)
		return reply_error(r, 400, "bad_parameter", "follow", "follow: 0 or 1");
	err = console_read(id, offset, &rd);
	if (err)
		return hv_error(r, err, rd.hdr.message);
	if (follow)
		return follow_start(r, id, live, offset, &rd);
	snprintf(extra, sizeof(extra),
		 "Paravane-Console-Offset: %lu\r\nParavane-Console-Next: %lu\r\nParavane-Console-Lost: %lu\r\n",
		 (unsigned long)rd.start, (unsigned long)rd.next,
		 (unsigned long)(offset < rd.start ? rd.start - offset : 0));
	reply(r, 200, "text/plain; charset=utf-8", extra, bytes, rd.count);
}
