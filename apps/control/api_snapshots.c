/* Snapshots and clones (docs/api.md "Snapshots and clones"):
 *   POST   /v1/domains/{ref}/snapshot   {"name": S, "then": "resume"|"pause"|"destroy"}
 *   GET    /v1/snapshots, GET /v1/snapshots/{name}, DELETE /v1/snapshots/{name}
 *   POST   /v1/snapshots/{name}/clone   {"name": N, "count": K, "net": [...]}
 * The snapshots live in the hypervisor (PV_DOMCTL_SNAPSHOT*), so a
 * restarted control domain finds them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "create.h"
#include "json_in.h"

#define CLONES_MAX 1000

static struct pv_domctl_snapshot_entry snaps[PV_DOMCTL_SNAPSHOTS_MAX];

static void snapshot_json(struct buf *b, const struct pv_domctl_snapshot_entry *e)
{
	char hash[65];

	hex_hash(e->image_hash, hash);
	buf_str(b, "{\"name\":");
	buf_json_str(b, e->name, strnlen(e->name, sizeof(e->name)));
	buf_str(b, ",\"domain\":");
	buf_json_str(b, e->domain, strnlen(e->domain, sizeof(e->domain)));
	buf_printf(b, ",\"image_sha256\":\"%s\",\"memory\":%lu,\"bytes\":%lu,\"clones\":%u,\"net_count\":%u,"
		   "\"taken_at_seconds\":", hash, (unsigned long)e->memory, (unsigned long)e->bytes, e->clones,
		   e->net_count);
	buf_seconds(b, e->created_ns);
	buf_str(b, "}");
}

static void reply_snapshot(struct request *r, int status, const struct pv_domctl_snapshot_entry *e,
			   const char *extra)
{
	struct buf b = { 0 };

	snapshot_json(&b, e);
	buf_str(&b, "\n");
	reply_json(r, status, &b, extra);
	buf_free(&b);
}

static int list(void)
{
	struct pv_domctl_snapshot_list l = { .buf_gva = (uintptr_t)snaps, .max = PV_DOMCTL_SNAPSHOTS_MAX };

	return hv_call(&l, PV_DOMCTL_SNAPSHOT_LIST, sizeof(l), 0) ? -1 : (int)l.count;
}

static const struct pv_domctl_snapshot_entry *named(struct request *r)
{
	int n = list();

	for (int i = 0; i < n; i++)
		if (!strncmp(snaps[i].name, r->arg, sizeof(snaps[i].name)) && strlen(r->arg) < sizeof(snaps[i].name))
			return &snaps[i];
	reply_error(r, 404, "no_such_snapshot", NULL, "no snapshot \"%s\"", r->arg);
	return NULL;
}

void api_snapshot_list(struct request *r)
{
	int n = list();
	struct buf b = { 0 };

	buf_str(&b, "{\"snapshots\":[");
	for (int i = 0; i < n; i++) {
		if (i)
			buf_str(&b, ",");
		snapshot_json(&b, &snaps[i]);
	}
	buf_str(&b, "]}\n");
	reply_json(r, 200, &b, NULL);
	buf_free(&b);
}

void api_snapshot_get(struct request *r)
{
	const struct pv_domctl_snapshot_entry *e = named(r);

	if (e)
		reply_snapshot(r, 200, e, NULL);
}

void api_snapshot_delete(struct request *r)
{
	struct pv_domctl_snapshot q = { 0 };
	long err;

	if (strlen(r->arg) >= sizeof(q.entry.name))
		return reply_error(r, 404, "no_such_snapshot", NULL, "no snapshot \"%s\"", r->arg);
	memcpy(q.entry.name, r->arg, strlen(r->arg));
	err = hv_call(&q, PV_DOMCTL_SNAPSHOT_DROP, sizeof(q), 0);
	if (err == -PV_ENOENT)
		return reply_error(r, 404, "no_such_snapshot", NULL, "no snapshot \"%s\"", r->arg);
	if (err)
		return hv_refused(r, err, q.hdr.message);
	reply_snapshot(r, 200, &q.entry, NULL);
}

/* ---- taking one ------------------------------------------------------------------- */

static const char *const snapshot_fields[] = { "name", "then", NULL };

