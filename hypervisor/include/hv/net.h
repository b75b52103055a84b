/* Networking inside the hypervisor: the virtual switch (io/vswitch.c),
 * the per-domain backends (io/netback.c) and the uplink NIC
 * (drivers/virtio_net.c).  Frames are plain byte buffers of at most
 * PV_NET_MAX_FRAME bytes; every hop copies, so no buffer is shared. */
#ifndef HV_NET_H
#define HV_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- uplink NIC (drivers/virtio_net.c) ----------------------------------- */
/* Find and start the first virtio-net device.  0 when found and running
 * (its MAC in mac), -ENODEV when there is none. */
int uplink_init(uint8_t mac[6]);
/* Send one frame; -EAGAIN when the device queue is full (frame dropped). */
int uplink_transmit(const void *frame, size_t len);
/* Drain received frames into vswitch_from_uplink().  Called from the
 * device's interrupt and, as a safety net, from every timer tick. */
void uplink_poll(void);
void uplink_report(void);   /* counters to the log */

/* ---- virtual switch (io/vswitch.c) --------------------------------------- */
#define VSWITCH_UPLINK 0u   /* port 0 is the uplink */
void vswitch_from_uplink(const void *frame, size_t len);

#endif
