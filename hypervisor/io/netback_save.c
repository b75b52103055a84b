/* A net backend's part of a save stream (public/save.h, DEVICE): its ring
 * positions, its MAC and a DHCP lease the switch bound.  The rings'
 * contents travel with the guest's pages; what the backend keeps apart
 * from them is only this. */
#include <public/save.h>
#include <hv/domain.h>
#include <hv/lib.h>
#include <hv/netback.h>

#define LEASE_NO_END 0xffffffffu

/* Back on: what came meanwhile first. */
void netback_quiesce(struct netback *nb, bool on)
{
	nb->quiesced = on;
	if (!on)
		netback_unpark(nb, netback_rx, nb);
}

static uint32_t lease_left_s(const struct ipguard *g, uint64_t now_ms)
{
	if (g->lease_end == UINT64_MAX)
		return LEASE_NO_END;
	return g->lease_end > now_ms ? (uint32_t)MIN((g->lease_end - now_ms) / 1000, LEASE_NO_END - 1) : 0;
}

void netback_save(const struct netback *nb, struct pv_save_device *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = PV_SAVE_NET;
	out->index = nb->index;
	memcpy(out->mac, nb->sw.mac, sizeof(out->mac));
	out->rx_cons = nb->rx_cons;
	out->tx_cons = nb->tx_cons;
	if (nb->sw.guard.mode == IPGUARD_DHCP && nb->sw.guard.ipv4) {
		out->lease_ipv4 = nb->sw.guard.ipv4;
		out->lease_left_s = lease_left_s(&nb->sw.guard, net_now_ms());
	}
}

/* The positions are the guest's own business: a wrong one only breaks
 * its device (the ring checks disconnect it), never the backend. */
int netback_restore(struct netback *nb, const struct pv_save_device *in, char *err, size_t n)
{
	if (memcmp(in->mac, nb->sw.mac, sizeof(in->mac))) {
		snprintf(err, n, "DEVICE net%u: its MAC is not the configuration's", in->index);
		return -1;
	}
	nb->rx_cons = in->rx_cons;
	nb->tx_cons = in->tx_cons;
	if (nb->sw.guard.mode == IPGUARD_DHCP && in->lease_ipv4 && in->lease_left_s) {
		nb->sw.guard.ipv4 = in->lease_ipv4;
		nb->sw.guard.lease_end = in->lease_left_s == LEASE_NO_END ? UINT64_MAX :
					 net_now_ms() + (uint64_t)in->lease_left_s * 1000;
	}
	return 0;
}

/* The buffers the next frames go into: the rest become the clone's own
 * when a frame comes while it runs nowhere (or, while it runs on another
 * CPU, the frame is dropped and sent again).  All 256 would cost a clone
 * half a MiB it may never use. */
#define RX_UNSHARE_AHEAD 16u

#define RX_SLOT(nb, i) ((nb)->rx_gva + sizeof(struct pv_ring_indices) + \
			(uint64_t)pv_ring_slot(i, PV_NET_RING_SIZE) * sizeof(struct pv_net_desc))

void netback_clone(struct netback *nb, const struct pv_save_device *in)
{
	uint32_t prod;
	struct pv_net_desc d;

	nb->rx_cons = in->rx_cons;
	nb->tx_cons = in->tx_cons;
	if (guest_copy_from(&nb->d->mem, &prod, nb->rx_gva, sizeof(prod)) ||
	    !pv_ring_sane(prod, nb->rx_cons, PV_NET_RING_SIZE))
		return;                   /* the ring checks will say so when it runs */
	for (uint32_t i = nb->rx_cons; i != prod && i - nb->rx_cons < RX_UNSHARE_AHEAD; i++)
		if (!guest_copy_from(&nb->d->mem, &d, RX_SLOT(nb, i), sizeof(d)))
			guest_unshare(&nb->d->mem, d.addr, PV_NET_MAX_FRAME);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A gratuitous ARP request from the device's MAC for its address, padded
 * to Ethernet's minimum: what a guest says when it comes up. */
static void garp(const struct netback *nb, uint8_t f[60])
{
	static const uint8_t head[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };   /* Ethernet/IPv4, request */

	memset(f, 0, 60);
	memset(f, 0xff, 6);
	memcpy(f + 6, nb->sw.mac, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	memcpy(f + 14, head, sizeof(head));
	memcpy(f + 22, nb->sw.mac, 6);
	put_be32(f + 28, nb->sw.guard.ipv4);
	put_be32(f + 38, nb->sw.guard.ipv4);
}

void netback_announce(struct netback *nb)
{
	uint8_t f[60];

	if (!nb->attached || !nb->sw.guard.ipv4)
		return;                   /* no address known: its own traffic will teach */
	garp(nb, f);
	vswitch_input(&nb->sw, f, sizeof(f), net_now_ms());
}
