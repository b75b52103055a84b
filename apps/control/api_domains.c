/* /v1/domains: the domain object, list, get, destroy, pause, resume
 * (create is api_create.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "json_in.h"

const char *state_name(uint32_t state)
{
	static const char *const names[] = { "unknown", "running", "blocked", "paused", "ending" };

	return names[state < 5 ? state : 0];
}

bool valid_name(const char *s)
{
	size_t n = strlen(s);
	bool digits = true;

	if (n < 1 || n > 31 || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') ||
				 (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
		digits = digits && c >= '0' && c <= '9';
	}
	return !digits;
}

static void cpus_json(struct buf *b, uint64_t mask)
{
	int n = 0;

	buf_str(b, "[");
	for (int i = 0; i < 64; i++)
		if (mask & (1ull << i))
			buf_printf(b, "%s%d", n++ ? "," : "", i);
	buf_str(b, "]");
}

static void ipv4(struct buf *b, uint32_t a)
{
	buf_printf(b, "\"%u.%u.%u.%u\"", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static void net_json(struct buf *b, const struct pv_domctl_config *cfg, const char *name)
{
	buf_str(b, "[");
	for (uint32_t i = 0; i < cfg->net_count && i < PV_DOMCTL_MAX_NETS; i++) {
		const struct pv_domctl_net *n = &cfg->net[i];
		bool dhcp = n->flags & PV_DOMCTL_NET_DHCP;

		buf_printf(b, "%s{\"port\":\"%s.net%u\",\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\",\"ip\":",
			   i ? "," : "", name, i, n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
		if (dhcp)
			buf_str(b, "null,\"prefix\":null");
		else
			ipv4(b, n->ipv4), buf_printf(b, ",\"prefix\":%u", n->prefix_len);
		buf_str(b, ",\"gw\":");
		if (n->gateway)
			ipv4(b, n->gateway);
		else
			buf_str(b, "null");
		buf_printf(b, ",\"dhcp\":%s,\"guard\":\"%s\"}", dhcp ? "true" : "false",
			   n->flags & PV_DOMCTL_NET_GUARD_MAC ? "mac" : "ip");
	}
	buf_str(b, "]");
}

static const char *action(uint8_t a)
{
	return a == PV_DOMCTL_ACTION_RESTART ? "\"restart\"" : "\"destroy\"";
}

/* What GET_CONFIG knows: argv, limits, policy and net devices. */
static void config_json(struct buf *b, const struct pv_domctl_dominfo *d)
{
	struct pv_domctl_config cfg;

	if (hv_config(d->domid, &cfg)) {
		buf_str(b, ",\"args\":null,\"on_exit\":null,\"on_crash\":null,\"restart_limit\":null,\"net\":null");
		return;
	}
	cfg.cmdline[sizeof(cfg.cmdline) - 1] = 0;
	buf_str(b, ",\"args\":");
	args_json(b, cfg.cmdline);
	buf_printf(b, ",\"on_exit\":%s,\"on_crash\":%s,\"restart_limit\":%u,\"net\":", action(cfg.on_exit),
		   action(cfg.on_crash), cfg.restart_limit);
	net_json(b, &cfg, d->name);
}

static void times_json(struct buf *b, const struct pv_domctl_dominfo *d)
{
	buf_str(b, ",\"cpu_seconds\":");
	buf_seconds(b, d->cpu_ns);
	buf_str(b, ",\"uptime_seconds\":");
	buf_seconds(b, d->uptime_ns);
}

void domain_json(struct buf *b, const struct pv_domctl_dominfo *d,
		 const struct pv_domctl_image_entry *images, int nimages)
{
	const struct pv_domctl_image_entry *img = hv_image_by_hash(images, nimages, d->image_hash);
	char name[PV_NAME_MAX + 1], hash[65];

	snprintf(name, sizeof(name), "%.*s", (int)sizeof(d->name), d->name);
	hex_hash(d->image_hash, hash);
	buf_printf(b, "{\"id\":%u,\"name\":", d->domid);
	buf_json_cstr(b, name);
	buf_printf(b, ",\"state\":\"%s\",\"image\":", state_name(d->state));
	if (img)
		buf_json_str(b, img->name, strnlen(img->name, sizeof(img->name)));
	else
		buf_str(b, "null");
	buf_printf(b, ",\"image_sha256\":\"%s\",\"memory\":%lu,\"memory_private\":%lu,\"memory_overhead\":%lu,"
		   "\"cpus\":", hash, (unsigned long)d->memory, (unsigned long)d->private_bytes,
		   (unsigned long)d->overhead_bytes);
	cpus_json(b, d->cpu_mask);
	buf_printf(b, ",\"weight\":%u,\"last_cpu\":%u", d->weight, d->last_cpu);
	times_json(b, d);
	buf_printf(b, ",\"hypercalls\":%lu,\"context_switches\":%lu,\"console_bytes\":%lu,\"console_dropped\":%lu,"
		   "\"restarts\":%u,\"privileged\":%s,\"boot\":%s", (unsigned long)d->hypercalls,
		   (unsigned long)d->context_switches, (unsigned long)d->console_bytes,
		   (unsigned long)d->console_dropped, d->restarts,
		   d->flags & PV_DOMCTL_INFO_PRIVILEGED ? "true" : "false",
		   d->flags & PV_DOMCTL_INFO_BOOT ? "true" : "false");
	config_json(b, d);
	buf_str(b, "}");
}

