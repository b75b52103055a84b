/* The lwIP interface on the net frontend, and pv_net_start().
 *
 * Receive: a poll hook (pv_thread.h) runs netfront_poll() whenever the
 * threads have nothing to do (and every millisecond while they are busy);
 * each frame is copied into a pbuf and queued to the tcpip thread with
 * tcpip_input().  The hook's event mask lets the scheduler block the
 * domain in the hypervisor until a frame or a TX completion arrives.
 *
 * Transmit: lwIP calls linkoutput with the core lock held, from the tcpip
 * thread or from a thread in a socket call.  netfront_send() copies the
 * frame; when every TX buffer is in flight, we wait for the backend's
 * completion event a few times, then drop the frame (TCP sends again).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <paravane.h>
#include <pv_net.h>
#include <pv_thread.h>
#include <public/io/net.h>

#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcpip.h"
#include "netif/ethernet.h"

#include "netfront.h"

#define RX_BUDGET        PV_NET_RING_SIZE	/* drain it: a full ring drops frames */
#define TX_TRIES         8
#define TX_WAIT_NS       1000000ull	/* per try: the backend is quick */
#define DHCP_WAIT_MS     10000u
#define NS_PER_MS        1000000ull

static struct netfront *nf;
static struct netif pv_netif;
static int stack_up, netif_added;
static struct pv_waitq start_waiters = PV_WAITQ_INIT(start_waiters);
static struct pv_waitq tx_waiters = PV_WAITQ_INIT(tx_waiters);
static struct pv_waitq addr_waiters = PV_WAITQ_INIT(addr_waiters);
static unsigned long long rx_dropped, tx_dropped, rx_heap;
static uint32_t net_generation;		/* the identity the interface has */

/* ---- receive ------------------------------------------------------------- */

/* Received data waits in its socket until the app reads it: up to a TCP
 * window per connection, which together can hold every pool pbuf.  Then
 * no frame gets in, not even the ACKs that would let the threads blocked
 * in send() go on and read: a deadlock with a few busy connections.  So
 * when the pool is empty, a frame goes into a malloc'd pbuf instead;
 * windows and mailbox sizes bound how much of the heap that can take. */
struct heap_pbuf {
	struct pbuf_custom pc;		/* first: lwIP frees &pc.pbuf */
	uint8_t frame[];
};

static void heap_pbuf_free(struct pbuf *p)
{
	free(p);
}

static struct pbuf *rx_pbuf(size_t len)
{
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
	struct heap_pbuf *h;

	if (p)
		return p;
	h = malloc(sizeof(*h) + len);
	if (!h)
		return NULL;
	rx_heap++;
	h->pc.custom_free_function = heap_pbuf_free;
	/* PBUF_RAM: the data follows the struct, headers can be pushed back */
	return pbuf_alloced_custom(PBUF_RAW, (u16_t)len, PBUF_RAM, &h->pc,
				   h->frame, (u16_t)len);
}

static void rx_frame(void *arg, const void *frame, size_t len)
{
	struct netif *netif = arg;
	struct pbuf *p = rx_pbuf(len);

	if (!p) {
		rx_dropped++;
		return;
	}
	pbuf_take(p, frame, (u16_t)len);
	if (netif->input(p, netif) != ERR_OK) {	/* tcpip mbox full */
		pbuf_free(p);
		rx_dropped++;
	}
}

static void static_config(const struct pv_device *dev, ip4_addr_t *ip,
			  ip4_addr_t *mask, ip4_addr_t *gw);

/* In the tcpip thread: this domain became a clone (pv_generation()), and
 * start_info gives it another MAC and address.  The interface takes them,
 * forgets its ARP entries, and announces where its address now is.  A
 * DHCP clone asks for a lease of its own (its snapshot's is not released:
 * the original may still hold it). */
