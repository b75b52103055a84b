/* IP source guard (see hv/ipguard.h): the frame is the switch's own copy,
 * so every field is read once from memory the guest cannot change. */
#include <hv/ipguard.h>
#include <hv/lib.h>

#define ETHERTYPE_IPV6   0x86ddu
#define ETHERTYPE_VLAN   0x8100u   /* 802.1Q */
#define ETHERTYPE_QINQ   0x88a8u   /* 802.1ad */
#define ETHERTYPE_QINQ1  0x9100u   /* pre-standard stacked tag */
#define ETHERTYPE_MIN    0x0600u   /* below: an 802.3 length, LLC/SNAP follows */

#define ARP_LEN          28u       /* Ethernet/IPv4 ARP body */
#define ARP_REQUEST      1u
#define ARP_REPLY        2u
#define IP_PROTO_UDP     17u
#define DHCP_CLIENT_PORT 68u
#define DHCP_SERVER_PORT 67u

void ipguard_init(struct ipguard *g, enum ipguard_mode mode, uint32_t ipv4)
{
	g->mode = (uint8_t)mode;
	g->ipv4 = mode == IPGUARD_STATIC ? ipv4 : 0;
	g->lease_end = 0;
}

/* Is ip the port's own address at time now? 0.0.0.0 never is. */
static bool own(const struct ipguard *g, uint32_t ip, uint64_t now)
{
	if (!ip || ip != g->ipv4)
		return false;
	return g->mode == IPGUARD_STATIC || now < g->lease_end;
}

static bool arp_allowed(const struct ipguard *g, const uint8_t mac[6], const uint8_t *a,
			size_t n, uint64_t now)
{
	uint32_t op, spa;

	if (n < ARP_LEN || get_be16(a) != 1 || get_be16(a + 2) != ETHERTYPE_IPV4 ||
	    a[4] != 6 || a[5] != 4)
		return false;               /* not Ethernet/IPv4 ARP */
	op = get_be16(a + 6);
	spa = get_be32(a + 14);
	if ((op != ARP_REQUEST && op != ARP_REPLY) || memcmp(a + 8, mac, 6))
		return false;
	return own(g, spa, now) || (spa == 0 && op == ARP_REQUEST);
}

/* A DHCP client message from 0.0.0.0: unfragmented UDP 68 -> 67. */
static bool dhcp_client(const uint8_t *ip, size_t n, size_t ihl)
{
	if (ip[9] != IP_PROTO_UDP || (get_be16(ip + 6) & 0x3fff) || n < ihl + 8)
		return false;
	return get_be16(ip + ihl) == DHCP_CLIENT_PORT && get_be16(ip + ihl + 2) == DHCP_SERVER_PORT;
}

static bool ipv4_allowed(const struct ipguard *g, const uint8_t *ip, size_t n, uint64_t now)
{
	size_t ihl;
	uint32_t src;

	if (n < 20 || ip[0] >> 4 != 4 || (ip[0] & 15) < 5)
		return false;
	ihl = (size_t)(ip[0] & 15) * 4;
	src = get_be32(ip + 12);
	if (own(g, src, now))
		return true;
	return g->mode == IPGUARD_DHCP && src == 0 && dhcp_client(ip, n, ihl);
}

bool ipguard_allows(const struct ipguard *g, const uint8_t mac[6], const uint8_t *frame,
		    size_t len, uint64_t now)
{
	uint32_t type = get_be16(frame + 12);

	if (g->mode == IPGUARD_OFF)
		return true;
	switch (type) {
	case ETHERTYPE_ARP:
		return arp_allowed(g, mac, frame + ETH_HLEN, len - ETH_HLEN, now);
	case ETHERTYPE_IPV4:
		return ipv4_allowed(g, frame + ETH_HLEN, len - ETH_HLEN, now);
	case ETHERTYPE_IPV6:
	case ETHERTYPE_VLAN:
	case ETHERTYPE_QINQ:
	case ETHERTYPE_QINQ1:
		return false;
	default:
		return type >= ETHERTYPE_MIN;
	}
}

/* An address a lease may bind: not 0.0.0.0, multicast, class E or broadcast. */
static bool unicast(uint32_t ip)
{
	return ip && (ip >> 28) < 0xe;
}

void ipguard_lease(struct ipguard *g, const struct dhcp_reply *r, uint64_t now)
{
	if (g->mode != IPGUARD_DHCP)
		return;
	if (!r->ack) {                      /* NAK: the client must stop using it */
		g->ipv4 = 0;
		return;
	}
	if (!unicast(r->yiaddr))
		return;                     /* a DHCPINFORM answer, or nonsense */
	g->ipv4 = r->yiaddr;
	g->lease_end = r->lease_s == DHCP_LEASE_INFINITE ? UINT64_MAX :
		       now + (uint64_t)r->lease_s * 1000;
}