void hv_error(struct request *r, long err, const char *message)
{
	if (err == -PV_ENOENT)
		reply_error(r, 404, "no_such_domain", NULL, "no domain \"%s\"", r->arg);
	else if (err == -PV_EBUSY)
		reply_error(r, 409, "busy", NULL, "%.*s", (int)PV_DOMCTL_MSG_MAX, message);
	else
		hv_refused(r, err, message);
}

/* 500 hypervisor_error: the hypervisor's words, or ours when it gave none
 * (an operation it does not offer answers -ENOSYS with an empty message). */
void hv_refused(struct request *r, long err, const char *message)
{
	char msg[PV_DOMCTL_MSG_MAX + 1];

	snprintf(msg, sizeof(msg), "%.*s", (int)PV_DOMCTL_MSG_MAX, message);
	if (!*msg)
		snprintf(msg, sizeof(msg), "%s", err == -PV_ENOSYS ?
			 "the hypervisor does not offer this operation" : "the hypervisor refused it");
	reply_error(r, 500, "hypervisor_error", NULL, "%s (error %ld)", msg, err);
}

uint32_t domain_ref(struct request *r, struct pv_domctl_dominfo *out)
{
	uint32_t id = hv_lookup(r->arg, out);

	if (!id)
		reply_error(r, 404, "no_such_domain", NULL, "no domain \"%s\"", r->arg);
	return id;
}

void reply_domain(struct request *r, int status, const struct pv_domctl_dominfo *d, const char *extra)
{
	static struct pv_domctl_image_entry images[PV_DOMCTL_IMAGES_MAX];
	struct buf b = { 0 };

	domain_json(&b, d, images, hv_images(images));
	buf_str(&b, "\n");
	reply_json(r, status, &b, extra);
	buf_free(&b);
}

void api_domain_list(struct request *r)
{
	static struct pv_domctl_image_entry images[PV_DOMCTL_IMAGES_MAX];
	struct pv_domctl_dominfo *v;
	int n = hv_domains(&v), ni = hv_images(images);
	struct buf b = { 0 };

	if (n < 0)
		return reply_error(r, 500, "internal", NULL, "listing domains failed (out of memory?)");
	buf_str(&b, "{\"domains\":[");
	for (int i = 0; i < n; i++) {
		if (i)
			buf_str(&b, ",");
		domain_json(&b, &v[i], images, ni);
	}
	buf_str(&b, "]}\n");
	free(v);
	reply_json(r, 200, &b, NULL);
	buf_free(&b);
}

void api_domain_get(struct request *r)
{
	struct pv_domctl_dominfo d;

	if (domain_ref(r, &d))
		reply_domain(r, 200, &d, NULL);
}

/* These routes take no body: none, an empty one, or {}. */
static bool no_body(struct request *r)
{
	static const char *const none[] = { NULL };
	static struct jdoc doc;
	struct jerr err;

	if (!r->body_len || (json_parse(&doc, r->body, r->body_len, &err) && json_only(&doc, 0, none, "", &err)))
		return true;
	reply_error(r, 400, err.code, err.field, "%s", err.message);
	return false;
}

/* Destroy, pause and resume: the checks the API promises, then the op. */
static void act(struct request *r, uint16_t op, const char *verb)
{
	struct pv_domctl_dominfo d, now;
	struct pv_domctl_hdr h;
	long err;

	if (!domain_ref(r, &d) || !no_body(r))
		return;
	if (d.domid == pv_domid())
		return reply_error(r, 403, "forbidden", NULL, "the control domain cannot %s itself", verb);
	if (d.state == PV_DOMCTL_ENDING || (op == PV_DOMCTL_PAUSE && d.state == PV_DOMCTL_PAUSED) ||
	    (op == PV_DOMCTL_UNPAUSE && d.state != PV_DOMCTL_PAUSED))
		return reply_error(r, 409, "wrong_state", NULL, "cannot %s domain \"%s\": it is %s", verb, r->arg,
				   state_name(d.state));
	memset(&h, 0, sizeof(h));
	err = hv_call(&h, op, sizeof(h), d.domid);
	if (err)
		return hv_error(r, err, h.message);
	if (hv_info(d.domid, &now) == 0)
		d = now;
	else
		d.state = PV_DOMCTL_ENDING;         /* already gone: as last seen */
	reply_domain(r, 200, &d, NULL);
}

void api_domain_destroy(struct request *r)
{
	act(r, PV_DOMCTL_DESTROY, "destroy");
}

void api_domain_pause(struct request *r)
{
	act(r, PV_DOMCTL_PAUSE, "pause");
}

void api_domain_resume(struct request *r)
{
	act(r, PV_DOMCTL_UNPAUSE, "resume");
}
