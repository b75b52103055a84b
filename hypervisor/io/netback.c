/* Net backend (see public/io/net.h for the protocol).  Every index and
 * descriptor is copied out of guest memory once, then validated, then
 * used; the backend never keeps a pointer into the guest.  A broken ring
 * disconnects the device with a log line and nothing else. */
#include <public/io/net.h>
#include <manifest.h>
#include <hv/domain.h>
#include <hv/errno.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/net.h>
#include <hv/netback.h>
#include <hv/time.h>
#include <hv/x86.h>

#define IDX_REQ_PROD  0
#define IDX_REQ_EVENT 4
#define IDX_RSP_PROD  64
/* Learning from the uplink never takes the slots every manifest guest MAC needs. */
_Static_assert(VSWITCH_TABLE_SIZE - VSWITCH_LEARN_MAX >= MANIFEST_MAX_GUESTS * MANIFEST_MAX_NETS,
	       "the MAC table keeps room for every guest MAC");

#define SLOT(ring, i) ((ring) + sizeof(struct pv_ring_indices) + \
		       (uint64_t)pv_ring_slot(i, PV_NET_RING_SIZE) * sizeof(struct pv_net_desc))

static void disconnect(struct netback *nb, const char *why, uint64_t detail)
{
	char token[64];

	if (nb->disconnected)
		return;
	nb->disconnected = true;
	log_warn("net: domain %u (%s) net%u disconnected: %s (0x%lx)", nb->d->id, nb->d->name,
		 nb->index, why, detail);
	strlcpy(token, why, sizeof(token));
	for (char *c = token; *c; c++)          /* one key=value token for the event */
		if (*c == ' ')
			*c = '-';
	log_event("net-disconnected id=%u name=%s dev=%u reason=%s", nb->d->id, nb->d->name,
		  nb->index, token);
}

static int read_u32(struct netback *nb, uint64_t gva, uint32_t *v)
{
	return guest_copy_from(&nb->d->mem, v, gva, sizeof(*v));
}

static int write_u32(struct netback *nb, uint64_t gva, uint32_t v)
{
	return guest_copy_to(&nb->d->mem, gva, &v, sizeof(v));
}

/* Producer index of a ring, checked against what we consumed. */
static int pending(struct netback *nb, uint64_t ring, uint32_t cons, uint32_t *prod)
{
	if (read_u32(nb, ring + IDX_REQ_PROD, prod)) {
		disconnect(nb, "ring not readable", ring);
		return -1;
	}
	pv_rmb();
	if (!pv_ring_sane(*prod, cons, PV_NET_RING_SIZE)) {
		disconnect(nb, "producer index out of range", *prod);
		return -1;
	}
	return 0;
}

static int respond(struct netback *nb, uint64_t ring, uint32_t idx, const struct pv_net_desc *rsp)
{
	if (guest_copy_to(&nb->d->mem, SLOT(ring, idx), rsp, sizeof(*rsp))) {
		disconnect(nb, "ring not writable", ring);
		return -1;
	}
	return 0;
}

static void publish(struct netback *nb, uint64_t ring, uint32_t prod)
{
	pv_wmb();
	if (write_u32(nb, ring + IDX_RSP_PROD, prod))
		disconnect(nb, "ring not writable", ring);
	domain_raise_event(nb->d, nb->port);
}

/* ---- guest -> switch ---------------------------------------------------- */
static int16_t tx_one(struct netback *nb, const struct pv_net_desc *req)
{
	uint8_t frame[PV_NET_MAX_FRAME];

	if (req->len < PV_NET_MIN_FRAME || req->len > PV_NET_MAX_FRAME) {
		disconnect(nb, "bad TX length", req->len);
		return PV_NET_ERR_INVALID;
	}
	if (guest_copy_from(&nb->d->mem, frame, req->addr, req->len)) {
		disconnect(nb, "TX buffer outside guest memory", req->addr);
		return PV_NET_ERR_INVALID;
	}
	switch (vswitch_input(&nb->sw, frame, req->len, net_now_ms())) {
	case VSWITCH_SPOOFED:
		return PV_NET_ERR_SPOOF;
	case VSWITCH_INVALID:
		return PV_NET_ERR_INVALID;
	default:
		return PV_NET_OK;
	}
}

