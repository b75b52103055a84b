/* Net backend descriptor validation (io/netback.c) against a fake domain
 * whose "guest memory" is host pages. */
#include <stdarg.h>
#include <stdlib.h>
#include <manifest.h>
#include <public/errno.h>
#include <public/io/net.h>
#include <hv/domain.h>
#include <hv/netback.h>
#include "harness.h"

uint64_t physmap_offset;
uint64_t net_now_ms(void) { return 0; }
static int events, log_lines;

void domain_raise_event(struct domain *d, uint32_t port) { events++; }
void log_printf(int level, const char *fmt, ...) { log_lines++; }
void log_event(const char *fmt, ...) { log_lines++; }
void net_report_port(const struct vswitch_port *p) {}

#define PAGES 12
#define BASE  0x400000UL
static struct domain dom;
static struct netback nb;
static struct vswitch_port sink;
static uint64_t frames[PAGES];
static uint8_t *backing;    /* contiguous, so rings spanning pages are plain C arrays */
static int sunk;
static uint8_t last[PV_NET_MAX_FRAME];
static const uint8_t MAC[6] = { 0x02, 0, 0, 0, 0, 0x11 };
static const uint8_t SINK_MAC[6] = { 0x02, 0, 0, 0, 0, 0x22 };

static int sink_deliver(void *ctx, const void *f, size_t len)
{
	sunk++;
	memcpy(last, f, len);
	return 0;
}

static void *g(uint64_t gva) { return backing + (gva - BASE); }
static struct pv_net_ring *tx(void) { return g(BASE); }
static struct pv_net_ring *rx(void) { return g(BASE + PV_NET_RING_PAGES * 4096); }

static void setup_cfg(const struct manifest_net *cfg)
{
	char err[96];

	if (!backing)
		backing = aligned_alloc(4096, PAGES * 4096);
	memset(backing, 0, PAGES * 4096);
	for (int i = 0; i < PAGES; i++)
		frames[i] = (uint64_t)(backing + i * 4096) | GF_WRITE;
	frames[PAGES - 1] &= ~GF_WRITE;          /* last page read-only */
	memset(&dom, 0, sizeof(dom));
	dom.mem = (struct guest_mem){ .base = BASE, .pages = PAGES, .frame = frames };
	strcpy(dom.name, "t");
	vswitch_init(1000);
	CHECK_EQ_INT(netback_attach(&nb, &dom, 0, cfg, BASE, err, sizeof(err)), 0);
	vswitch_port_add(&sink, "sink", SINK_MAC, sink_deliver, NULL);
	sunk = events = 0;
}

static void setup(void)
{
	struct manifest_net cfg = { .mac = { 0x02, 0, 0, 0, 0, 0x11 } };

	setup_cfg(&cfg);
}

/* Queue a TX request: a frame to the sink, from src, at buffer gva. */
static void tx_req(uint64_t addr, uint32_t len, const uint8_t *src)
{
	struct pv_net_ring *r = tx();
	uint32_t p = r->idx.req_prod;
	uint8_t *buf = (addr >= BASE && addr < BASE + PAGES * 4096UL) ? g(addr) : NULL;

	if (buf && len >= 14 && len <= 2048) {
		memcpy(buf, SINK_MAC, 6);
		memcpy(buf + 6, src, 6);
		buf[12] = 0x88;                  /* an experimental ethertype: no IP */
		buf[13] = 0xb5;
	}
	r->slot[p % PV_NET_RING_SIZE] = (struct pv_net_desc){ addr, len, (uint16_t)p, 99 };
	r->idx.req_prod = p + 1;
}

static void test_tx_ok_and_responses(void)
{
	setup();
	CHECK_EQ_INT(tx()->idx.req_event, 1);          /* asks for the first notify */
	tx_req(BASE + 8 * 4096, 60, MAC);
	tx_req(BASE + 8 * 4096 + 100, 1514, MAC);
	CHECK_EQ_INT(netback_kick(&nb), 0);
	CHECK_EQ_INT(sunk, 2);
	CHECK_EQ_INT(tx()->idx.rsp_prod, 2);
	CHECK_EQ_INT(tx()->slot[0].status, PV_NET_OK);
	CHECK_EQ_INT(tx()->slot[1].id, 1);
	CHECK_EQ_INT(tx()->idx.req_event, 3);
	CHECK(events > 0);
}

