/* A net device in a create request (docs/api.md, "A net device"). */
#include <stdio.h>
#include <string.h>
#include "create.h"

static const char *const net_fields[] = { "mac", "ip", "prefix", "gw", "dhcp", "guard", NULL };

static bool parse_mac(const char *s, uint8_t *mac)
{
	unsigned v[6];
	char end;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
				      &end) != 6)
		return false;
	for (int i = 0; i < 6; i++) {
		if (s[3 * i + 2] != (i < 5 ? ':' : 0))
			return false;
		mac[i] = (uint8_t)v[i];
	}
	return !(mac[0] & 1) && (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]);
}

static bool parse_ipv4(const char *s, uint32_t *out)
{
	unsigned a[4];
	int used = 0;

	if (sscanf(s, "%3u.%3u.%3u.%3u%n", &a[0], &a[1], &a[2], &a[3], &used) != 4 || s[used] ||
	    a[0] > 255 || a[1] > 255 || a[2] > 255 || a[3] > 255 || strspn(s, "0123456789.") != strlen(s))
		return false;
	*out = a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3];
	return true;
}

struct net_parse {
	const struct jdoc *doc;
	int obj;
	char path[40];
	struct jerr *err;
};

/* The string member key into out, or "" if absent; false on a bad type. */
static bool str(struct net_parse *p, const char *key, char *out, size_t n, char *fpath)
{
	int t = json_get(p->doc, p->obj, key);

	snprintf(fpath, 48, "%s.%s", p->path, key);
	*out = 0;
	return t < 0 || json_string(p->doc, t, fpath, out, n, p->err);
}

static bool addresses(struct net_parse *p, struct pv_domctl_net *out, bool dhcp)
{
	char ip[24], gw[24], f[48];
	int pt = json_get(p->doc, p->obj, "prefix");
	int64_t prefix = 0;

	if (!str(p, "ip", ip, sizeof(ip), f) || !str(p, "gw", gw, sizeof(gw), f))
		return false;
	if (dhcp == !!*ip)
		return json_fail(p->err, "bad_field", p->path, "%s: exactly one of ip and \"dhcp\": true", p->path);
	if (dhcp)
		return pt < 0 && !*gw ? true : json_fail(p->err, "bad_field", p->path, "%s: prefix and gw only with ip", p->path);
	snprintf(f, sizeof(f), "%s.ip", p->path);
	if (!parse_ipv4(ip, &out->ipv4))
		return json_fail(p->err, "bad_field", f, "%s: not a dotted IPv4 address", f);
	snprintf(f, sizeof(f), "%s.prefix", p->path);
	if (pt < 0)
		return json_fail(p->err, "missing_field", f, "%s: required with ip", f);
	if (!json_int(p->doc, pt, f, 1, 32, &prefix, p->err))
		return false;
	out->prefix_len = (uint8_t)prefix;
	snprintf(f, sizeof(f), "%s.gw", p->path);
	if (*gw) {
		uint32_t mask = prefix == 32 ? ~0u : ~(~0u >> prefix);

		if (!parse_ipv4(gw, &out->gateway) || (out->gateway & mask) != (out->ipv4 & mask) ||
		    out->gateway == out->ipv4)
			return json_fail(p->err, "bad_field", f, "%s: a gateway inside %s/%lld, not the address itself",
					 f, ip, (long long)prefix);
	}
	return true;
}

bool net_device(const struct jdoc *doc, int t, const char *path, struct pv_domctl_net *out,
		struct jerr *err)
{
	struct net_parse p = { .doc = doc, .obj = t, .err = err };
	char mac[24], guard[8], f[48];
	int dt;
	bool dhcp = false;

	snprintf(p.path, sizeof(p.path), "%s", path);
	if (!json_is_object(doc, t, path, err) || !json_only(doc, t, net_fields, path, err))
		return false;
	if (!str(&p, "mac", mac, sizeof(mac), f) || (*mac && !parse_mac(mac, out->mac)))
		return json_fail(err, "bad_field", f, "%s: XX:XX:XX:XX:XX:XX, unicast, not all zero", f);
	if ((dt = json_get(doc, t, "dhcp")) >= 0 && !json_bool(doc, dt, (snprintf(f, sizeof(f), "%s.dhcp", path), f),
							    &dhcp, err))
		return false;
	if (!addresses(&p, out, dhcp) || !str(&p, "guard", guard, sizeof(guard), f))
		return false;
	if (*guard && strcmp(guard, "ip") && strcmp(guard, "mac"))
		return json_fail(err, "bad_field", f, "%s: must be \"ip\" or \"mac\"", f);
	out->flags = (uint8_t)((dhcp ? PV_DOMCTL_NET_DHCP : 0) | (!strcmp(guard, "mac") ? PV_DOMCTL_NET_GUARD_MAC : 0));
	return true;
}
