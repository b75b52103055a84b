/* Live migration (docs/api.md "Migration", docs/migration.md):
 *   POST /v1/domains/{ref}/migrate  {"to": "http://A.B.C.D[:port]", "token": "...", "name": "..."}
 * checks what it can, begins the migration (migrate.c) and streams its
 * progress as JSON lines until it is over; the last line says how. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "conn.h"
#include "json_in.h"
#include "migrate.h"

static const char *const migrate_fields[] = { "to", "token", "name", NULL };

/* "http://A.B.C.D[:port]" (an address: the control domain has no names
 * to look up), with an optional "/". */
static bool parse_url(const char *s, struct sockaddr_in *to)
{
	unsigned a, b, c, d, port = 80;
	int n = 0;

	if (strncmp(s, "http://", 7) || sscanf(s + 7, "%3u.%3u.%3u.%3u%n", &a, &b, &c, &d, &n) != 4)
		return false;
	s += 7 + n;
	if (*s == ':' && (sscanf(s + 1, "%5u%n", &port, &n) != 1 || !port || port > 65535 || (s += 1 + n, 0)))
		return false;
	if (!strcmp(s, "/"))
		s++;
	if (*s || a > 255 || b > 255 || c > 255 || d > 255)
		return false;
	memset(to, 0, sizeof(*to));
	to->sin_family = AF_INET;
	to->sin_port = htons((uint16_t)port);
	to->sin_addr.s_addr = htonl(a << 24 | b << 16 | c << 8 | d);
	return true;
}

static bool token_ok(const char *t)
{
	for (; *t; t++)
		if (*t <= ' ' || *t > '~')
			return false;
	return true;
}

static bool migrate_body(struct request *r, struct migration_req *q, struct jerr *err)
{
	static struct jdoc doc;
	char url[96];
	int t;

	if (!json_parse(&doc, r->body, r->body_len, err) || !json_only(&doc, 0, migrate_fields, "", err))
		return false;
	if ((t = json_get(&doc, 0, "to")) < 0)
		return json_fail(err, "missing_field", "to", "to: required (the destination's API, http://A.B.C.D:port)");
	if (!json_string(&doc, t, "to", url, sizeof(url), err))
		return false;
	if (!parse_url(url, &q->to))
		return json_fail(err, "bad_field", "to", "to: http://A.B.C.D[:port], an IPv4 address");
	snprintf(q->token, sizeof(q->token), "%s", auth_token());
	if ((t = json_get(&doc, 0, "token")) >= 0 &&
	    (!json_string(&doc, t, "token", q->token, sizeof(q->token), err) || !*q->token || !token_ok(q->token)))
		return json_fail(err, "bad_field", "token", "token: the destination's bearer token, printable ASCII");
	if ((t = json_get(&doc, 0, "name")) >= 0 &&
	    (!json_string(&doc, t, "name", q->name, sizeof(q->name), err) || !valid_name(q->name)))
		return json_fail(err, "bad_field", "name", "name: 1..31 of A-Z a-z 0-9 _ . -, not all digits");
	return true;
}

/* ---- progress ---------------------------------------------------------------------- */

static void line_end(struct buf *b)
{
	buf_str(b, "}\n");
}

static void totals(struct buf *b, const struct migration *m)
{
	buf_printf(b, "\"round\":%u,\"pages_sent\":%lu,\"bytes_sent\":%lu,\"elapsed_ms\":%lu", m->round,
		   (unsigned long)m->pages, (unsigned long)m->offset,
		   (unsigned long)((m->ended_ms ? m->ended_ms : now_ms()) - m->started_ms));
}

static void last_line(struct buf *b, const struct migration *m)
{
	buf_str(b, "{\"event\":\"over\",\"result\":");
	buf_json_cstr(b, migrate_result_name(m->result));
	buf_str(b, ",\"to\":");
	buf_json_cstr(b, m->to_text);
	buf_str(b, ",\"domain\":");
	buf_json_cstr(b, m->q.name);
	buf_str(b, ",");
	totals(b, m);
	if (m->held_ms)
		buf_printf(b, ",\"stopped_ms\":%lu", (unsigned long)(m->ended_ms - m->held_ms));
	if (m->held_ms && m->sent_ms)      /* of which the last pages' sending */
		buf_printf(b, ",\"stopped_sending_ms\":%lu", (unsigned long)(m->sent_ms - m->held_ms));
	if (m->result != MR_MIGRATED) {
		buf_str(b, ",\"error\":{\"code\":");
		buf_json_cstr(b, m->code);
		buf_str(b, ",\"message\":");
		buf_json_cstr(b, m->message);
		buf_str(b, "}");
	}
	line_end(b);
}

/* A line per round, one when the domain stops, the last when it is over. */
static void progress_line(struct buf *b, const struct migration *m, const char *event)
{
	buf_printf(b, "{\"event\":\"%s\",", event);
	totals(b, m);
	line_end(b);
}

static bool migrate_poll(struct request *r, struct stream *st)
{
	struct migration *m = st->ctx;
	struct buf b = { 0 };

	if (m->state == M_OVER) {
		last_line(&b, m);
	} else if (m->round != m->reported_round && !m->held) {
		progress_line(&b, m, "round");
		m->reported_round = m->round;
	} else if (m->held && !m->reported_stop) {
		progress_line(&b, m, "stopped");
		m->reported_stop = true;
	}
	if (b.len)
		stream_chunk(r, b.p, b.len);
	buf_free(&b);
	if (m->state != M_OVER)
		return true;
	migrate_release(m);
	return false;
}

static void migrate_gone(struct request *r, struct stream *st)
{
	(void)r;
	migrate_release(st->ctx);
}

static void migrate_refused(struct request *r, long err, const char *msg)
{
	if (err == -PV_EINVAL)
		return reply_error(r, 409, "not_saveable", NULL, "%s", msg);
	if (err == -PV_EBUSY)
		return reply_error(r, 409, "busy", NULL, "%s", msg);
	if (err == -PV_EAGAIN)
		return reply_error(r, 503, "busy", NULL, "%s", msg);
	if (err == -PV_EIO)
		return reply_error(r, 502, "unreachable", "to", "%s", msg);
	if (err == -PV_ENOMEM)
		return reply_error_more(r, 507, "admission_refused", "\"resource\":\"memory\"", "%s", msg);
	hv_error(r, err, msg);
}

void api_domain_migrate(struct request *r)
{
	struct stream st = { .poll = migrate_poll, .gone = migrate_gone };
	struct migration_req q = { 0 };
	struct pv_domctl_dominfo d;
	struct migration *m;
	struct jerr err;
	char msg[200];
	long e;

	if (!domain_ref(r, &d))
		return;
	if (!migrate_body(r, &q, &err))
		return reply_error(r, 400, err.code, err.field, "%s", err.message);
	if (d.domid == pv_domid())
		return reply_error(r, 403, "forbidden", NULL, "the control domain cannot migrate itself");
	if (!conn_stream_slot(r->conn))     /* before it begins: a refusal must mean nothing began */
		return reply_error(r, 503, "busy", NULL, "too many streaming responses");
	q.domid = d.domid;
	if (!*q.name)
		snprintf(q.name, sizeof(q.name), "%.*s", (int)sizeof(d.name), d.name);
	if (!(m = migrate_start(&q, &e, msg, sizeof(msg))))
		return migrate_refused(r, e, msg);
	st.ctx = m;
	reply_stream(r, "application/x-ndjson", NULL, &st);   /* a slot was checked */
}
