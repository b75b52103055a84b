/* Frames for a stopped domain (a save or snapshot holding it, a restore
 * or clone not yet started): kept, in order, instead of dropped, so the
 * domain gets them when it runs again.  Without this, every frame that
 * arrives while a domain stands still is lost and its sender waits out a
 * TCP retransmission timeout (a second in some stacks) for a stop of a
 * few milliseconds.  One small pool for the whole switch, net_lock held.
 * A domain that moved to another host drops them with its backend: sent
 * on from here, they would teach the segment's switches that their
 * senders live behind this host (docs/migration.md). */
#include <public/io/net.h>
#include <hv/lib.h>
#include <hv/netback.h>

#define PARK_FRAMES  64u      /* the whole switch */
#define PARK_PER_DEV 32u      /* one device: a flood at one leaves room for others */

struct parked {
	const struct netback *nb;
	uint32_t len;
	uint8_t data[PV_NET_MAX_FRAME];
};

static struct parked pool[PARK_FRAMES];
static uint32_t parked;       /* pool[0..parked) in arrival order */

static uint32_t count_of(const struct netback *nb)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < parked; i++)
		n += pool[i].nb == nb;
	return n;
}

bool netback_park(const struct netback *nb, const void *frame, size_t len)
{
	if (parked == PARK_FRAMES || len > PV_NET_MAX_FRAME || count_of(nb) == PARK_PER_DEV)
		return false;
	pool[parked].nb = nb;
	pool[parked].len = (uint32_t)len;
	memcpy(pool[parked].data, frame, len);
	parked++;
	return true;
}

/* nb's frames, oldest first, to out (NULL: dropped); the rest keep
 * their order. */
uint32_t netback_unpark(const struct netback *nb, int (*out)(void *ctx, const void *frame, size_t len),
			void *ctx)
{
	uint32_t kept = 0, sent = 0;

	for (uint32_t i = 0; i < parked; i++) {
		if (pool[i].nb != nb) {
			if (kept != i)
				pool[kept] = pool[i];
			kept++;
			continue;
		}
		sent += out && out(ctx, pool[i].data, pool[i].len) == 0;
	}
	parked = kept;
	return sent;
}
