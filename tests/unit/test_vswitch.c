/* The virtual switch (io/vswitch.c): learning, aging, flooding, spoofing. */
#include <stdlib.h>
#include <hv/vswitch.h>
#include "harness.h"


#define NPORTS 4
static struct vswitch_port port[NPORTS];   /* 0 = uplink, 1..3 guests */
static int got[NPORTS], refuse[NPORTS];

static int deliver(void *ctx, const void *f, size_t len)
{
	int i = (int)(long)ctx;

	if (refuse[i])
		return -1;
	got[i]++;
	return 0;
}

static uint8_t mac_of(int i, uint8_t m[6])
{
	uint8_t v[6] = { 0x02, 0, 0, 0, 0, (uint8_t)i };

	memcpy(m, v, 6);
	return 0;
}

static size_t frame(uint8_t *f, const uint8_t *dst, const uint8_t *src)
{
	memset(f, 0, 60);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	return 60;
}

static void setup(void)
{
	uint8_t m[6];

	vswitch_init(100);
	memset(got, 0, sizeof(got));
	memset(refuse, 0, sizeof(refuse));
	vswitch_port_add(&port[0], "uplink", NULL, deliver, (void *)0L);
	for (long i = 1; i < NPORTS; i++) {
		mac_of((int)i, m);
		vswitch_port_add(&port[i], "g", m, deliver, (void *)i);
	}
}

static void test_unicast_between_guests(void)
{
	uint8_t a[6], b[6], f[60];

	setup();
	mac_of(1, a);
	mac_of(2, b);
	CHECK_EQ_INT(vswitch_input(&port[1], f, frame(f, b, a), 0), VSWITCH_FORWARDED);
	CHECK_EQ_INT(got[2], 1);
	CHECK_EQ_INT(got[0] + got[1] + got[3], 0);       /* nobody else saw it */
	CHECK_EQ_U64(port[1].c.rx_frames, 1);
	CHECK_EQ_U64(port[2].c.tx_frames, 1);
}

static void test_broadcast_and_unknown_flood(void)
{
	uint8_t a[6], f[60], bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t unknown[6] = { 0x02, 9, 9, 9, 9, 9 }, mcast[6] = { 0x01, 0, 0x5e, 0, 0, 1 };

	setup();
	mac_of(1, a);
	vswitch_input(&port[1], f, frame(f, bc, a), 0);
	CHECK(got[0] == 1 && got[1] == 0 && got[2] == 1 && got[3] == 1);
	vswitch_input(&port[1], f, frame(f, unknown, a), 0);
	CHECK(got[0] == 2 && got[1] == 0 && got[2] == 2 && got[3] == 2);
	vswitch_input(&port[1], f, frame(f, mcast, a), 0);
	CHECK(got[0] == 3 && got[1] == 0);
}

/* A port floods at most a burst, then VSWITCH_FLOOD_RATE per second;
 * unicast to a known port is never limited. */
static void test_storm_control(void)
{
	uint8_t a[6], b[6], f[60], bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	int i;

	setup();
	mac_of(1, a);
	mac_of(2, b);
	for (i = 0; i < VSWITCH_FLOOD_BURST + 100; i++)
		vswitch_input(&port[1], f, frame(f, bc, a), 1000);
	CHECK_EQ_INT(got[3], VSWITCH_FLOOD_BURST);
	CHECK_EQ_U64(port[1].c.drop_storm, 100);
	for (i = 0; i < 50; i++)
		vswitch_input(&port[1], f, frame(f, b, a), 1000);
	CHECK_EQ_INT(got[2], VSWITCH_FLOOD_BURST + 50);    /* unicast went through */
	mac_of(3, b);
	vswitch_input(&port[3], f, frame(f, bc, b), 1000);   /* another port's bucket is its own */
	CHECK_EQ_INT(got[1], 1);
	/* 10 ms later: VSWITCH_FLOOD_RATE / 100 more */
	for (i = 0; i < 100; i++)
		vswitch_input(&port[1], f, frame(f, bc, a), 1010);
	CHECK_EQ_INT(got[3], VSWITCH_FLOOD_BURST + VSWITCH_FLOOD_RATE / 100);
	/* a long pause refills at most a burst */
	for (i = 0; i < VSWITCH_FLOOD_BURST + 10; i++)
		vswitch_input(&port[1], f, frame(f, bc, a), 100000);
	CHECK_EQ_INT(got[3], 2 * VSWITCH_FLOOD_BURST + VSWITCH_FLOOD_RATE / 100);
}

