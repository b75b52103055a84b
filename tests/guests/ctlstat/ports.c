/* NET_PORTS against traffic we make ourselves: N test frames to a guest
 * that echoes them, and 5 with a forged source MAC, between two NET_PORTS
 * calls; the counters must move by exactly what went through (our own
 * netfront's counters say what that was).  Then the refusals. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "ctlstat.h"
#include "netfront.h"

#define ETH_TEST 0x88b5   /* IEEE local experimental ethertype (as nettool) */
#define FRAME_LEN 100
#define FORGED 5
#define MAX_PORTS 16

static struct netfront *nf;
static const uint8_t *my_mac;
static struct pv_domctl_port before[MAX_PORTS], after[MAX_PORTS];
static unsigned long answered;

static uint64_t now_ms(void) { return pv_monotonic_ns() / 1000000; }

static long net_ports(void *buf, uint32_t max, uint32_t *count, uint32_t *total, uint32_t reserved)
{
	struct pv_domctl_ports q;
	long r;

	domctl_hdr(&q.hdr, PV_DOMCTL_NET_PORTS, sizeof(q), 0);
	q.buf_gva = (uintptr_t)buf;
	q.max = max;
	q.reserved = reserved;
	r = pv_domctl(&q, sizeof(q));
	*count = q.count;
	*total = q.total;
	return r;
}

static void on_frame(void *arg, const void *data, size_t len)
{
	const uint8_t *f = data;

	if (len >= 14 && f[12] == (ETH_TEST >> 8) && f[13] == (ETH_TEST & 0xff) && !memcmp(f, my_mac, 6))
		answered++;
}

/* Frames for `ms`, or until `want` answers have come. */
static void wait_frames(uint64_t ms, unsigned long want)
{
	uint64_t until = now_ms() + ms;

	while (now_ms() < until && answered < want)
		if (!netfront_poll(nf, on_frame, NULL, 64))
			pv_block((until + 1) * 1000000, netfront_event_mask(nf));
}

static int send_test(const uint8_t dst[6], const uint8_t src[6], uint32_t seq)
{
	uint8_t f[FRAME_LEN];

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = ETH_TEST >> 8;
	f[13] = ETH_TEST & 0xff;
	memcpy(f + 14, &seq, 4);
	memset(f + 18, 0xab, sizeof(f) - 18);
	for (int tries = 0; tries < 1000; tries++) {
		int r = netfront_send(nf, f, sizeof(f));

		if (r != -EAGAIN)
			return r;
		netfront_poll(nf, on_frame, NULL, 64);
		pv_yield();
	}
	return -EAGAIN;
}

/* One at a time, each waiting (briefly) for its echo; then the forged ones. */
static void traffic(const uint8_t peer[6], long n)
{
	static const uint8_t forged[6] = { 0x02, 0xde, 0xad, 0xbe, 0xef, 0x07 };

	for (long i = 0; i < n; i++) {
		send_test(peer, my_mac, (uint32_t)i);
		wait_frames(200, (unsigned long)i + 1);
	}
	for (uint32_t i = 0; i < FORGED; i++)
		send_test(peer, forged, 1000 + i);
	wait_frames(300, ~0ul);            /* stragglers, and the forged ones' TX responses */
}

static const struct pv_domctl_port *find(const struct pv_domctl_port *p, uint32_t n, const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (!strcmp(p[i].name, name))
			return &p[i];
	return NULL;
}

static void print_delta(const char *name, uint32_t n1, uint32_t n2)
{
	const struct pv_domctl_port *x = find(before, n1, name), *y = find(after, n2, name);

	if (!x || !y) {
		printf("ctlstat: port-delta name=%s missing=1\n", name);
		return;
	}
	printf("ctlstat: port-delta name=%s domid=%u rx_frames=%llu rx_bytes=%llu tx_frames=%llu tx_bytes=%llu\n",
	       name, y->domid, (unsigned long long)(y->rx_frames - x->rx_frames),
	       (unsigned long long)(y->rx_bytes - x->rx_bytes), (unsigned long long)(y->tx_frames - x->tx_frames),
	       (unsigned long long)(y->tx_bytes - x->tx_bytes));
	printf("ctlstat: port-drops name=%s spoof=%llu ip_spoof=%llu tx=%llu invalid=%llu storm=%llu\n", name,
	       (unsigned long long)(y->drop_spoof - x->drop_spoof),
	       (unsigned long long)(y->drop_ip_spoof - x->drop_ip_spoof),
	       (unsigned long long)(y->drop_tx - x->drop_tx), (unsigned long long)(y->drop_invalid - x->drop_invalid),
	       (unsigned long long)(y->drop_storm - x->drop_storm));
}

static void print_list(const char *label, long r, const struct pv_domctl_port *p, uint32_t n, uint32_t total)
{
	printf("ctlstat: %s r=%ld count=%u total=%u names=", label, r, n, total);
	for (uint32_t i = 0; i < n; i++)
		printf("%s%s:%u", i ? "," : "", p[i].name, p[i].domid);
	printf("\n");
}

static void refusals(void)
{
	uint32_t count = 99, total = 99;
	long r;

	printf("ctlstat: ports-bigmax r=%ld\n", net_ports(after, 1025, &count, &total, 0));
	printf("ctlstat: ports-badbuf r=%ld\n", net_ports((void *)KERNEL_ADDR, 2, &count, &total, 0));
	printf("ctlstat: ports-robuf r=%ld\n", net_ports((void *)READ_ONLY_ADDR, 2, &count, &total, 0));
	printf("ctlstat: ports-reserved r=%ld\n", net_ports(after, 2, &count, &total, 1));
	memset(after, 0xee, sizeof(after));
	r = net_ports(after, 1, &count, &total, 0);
	printf("ctlstat: ports-one r=%ld count=%u total=%u first=%s untouched=%d\n", r, count, total, after[0].name,
	       after[1].domid == 0xeeeeeeeeu && after[1].rx_frames == 0xeeeeeeeeeeeeeeeeull);
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

int run_ports(const char *peer_mac, long n)
{
	struct netfront_stats s0, s1;
	uint32_t n1, n2, t1, t2;
	uint8_t peer[6];
	long r1, r2;

	nf = netfront_open(0);
	if (!nf || parse_mac(peer_mac, peer))
		return printf("ctlstat: ports need a net device and a MAC\n"), 2;
	my_mac = netfront_device(nf)->mac;
	wait_frames(500, ~0ul);                /* the echoing guest starts */
	netfront_stats(nf, &s0);
	r1 = net_ports(before, MAX_PORTS, &n1, &t1, 0);
	traffic(peer, n);
	r2 = net_ports(after, MAX_PORTS, &n2, &t2, 0);
	netfront_stats(nf, &s1);
	print_list("ports", r1, before, n1, t1);
	print_list("ports-after", r2, after, n2, t2);
	printf("ctlstat: traffic sent=%ld answered=%lu forged=%u len=%u nf_tx=%llu nf_tx_errors=%llu nf_rx=%llu\n",
	       n, answered, FORGED, FRAME_LEN, (unsigned long long)(s1.tx_frames - s0.tx_frames),
	       (unsigned long long)(s1.tx_errors - s0.tx_errors), (unsigned long long)(s1.rx_frames - s0.rx_frames));
	for (uint32_t i = 0; i < n2; i++)
		print_delta(after[i].name, n1, n2);
	refusals();
	return r1 || r2;
}
