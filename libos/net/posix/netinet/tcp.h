/* <netinet/tcp.h> for PV_NET apps: TCP_NODELAY, TCP_KEEPIDLE & co. */
#ifndef PV_POSIX_NETINET_TCP_H
#define PV_POSIX_NETINET_TCP_H
#include "lwip/sockets.h"
#endif
