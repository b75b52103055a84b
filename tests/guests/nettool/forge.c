/* nettool's forgeries above L2 (the switch's IP guard, docs/net.md): ARP
 * and IP frames whose sender address is not the guest's, each kind sent
 * FORGED_EACH times, then honest ones; and a listener that counts which
 * of them reached it.  Every frame carries the guest's own source MAC, so
 * only the IP guard can stop them. */
#include <stdio.h>
#include <string.h>
#include <paravane.h>
#include <public/io/net.h>
#include "nettool.h"

#define ETH_IP      0x0800u
#define ETH_ARP     0x0806u
#define ETH_IP6     0x86ddu
#define ETH_VLAN    0x8100u
#define NOBODY      0x0a000042u   /* 10.0.0.66: nobody's address */
#define FORGED_EACH 5
#define HONEST      5

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static uint8_t f[PV_NET_MAX_FRAME];
static unsigned long heard_arp, heard_ip, heard_other, heard_forged;
static uint32_t sender_ip;

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v); }
static uint32_t get16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t get32(const uint8_t *p) { return get16(p) << 16 | get16(p + 2); }

static int parse_ip(const char *s, uint32_t *ip)
{
	unsigned a, b, c, d;

	if (sscanf(s, "%u.%u.%u.%u", &a, &b, &c, &d) != 4 || (a | b | c | d) > 255)
		return -1;
	*ip = a << 24 | b << 16 | c << 8 | d;
	return 0;
}

static size_t eth(uint32_t type)
{
	memset(f, 0, 64);
	memcpy(f, bcast, 6);
	memcpy(f + 6, my_mac, 6);
	put16(f + 12, type);
	return 60;
}

static size_t arp(uint32_t op, const uint8_t *sha, uint32_t spa, uint32_t tpa)
{
	eth(ETH_ARP);
	put16(f + 14, 1);
	put16(f + 16, ETH_IP);
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, op);
	memcpy(f + 22, sha, 6);
	put32(f + 28, spa);
	put32(f + 38, tpa);
	return 60;
}

/* A broadcast UDP datagram with 18 bytes of payload, its IPv4 header at `at`. */
static size_t udp_at(size_t at, uint32_t src, uint32_t sport, uint32_t dport)
{
	uint8_t *ip = f + at;
	uint32_t sum = 0;

	ip[0] = 0x45;
	put16(ip + 2, 20 + 8 + 18);
	ip[8] = 64;
	ip[9] = 17;
	put32(ip + 12, src);
	put32(ip + 16, 0xffffffffu);
	for (int i = 0; i < 20; i += 2)
		sum += get16(ip + i);
	put16(ip + 10, ~(sum + (sum >> 16)) & 0xffff);
	put16(ip + 20, sport);
	put16(ip + 22, dport);
	put16(ip + 24, 8 + 18);
	return at + 20 + 8 + 18;
}

static size_t udp(uint32_t src, uint32_t sport, uint32_t dport)
{
	eth(ETH_IP);
	return udp_at(14, src, sport, dport);
}

/* Our own address behind an 802.1Q tag, where a naive check would not look. */
static size_t tagged(uint32_t src)
{
	eth(ETH_VLAN);
	put16(f + 14, 1);
	put16(f + 16, ETH_IP);
	return udp_at(18, src, 9, 9);
}

static size_t ipv6(void)
{
	eth(ETH_IP6);
	f[14] = 0x60;
	return 60;
}

static void emit(size_t len, int n)
{
	for (int i = 0; i < n; i++)
		send_buf(f, len);
}

static void ignore(void *arg, const void *data, size_t len) {}

/* Let the listener start, as `ping` does. */
static void settle(void)
{
	uint64_t until = now_ms() + 500;

	while (now_ms() < until)
		if (!netfront_poll(nf, ignore, NULL, 64))
			pv_block((until + 1) * 1000000, netfront_event_mask(nf));
}

static int report(const char *what, unsigned long forged)
{
	struct netfront_stats st;

	netfront_poll(nf, ignore, NULL, 0);
	netfront_stats(nf, &st);
	printf("nettool: %s sent=%lu rejected=%lu\n", what, (unsigned long)st.tx_frames,
	       (unsigned long)st.tx_errors);
	return st.tx_errors == forged ? 0 : 1;
}

int arpspoof(const char *victim_s)
{
	static const uint8_t other[6] = { 0x02, 0xde, 0xad, 0xbe, 0xef, 0x02 };
	uint32_t me = netfront_device(nf)->ipv4, victim;

	if (parse_ip(victim_s, &victim))
		return 2;
	settle();
	emit(arp(2, my_mac, victim, victim), FORGED_EACH);    /* "the victim is at my MAC" */
	emit(arp(1, my_mac, NOBODY, victim), FORGED_EACH);    /* an address nobody gave us */
	emit(arp(2, other, me, victim), FORGED_EACH);         /* another MAC as sender */
	emit(arp(1, my_mac, me, victim), HONEST);             /* who-has, honestly */
	return report("arpspoof", 3 * FORGED_EACH);
}

int ipspoof(const char *victim_s)
{
	uint32_t me = netfront_device(nf)->ipv4, victim;

	if (parse_ip(victim_s, &victim))
		return 2;
	settle();
	emit(udp(victim, 9, 9), FORGED_EACH);
	emit(udp(NOBODY, 9, 9), FORGED_EACH);
	emit(udp(0, 68, 67), FORGED_EACH);                    /* DHCP: not a DHCP guest */
	emit(tagged(me), FORGED_EACH);
	emit(ipv6(), FORGED_EACH);
	emit(udp(me, 9, 9), HONEST);
	return report("ipspoof", 5 * FORGED_EACH);
}

static void heard(void *arg, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t type = len >= 14 ? get16(p + 12) : 0;

	if (type == ETH_ARP && len >= 42) {
		heard_arp++;
		heard_forged += get32(p + 28) != sender_ip || memcmp(p + 22, p + 6, 6);
	} else if (type == ETH_IP && len >= 34) {
		heard_ip++;
		heard_forged += get32(p + 26) != sender_ip;
	} else if (type == ETH_IP6 || type == ETH_VLAN) {
		heard_other++;
		heard_forged++;
	}
}

int listen_l3(long seconds, const char *sender)
{
	uint64_t until = now_ms() + (uint64_t)seconds * 1000;

	if (parse_ip(sender, &sender_ip))
		return 2;
	while (now_ms() < until)
		if (!netfront_poll(nf, heard, NULL, 64))
			pv_block((until + 1) * 1000000, netfront_event_mask(nf));
	printf("nettool: heard arp=%lu ip=%lu other=%lu forged=%lu\n", heard_arp, heard_ip,
	       heard_other, heard_forged);
	return 0;
}
