/* Paravane library OS: networking (lwIP on the net frontend).
 *
 * Only for apps built with PV_NET := 1 (sdk/mk/app.mk), which link lwIP
 * and the libos's port of it.  After pv_net_start() the usual BSD socket
 * calls work (<sys/socket.h>, <netinet/in.h>, <arpa/inet.h>, <netdb.h>,
 * <poll.h>, select(), and read/write/close/fcntl on socket descriptors),
 * and so does lwIP's raw API under LOCK_TCPIP_CORE().  docs/net.md is
 * the guide.
 */
#ifndef PV_NET_H
#define PV_NET_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct netif;

/* Start the network: the tcpip thread (and 127.0.0.1), then the first
 * net device of the manifest as lwIP's default interface: its MAC, MTU
 * 1500, and the static address from the manifest or DHCP.  With DHCP it
 * waits up to 10 s for a lease.  Calling it again only waits for the
 * lease again if there is none.  Returns 0, or a negative errno: -ENODEV
 * (no net device; the stack and 127.0.0.1 still work), -ENOMEM,
 * -ENOTSUP (the manifest asks for DHCP but CONFIG_LIBOS_NET_DHCP is off),
 * -ETIMEDOUT (no lease yet; DHCP keeps trying in the background). */
int pv_net_start(void);

/* The same with another DHCP wait (0: do not wait). */
int pv_net_start_timeout(unsigned int dhcp_timeout_ms);

/* "10.0.2.15/24 gw 10.0.2.2 mac 02:00:00:00:00:10" (", dhcp" when leased),
 * or "down".  Returns the length snprintf() would give. */
int pv_net_address(char *buf, size_t n);

/* The interface pv_net_start() added (NULL before), for raw API users:
 * touch it only under LOCK_TCPIP_CORE(). */
struct netif *pv_net_netif(void);

/* A TCP socket listening on port of every address (SO_REUSEADDR), with
 * backlog, non-blocking if asked: its descriptor, or a negative errno. */
int pv_net_listen(int port, int backlog, int nonblocking);

/* Counters of the interface since pv_net_start(). */
struct pv_net_stats {
	unsigned long long rx_frames, rx_bytes, tx_frames, tx_bytes;
	unsigned long long tx_full;	/* times every TX buffer was in flight */
	unsigned long long tx_dropped;	/* frames given up after waiting */
	unsigned long long rx_dropped;	/* no memory, or the tcpip queue full */
	unsigned long long rx_heap;	/* frames that found the pool empty */
};
void pv_net_stats(struct pv_net_stats *out);

#ifdef __cplusplus
}
#endif

#endif