static void test_spoofed_source_dropped(void)
{
	uint8_t a[6], b[6], f[60], forged[6] = { 0x02, 0xde, 0xad, 0, 0, 1 };

	setup();
	mac_of(1, a);
	mac_of(2, b);
	CHECK_EQ_INT(vswitch_input(&port[1], f, frame(f, a, forged), 0), VSWITCH_SPOOFED);
	CHECK_EQ_INT(vswitch_input(&port[1], f, frame(f, a, b), 0), VSWITCH_SPOOFED); /* another guest's */
	CHECK_EQ_U64(port[1].c.drop_spoof, 2);
	CHECK_EQ_INT(got[0] + got[1] + got[2] + got[3], 0);
	CHECK_EQ_INT(vswitch_input(&port[1], f, 10, 0), VSWITCH_INVALID);   /* runt */
	CHECK_EQ_INT(vswitch_input(&port[1], f, 1515, 0), VSWITCH_INVALID); /* too long */
}

static void test_learning_and_aging(void)
{
	uint8_t a[6], f[60], ext[6] = { 0x52, 0x55, 10, 0, 2, 2 };

	setup();
	mac_of(1, a);
	vswitch_input(&port[0], f, frame(f, a, ext), 10);   /* uplink host talks */
	CHECK(vswitch_lookup(ext, 10) == &port[0]);
	CHECK_EQ_INT(vswitch_learned(), 1);
	memset(got, 0, sizeof(got));
	vswitch_input(&port[1], f, frame(f, ext, a), 50);   /* reply: unicast to uplink */
	CHECK(got[0] == 1 && got[2] == 0 && got[3] == 0);
	CHECK(vswitch_lookup(ext, 111) == NULL);             /* older than 100: forgotten */
	CHECK_EQ_INT(vswitch_age(111), 1);
	CHECK_EQ_INT(vswitch_learned(), 0);
	memset(got, 0, sizeof(got));
	vswitch_input(&port[1], f, frame(f, ext, a), 120);  /* unknown again: flood */
	CHECK(got[0] == 1 && got[2] == 1 && got[3] == 1);
}

static void test_uplink_cannot_claim_guest_mac(void)
{
	uint8_t a[6], b[6], f[60];

	setup();
	mac_of(1, a);
	mac_of(2, b);
	vswitch_input(&port[0], f, frame(f, b, a), 0);      /* uplink forges guest 1's MAC */
	CHECK(vswitch_lookup(a, 0) == &port[1]);
	CHECK_EQ_INT(vswitch_learned(), 0);
	CHECK_EQ_INT(vswitch_port_add(&port[3], "dup", a, deliver, (void *)3L), -17); /* EEXIST */
}

static void test_port_removal_and_refusal(void)
{
	uint8_t a[6], b[6], f[60];

	setup();
	mac_of(1, a);
	mac_of(2, b);
	vswitch_port_remove(&port[2]);
	CHECK(vswitch_lookup(b, 0) == NULL);
	vswitch_input(&port[1], f, frame(f, b, a), 0);      /* now unknown: flood, not to 2 */
	CHECK(got[2] == 0 && got[0] == 1 && got[3] == 1);
	refuse[3] = 1;
	vswitch_input(&port[1], f, frame(f, b, a), 0);
	CHECK_EQ_U64(port[3].c.drop_tx, 1);
}

