/* What ctlstat's files share: building domctl requests and waiting. */
#ifndef CTLSTAT_H
#define CTLSTAT_H

#include <stdint.h>
#include <paravane.h>

/* An address no guest owns, and one the caller may read but not write. */
#define KERNEL_ADDR 0xffff800000000000ul
#define READ_ONLY_ADDR ((uintptr_t)&domctl_hdr)

void domctl_hdr(struct pv_domctl_hdr *h, uint16_t op, uint32_t size, uint32_t domid);
long domctl_simple(uint16_t op, uint32_t domid);
void nap_ms(long ms);

int run_cpus(void);                          /* cpus.c */
int run_ports(const char *peer_mac, long n); /* ports.c */
int run_restart(void);                       /* restart.c */

#endif
