/* lwIP options for Paravane guests (docs/net.md).
 *
 * lwIP, the libos's port and every PV_NET app are compiled with this file,
 * and the sizes come from Kconfig (libos/Kconfig, "Networking"): sdk/deps/
 * lwip.sh copies the build's CONFIG_LIBOS_NET_* lines into pv_netconfig.h
 * next to the lwIP it builds, so an app always sees the values its lwIP
 * was built with (several change structure layouts).  Its cache key hashes
 * this file: editing it rebuilds lwIP.
 *
 * The shape: an OS build (NO_SYS 0) on the libos's cooperative threads,
 * with the tcpip thread, core locking (socket calls run the stack in the
 * caller's thread under LOCK_TCPIP_CORE instead of messaging), sockets and
 * netconn, IPv4 with TCP, UDP, ICMP, raw, ARP, DHCP and DNS, and loopback.
 */
#ifndef LWIPOPTS_H
#define LWIPOPTS_H

#include <pv_netconfig.h>

/* Defaults for a build without Kconfig values (never the case via make). */
#ifndef CONFIG_LIBOS_NET_MEM_KB
#define CONFIG_LIBOS_NET_MEM_KB 128
#endif
#ifndef CONFIG_LIBOS_NET_TCP_WND_KB
#define CONFIG_LIBOS_NET_TCP_WND_KB 32
#endif
#ifndef CONFIG_LIBOS_NET_PBUF_POOL
#define CONFIG_LIBOS_NET_PBUF_POOL 64
#endif

/* ---- OS integration ------------------------------------------------------ */
#define NO_SYS                          0
#define SYS_LIGHTWEIGHT_PROT            1	/* a no-op: sys_arch.c says why */
#define LWIP_TCPIP_CORE_LOCKING         1
#define LWIP_TCPIP_CORE_LOCKING_INPUT   0	/* RX is queued to the tcpip thread */
#define LWIP_TIMERS                     1
/* lwIP's core (raw API, netif_*, timeouts) called outside the tcpip
 * thread without LOCK_TCPIP_CORE() ends the domain, saying so. */
void libos_net_assert_core_locked(void);
#define LWIP_ASSERT_CORE_LOCKED()       libos_net_assert_core_locked()
#define TCPIP_THREAD_NAME               "tcpip"
#define TCPIP_THREAD_STACKSIZE          (16 * 1024)
#define TCPIP_THREAD_PRIO               1	/* no priorities: round-robin */
#define DEFAULT_THREAD_STACKSIZE        (16 * 1024)
#define TCPIP_MBOX_SIZE                 (MEMP_NUM_TCPIP_MSG_INPKT + 64)
#define DEFAULT_RAW_RECVMBOX_SIZE       16
#define DEFAULT_UDP_RECVMBOX_SIZE       32
#define DEFAULT_TCP_RECVMBOX_SIZE       64
#define DEFAULT_ACCEPTMBOX_SIZE         64

/* ---- memory ---------------------------------------------------------------- */
/* MEM_SIZE: lwIP's own heap (in .bss), for outgoing TCP data (each
 * connection's unsent and unacknowledged bytes, up to TCP_SND_BUF) and
 * PBUF_RAM buffers.  The pbuf pool holds received frames (and the heap
 * the ones that find it empty). */
#define MEM_ALIGNMENT                   8
#define MEM_SIZE                        (CONFIG_LIBOS_NET_MEM_KB * 1024)
#define PBUF_POOL_SIZE                  CONFIG_LIBOS_NET_PBUF_POOL
#define MEMP_NUM_NETCONN                60	/* sockets: fds 3..62, inside newlib's FD_SETSIZE (64) */
#define MEMP_NUM_TCP_PCB                64
#define MEMP_NUM_TCP_PCB_LISTEN         8
#define MEMP_NUM_UDP_PCB                8
#define MEMP_NUM_RAW_PCB                4
#define MEMP_NUM_NETBUF                 32
#define MEMP_NUM_TCP_SEG                (2 * TCP_SND_QUEUELEN)
/* Received frames queued to the tcpip thread: a burst of busy
 * connections, not the pool, is the limit (32 bytes each). */
