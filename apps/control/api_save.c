/* Save streams (docs/api.md "Save and restore", docs/migration.md):
 *   GET  /v1/domains/{ref}/save?then=resume|pause|destroy  the stream, chunked
 *   POST /v1/restore?name=NEW                             a stream in, a domain out
 * The hypervisor makes and checks the stream; this file only moves it
 * between the socket and PV_HC_DOMCTL, a piece at a time, so a guest of
 * any size passes through a buffer of PV_DOMCTL_SAVE_CHUNK. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"

static char piece[PV_DOMCTL_SAVE_CHUNK];

/* ---- save ------------------------------------------------------------------- */

static long save_op(uint16_t op, uint32_t domid, struct pv_domctl_save *s)
{
	return hv_call(s, op, sizeof(*s), domid);
}

static void save_end(uint32_t domid, uint32_t then)
{
	struct pv_domctl_save s = { .flags = then };

	save_op(PV_DOMCTL_SAVE_END, domid, &s);
}

/* The next piece, until the END record is out; then the save ends as
 * asked.  A failure cuts the response short (the client sees it). */
static bool save_poll(struct request *r, struct stream *st)
{
	struct pv_domctl_save s = { .offset = st->offset, .buf_gva = (uintptr_t)piece, .len = sizeof(piece) };

	if (save_op(PV_DOMCTL_SAVE_READ, st->domid, &s)) {
		fprintf(stderr, "control: save of domain %u failed at byte %lu: %.*s\n", st->domid,
			(unsigned long)st->offset, (int)sizeof(s.hdr.message), s.hdr.message);
		save_end(st->domid, PV_DOMCTL_SAVE_RESUME);
		st->failed = true;
		return false;
	}
	if (s.count)
		stream_chunk(r, piece, s.count);
	st->offset += s.count;
	if (!(s.flags & PV_DOMCTL_SAVE_DONE))
		return true;
	save_end(st->domid, st->arg);
	return false;
}

/* The client went before the end: the domain goes on as if never saved. */
static void save_gone(struct request *r, struct stream *st)
{
	(void)r;
	save_end(st->domid, PV_DOMCTL_SAVE_RESUME);
}

static bool then_arg(struct request *r, uint32_t *then)
{
	char v[16];
	const char *s = http_query(r->http, "then", v, sizeof(v));

	*then = PV_DOMCTL_SAVE_RESUME;
	if (!s || !strcmp(s, "resume"))
		return true;
	if (!strcmp(s, "pause"))
		return *then = PV_DOMCTL_SAVE_PAUSE, true;
	if (!strcmp(s, "destroy"))
		return *then = PV_DOMCTL_SAVE_DESTROY, true;
	reply_error(r, 400, "bad_parameter", "then", "then: resume, pause or destroy");
	return false;
}

static void save_refused(struct request *r, long err, const char *msg)
{
	if (err == -PV_EINVAL)
		return reply_error(r, 409, "not_saveable", NULL, "%.*s", (int)PV_DOMCTL_MSG_MAX, msg);
	if (err == -PV_EBUSY || err == -PV_EAGAIN)
		return reply_error(r, 409, "busy", NULL, "%.*s", (int)PV_DOMCTL_MSG_MAX, msg);
	hv_error(r, err, msg);
}

/* live=1: the domain runs on while its pages go (the rounds of a
 * migration, docs/migration.md), and stops only for the last of them. */
static bool live_arg(struct request *r, uint32_t *flags)
{
	char v[8];
	const char *s = http_query(r->http, "live", v, sizeof(v));

	*flags = 0;
	if (!s || !strcmp(s, "0"))
		return true;
	if (!strcmp(s, "1"))
		return *flags = PV_DOMCTL_SAVE_LIVE, true;
	reply_error(r, 400, "bad_parameter", "live", "live: 0 or 1");
	return false;
}

void api_domain_save(struct request *r)
{
	struct pv_domctl_dominfo d;
	struct pv_domctl_save s = { 0 };
	struct stream st = { .poll = save_poll, .gone = save_gone };
	uint32_t then;
	char extra[160];
	long err;

	if (!domain_ref(r, &d) || !then_arg(r, &then) || !live_arg(r, &s.flags))
		return;
	if (d.domid == pv_domid())
		return reply_error(r, 403, "forbidden", NULL, "the control domain cannot save itself");
	err = save_op(PV_DOMCTL_SAVE_BEGIN, d.domid, &s);
	if (err)
		return save_refused(r, err, s.hdr.message);
	st.domid = d.domid;
	st.arg = then;
	if (s.flags)              /* a live stream's length is not known */
		snprintf(extra, sizeof(extra), "Paravane-Save-Pages: %lu\r\n", (unsigned long)s.pages);
	else
		snprintf(extra, sizeof(extra), "Paravane-Save-Bytes: %lu\r\nParavane-Save-Pages: %lu\r\n",
			 (unsigned long)s.bytes, (unsigned long)s.pages);
	if (!reply_stream(r, "application/octet-stream", extra, &st))
		save_end(d.domid, PV_DOMCTL_SAVE_RESUME);
}