static void reidentify(void *arg)
{
	const struct pv_device *dev = netfront_device(nf);
	ip4_addr_t ip = { 0 }, mask = { 0 }, gw = { 0 };

	(void)arg;
	memcpy(pv_netif.hwaddr, dev->mac, ETH_HWADDR_LEN);
	etharp_cleanup_netif(&pv_netif);
	if (!dev->dhcp)
		static_config(dev, &ip, &mask, &gw);
#if LWIP_DHCP
	else
		dhcp_stop(&pv_netif);
#endif
	netif_set_addr(&pv_netif, &ip, &mask, &gw);
#if LWIP_DHCP
	if (dev->dhcp)
		dhcp_start(&pv_netif);
#endif
	if (!dev->dhcp)
		etharp_gratuitous(&pv_netif);
}

/* netfront_poll() clears our event bit before it looks at the rings. */
static int net_poll(void *arg)
{
	uint32_t gen = pv_generation();
	int n;

	if (gen != net_generation && tcpip_try_callback(reidentify, NULL) == ERR_OK)
		net_generation = gen;
	n = netfront_poll(nf, rx_frame, &pv_netif, RX_BUDGET);

	pv_waitq_wake_all(&tx_waiters);		/* TX buffers may be back */
	return n;
}

/* ---- transmit ------------------------------------------------------------- */

static err_t linkoutput(struct netif *netif, struct pbuf *p)
{
	static uint8_t flat[PV_NET_MAX_FRAME];	/* only under the core lock */
	const void *frame = p->payload;
	int r;

	if (p->tot_len > sizeof(flat))
		return ERR_BUF;
	if (p->len != p->tot_len) {
		pbuf_copy_partial(p, flat, p->tot_len, 0);
		frame = flat;
	}
	for (int i = 0;; i++) {
		r = netfront_send(nf, frame, p->tot_len);
		if (r != -EAGAIN || i == TX_TRIES)
			break;
		pv_waitq_wait(&tx_waiters, pv_monotonic_ns() + TX_WAIT_NS);
	}
	if (r == 0)
		return ERR_OK;
	tx_dropped++;
	return r == -EAGAIN ? ERR_MEM : ERR_IF;
}

/* ---- the interface ----------------------------------------------------------- */

static err_t netif_setup(struct netif *netif)
{
	const struct pv_device *dev = netfront_device(nf);

	netif->name[0] = 'p';
	netif->name[1] = 'v';
	netif->output = etharp_output;
	netif->linkoutput = linkoutput;
	netif->mtu = PV_NET_MTU;
	netif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(netif->hwaddr, dev->mac, ETH_HWADDR_LEN);
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP |
		       NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
	netif_set_hostname(netif, pv_domain_name());
	return ERR_OK;
}

/* In the tcpip thread: an address came or went (DHCP). */
static void status_changed(struct netif *netif)
{
	pv_waitq_wake_all(&addr_waiters);
}

/* The ABI gives addresses in host byte order. */
static void static_config(const struct pv_device *dev, ip4_addr_t *ip,
			  ip4_addr_t *mask, ip4_addr_t *gw)
{
	uint32_t m = dev->prefix_len ? ~0u << (32 - dev->prefix_len) : 0;

	ip4_addr_set_u32(ip, lwip_htonl(dev->ipv4));
	ip4_addr_set_u32(mask, lwip_htonl(m));
	ip4_addr_set_u32(gw, lwip_htonl(dev->gateway));
}

static int add_netif(void)
{
	const struct pv_device *dev = netfront_device(nf);
	ip4_addr_t ip = { 0 }, mask = { 0 }, gw = { 0 };	/* DHCP: none yet */
	int err = 0;

	if (dev->dhcp && !LWIP_DHCP)
		return -ENOTSUP;
	if (!dev->dhcp)
		static_config(dev, &ip, &mask, &gw);

	net_generation = pv_generation();
	LOCK_TCPIP_CORE();
	if (!netif_add(&pv_netif, &ip, &mask, &gw, NULL, netif_setup,
		       tcpip_input)) {
		err = -ENOMEM;
	} else {
		netif_added = 1;	/* never twice, whatever fails next */
		netif_set_status_callback(&pv_netif, status_changed);
		netif_set_default(&pv_netif);
		netif_set_up(&pv_netif);
#if LWIP_DHCP
		if (dev->dhcp && dhcp_start(&pv_netif) != ERR_OK)
			err = -ENOMEM;
#endif
	}
	UNLOCK_TCPIP_CORE();
	return err;
}

