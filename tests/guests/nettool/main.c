/* Raw Ethernet on the net frontend, no IP stack: the hostile and the
 * measuring guests of the switch tests.
 *
 *   nettool spoof              10 frames with a forged source MAC, then 10 honest ones
 *   nettool garbage KIND       corrupt the TX ring (addr | len | index), expect -EIO
 *   nettool flood SECONDS      broadcast as fast as possible
 *   nettool echo SECONDS       answer every test frame (swap the MACs)
 *   nettool ping MAC COUNT     send COUNT test frames to MAC, count the answers
 *   nettool scribble SECONDS   transmit from one thread while a second one
 *                              rewrites both rings (indices and descriptors)
 *                              with random values; other CPUs keep delivering
 *                              into its RX ring meanwhile
 *   nettool arpspoof VICTIM_IP ARP with forged senders, then honest ARP (forge.c)
 *   nettool ipspoof VICTIM_IP  IPv4/IPv6 with forged sources, then honest IPv4
 *   nettool listen SECONDS IP  count the ARP and IP frames heard, and those
 *                              whose sender is not IP
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <paravane.h>
#include <pv_thread.h>
#include <public/errno.h>
#include <public/io/net.h>
#include "netfront.h"
#include "nettool.h"

#define ETH_TEST 0x88b5   /* IEEE local experimental ethertype */

struct netfront *nf;
const uint8_t *my_mac;
static uint8_t frame[PV_NET_MAX_FRAME];
static unsigned long answered, echoed;

uint64_t now_ms(void) { return pv_monotonic_ns() / 1000000; }

static size_t build(const uint8_t *dst, const uint8_t *src, uint32_t seq, size_t len)
{
	memcpy(frame, dst, 6);
	memcpy(frame + 6, src, 6);
	frame[12] = ETH_TEST >> 8;
	frame[13] = ETH_TEST & 0xff;
	memcpy(frame + 14, &seq, 4);
	memset(frame + 18, 0xab, len - 18);
	return len;
}

/* Send, polling for free TX buffers a bounded number of times. */
int send_buf(const void *buf, size_t len)
{
	for (int tries = 0; tries < 1000; tries++) {
		int r = netfront_send(nf, buf, len);

		if (r != -EAGAIN)
			return r;
		pv_yield();
	}
	return -EAGAIN;
}

static int send_frame(size_t len)
{
	return send_buf(frame, len);
}

static void on_frame(void *arg, const void *data, size_t len)
{
	const uint8_t *f = data;

	if (len < 18 || f[12] != (ETH_TEST >> 8) || f[13] != (ETH_TEST & 0xff))
		return;
	if (arg) {                          /* echo: send it back */
		uint8_t dst[6];

		memcpy(dst, f + 6, 6);
		memcpy(frame, data, len);
		memcpy(frame, dst, 6);
		memcpy(frame + 6, my_mac, 6);
		if (send_frame(len) == 0)
			echoed++;
	} else if (!memcmp(f, my_mac, 6)) {
		answered++;
	}
}

static void wait_frames(uint64_t until_ms, void *echo)
{
	while (now_ms() < until_ms) {
		if (!netfront_poll(nf, on_frame, echo, 64))
			pv_block((until_ms + 1) * 1000000, netfront_event_mask(nf));
	}
}

static int spoof(void)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t forged[6] = { 0x02, 0xde, 0xad, 0xbe, 0xef, 0x01 };
	struct netfront_stats st;

	for (uint32_t i = 0; i < 10; i++) {
		build(bcast, forged, i, 60);
		send_frame(60);
	}
	for (uint32_t i = 0; i < 10; i++) {
		build(bcast, my_mac, i, 60);
		send_frame(60);
	}
	netfront_poll(nf, on_frame, NULL, 0);
	netfront_stats(nf, &st);
	printf("nettool: spoof sent=%lu rejected=%lu\n", (unsigned long)st.tx_frames,
	       (unsigned long)st.tx_errors);
	return st.tx_errors == 10 ? 0 : 1;
}

static int garbage(const char *kind)
{
	const struct pv_device *dev = netfront_device(nf);
	struct pv_net_ring *tx = (struct pv_net_ring *)(uintptr_t)dev->ring_gva;
	uint32_t prod = tx->idx.req_prod;
	struct pv_net_desc *d = &tx->slot[prod & (PV_NET_RING_SIZE - 1)];
	int r;

	d->addr = !strcmp(kind, "addr") ? 0xffff800000000000ull : (uint64_t)(uintptr_t)frame;
	d->len = !strcmp(kind, "len") ? 60000 : 60;
	d->id = 0;
	tx->idx.req_prod = !strcmp(kind, "index") ? prod + 100000 : prod + 1;
	r = pv_event_notify(dev->event_port);
	printf("nettool: garbage %s -> %d\n", kind, r);
	if (r != -PV_EIO)
		return 1;
	r = pv_event_notify(dev->event_port);          /* stays disconnected */
	printf("nettool: notify after garbage -> %d\n", r);
	return r == -PV_EIO ? 0 : 1;
}