#define MEMP_NUM_TCPIP_MSG_INPKT        256
#define MEMP_NUM_TCPIP_MSG_API          16
#define MEMP_NUM_ARP_QUEUE              16
#define MEMP_NUM_SYS_TIMEOUT            (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 8)
/* Frames that find the pool empty go into malloc'd custom pbufs
 * (libos/net/netif.c says why). */
#define LWIP_SUPPORT_CUSTOM_PBUF        1

/* ---- protocols --------------------------------------------------------------- */
#define LWIP_IPV4                       1
#define LWIP_IPV6                       0
#define LWIP_ARP                        1
#define LWIP_ETHERNET                   1
#define ARP_TABLE_SIZE                  16
#define ARP_QUEUEING                    1
#define IP_REASSEMBLY                   1
#define IP_FRAG                         1
#define LWIP_ICMP                       1
#define LWIP_RAW                        1
#define LWIP_UDP                        1
#define LWIP_TCP                        1
#define LWIP_IGMP                       0
#define LWIP_AUTOIP                     0
#define LWIP_DNS                        1
#define DNS_MAX_SERVERS                 2
#ifdef CONFIG_LIBOS_NET_DHCP
#define LWIP_DHCP                       1
/* The switch and its DHCP server belong to the host: skip the ARP probe
 * of the offered address, which would add a second to every boot. */
#define DHCP_DOES_ARP_CHECK             0
#else
#define LWIP_DHCP                       0
#endif
#define LWIP_HAVE_LOOPIF                1	/* 127.0.0.1 */
#define LWIP_NETIF_LOOPBACK             1
#define LWIP_NETIF_HOSTNAME             1	/* DHCP sends the domain name */
#define LWIP_NETIF_STATUS_CALLBACK      1

/* TCP: no window scaling, so the window is at most 64 KiB - 1. */
#define TCP_MSS                         1460
#define PV_TCP_BYTES  (CONFIG_LIBOS_NET_TCP_WND_KB * 1024 > 0xffff ? \
		       0xffff : CONFIG_LIBOS_NET_TCP_WND_KB * 1024)
#define TCP_WND                         PV_TCP_BYTES
#define TCP_SND_BUF                     PV_TCP_BYTES
#define TCP_SND_QUEUELEN                ((4 * TCP_SND_BUF + TCP_MSS - 1) / TCP_MSS)
#define TCP_LISTEN_BACKLOG              1
/* A window update as soon as the application has read a segment's worth:
 * a sender under Nagle waits for that ACK before its last short segment,
 * and lwIP would otherwise hold it for its delayed-ACK timer (up to 250
 * ms): every upload of more than a segment paid that once. */
#define TCP_WND_UPDATE_THRESHOLD        TCP_MSS
#define LWIP_TCP_KEEPALIVE              1

#if CONFIG_LIBOS_NET_PBUF_POOL * 1400 < PV_TCP_BYTES
#error "CONFIG_LIBOS_NET_PBUF_POOL is too small for CONFIG_LIBOS_NET_TCP_WND_KB (one pooled frame per 1.4 KB of window)"
#endif

/* ---- APIs ---------------------------------------------------------------------- */
#define LWIP_NETCONN                    1
#define LWIP_SOCKET                     1
/* 2: lwIP's socket functions are compiled under their POSIX names (socket,
 * bind, select, poll, ...), real functions, no macros.  read, write, close
 * and fcntl keep lwip_ names: the libos owns those for the console and
 * hands socket descriptors to lwIP (libos/net/posix.c). */
#define LWIP_COMPAT_SOCKETS             2
#define LWIP_POSIX_SOCKETS_IO_NAMES     0
#define LWIP_SOCKET_OFFSET              3	/* 0-2 are the console */
#define LWIP_SOCKET_SELECT              1
#define LWIP_SOCKET_POLL                1
#define LWIP_SO_RCVTIMEO                1
#define LWIP_SO_SNDTIMEO                1
#define LWIP_SO_RCVBUF                  1
#define SO_REUSE                        1
#define LWIP_TCPIP_TIMEOUT              1	/* tcpip_timeout() for raw API apps */

/* ---- statistics and debugging --------------------------------------------------------- */
/* LWIP_ASSERT stays on (a failed one prints and ends the domain).  For
 * lwIP's debug messages, add #define LWIP_DEBUG 1 and e.g.
 * #define TCP_DEBUG LWIP_DBG_ON here (it is in lwIP's cache key). */
#define LWIP_STATS                      0

#endif