static void test_table_full_still_forwards(void)
{
	uint8_t a[6], f[60], ext[6] = { 0x52, 0, 0, 0, 0, 0 };

	setup();
	mac_of(1, a);
	for (int i = 0; i < VSWITCH_TABLE_SIZE + 100; i++) {
		ext[4] = (uint8_t)(i >> 8);
		ext[5] = (uint8_t)i;
		vswitch_input(&port[0], f, frame(f, a, ext), 0);
	}
	CHECK(vswitch_learned() <= VSWITCH_LEARN_MAX);
	CHECK_EQ_INT(got[1], VSWITCH_TABLE_SIZE + 100);     /* guest got every frame */
	CHECK(vswitch_lookup(a, 0) == &port[1]);
}

/* Item 7 of issue 8: MACs learned from the uplink must never take the
 * room guest ports need.  Flood the table with source MACs from the
 * uplink, then add as many guest ports as the manifest allows. */
#define MANY_PORTS 256   /* MANIFEST_MAX_GUESTS * MANIFEST_MAX_NETS */
static struct vswitch_port many[MANY_PORTS];

static void test_uplink_flood_cannot_starve_guest_ports(void)
{
	uint8_t a[6], m[6], f[60], ext[6] = { 0x52, 0, 0, 0, 0, 0 };
	int i, added = 0;

	setup();
	mac_of(1, a);
	for (i = 0; i < 4 * VSWITCH_TABLE_SIZE; i++) {
		ext[3] = (uint8_t)(i >> 16);
		ext[4] = (uint8_t)(i >> 8);
		ext[5] = (uint8_t)i;
		vswitch_input(&port[0], f, frame(f, a, ext), 0);
	}
	CHECK_EQ_INT(vswitch_learned(), VSWITCH_LEARN_MAX);
	for (i = 0; i < MANY_PORTS; i++) {
		uint8_t v[6] = { 0x06, 0, 0, 0, (uint8_t)(i >> 8), (uint8_t)i };

		added += vswitch_port_add(&many[i], "many", v, deliver, (void *)2L) == 0;
	}
	CHECK_EQ_INT(added, MANY_PORTS);
	memcpy(m, (uint8_t[6]){ 0x06, 0, 0, 0, 0, MANY_PORTS - 1 }, 6);
	CHECK(vswitch_lookup(m, 0) == &many[MANY_PORTS - 1]);
	memset(got, 0, sizeof(got));
	vswitch_input(&port[0], f, frame(f, m, ext), 0);    /* known unicast from the uplink */
	CHECK(got[2] == 1 && got[1] == 0 && got[3] == 0);
	CHECK(vswitch_learned() <= VSWITCH_LEARN_MAX);
}

/* ---- the IP guard (item 4 of issue 8) ------------------------------------ */
/* Port 1 is static 10.0.0.1, port 2 takes DHCP leases, port 3 is unguarded
 * (guard=mac); the uplink is 0. */
#define IP1   0x0a000001u
#define LEASE 0x0a00020fu     /* 10.0.2.15 */
static const uint8_t BC[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t SERVER[6] = { 0x52, 0x55, 10, 0, 2, 2 };
static uint8_t buf[600];

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }

static void guard_setup(void)
{
	setup();
	ipguard_init(&port[1].guard, IPGUARD_STATIC, IP1);
	ipguard_init(&port[2].guard, IPGUARD_DHCP, 0);
}

static size_t eth(const uint8_t *dst, const uint8_t *src, unsigned type)
{
	memset(buf, 0, sizeof(buf));
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	put16(buf + 12, type);
	return 60;
}

/* An ARP frame from port i with sender sha/spa. */
static size_t arp(int i, unsigned op, const uint8_t *sha, uint32_t spa, uint32_t tpa)
{
	uint8_t m[6];

	mac_of(i, m);
	eth(BC, m, 0x0806);
	put16(buf + 14, 1);
	put16(buf + 16, 0x0800);
	buf[18] = 6;
	buf[19] = 4;
	put16(buf + 20, op);
	memcpy(buf + 22, sha, 6);
	put32(buf + 28, spa);
	put32(buf + 38, tpa);
	return 60;
}