/* ---- restore ------------------------------------------------------------------- */

static long restore_op(uint16_t op, struct body_feed *f, struct pv_domctl_restore *q)
{
	long err;

	q->handle = op == PV_DOMCTL_RESTORE_BEGIN ? 0 : f->handle;
	err = hv_call(q, op, sizeof(*q), 0);
	if (err) {
		f->err = err;
		f->open = false;          /* a refusal closes the handle */
		snprintf(f->msg, sizeof(f->msg), "%.*s", (int)PV_DOMCTL_MSG_MAX, q->hdr.message);
	}
	return err;
}

static bool restore_begin(struct request *r)
{
	struct pv_domctl_restore q = { 0 };
	char name[PV_NAME_MAX + 1];
	const char *s = http_query(r->http, "name", name, sizeof(name));

	if (s && !valid_name(s)) {
		r->feed.err = -PV_EINVAL;
		snprintf(r->feed.msg, sizeof(r->feed.msg), "name: 1..31 of A-Z a-z 0-9 _ . -, not all digits");
		return false;
	}
	if (s)
		memcpy(q.name, s, strlen(s));
	if (restore_op(PV_DOMCTL_RESTORE_BEGIN, &r->feed, &q))
		return false;
	r->feed.handle = q.handle;
	return true;
}

static bool restore_take(struct request *r, const void *p, size_t n)
{
	struct pv_domctl_restore q;

	for (size_t done = 0; done < n;) {
		size_t k = n - done < PV_DOMCTL_SAVE_CHUNK ? n - done : PV_DOMCTL_SAVE_CHUNK;

		memset(&q, 0, sizeof(q));
		q.buf_gva = (uintptr_t)p + done;
		q.len = (uint32_t)k;
		if (restore_op(PV_DOMCTL_RESTORE_WRITE, &r->feed, &q))
			return false;
		done += k;
	}
	return true;
}

static void restore_abort(struct request *r)
{
	struct pv_domctl_restore q = { 0 };

	restore_op(PV_DOMCTL_RESTORE_END, &r->feed, &q);
	r->feed.open = false;
}

const struct body_sink restore_sink = { restore_begin, restore_take, restore_abort };

static void restore_refused(struct request *r, long err, const char *msg)
{
	if (err == -PV_ENOENT)
		return reply_error(r, 409, "image_missing", NULL, "%s", msg);
	if (err == -PV_EEXIST)
		return reply_error(r, 409, "name_taken", NULL, "%s", msg);
	if (err == -PV_ENODEV)
		return reply_error(r, 409, "volume_missing", NULL, "%s", msg);
	if (err == -PV_ENOMEM)
		return reply_error_more(r, 507, "admission_refused", "\"resource\":\"memory\"", "%s", msg);
	if (err == -PV_EBUSY)
		return reply_error(r, 409, "busy", NULL, "%s", msg);
	reply_error(r, 400, "bad_stream", NULL, "%s", msg);
}

void api_restore(struct request *r)
{
	struct pv_domctl_restore q = { .flags = PV_DOMCTL_RESTORE_COMMIT };
	struct pv_domctl_dominfo d;
	char loc[64];

	if (r->feed.err)
		return restore_refused(r, r->feed.err, r->feed.msg);
	if (!r->body_total) {
		restore_abort(r);
		return reply_error(r, 400, "bad_stream", NULL, "the stream is empty");
	}
	if (restore_op(PV_DOMCTL_RESTORE_END, &r->feed, &q))
		return restore_refused(r, r->feed.err, r->feed.msg);
	r->feed.open = false;
	snprintf(loc, sizeof(loc), "Location: /v1/domains/%u\r\n", q.hdr.domid);
	if (hv_info(q.hdr.domid, &d)) {
		memset(&d, 0, sizeof(d));
		d.domid = q.hdr.domid;
		d.state = PV_DOMCTL_ENDING;
	}
	reply_domain(r, 201, &d, loc);
}