int netback_kick(struct netback *nb)
{
	uint32_t prod, start = nb->tx_cons;
	struct pv_net_desc d;

	if (nb->disconnected || pending(nb, nb->tx_gva, nb->tx_cons, &prod))
		return -EIO;
	while (nb->tx_cons != prod && !nb->disconnected) {
		if (guest_copy_from(&nb->d->mem, &d, SLOT(nb->tx_gva, nb->tx_cons), sizeof(d))) {
			disconnect(nb, "ring not readable", nb->tx_gva);
			return -EIO;
		}
		d.status = tx_one(nb, &d);
		if (respond(nb, nb->tx_gva, nb->tx_cons, &d))
			return -EIO;
		nb->tx_cons++;
	}
	/* Ask to be notified for the next request. */
	write_u32(nb, nb->tx_gva + IDX_REQ_EVENT, nb->tx_cons + 1);
	if (nb->tx_cons != start)
		publish(nb, nb->tx_gva, nb->tx_cons);
	return nb->disconnected ? -EIO : 0;
}

/* ---- switch -> guest ---------------------------------------------------- */
int netback_rx(void *ctx, const void *frame, size_t len)
{
	struct netback *nb = ctx;
	struct pv_net_desc d;
	uint32_t prod;
	int r;

	if (nb->disconnected || pending(nb, nb->rx_gva, nb->rx_cons, &prod))
		return -EIO;
	if (prod == nb->rx_cons) {
		nb->rx_no_buffer++;
		return -EAGAIN;
	}
	if (guest_copy_from(&nb->d->mem, &d, SLOT(nb->rx_gva, nb->rx_cons), sizeof(d))) {
		disconnect(nb, "ring not readable", nb->rx_gva);
		return -EIO;
	}
	r = d.len < PV_NET_MAX_FRAME ? -EFAULT : guest_copy_to(&nb->d->mem, d.addr, frame, len);
	if (r == -EAGAIN)
		return r;                 /* a clone's page not yet its own, the clone running: dropped */
	if (r) {
		disconnect(nb, d.len < PV_NET_MAX_FRAME ? "RX buffer too small" :
			   "RX buffer outside guest memory or read-only", d.addr);
		return -EIO;
	}
	d.len = (uint32_t)len;
	d.status = PV_NET_OK;
	if (respond(nb, nb->rx_gva, nb->rx_cons, &d))
		return -EIO;
	nb->rx_cons++;
	publish(nb, nb->rx_gva, nb->rx_cons);
	return 0;
}

/* The switch's way in: a domain standing still has its frames kept
 * (netback_park.c), or dropped as with a full ring when there is no room. */
static int rx_deliver(void *ctx, const void *frame, size_t len)
{
	struct netback *nb = ctx;

	if (nb->quiesced)
		return netback_park(nb, frame, len) ? 0 : -EAGAIN;
	return netback_rx(nb, frame, len);
}

int netback_attach(struct netback *nb, struct domain *d, uint32_t index,
		   const struct manifest_net *cfg, uint64_t ring_gva, char *err, size_t n)
{
	char name[VSWITCH_NAME_MAX];
	int r;

	memset(nb, 0, sizeof(*nb));
	nb->d = d;
	nb->index = index;
	nb->port = 1 + index;
	nb->tx_gva = ring_gva;
	nb->rx_gva = ring_gva + PV_NET_RING_PAGES * PV_PAGE_SIZE;
	snprintf(name, sizeof(name), "%s.net%u", d->name, index);
	r = vswitch_port_add(&nb->sw, name, cfg->mac, rx_deliver, nb);
	if (r) {
		snprintf(err, n, "net%u: MAC %02x:%02x:%02x:%02x:%02x:%02x %s", index, cfg->mac[0],
			 cfg->mac[1], cfg->mac[2], cfg->mac[3], cfg->mac[4], cfg->mac[5],
			 r == -EEXIST ? "is already in use" : "does not fit the switch table");
		return r;
	}
	nb->sw.owner = d->id;
	if (cfg->guard == MANIFEST_GUARD_IP)
		ipguard_init(&nb->sw.guard, cfg->dhcp ? IPGUARD_DHCP : IPGUARD_STATIC, cfg->ipv4);
	nb->attached = true;
	nb->quiesced = d->held;   /* a restore or clone: nothing delivered until it is let go */
	write_u32(nb, nb->tx_gva + IDX_REQ_EVENT, 1);   /* notify us for the first request */
	return 0;
}

void netback_detach(struct netback *nb)
{
	if (!nb->attached)
		return;
	netback_unpark(nb, NULL, NULL);   /* what it never got goes with it */
	net_report_port(&nb->sw);        /* its counters, before they go */
	vswitch_port_remove(&nb->sw);
	nb->attached = false;
}