static bool snapshot_body(struct request *r, struct pv_domctl_snapshot *q, struct jerr *err)
{
	static struct jdoc doc;
	char then[16] = "resume";
	int t;

	if (!json_parse(&doc, r->body, r->body_len, err) || !json_only(&doc, 0, snapshot_fields, "", err))
		return false;
	if ((t = json_get(&doc, 0, "name")) < 0)
		return json_fail(err, "missing_field", "name", "name: required");
	if (!json_string(&doc, t, "name", q->entry.name, sizeof(q->entry.name), err))
		return false;
	if (!valid_name(q->entry.name))
		return json_fail(err, "bad_field", "name", "name: 1..31 of A-Z a-z 0-9 _ . -, not all digits");
	if ((t = json_get(&doc, 0, "then")) >= 0 && !json_string(&doc, t, "then", then, sizeof(then), err))
		return false;
	q->flags = !strcmp(then, "resume") ? PV_DOMCTL_SAVE_RESUME : !strcmp(then, "pause") ? PV_DOMCTL_SAVE_PAUSE :
		   !strcmp(then, "destroy") ? PV_DOMCTL_SAVE_DESTROY : 99;
	if (q->flags == 99)
		return json_fail(err, "bad_field", "then", "then: resume, pause or destroy");
	return true;
}

void api_domain_snapshot(struct request *r)
{
	struct pv_domctl_snapshot q = { 0 };
	struct pv_domctl_dominfo d;
	struct jerr err;
	char loc[80];
	long e;

	if (!domain_ref(r, &d))
		return;
	if (!snapshot_body(r, &q, &err))
		return reply_error(r, 400, err.code, err.field, "%s", err.message);
	if (d.domid == pv_domid())
		return reply_error(r, 403, "forbidden", NULL, "the control domain cannot snapshot itself");
	e = hv_call(&q, PV_DOMCTL_SNAPSHOT, sizeof(q), d.domid);
	if (e == -PV_EEXIST)
		return reply_error(r, 409, "snapshot_exists", "name", "%.*s", (int)PV_DOMCTL_MSG_MAX, q.hdr.message);
	if (e == -PV_EINVAL)
		return reply_error(r, 409, "not_saveable", NULL, "%.*s", (int)PV_DOMCTL_MSG_MAX, q.hdr.message);
	if (e == -PV_ENOMEM)
		return reply_error_more(r, 507, "admission_refused", "\"resource\":\"memory\"", "%.*s",
					(int)PV_DOMCTL_MSG_MAX, q.hdr.message);
	if (e == -PV_EAGAIN)
		return reply_error(r, 409, "busy", NULL, "%.*s", (int)PV_DOMCTL_MSG_MAX, q.hdr.message);
	if (e)
		return hv_error(r, e, q.hdr.message);
	snprintf(loc, sizeof(loc), "Location: /v1/snapshots/%.*s\r\n", (int)sizeof(q.entry.name), q.entry.name);
	reply_snapshot(r, 201, &q.entry, loc);
}

/* ---- clones ------------------------------------------------------------------------- */

static const char *const clone_fields[] = { "name", "count", "net", NULL };

struct clone_req {
	char name[PV_NAME_MAX];
	int64_t count;
	uint32_t net_count;
	struct pv_domctl_net net[PV_DOMCTL_MAX_NETS];   /* clone 1's; later ones count on */
};

static bool clone_nets(const struct jdoc *doc, struct clone_req *c, struct jerr *err)
{
	int t = json_get(doc, 0, "net"), n;
	char path[16];

	if (t < 0)
		return true;
	if ((n = json_array(doc, t, "net", err)) < 0)
		return false;
	if (n > (int)PV_DOMCTL_MAX_NETS)
		return json_fail(err, "bad_field", "net", "net: at most %u devices", PV_DOMCTL_MAX_NETS);
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "net.%d", i);
		if (!net_device(doc, json_elem(doc, t, i), path, &c->net[i], err))
			return false;
		if (c->count > 1 && (c->net[i].mac[0] | c->net[i].mac[1] | c->net[i].mac[2] | c->net[i].mac[3] |
				     c->net[i].mac[4] | c->net[i].mac[5]))
			return json_fail(err, "bad_field", path, "%s.mac: only with count 1 (each clone needs its own)",
					 path);
	}
	c->net_count = (uint32_t)n;
	return true;
}

