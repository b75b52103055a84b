/* <netinet/in.h> for PV_NET apps: sockaddr_in, IPPROTO_*, INADDR_*,
 * htons() & co. come from lwIP. */
#ifndef PV_POSIX_NETINET_IN_H
#define PV_POSIX_NETINET_IN_H
#include "lwip/sockets.h"
#endif