static void test_tx_spoof_is_dropped_not_fatal(void)
{
	const uint8_t forged[6] = { 0x02, 0xee, 0, 0, 0, 1 };

	setup();
	tx_req(BASE + 8 * 4096, 60, forged);
	CHECK_EQ_INT(netback_kick(&nb), 0);
	CHECK_EQ_INT(sunk, 0);
	CHECK_EQ_INT(tx()->slot[0].status, PV_NET_ERR_SPOOF);
	CHECK(!nb.disconnected);
	CHECK_EQ_U64(nb.sw.c.drop_spoof, 1);
}

/* Queue an IPv4 frame from src_ip (our MAC) and process it: its status. */
static int16_t tx_ipv4(uint32_t src_ip)
{
	uint64_t addr = BASE + 8 * 4096;
	uint8_t *ip = (uint8_t *)g(addr) + 14;
	uint32_t slot = tx()->idx.req_prod % PV_NET_RING_SIZE;

	tx_req(addr, 60, MAC);
	ip[-2] = 0x08;
	ip[-1] = 0x00;
	ip[0] = 0x45;
	for (int i = 0; i < 4; i++)
		ip[12 + i] = (uint8_t)(src_ip >> (24 - 8 * i));
	netback_kick(&nb);
	return tx()->slot[slot].status;
}

/* The manifest's address reaches the switch's IP guard (docs/net.md). */
static void test_tx_ip_guard_from_manifest(void)
{
	struct manifest_net cfg = { .mac = { 0x02, 0, 0, 0, 0, 0x11 }, .ipv4 = 0x0a000011u,
				    .prefix_len = 24 };

	setup_cfg(&cfg);
	CHECK_EQ_INT(tx_ipv4(0x0a000063u), PV_NET_ERR_SPOOF);       /* 10.0.0.99: not ours */
	CHECK_EQ_INT(sunk, 0);
	CHECK_EQ_U64(nb.sw.c.drop_ip_spoof, 1);
	CHECK(!nb.disconnected);
	CHECK_EQ_INT(tx_ipv4(0x0a000011u), PV_NET_OK);              /* 10.0.0.17: ours */
	CHECK_EQ_INT(sunk, 1);
	cfg = (struct manifest_net){ .mac = { 0x02, 0, 0, 0, 0, 0x11 }, .dhcp = true };
	setup_cfg(&cfg);
	CHECK_EQ_INT(tx_ipv4(0x0a000011u), PV_NET_ERR_SPOOF);       /* no lease yet */
	cfg.guard = MANIFEST_GUARD_MAC;
	setup_cfg(&cfg);
	CHECK_EQ_INT(tx_ipv4(0x0a000063u), PV_NET_OK);              /* guard=mac: L2 only */
	CHECK_EQ_INT(sunk, 1);
}

static void expect_disconnect(uint64_t addr, uint32_t len)
{
	setup();
	tx_req(addr, len, MAC);
	CHECK_EQ_INT(netback_kick(&nb), -PV_EIO);
	CHECK(nb.disconnected);
	CHECK_EQ_INT(sunk, 0);
	tx_req(BASE + 8 * 4096, 60, MAC);              /* stays disconnected */
	CHECK_EQ_INT(netback_kick(&nb), -PV_EIO);
	CHECK_EQ_INT(sunk, 0);
}

static void test_tx_bad_descriptors_disconnect(void)
{
	expect_disconnect(BASE + 8 * 4096, 10);                  /* runt */
	expect_disconnect(BASE + 8 * 4096, 60000);               /* oversized */
	expect_disconnect(0, 60);                                /* null */
	expect_disconnect(0xffff800000000000UL, 60);             /* hypervisor */
	expect_disconnect(BASE + PAGES * 4096UL - 30, 60);       /* runs off the end */
	expect_disconnect(UINT64_MAX - 10, 60);                  /* wraps */
}

