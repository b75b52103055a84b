/* domctl CREATE (public/domctl.h): a caller's settings become a manifest
 * section of our own, checked by the same rules the manifest parser
 * applies, and its image a stored one (hv/image_store.h); then the domain
 * is built like a boot domain.  Image copy, hash and build are O(size):
 * they run with interrupts on (no lock is held; the caller's CPU is in its
 * own hypercall, which nothing preempts), as boot builds do. */
#include <manifest.h>
#include <public/domctl.h>
#include <hv/domain.h>
#include <hv/domctl.h>
#include <hv/errno.h>
#include <hv/image_store.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/mm.h>
#include <hv/x86.h>

#define ERR(msg) (snprintf(err, n, "%s", msg), false)

bool domctl_name_ok(const char *name)
{
	size_t len = strnlen(name, PV_NAME_MAX);

	if (!len || len >= PV_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

static bool same_name(struct domain *d, void *ctx)
{
	bool *taken = ((void **)ctx)[1];

	if (!strcmp(d->name, ((void **)ctx)[0]))
		*taken = true;
	return !*taken;
}

static bool name_free(const char *name)
{
	bool taken = false;
	void *ctx[2] = { (void *)name, &taken };

	domain_walk(0, same_name, ctx);
	return !taken;
}

/* A locally administered unicast MAC no manifest chose: 06:50:xx:xx:xx:xx. */
static void make_mac(uint8_t mac[6])
{
	static uint32_t next;
	uint32_t v = __atomic_add_fetch(&next, 1, __ATOMIC_RELAXED);

	mac[0] = 0x06;
	mac[1] = 0x50;
	mac[2] = 0;
	mac[3] = (uint8_t)(v >> 16);
	mac[4] = (uint8_t)(v >> 8);
	mac[5] = (uint8_t)v;
}

static bool net_ok(const struct pv_domctl_net *in, struct manifest_net *out, char *err, size_t n)
{
	static const uint8_t zero[6];
	bool dhcp = in->flags & PV_DOMCTL_NET_DHCP;

	if (in->flags & ~(PV_DOMCTL_NET_DHCP | PV_DOMCTL_NET_GUARD_MAC) || in->reserved)
		return ERR("net: unknown flags or reserved field set");
	if (in->mac[0] & 1)
		return ERR("net: mac must be unicast");
	if (dhcp ? (in->ipv4 || in->prefix_len) : (!in->ipv4 || !in->prefix_len || in->prefix_len > 32))
		return ERR("net: give ipv4 with prefix_len 1..32, or the dhcp flag alone");
	memcpy(out->mac, in->mac, 6);
	if (!memcmp(in->mac, zero, 6))
		make_mac(out->mac);
	out->dhcp = dhcp;
	out->prefix_len = in->prefix_len;
	out->ipv4 = in->ipv4;
	out->gateway = in->gateway;
	out->guard = (in->flags & PV_DOMCTL_NET_GUARD_MAC) ? MANIFEST_GUARD_MAC : MANIFEST_GUARD_IP;
	return true;
}

static bool limits_ok(const struct pv_domctl_config *c, char *err, size_t n)
{
	if (!domctl_name_ok(c->name))
		return ERR("name: 1..31 of A-Z a-z 0-9 _ . -");
	if (strnlen(c->cmdline, sizeof(c->cmdline)) == sizeof(c->cmdline))
		return ERR("cmdline: not NUL terminated");
	if (c->memory < MANIFEST_MEMORY_MIN || c->memory > MANIFEST_MEMORY_MAX || c->memory % PAGE_SIZE)
		return ERR("memory: 64 KiB..64 GiB, a multiple of 4 KiB");
	if (c->weight > MANIFEST_WEIGHT_MAX)
		return ERR("weight: 1..65535 (0: the default)");
	if (c->on_exit > PV_DOMCTL_ACTION_RESTART || c->on_crash > PV_DOMCTL_ACTION_RESTART)
		return ERR("on_exit/on_crash: destroy (0) or restart (1)");
	if (c->net_count > PV_DOMCTL_MAX_NETS || c->reserved)
		return ERR("net_count: at most 4 (and reserved must be 0)");
	return true;
}

/* The settings as a manifest section of our own; false with a message. */
bool domctl_settings(const struct pv_domctl_config *c, struct manifest_guest *g, char *err, size_t n)
{
	if (!limits_ok(c, err, n))
		return false;
	strlcpy(g->name, c->name, sizeof(g->name));
	strlcpy(g->cmdline, c->cmdline, sizeof(g->cmdline));
	g->memory = c->memory;
	g->cpu_mask = c->cpu_mask;
	g->weight = c->weight ? c->weight : MANIFEST_WEIGHT_DEFAULT;
	g->instances = 1;
	g->valid = true;
	g->on_exit = c->on_exit == PV_DOMCTL_ACTION_RESTART ? MANIFEST_ACTION_RESTART : MANIFEST_ACTION_DESTROY;
	g->on_crash = c->on_crash == PV_DOMCTL_ACTION_RESTART ? MANIFEST_ACTION_RESTART : MANIFEST_ACTION_DESTROY;
	g->restart_limit = c->restart_limit;
	g->restart_delay_us = MANIFEST_RESTART_DELAY_BUILD;
	g->net_count = c->net_count;
	for (uint32_t i = 0; i < c->net_count; i++)
		if (!net_ok(&c->net[i], &g->net[i], err, n))
			return false;
	return true;
}

/* The new domain's id, or 0 with a message.  img: a stored image's user
 * reference (CREATE by hash), else the bytes are copied in now. */
static uint32_t build(struct domain *caller, struct pv_domctl_create *q, struct manifest_guest *g,
		      struct image *img, char *err, size_t n)
{
	uint32_t id;

	if (!img)
		img = image_from_guest(&caller->mem, q->image_gva, q->image_size, err, n);
	if (!img)
		return 0;
	memcpy(q->image_hash, img->hash, sizeof(q->image_hash));
	id = domain_create_runtime(g, img, err, n);
	if (!id)
		image_put(img);
	return id;
}

/* Out of a resource (memory, domain slots) or a bad image/setting. */
static int64_t refusal(const char *msg)
{
	if (!strncmp(msg, "out of", 6))
		return -ENOMEM;
	if (!strncmp(msg, "name:", 5))
		return -EEXIST;             /* another creator took the name meanwhile */
	return !strncmp(msg, "too many", 8) ? -ENOSPC : -EINVAL;
}

static int64_t refuse(struct manifest_guest *g, int64_t r, struct pv_domctl_create *q, const char *msg)
{
	domain_cfg_free(g);
	if (msg)                   /* else the message is written already */
		strlcpy(q->hdr.message, msg, sizeof(q->hdr.message));
	return r;
}

/* With image_gva = image_size = 0 the image is the stored one whose hash
 * the caller gave: its reference is taken under the store's lock, so a
 * racing IMAGE_REMOVE cannot free it while the domain is built. */
int64_t domctl_create(struct domain *caller, struct pv_domctl_create *q)
{
	struct manifest_guest *g = domain_cfg_alloc();
	bool hashed = !q->image_gva && !q->image_size;
	struct image *img = NULL;
	uint32_t id;

	if (!hashed)
		memset(q->image_hash, 0, sizeof(q->image_hash));   /* OUT only */
	if (!g)
		return snprintf(q->hdr.message, sizeof(q->hdr.message), "out of hypervisor memory"), -ENOMEM;
	if (!domctl_settings(&q->config, g, q->hdr.message, sizeof(q->hdr.message)))
		return refuse(g, -EINVAL, q, NULL);
	if (!name_free(g->name))
		return refuse(g, -EEXIST, q, "name: a live domain already has it");
	if (hashed && !(img = image_find(q->image_hash)))
		return refuse(g, -ENOENT, q, "no stored image with that hash");
	sti();
	id = build(caller, q, g, img, q->hdr.message, sizeof(q->hdr.message));
	cli();
	if (!id) {
		domain_cfg_free(g);
		return refusal(q->hdr.message);
	}
	q->hdr.domid = id;
	return 0;
}