/* An IPv4 datagram (UDP or TCP ports) from a source MAC. */
static size_t ip_from(const uint8_t *src_mac, const uint8_t *dst, uint32_t src, unsigned proto,
		      unsigned sport, unsigned dport)
{
	eth(dst, src_mac, 0x0800);
	buf[14] = 0x45;
	put16(buf + 16, 28);
	buf[22] = 64;
	buf[23] = (uint8_t)proto;
	put32(buf + 26, src);
	put32(buf + 30, 0xffffffffu);
	put16(buf + 34, sport);
	put16(buf + 36, dport);
	return 60;
}

static size_t ip4(int i, uint32_t src, unsigned proto, unsigned sport, unsigned dport)
{
	uint8_t m[6];

	mac_of(i, m);
	return ip_from(m, BC, src, proto, sport, dport);
}

static int send(int i, size_t len, uint64_t now)
{
	return vswitch_input(&port[i], buf, len, now);
}

/* A DHCP server's reply for client port `client`: type 5 ACK, 6 NAK; lease
 * seconds, or -1 for no lease option. */
static size_t dhcp_reply(int client, uint32_t yiaddr, unsigned type, long lease)
{
	uint8_t m[6], *b = buf + 42, *o = buf + 42 + 240;
	size_t len;

	mac_of(client, m);
	ip_from(SERVER, m, 0x0a000202u, 17, 67, 68);
	b[0] = 2;
	b[1] = 1;
	b[2] = 6;
	put32(b + 16, yiaddr);
	memcpy(b + 28, m, 6);
	put32(b + 236, 0x63825363u);
	*o++ = 53, *o++ = 1, *o++ = (uint8_t)type;
	if (lease >= 0) {
		*o++ = 51, *o++ = 4;
		put32(o, (uint32_t)lease);
		o += 4;
	}
	*o++ = 255;
	len = (size_t)(o - buf);
	put16(buf + 16, (unsigned)(len - 14));
	put16(buf + 38, (unsigned)(len - 34));
	return len;
}

static void test_ip_guard_static_arp(void)
{
	uint8_t a[6], b[6];

	guard_setup();
	mac_of(1, a);
	mac_of(2, b);
	CHECK_EQ_INT(send(1, arp(1, 1, a, IP1, 0x0a000002u), 0), VSWITCH_FORWARDED);  /* who-has */
	CHECK_EQ_INT(send(1, arp(1, 2, a, IP1, 0x0a000002u), 0), VSWITCH_FORWARDED);  /* is-at */
	CHECK_EQ_INT(send(1, arp(1, 1, a, IP1, IP1), 0), VSWITCH_FORWARDED);          /* gratuitous */
	CHECK_EQ_INT(send(1, arp(1, 1, a, 0, 0x0a000002u), 0), VSWITCH_FORWARDED);    /* RFC 5227 probe */
	CHECK(got[0] == 4 && got[2] == 4 && got[3] == 4);
	CHECK_EQ_INT(send(1, arp(1, 2, a, 0x0a000002u, 0x0a000003u), 0), VSWITCH_SPOOFED); /* another's IP */
	CHECK_EQ_INT(send(1, arp(1, 1, a, 0x0a000009u, 0x0a000002u), 0), VSWITCH_SPOOFED);
	CHECK_EQ_INT(send(1, arp(1, 2, b, IP1, 0x0a000002u), 0), VSWITCH_SPOOFED);    /* sender MAC forged */
	CHECK_EQ_INT(send(1, arp(1, 2, a, 0, 0x0a000002u), 0), VSWITCH_SPOOFED);      /* reply from 0.0.0.0 */
	CHECK_EQ_INT(send(1, arp(1, 3, a, IP1, 0x0a000002u), 0), VSWITCH_SPOOFED);    /* RARP op */
	arp(1, 1, a, IP1, 0x0a000002u);
	buf[19] = 16;                                                                 /* not IPv4 */
	CHECK_EQ_INT(send(1, 60, 0), VSWITCH_SPOOFED);
	CHECK_EQ_INT(send(1, arp(1, 1, a, IP1, 0x0a000002u) - 60 + 14 + 27, 0), VSWITCH_SPOOFED); /* short */
	CHECK_EQ_U64(port[1].c.drop_ip_spoof, 7);
	CHECK_EQ_U64(port[1].c.drop_spoof, 0);
	CHECK_EQ_U64(port[1].c.rx_frames, 4);
	CHECK(got[0] == 4 && got[2] == 4 && got[3] == 4);  /* no forged frame reached anyone */
}