/* ---- starting ------------------------------------------------------------------ */

static void tcpip_ready(void *arg)
{
	*(int *)arg = 1;
	pv_waitq_wake_all(&start_waiters);
}

static void start_stack(void)
{
	static int ready;

	if (stack_up)
		return;
	tcpip_init(tcpip_ready, &ready);
	while (!ready)
		pv_waitq_wait(&start_waiters, PV_THREAD_FOREVER);
	stack_up = 1;
}

static int have_address(void)
{
	return !ip4_addr_isany_val(*netif_ip4_addr(&pv_netif));
}

static int wait_for_lease(unsigned int timeout_ms)
{
	uint64_t deadline = pv_monotonic_ns() + timeout_ms * NS_PER_MS;

	while (!have_address()) {
		if (pv_waitq_wait(&addr_waiters, deadline) == -ETIMEDOUT &&
		    !have_address())
			return -ETIMEDOUT;
	}
	return 0;
}

/* The hook only once the netif exists: it feeds frames to its input. */
static int open_device(void)
{
	int err;

	if (!nf)		/* once: it posts the RX ring */
		nf = netfront_open(0);
	if (!nf)
		return errno == ENOMEM ? -ENOMEM : -ENODEV;
	err = add_netif();
	if (netif_added)
		pv_thread_poll_register(net_poll, NULL,
					netfront_event_mask(nf));
	return err;
}

/* Two threads may start the network at once: the second waits for the
 * first, which may block (tcpip_init, the core lock). */
static int bring_up(void)
{
	static int busy;
	int err = 0;

	while (busy)
		pv_waitq_wait(&start_waiters, PV_THREAD_FOREVER);
	busy = 1;
	start_stack();
	if (!netif_added)
		err = open_device();
	busy = 0;
	pv_waitq_wake_all(&start_waiters);
	return err;
}

int pv_net_start_timeout(unsigned int dhcp_timeout_ms)
{
	int err = bring_up();

	if (err)
		return err;
	if (!netfront_device(nf)->dhcp || have_address())
		return 0;
	return dhcp_timeout_ms ? wait_for_lease(dhcp_timeout_ms) : -ETIMEDOUT;
}

int pv_net_start(void)
{
	return pv_net_start_timeout(DHCP_WAIT_MS);
}

struct netif *pv_net_netif(void)
{
	return netif_added ? &pv_netif : NULL;
}

void pv_net_stats(struct pv_net_stats *out)
{
	struct netfront_stats st = { 0 };

	if (nf)
		netfront_stats(nf, &st);
	out->rx_frames = st.rx_frames;
	out->rx_bytes = st.rx_bytes;
	out->tx_frames = st.tx_frames;
	out->tx_bytes = st.tx_bytes;
	out->tx_full = st.tx_full;
	out->tx_dropped = tx_dropped;
	out->rx_dropped = rx_dropped;
	out->rx_heap = rx_heap;
}

static int prefix_len(const ip4_addr_t *mask)
{
	return __builtin_popcount(ip4_addr_get_u32(mask));
}

int pv_net_address(char *buf, size_t n)
{
	char ip[IP4ADDR_STRLEN_MAX], gw[IP4ADDR_STRLEN_MAX];
	const uint8_t *m = pv_netif.hwaddr;

	if (!netif_added || !have_address())
		return snprintf(buf, n, "down");
	ip4addr_ntoa_r(netif_ip4_addr(&pv_netif), ip, sizeof(ip));
	ip4addr_ntoa_r(netif_ip4_gw(&pv_netif), gw, sizeof(gw));
	return snprintf(buf, n, "%s/%d gw %s mac %02x:%02x:%02x:%02x:%02x:%02x%s",
			ip, prefix_len(netif_ip4_netmask(&pv_netif)), gw,
			m[0], m[1], m[2], m[3], m[4], m[5],
			netfront_device(nf)->dhcp ? ", dhcp" : "");
}