static int flood(long seconds)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint64_t end = now_ms() + (uint64_t)seconds * 1000;
	unsigned long sent = 0;

	build(bcast, my_mac, 0, 1000);
	while (now_ms() < end)
		if (netfront_send(nf, frame, 1000) == 0)
			sent++;
		else
			netfront_poll(nf, on_frame, NULL, 256);
	printf("nettool: flood sent=%lu\n", sent);
	return 0;
}

/* ---- scribble ------------------------------------------------------------ */

static volatile int scribbling;
static unsigned long scribbles;

static uint64_t rnd(void)
{
	static uint64_t x = 0x9e3779b97f4a7c15ull;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

/* Mostly plausible values (a small index step, an address inside a
 * scratch buffer the backend may write frames into, a length near the
 * legal range), so the backend keeps working on half-valid descriptors;
 * now and then a wild one. */
static uint8_t scratch[16384];

static void scribble_ring(struct pv_net_ring *r)
{
	struct pv_net_desc *d = &r->slot[rnd() % PV_NET_RING_SIZE];

	switch (rnd() % 5) {
	case 0: r->idx.req_prod += (uint32_t)(rnd() % 4); break;
	case 1: d->addr = (uint64_t)(uintptr_t)scratch + rnd() % (sizeof(scratch) - PV_NET_MAX_FRAME); break;
	case 2: d->len = 40 + (uint32_t)(rnd() % 1600); break;
	case 3: d->id = (uint16_t)rnd(); break;
	default:
		if (rnd() % 64 == 0)
			r->idx.req_prod = (uint32_t)rnd();
		break;
	}
}

static void *scribbler(void *arg)
{
	const struct pv_device *dev = netfront_device(nf);
	struct pv_net_ring *tx = (struct pv_net_ring *)(uintptr_t)dev->ring_gva;
	struct pv_net_ring *rx = (struct pv_net_ring *)(uintptr_t)(dev->ring_gva + PV_NET_RING_PAGES * PV_PAGE_SIZE);

	while (scribbling) {
		scribble_ring(rnd() & 1 ? tx : rx);
		scribbles++;
		pv_thread_yield();
	}
	return NULL;
}

static int scribble(long seconds)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint64_t end = now_ms() + (uint64_t)seconds * 1000;
	unsigned long sent = 0, failed = 0;
	struct pv_thread *t;

	scribbling = 1;
	t = pv_thread_create("scribbler", scribbler, NULL, 0);
	build(bcast, my_mac, 0, 200);
	while (now_ms() < end) {
		if (netfront_send(nf, frame, 200) == 0)
			sent++;
		else
			failed++;
		pv_event_notify(netfront_device(nf)->event_port);
		pv_thread_yield();
	}
	scribbling = 0;
	if (t)
		pv_thread_join(t, NULL);
	printf("nettool: scribble sent=%lu failed=%lu scribbles=%lu\n", sent, failed, scribbles);
	return t ? 0 : 1;
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

static int ping(const char *mac_s, long count)
{
	uint8_t dst[6];
	uint64_t t0 = now_ms();

	if (parse_mac(mac_s, dst))
		return 2;
	uint64_t rtt_ns = 0;

	wait_frames(now_ms() + 300, NULL);             /* let the echo side start */
	for (long i = 0; i < count; i++) {
		unsigned long before = answered;
		uint64_t s = pv_monotonic_ns(), limit = now_ms() + 100;

		build(dst, my_mac, (uint32_t)i, 128);
		send_frame(128);
		while (answered == before && now_ms() < limit)
			if (!netfront_poll(nf, on_frame, NULL, 64))
				pv_block((limit + 1) * 1000000, netfront_event_mask(nf));
		rtt_ns += pv_monotonic_ns() - s;
	}
	wait_frames(now_ms() + 200, NULL);
	printf("nettool: ping sent=%ld answered=%lu in %lu ms avg_rtt_us=%lu\n", count, answered,
	       (unsigned long)(now_ms() - t0), (unsigned long)(rtt_ns / 1000 / (count ? count : 1)));
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "spoof";

	nf = netfront_open(0);
	if (!nf) {
		printf("nettool: no net device\n");
		return 2;
	}
	my_mac = netfront_device(nf)->mac;
	if (!strcmp(mode, "spoof"))
		return spoof();
	if (!strcmp(mode, "garbage"))
		return garbage(argc > 2 ? argv[2] : "addr");
	if (!strcmp(mode, "flood"))
		return flood(argc > 2 ? atol(argv[2]) : 3);
	if (!strcmp(mode, "echo")) {
		wait_frames(now_ms() + (uint64_t)(argc > 2 ? atol(argv[2]) : 3) * 1000, (void *)1);
		printf("nettool: echoed=%lu\n", echoed);
		return 0;
	}
	if (!strcmp(mode, "ping") && argc > 3)
		return ping(argv[2], atol(argv[3]));
	if (!strcmp(mode, "scribble"))
		return scribble(argc > 2 ? atol(argv[2]) : 3);
	if (!strcmp(mode, "arpspoof") && argc > 2)
		return arpspoof(argv[2]);
	if (!strcmp(mode, "ipspoof") && argc > 2)
		return ipspoof(argv[2]);
	if (!strcmp(mode, "listen") && argc > 3)
		return listen_l3(atol(argv[2]), argv[3]);
	printf("nettool: bad mode %s\n", mode);
	return 2;
}