static void test_ip_guard_static_ipv4_and_others(void)
{
	uint8_t a[6];

	guard_setup();
	mac_of(1, a);
	CHECK_EQ_INT(send(1, ip4(1, IP1, 6, 80, 1234), 0), VSWITCH_FORWARDED);
	CHECK_EQ_INT(send(1, eth(BC, a, 0x88b5), 0), VSWITCH_FORWARDED);       /* raw L2 test frames */
	CHECK_EQ_INT(got[2], 2);
	CHECK_EQ_INT(send(1, ip4(1, 0x0a000002u, 6, 80, 1234), 0), VSWITCH_SPOOFED);
	CHECK_EQ_INT(send(1, ip4(1, 0x08080808u, 17, 53, 53), 0), VSWITCH_SPOOFED);
	CHECK_EQ_INT(send(1, ip4(1, 0, 17, 68, 67), 0), VSWITCH_SPOOFED);      /* DHCP: not a DHCP port */
	ip4(1, IP1, 6, 80, 1234);
	buf[14] = 0x65;                                                        /* version 6 in an IPv4 frame */
	CHECK_EQ_INT(send(1, 60, 0), VSWITCH_SPOOFED);
	buf[14] = 0x44;                                                        /* header shorter than 20 */
	CHECK_EQ_INT(send(1, 60, 0), VSWITCH_SPOOFED);
	CHECK_EQ_INT(send(1, ip4(1, IP1, 6, 80, 1234) - 60 + 14 + 19, 0), VSWITCH_SPOOFED); /* truncated */
	CHECK_EQ_INT(send(1, eth(BC, a, 0x86dd), 0), VSWITCH_SPOOFED);         /* IPv6 */
	CHECK_EQ_INT(send(1, eth(BC, a, 0x8100), 0), VSWITCH_SPOOFED);         /* 802.1Q tag */
	CHECK_EQ_INT(send(1, eth(BC, a, 0x88a8), 0), VSWITCH_SPOOFED);         /* 802.1ad tag */
	CHECK_EQ_INT(send(1, eth(BC, a, 0x9100), 0), VSWITCH_SPOOFED);
	CHECK_EQ_INT(send(1, eth(BC, a, 46), 0), VSWITCH_SPOOFED);             /* 802.3 length: LLC/SNAP */
	CHECK_EQ_U64(port[1].c.drop_ip_spoof, 11);
	CHECK_EQ_INT(got[2], 2);
}

static void test_ip_guard_off_and_uplink(void)
{
	uint8_t c[6];

	guard_setup();
	mac_of(3, c);                            /* port 3: guard=mac */
	CHECK_EQ_INT(send(3, ip4(3, 0x01020304u, 6, 1, 2), 0), VSWITCH_FORWARDED);
	CHECK_EQ_INT(send(3, arp(3, 2, c, IP1, 0x0a000002u), 0), VSWITCH_FORWARDED);
	CHECK_EQ_INT(send(3, eth(BC, c, 0x86dd), 0), VSWITCH_FORWARDED);
	CHECK_EQ_INT(send(0, ip_from(SERVER, BC, 0x01020304u, 6, 1, 2), 0), VSWITCH_FORWARDED);
	CHECK_EQ_U64(port[3].c.drop_ip_spoof + port[0].c.drop_ip_spoof, 0);
	CHECK_EQ_INT(send(3, ip_from(SERVER, BC, 0x01020304u, 6, 1, 2), 0), VSWITCH_SPOOFED); /* MAC still checked */
	CHECK_EQ_U64(port[3].c.drop_spoof, 1);
}

