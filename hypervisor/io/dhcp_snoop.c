/* DHCP snooping: recognise a DHCP server's ACK or NAK in a frame that came
 * in from the uplink, so the IP guard can bind the lease to the guest port
 * it is for (see hv/ipguard.h).  Every offset is checked against the
 * frame's length and the IPv4 total length before it is read. */
#include <hv/ipguard.h>
#include <hv/lib.h>

#define IP_PROTO_UDP    17u
#define UDP_HLEN        8u
#define BOOTP_FIXED     236u       /* op .. file, before the magic cookie */
#define BOOTP_OPTIONS   240u
#define BOOTP_REPLY     2u
#define DHCP_COOKIE     0x63825363u
#define OPT_PAD         0u
#define OPT_END         255u
#define OPT_LEASE       51u
#define OPT_TYPE        53u
#define DHCP_ACK        5u
#define DHCP_NAK        6u

/* The UDP payload of an unfragmented IPv4 UDP 67 -> 68 datagram, or NULL. */
static const uint8_t *udp_payload(const uint8_t *ip, size_t n, size_t *len)
{
	size_t ihl, total;

	if (n < 20 || ip[0] >> 4 != 4 || (ip[0] & 15) < 5 || ip[9] != IP_PROTO_UDP)
		return NULL;
	ihl = (size_t)(ip[0] & 15) * 4;
	total = get_be16(ip + 2);
	if (get_be16(ip + 6) & 0x3fff)
		return NULL;                /* a fragment */
	n = MIN(n, total);
	if (n < ihl + UDP_HLEN || get_be16(ip + ihl) != 67 || get_be16(ip + ihl + 2) != 68)
		return NULL;
	*len = n - ihl - UDP_HLEN;
	return ip + ihl + UDP_HLEN;
}

/* Message type and lease time from the options; false when malformed. */
static bool options(const uint8_t *o, size_t n, uint32_t *type, uint32_t *lease)
{
	size_t i = 0, len;

	*type = 0;
	*lease = DHCP_LEASE_INFINITE;
	while (i < n && o[i] != OPT_END) {
		if (o[i] == OPT_PAD) {
			i++;
			continue;
		}
		if (i + 2 > n || i + 2 + o[i + 1] > n)
			return false;
		len = o[i + 1];
		if (o[i] == OPT_TYPE && len == 1)
			*type = o[i + 2];
		if (o[i] == OPT_LEASE && len == 4)
			*lease = get_be32(o + i + 2);
		i += 2 + len;
	}
	return *type != 0;
}

bool dhcp_snoop(const uint8_t *frame, size_t len, struct dhcp_reply *r)
{
	const uint8_t *b;
	uint32_t type;
	size_t n;

	if (len < ETH_HLEN || get_be16(frame + 12) != ETHERTYPE_IPV4)
		return false;
	b = udp_payload(frame + ETH_HLEN, len - ETH_HLEN, &n);
	if (!b || n < BOOTP_OPTIONS || b[0] != BOOTP_REPLY || b[1] != 1 || b[2] != 6 ||
	    get_be32(b + BOOTP_FIXED) != DHCP_COOKIE)
		return false;
	if (!options(b + BOOTP_OPTIONS, n - BOOTP_OPTIONS, &type, &r->lease_s) ||
	    (type != DHCP_ACK && type != DHCP_NAK))
		return false;
	memcpy(r->chaddr, b + 28, 6);
	r->yiaddr = get_be32(b + 16);
	r->ack = type == DHCP_ACK;
	return true;
}
