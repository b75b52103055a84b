/* Consoles of ended domains, kept a while (core/console_keep.c): a guest
 * that prints and exits at once (hello) still has its output read by id
 * through domctl CONSOLE_READ after it is gone.  The newest
 * CONSOLE_KEEP_MAX are kept, in static memory, so keeping them takes no
 * frames (memory-check counts every frame back). */
#ifndef HV_CONSOLE_KEEP_H
#define HV_CONSOLE_KEEP_H

#include <stdbool.h>
#include <stdint.h>
#include <hv/text_ring.h>

#define CONSOLE_KEEP_MAX 64

struct domain;

/* d is being destroyed: keep a copy of its console ring. */
void console_keep(const struct domain *d);

/* Call fn on the kept ring of domain id, under the keeper's lock; false
 * if none is kept. */
bool console_kept(uint32_t id, void (*fn)(const struct text_ring *ring, void *ctx), void *ctx);

#endif