/* Before a lease, a DHCP port may only send DHCP client messages from 0.0.0.0. */
static void test_ip_guard_dhcp_before_lease(void)
{
	uint8_t b[6];
	size_t len;

	guard_setup();
	mac_of(2, b);
	CHECK_EQ_INT(send(2, ip4(2, 0, 17, 68, 67), 0), VSWITCH_FORWARDED);     /* DISCOVER/REQUEST */
	CHECK_EQ_INT(send(2, arp(2, 1, b, 0, LEASE), 0), VSWITCH_FORWARDED);    /* probe */
	CHECK_EQ_INT(send(2, ip4(2, LEASE, 17, 68, 67), 0), VSWITCH_SPOOFED);   /* not leased yet */
	CHECK_EQ_INT(send(2, arp(2, 2, b, LEASE, 0x0a000202u), 0), VSWITCH_SPOOFED);
	CHECK_EQ_INT(send(2, ip4(2, 0, 17, 68, 68), 0), VSWITCH_SPOOFED);      /* not to a server */
	CHECK_EQ_INT(send(2, ip4(2, 0, 17, 67, 68), 0), VSWITCH_SPOOFED);      /* a server's reply */
	CHECK_EQ_INT(send(2, ip4(2, 0, 6, 68, 67), 0), VSWITCH_SPOOFED);       /* TCP */
	ip4(2, 0, 17, 68, 67);
	buf[20] = 0x20;                                                        /* more fragments */
	CHECK_EQ_INT(send(2, 60, 0), VSWITCH_SPOOFED);
	CHECK_EQ_INT(send(2, ip4(2, 0, 17, 68, 67) - 60 + 14 + 20 + 3, 0), VSWITCH_SPOOFED); /* no ports */
	CHECK_EQ_U64(port[2].c.drop_ip_spoof, 7);
	/* a server among the guests is not trusted: its ACK binds nothing */
	len = dhcp_reply(2, LEASE, 5, 3600);
	mac_of(3, buf + 6);                      /* sent by guest 3 (guard=mac) */
	CHECK_EQ_INT(send(3, len, 0), VSWITCH_FORWARDED);
	CHECK_EQ_INT(send(2, ip4(2, LEASE, 6, 80, 80), 0), VSWITCH_SPOOFED);
}

/* The uplink's ACK binds the lease to the client's port, until it ends. */
static void test_ip_guard_dhcp_lease(void)
{
	uint8_t b[6];

	guard_setup();
	mac_of(2, b);
	CHECK_EQ_INT(send(0, dhcp_reply(2, LEASE, 5, 100), 1000), VSWITCH_FORWARDED);
	CHECK_EQ_INT(got[2], 1);                                               /* delivered too */
	CHECK_EQ_INT(send(2, ip4(2, LEASE, 6, 80, 80), 1000), VSWITCH_FORWARDED);
	CHECK_EQ_INT(send(2, arp(2, 2, b, LEASE, 0x0a000202u), 1000), VSWITCH_FORWARDED);
	CHECK_EQ_INT(send(2, ip4(2, 0, 17, 68, 67), 1000), VSWITCH_FORWARDED);  /* may ask again */
	CHECK_EQ_INT(send(2, ip4(2, LEASE + 1, 6, 80, 80), 1000), VSWITCH_SPOOFED);
	CHECK_EQ_INT(send(2, arp(2, 2, b, IP1, 0x0a000202u), 1000), VSWITCH_SPOOFED);
	/* the lease ends 100 s later */
	CHECK_EQ_INT(send(2, ip4(2, LEASE, 6, 80, 80), 100999), VSWITCH_FORWARDED);
	CHECK_EQ_INT(send(2, ip4(2, LEASE, 6, 80, 80), 101000), VSWITCH_SPOOFED);
	/* renewed, then refused by the server */
	send(0, dhcp_reply(2, LEASE, 5, 100), 101000);
	CHECK_EQ_INT(send(2, ip4(2, LEASE, 6, 80, 80), 101001), VSWITCH_FORWARDED);
	send(0, dhcp_reply(2, 0, 6, -1), 101002);
	CHECK_EQ_INT(send(2, ip4(2, LEASE, 6, 80, 80), 101003), VSWITCH_SPOOFED);
	/* no lease time: bound until the next answer */
	send(0, dhcp_reply(2, LEASE + 5, 5, -1), 200000);
	CHECK_EQ_INT(send(2, ip4(2, LEASE + 5, 6, 80, 80), 1ull << 60), VSWITCH_FORWARDED);
	CHECK_EQ_U64(port[2].c.drop_ip_spoof, 4);
	/* an ACK for the static port changes nothing there */
	send(0, dhcp_reply(1, 0x0a000077u, 5, 100), 0);
	CHECK_EQ_INT(send(1, ip4(1, 0x0a000077u, 6, 80, 80), 0), VSWITCH_SPOOFED);
	CHECK_EQ_INT(send(1, ip4(1, IP1, 6, 80, 80), 0), VSWITCH_FORWARDED);
}