static bool clone_body(struct request *r, struct clone_req *c, struct jerr *err)
{
	static struct jdoc doc;
	int t;

	if (!json_parse(&doc, r->body, r->body_len, err) || !json_only(&doc, 0, clone_fields, "", err))
		return false;
	if ((t = json_get(&doc, 0, "name")) < 0)
		return json_fail(err, "missing_field", "name", "name: required");
	if (!json_string(&doc, t, "name", c->name, sizeof(c->name), err))
		return false;
	c->count = 1;
	if ((t = json_get(&doc, 0, "count")) >= 0 && !json_int(&doc, t, "count", 1, CLONES_MAX, &c->count, err))
		return false;
	if (!valid_name(c->name) || (c->count > 1 && strlen(c->name) > 26))
		return json_fail(err, "bad_field", "name", "name: 1..31 of A-Z a-z 0-9 _ . -, not all digits "
				 "(at most 26 with count: clones are NAME-1..NAME-COUNT)");
	return clone_nets(&doc, c, err);
}

/* Clone k (0-based): NAME or NAME-k+1, and every static address k on. */
static void clone_k(const struct clone_req *c, const char *snap, int64_t k, struct pv_domctl_clone *q)
{
	memset(q, 0, sizeof(*q));
	snprintf(q->snapshot, sizeof(q->snapshot), "%.*s", (int)sizeof(q->snapshot) - 1, snap);
	if (c->count == 1)
		snprintf(q->name, sizeof(q->name), "%s", c->name);
	else
		snprintf(q->name, sizeof(q->name), "%s-%lld", c->name, (long long)k + 1);
	q->net_count = c->net_count;
	for (uint32_t i = 0; i < c->net_count; i++) {
		q->net[i] = c->net[i];
		if (q->net[i].ipv4)
			q->net[i].ipv4 += (uint32_t)k;
	}
}

static void clone_failed(struct request *r, long e, const char *msg, const struct buf *made, int64_t k)
{
	char more[4200];

	snprintf(more, sizeof(more), "\"created\":[%.*s]", (int)made->len, made->p ? made->p : "");
	if (e == -PV_ENOENT)
		return reply_error(r, 404, "no_such_snapshot", NULL, "no snapshot \"%s\"", r->arg);
	if (e == -PV_ENOMEM || e == -PV_ENOSPC)
		return reply_error_more(r, 507, "admission_refused", more, "clone %lld: %.*s", (long long)k + 1,
					(int)PV_DOMCTL_MSG_MAX, msg);
	reply_error_more(r, e == -PV_EEXIST ? 409 : 400, e == -PV_EEXIST ? "conflict" : "bad_field", more,
			 "clone %lld: %.*s", (long long)k + 1, (int)PV_DOMCTL_MSG_MAX, msg);
}

void api_snapshot_clone(struct request *r)
{
	static struct pv_domctl_image_entry images[PV_DOMCTL_IMAGES_MAX];
	static struct clone_req c;
	struct pv_domctl_clone q;
	struct pv_domctl_dominfo d;
	struct buf out = { 0 }, ids = { 0 };
	struct jerr err;
	int ni = hv_images(images);

	memset(&c, 0, sizeof(c));
	if (strlen(r->arg) >= PV_NAME_MAX)
		return reply_error(r, 404, "no_such_snapshot", NULL, "no snapshot \"%s\"", r->arg);
	if (!clone_body(r, &c, &err))
		return reply_error(r, 400, err.code, err.field, "%s", err.message);
	buf_str(&out, "{\"domains\":[");
	for (int64_t k = 0; k < c.count; k++) {
		long e;

		clone_k(&c, r->arg, k, &q);
		e = hv_call(&q, PV_DOMCTL_CLONE, sizeof(q), 0);
		if (e) {
			clone_failed(r, e, q.hdr.message, &ids, k);
			break;
		}
		buf_printf(&ids, "%s%u", k ? "," : "", q.hdr.domid);
		if (hv_info(q.hdr.domid, &d) == 0) {
			buf_str(&out, k ? "," : "");
			domain_json(&out, &d, images, ni);
		}
		if (k == c.count - 1) {
			buf_str(&out, "]}\n");
			reply_json(r, 201, &out, NULL);
		}
	}
	buf_free(&out);
	buf_free(&ids);
}
