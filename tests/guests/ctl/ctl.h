/* The ctl test guest's shared helpers (main.c) and modes (images.c). */
#ifndef CTL_H
#define CTL_H

#include <stdint.h>
#include <paravane.h>

extern const char hello_image[], hello_image_end[];
extern const char spin_image[], spin_image_end[];

void hdr(struct pv_domctl_hdr *h, uint16_t op, uint32_t size, uint32_t domid);
long simple(uint16_t op, uint32_t id);
void nap_ms(long ms);
void destroy(uint32_t id, const char *label);
int console_shows(uint32_t id, const char *text, long ms);

/* ctl images: the named image store, CREATE by hash, GET_CONFIG. */
void images(void);
/* ctl store N: the store's limits, then N add/create/destroy/remove cycles. */
void store_cycles(long n);
/* ctl timing N KIB: CREATE and DESTROY timed by the caller (timing.c). */
void timing(long n, long kib);

#endif
