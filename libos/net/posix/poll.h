/* <poll.h> for PV_NET apps: lwIP's poll(), struct pollfd and POLL* (newlib
 * has none).  Socket descriptors only. */
#ifndef PV_POSIX_POLL_H
#define PV_POSIX_POLL_H
#include "lwip/sockets.h"
#endif