static void test_tx_index_corruption(void)
{
	setup();
	tx()->idx.req_prod = 1000;                               /* > ring size ahead */
	CHECK_EQ_INT(netback_kick(&nb), -PV_EIO);
	CHECK(nb.disconnected);
}

static void test_tx_wraparound(void)
{
	setup();
	nb.tx_cons = UINT32_MAX - 1;                             /* indices about to wrap */
	tx()->idx.req_prod = UINT32_MAX - 1;
	for (int i = 0; i < 4; i++)
		tx_req(BASE + 8 * 4096, 60, MAC);
	CHECK_EQ_INT(tx()->idx.req_prod, 2);
	CHECK_EQ_INT(netback_kick(&nb), 0);
	CHECK_EQ_INT(sunk, 4);
	CHECK_EQ_INT(tx()->idx.rsp_prod, 2);
}

static int to_guest(size_t len)
{
	uint8_t f[PV_NET_MAX_FRAME];

	memset(f, 0x5a, sizeof(f));
	memcpy(f, MAC, 6);
	memcpy(f + 6, SINK_MAC, 6);
	return vswitch_input(&sink, f, len, 0);
}

static void rx_post(uint64_t addr, uint32_t len)
{
	struct pv_net_ring *r = rx();
	uint32_t p = r->idx.req_prod;

	r->slot[p % PV_NET_RING_SIZE] = (struct pv_net_desc){ addr, len, 7, 0 };
	r->idx.req_prod = p + 1;
}

static void test_rx(void)
{
	setup();
	to_guest(100);                                           /* nothing posted */
	CHECK_EQ_U64(nb.rx_no_buffer, 1);
	CHECK(!nb.disconnected);
	rx_post(BASE + 8 * 4096, 2048);
	to_guest(100);
	CHECK_EQ_INT(rx()->idx.rsp_prod, 1);
	CHECK_EQ_INT(rx()->slot[0].len, 100);
	CHECK_EQ_INT(rx()->slot[0].id, 7);
	CHECK_EQ_INT(((uint8_t *)g(BASE + 8 * 4096))[50], 0x5a);
	rx_post(BASE + (PAGES - 1) * 4096UL, 2048);              /* read-only page */
	to_guest(100);
	CHECK(nb.disconnected);
	setup();
	rx_post(BASE + 8 * 4096, 64);                            /* too small for a frame */
	to_guest(60);
	CHECK(nb.disconnected);
}

/* A quiesced backend keeps frames (in order, at most 32) and hands them
 * to the ring when told; a detach drops what is left. */
static void test_parked_frames(void)
{
	setup();
	for (int i = 0; i < 3; i++)
		rx_post(BASE + (4 + i) * 4096UL, 2048);
	nb.quiesced = true;
	for (size_t len = 60; len < 60 + 40; len++)
		to_guest(len);                                   /* 40 come, 32 are kept */
	CHECK_EQ_INT(rx()->idx.rsp_prod, 0);                     /* the ring stood still */
	nb.quiesced = false;
	CHECK_EQ_INT(netback_unpark(&nb, netback_rx, &nb), 3);  /* three buffers posted */
	CHECK_EQ_INT(rx()->idx.rsp_prod, 3);
	CHECK_EQ_INT(rx()->slot[0].len, 60);                     /* oldest first */
	CHECK_EQ_INT(rx()->slot[2].len, 62);
	CHECK_EQ_INT(netback_unpark(&nb, netback_rx, &nb), 0);  /* taken or dropped: none left */
	nb.quiesced = true;
	to_guest(70);
	netback_detach(&nb);
	CHECK_EQ_INT(netback_unpark(&nb, netback_rx, &nb), 0);  /* the detach dropped it */
}

int main(void)
{
	RUN(test_tx_ok_and_responses);
	RUN(test_tx_spoof_is_dropped_not_fatal);
	RUN(test_tx_ip_guard_from_manifest);
	RUN(test_tx_bad_descriptors_disconnect);
	RUN(test_tx_index_corruption);
	RUN(test_tx_wraparound);
	RUN(test_rx);
	RUN(test_parked_frames);
	free(backing);
	return harness_report();
}
