/* IP source guard: which ARP and IPv4 sender addresses a guest port may
 * use, above the switch's source-MAC check (docs/net.md, "Address
 * isolation").  Pure logic over byte buffers with time passed in (ms),
 * like the switch, so the unit tests drive it directly.
 *
 * - A static port (manifest ip=) sends ARP and IPv4 from its address only.
 * - A DHCP port sends from the address its lease gave, bound when the
 *   switch sees the server's DHCP ACK come in from the uplink, until the
 *   lease ends or a NAK; before that (and always) only DHCP client
 *   messages from 0.0.0.0 (UDP 68 -> 67).
 * - ARP must be Ethernet/IPv4 request or reply with the port's MAC as
 *   sender; a request may have sender 0.0.0.0 (an RFC 5227 probe).
 * - IPv6, VLAN-tagged and 802.3 length-typed frames are dropped: they
 *   could carry addresses past the check.  Other ethertypes pass.
 */
#ifndef HV_IPGUARD_H
#define HV_IPGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ipguard_mode {
	IPGUARD_OFF = 0,      /* source MAC only (manifest guard=mac, the uplink) */
	IPGUARD_STATIC,
	IPGUARD_DHCP,
};

struct ipguard {
	uint8_t mode;         /* enum ipguard_mode */
	uint32_t ipv4;        /* host order: the static address or the lease's; 0 none */
	uint64_t lease_end;   /* DHCP: the lease is valid before this time */
};

/* What a DHCP server's ACK or NAK says (io/dhcp_snoop.c). */
struct dhcp_reply {
	uint8_t chaddr[6];    /* the client it is for */
	bool ack;             /* false: NAK */
	uint32_t yiaddr;      /* host order */
	uint32_t lease_s;     /* DHCP_LEASE_INFINITE when none or infinite */
};
#define DHCP_LEASE_INFINITE 0xffffffffu

void ipguard_init(struct ipguard *g, enum ipguard_mode mode, uint32_t ipv4);
/* May this frame (len >= 14) leave a port whose MAC is mac? */
bool ipguard_allows(const struct ipguard *g, const uint8_t mac[6], const uint8_t *frame,
		    size_t len, uint64_t now);
/* A server's reply for this port came in from the uplink: bind or drop. */
void ipguard_lease(struct ipguard *g, const struct dhcp_reply *r, uint64_t now);

/* Is frame a DHCP ACK or NAK from a server (IPv4, UDP 67 -> 68)? */
bool dhcp_snoop(const uint8_t *frame, size_t len, struct dhcp_reply *r);

/* Network byte order fields of a frame. */
static inline uint32_t get_be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return get_be16(p) << 16 | get_be16(p + 2);
}

#define ETH_HLEN        14u
#define ETHERTYPE_IPV4  0x0800u
#define ETHERTYPE_ARP   0x0806u

#endif
