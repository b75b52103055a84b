/* domctl GET_CONFIG (public/domctl.h): a live domain's settings as the
 * struct pv_domctl_config CREATE takes, so that a restarted control
 * domain can rebuild its view.  A run-time domain's settings are the ones
 * CREATE made of its request (a MAC it left zero is the one made up); a
 * boot domain's are its manifest section's, named as the domain is
 * (NAME-N for a copy of a section with instances). */
#include <manifest.h>
#include <public/domctl.h>
#include <hv/domain.h>
#include <hv/domctl.h>
#include <hv/errno.h>
#include <hv/lib.h>

_Static_assert(MANIFEST_CMDLINE_MAX == PV_CMDLINE_MAX, "cmdlines have one length");
_Static_assert(MANIFEST_MAX_NETS == PV_DOMCTL_MAX_NETS, "as many net devices as CREATE takes");
_Static_assert(MANIFEST_RESTART_MAX <= UINT16_MAX, "restart_limit fits the ABI's field");

static uint8_t action(enum manifest_action a)
{
	switch (a) {
	case MANIFEST_ACTION_RESTART:
		return PV_DOMCTL_ACTION_RESTART;
	case MANIFEST_ACTION_POWEROFF:
		return PV_DOMCTL_ACTION_POWEROFF;
	default:
		return PV_DOMCTL_ACTION_DESTROY;
	}
}

static void net_config(const struct manifest_net *in, struct pv_domctl_net *out)
{
	memcpy(out->mac, in->mac, sizeof(out->mac));
	out->prefix_len = in->prefix_len;
	out->flags = (in->dhcp ? PV_DOMCTL_NET_DHCP : 0) |
		     (in->guard == MANIFEST_GUARD_MAC ? PV_DOMCTL_NET_GUARD_MAC : 0);
	out->ipv4 = in->ipv4;
	out->gateway = in->gateway;
}

/* Under the domain table's lock: d and its settings stay. */
void domain_config_of(const struct domain *d, struct pv_domctl_config *c)
{
	const struct manifest_guest *g = d->cfg;

	memset(c, 0, sizeof(*c));
	strlcpy(c->name, d->name, sizeof(c->name));
	strlcpy(c->cmdline, g->cmdline, sizeof(c->cmdline));
	c->memory = g->memory;
	c->cpu_mask = g->cpu_mask;
	c->weight = g->weight;
	c->on_exit = action(g->on_exit);
	c->on_crash = action(g->on_crash);
	c->restart_limit = (uint16_t)g->restart_limit;
	c->net_count = MIN(g->net_count, PV_DOMCTL_MAX_NETS);
	for (uint32_t i = 0; i < c->net_count; i++)
		net_config(&g->net[i], &c->net[i]);
}

struct config_req { uint32_t id; struct pv_domctl_config *out; bool found; };

static bool config_if(struct domain *d, void *ctx)
{
	struct config_req *q = ctx;

	q->found = d->id == q->id;
	if (q->found)
		domain_config_of(d, q->out);
	return false;
}

int64_t domctl_get_config(struct domain *caller, struct pv_domctl_getconfig *q)
{
	struct config_req req = { q->hdr.domid, &q->config, false };

	(void)caller;
	memset(&q->config, 0, sizeof(q->config));
	if (!q->hdr.domid || (domain_walk(q->hdr.domid - 1, config_if, &req), !req.found)) {
		strlcpy(q->hdr.message, "no such domain", sizeof(q->hdr.message));
		return -ENOENT;
	}
	return 0;
}
