/* Admission for POST /v1/domains: conflicts and resources, answered with
 * the codes docs/api.md promises.  The hypervisor checks again (two
 * creators can race); its answer is mapped by create_failed(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "create.h"

static bool same_mac(const struct pv_domctl_config *a, const struct pv_domctl_net *n)
{
	static const uint8_t zero[6];

	if (!memcmp(n->mac, zero, 6))
		return false;
	for (uint32_t i = 0; i < a->net_count && i < PV_DOMCTL_MAX_NETS; i++)
		if (!memcmp(a->net[i].mac, n->mac, 6))
			return true;
	return false;
}

/* Does a live domain's net device already have one of cfg's MACs? */
static bool mac_taken(const struct pv_domctl_dominfo *d, const struct pv_domctl_config *cfg)
{
	struct pv_domctl_config live;

	if (hv_config(d->domid, &live))
		return false;
	for (uint32_t i = 0; i < cfg->net_count; i++)
		if (same_mac(&live, &cfg->net[i]))
			return true;
	return false;
}

/* A taken name needs no listing here: CREATE refuses it (-EEXIST, which
 * create_failed answers 409 name_taken), and listing every live domain on
 * every create made a create cost O(live domains): 12,000 creates took
 * 133 s instead of 52 (tests/bench/serverless_bench.py).  Only MACs are
 * compared here, so the whole list is read only for a create with net
 * devices. */
bool create_conflicts(struct request *r, const struct pv_domctl_config *cfg)
{
	struct pv_domctl_dominfo *v;
	int n, hit = 0;

	if (!cfg->net_count)
		return false;
	n = hv_domains(&v);
	for (int i = 0; i < n && !hit; i++)
		hit = !strncmp(v[i].name, cfg->name, PV_NAME_MAX) ? 1 : cfg->net_count && mac_taken(&v[i], cfg) ? 2 : 0;
	if (n >= 0)
		free(v);
	if (hit == 1)
		reply_error(r, 409, "name_taken", "name", "a live domain is named \"%s\"", cfg->name);
	else if (hit == 2)
		reply_error(r, 409, "mac_taken", "net", "a live domain's net device has that MAC");
	return hit != 0;
}

static void refuse(struct request *r, const char *resource, uint64_t requested, uint64_t available,
		   const char *why)
{
	char more[160];

	snprintf(more, sizeof(more), "\"resource\":\"%s\",\"requested\":%lu,\"available\":%lu", resource,
		 (unsigned long)requested, (unsigned long)available);
	reply_error_more(r, 507, "admission_refused", more, "%s", why);
}

/* What a domain of this memory takes from the hypervisor: its memory,
 * the list of its frames and its page tables (8 bytes each per 4 KiB
 * page), and its structure, console ring and top-level tables (about 32
 * KiB): INFO's memory_overhead measures the same. */
static uint64_t need(uint64_t memory)
{
	return memory + memory / 256 + (32u << 10);
}

bool create_admits(struct request *r, const struct pv_domctl_config *cfg)
{
	struct pv_domctl_host h;
	char why[200];

	if (hv_host(&h))
		return true;                   /* the hypervisor will say */
	if (h.domains >= h.domains_max) {
		snprintf(why, sizeof(why), "no room for domain \"%s\": %u of %u domains live", cfg->name, h.domains,
			 h.domains_max);
		return refuse(r, "domains", 1, 0, why), false;
	}
	if (need(cfg->memory) > h.memory_free) {
		snprintf(why, sizeof(why), "not enough memory for domain \"%s\": needs %lu bytes (%lu + %lu overhead), "
			 "%lu free", cfg->name, (unsigned long)need(cfg->memory), (unsigned long)cfg->memory,
			 (unsigned long)(need(cfg->memory) - cfg->memory), (unsigned long)h.memory_free);
		return refuse(r, "memory", need(cfg->memory), h.memory_free, why), false;
	}
	return true;
}

void create_failed(struct request *r, long err, const struct pv_domctl_create *c)
{
	struct pv_domctl_host h = { 0 };
	char msg[PV_DOMCTL_MSG_MAX + 1];

	snprintf(msg, sizeof(msg), "%s", c->hdr.message);
	hv_host(&h);
	if (err == -PV_EEXIST)
		reply_error(r, 409, "name_taken", "name", "a live domain is named \"%s\"", c->config.name);
	else if (err == -PV_ENOMEM)
		refuse(r, "memory", need(c->config.memory), h.memory_free, msg);
	else if (err == -PV_ENOSPC)
		refuse(r, "domains", 1, h.domains_max - h.domains, msg);
	else if (err == -PV_ENOENT)
		reply_error(r, 404, "no_such_image", "image", "%s", msg);
	else if (err == -PV_EINVAL)
		reply_error(r, 400, "bad_field", NULL, "%s", msg);
	else
		hv_refused(r, err, msg);
}
