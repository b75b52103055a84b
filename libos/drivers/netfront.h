/* Net frontend: the guest side of public/io/net.h.  Frames are copied in
 * and out of buffers the frontend owns; callers never see ring memory.
 * Single-threaded by design (cooperative threads never preempt each
 * other), so no locking. */
#ifndef LIBOS_NETFRONT_H
#define LIBOS_NETFRONT_H

#include <stddef.h>
#include <stdint.h>
#include <public/start_info.h>

struct netfront;

/* Open the index-th net device of start_info (0 = first).  Allocates the
 * buffers and posts the RX ring.  Returns NULL (errno set) if there is no
 * such device or no memory. */
struct netfront *netfront_open(unsigned index);

/* The device's start_info entry: MAC, static address or DHCP, port. */
const struct pv_device *netfront_device(const struct netfront *nf);

/* Event bit(s) to pass to pv_block() to wake when frames arrive. */
uint64_t netfront_event_mask(const struct netfront *nf);

/* Queue one frame (14..PV_NET_MAX_FRAME bytes, copied) for transmission
 * and notify the backend when it asked to be told.  0, -EAGAIN when every
 * TX buffer is in flight, -EINVAL for a bad length, -EIO when the
 * hypervisor disconnected the device. */
int netfront_send(struct netfront *nf, const void *frame, size_t len);

/* Deliver up to budget received frames to rx(arg, frame, len), reposting
 * each buffer afterwards (the frame is only valid during the call), and
 * reap TX completions.  Returns the number of frames delivered. */
typedef void (*netfront_rx_fn)(void *arg, const void *frame, size_t len);
int netfront_poll(struct netfront *nf, netfront_rx_fn rx, void *arg, int budget);

/* Counters kept by the frontend. */
struct netfront_stats {
	uint64_t tx_frames, tx_bytes, tx_full, tx_errors;
	uint64_t rx_frames, rx_bytes;
};
void netfront_stats(const struct netfront *nf, struct netfront_stats *out);

#endif
