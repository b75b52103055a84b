/* Net frontend (see netfront.h and public/io/net.h).  The rings are in our
 * own memory, so we use them directly; the buffers come from the heap.
 * Every index and id the backend writes is still range-checked: a broken
 * backend must not make us scribble over our own memory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <paravane.h>
#include <public/errno.h>
#include <public/io/net.h>
#include "netfront.h"

#define TX_BUFS  64
#define RX_BUFS  256   /* the whole ring: bursts of SYNs must not find it empty */
#define BUF_SIZE 2048   /* >= PV_NET_MAX_FRAME */
#define MASK     (PV_NET_RING_SIZE - 1)

struct netfront {
	const struct pv_device *dev;
	struct pv_net_ring *tx, *rx;
	uint32_t tx_prod, tx_cons;     /* requests made / responses seen */
	uint32_t rx_prod, rx_cons;
	uint8_t *bufs;                 /* TX_BUFS + RX_BUFS buffers */
	uint16_t tx_free[TX_BUFS];
	uint32_t tx_free_count;
	struct netfront_stats st;
};

static uint8_t *tx_buf(struct netfront *nf, unsigned id) { return nf->bufs + (size_t)id * BUF_SIZE; }
static uint8_t *rx_buf(struct netfront *nf, unsigned id)
{
	return nf->bufs + (size_t)(TX_BUFS + id) * BUF_SIZE;
}

static void rx_post(struct netfront *nf, uint16_t id)
{
	struct pv_net_desc *d = &nf->rx->slot[nf->rx_prod & MASK];

	d->addr = (uint64_t)(uintptr_t)rx_buf(nf, id);
	d->len = BUF_SIZE;
	d->id = id;
	d->status = 0;
	nf->rx_prod++;
}

static void rx_publish(struct netfront *nf)
{
	pv_wmb();
	nf->rx->idx.req_prod = nf->rx_prod;
}

static const struct pv_device *find_device(unsigned index)
{
	const struct pv_start_info *si = pv_start_info();

	for (uint32_t i = 0; i < si->device_count && i < PV_MAX_DEVICES; i++)
		if (si->device[i].type == PV_DEV_NET && si->device[i].index == index)
			return &si->device[i];
	return NULL;
}

struct netfront *netfront_open(unsigned index)
{
	const struct pv_device *dev = find_device(index);
	struct netfront *nf;

	if (!dev || dev->ring_pages < 2 * PV_NET_RING_PAGES || dev->event_port >= PV_EVENT_PORTS) {
		errno = ENODEV;
		return NULL;
	}
	nf = calloc(1, sizeof(*nf));
	if (!nf || !(nf->bufs = malloc((size_t)(TX_BUFS + RX_BUFS) * BUF_SIZE))) {
		free(nf);
		errno = ENOMEM;
		return NULL;
	}
	nf->dev = dev;
	nf->tx = (struct pv_net_ring *)(uintptr_t)dev->ring_gva;
	nf->rx = (struct pv_net_ring *)(uintptr_t)(dev->ring_gva + PV_NET_RING_PAGES * PV_PAGE_SIZE);
	for (uint16_t i = 0; i < TX_BUFS; i++)
		nf->tx_free[nf->tx_free_count++] = i;
	for (uint16_t i = 0; i < RX_BUFS; i++)
		rx_post(nf, i);
	rx_publish(nf);
	return nf;
}

const struct pv_device *netfront_device(const struct netfront *nf) { return nf->dev; }
uint64_t netfront_event_mask(const struct netfront *nf) { return 1ull << nf->dev->event_port; }

/* Take back TX buffers whose responses have arrived. */
static void tx_reap(struct netfront *nf)
{
	uint32_t prod = nf->tx->idx.rsp_prod;

	pv_rmb();
	if (prod - nf->tx_cons > PV_NET_RING_SIZE)
		return;                            /* backend broken: leave it */
	for (; nf->tx_cons != prod; nf->tx_cons++) {
		const struct pv_net_desc *d = &nf->tx->slot[nf->tx_cons & MASK];

		if (d->id >= TX_BUFS || nf->tx_free_count >= TX_BUFS)
			continue;
		if (d->status != PV_NET_OK)
			nf->st.tx_errors++;
		nf->tx_free[nf->tx_free_count++] = d->id;
	}
}

int netfront_send(struct netfront *nf, const void *frame, size_t len)
{
	struct pv_net_desc *d;
	uint32_t old;
	uint16_t id;

	if (len < PV_NET_MIN_FRAME || len > PV_NET_MAX_FRAME)
		return -EINVAL;
	tx_reap(nf);
	if (!nf->tx_free_count) {
		nf->st.tx_full++;
		return -EAGAIN;
	}
	id = nf->tx_free[--nf->tx_free_count];
	memcpy(tx_buf(nf, id), frame, len);
	d = &nf->tx->slot[nf->tx_prod & MASK];
	d->addr = (uint64_t)(uintptr_t)tx_buf(nf, id);
	d->len = (uint32_t)len;
	d->id = id;
	d->status = 0;
	old = nf->tx_prod++;
	pv_wmb();
	nf->tx->idx.req_prod = nf->tx_prod;
	pv_mb();                                   /* publish before reading req_event */
	if (pv_ring_need_notify(old, nf->tx_prod, nf->tx->idx.req_event) &&
	    pv_event_notify(nf->dev->event_port) == -PV_EIO)
		return -EIO;
	nf->st.tx_frames++;
	nf->st.tx_bytes += len;
	return 0;
}

int netfront_poll(struct netfront *nf, netfront_rx_fn rx, void *arg, int budget)
{
	uint32_t prod;
	int n = 0;

	pv_events_clear(netfront_event_mask(nf));  /* before looking: no lost wake-up */
	tx_reap(nf);
	prod = nf->rx->idx.rsp_prod;
	pv_rmb();
	if (prod - nf->rx_cons > PV_NET_RING_SIZE)
		return 0;
	for (; nf->rx_cons != prod && n < budget; nf->rx_cons++, n++) {
		const struct pv_net_desc *d = &nf->rx->slot[nf->rx_cons & MASK];
		uint16_t id = d->id;

		if (id >= RX_BUFS)
			continue;                  /* not ours: never repost */
		if (d->status == PV_NET_OK && d->len <= BUF_SIZE) {
			nf->st.rx_frames++;
			nf->st.rx_bytes += d->len;
			rx(arg, rx_buf(nf, id), d->len);
		}
		rx_post(nf, id);
	}
	if (n)
		rx_publish(nf);
	return n;
}

void netfront_stats(const struct netfront *nf, struct netfront_stats *out)
{
	*out = nf->st;
}