/* Replies that are not a well-formed ACK for a usable address bind nothing. */
static void test_ip_guard_dhcp_malformed(void)
{
	size_t len;
	int i;

	for (i = 0; i < 9; i++) {
		guard_setup();
		len = dhcp_reply(2, LEASE, 5, 3600);
		switch (i) {
		case 0: buf[42] = 1; break;                        /* a BOOTREQUEST */
		case 1: buf[42 + 236] = 0; break;                  /* no magic cookie */
		case 2: put16(buf + 34, 68); break;                /* not from port 67 */
		case 3: buf[42 + 240 + 2] = 3; break;              /* a DHCPREQUEST */
		case 4: buf[42 + 240 + 4] = 200; break;            /* lease option runs past the end */
		case 5: put16(buf + 16, 20 + 8 + 200); break;      /* IPv4 length cuts the BOOTP fixed part */
		case 6: put32(buf + 42 + 16, 0xe0000001u); break;  /* multicast yiaddr */
		case 7: put32(buf + 42 + 16, 0); break;            /* no yiaddr (an INFORM answer) */
		case 8: len = 14 + 20 + 8 + 239; break;            /* frame ends in the fixed part */
		}
		send(0, len, 0);
		CHECK_EQ_INT(send(2, ip4(2, LEASE, 6, 80, 80), 1), VSWITCH_SPOOFED);
	}
	guard_setup();                                             /* the unbroken one binds */
	send(0, dhcp_reply(2, LEASE, 5, 3600), 0);
	CHECK_EQ_INT(send(2, ip4(2, LEASE, 6, 80, 80), 1), VSWITCH_FORWARDED);
}

/* Port order is join order (the uplink, added first, is port 0); a
 * removed port leaves the others in order and a new one goes last. */
static void test_port_order_is_join_order(void)
{
	struct vswitch_port *p;
	uint8_t m[6];
	long seen[NPORTS + 1];
	int n = 0;

	setup();
	vswitch_port_remove(&port[2]);
	mac_of(2, m);
	vswitch_port_add(&port[2], "g", m, deliver, (void *)2L);
	for (p = vswitch_ports(); p && n <= NPORTS; p = p->next)
		seen[n++] = p - port;
	CHECK_EQ_INT(n, NPORTS);
	CHECK(seen[0] == 0 && seen[1] == 1 && seen[2] == 3 && seen[3] == 2);
}

int main(void)
{
	RUN(test_unicast_between_guests);
	RUN(test_broadcast_and_unknown_flood);
	RUN(test_storm_control);
	RUN(test_spoofed_source_dropped);
	RUN(test_learning_and_aging);
	RUN(test_uplink_cannot_claim_guest_mac);
	RUN(test_port_removal_and_refusal);
	RUN(test_table_full_still_forwards);
	RUN(test_uplink_flood_cannot_starve_guest_ports);
	RUN(test_ip_guard_static_arp);
	RUN(test_ip_guard_static_ipv4_and_others);
	RUN(test_ip_guard_off_and_uplink);
	RUN(test_ip_guard_dhcp_before_lease);
	RUN(test_ip_guard_dhcp_lease);
	RUN(test_ip_guard_dhcp_malformed);
	RUN(test_port_order_is_join_order);
	return harness_report();
}
