/* What nettool's files share (main.c: the device and sending; forge.c:
 * the ARP and IPv4 forgeries). */
#ifndef NETTOOL_H
#define NETTOOL_H

#include <stddef.h>
#include <stdint.h>
#include "netfront.h"

extern struct netfront *nf;
extern const uint8_t *my_mac;

uint64_t now_ms(void);
int send_buf(const void *buf, size_t len);   /* 0, or the send error */

int arpspoof(const char *victim);
int ipspoof(const char *victim);
int listen_l3(long seconds, const char *sender);

#endif
