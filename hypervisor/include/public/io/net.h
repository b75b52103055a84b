/* Paravane guest ABI: the network device protocol (split driver).
 *
 * Each net device in start_info.device[] (type PV_DEV_NET) has two rings in
 * guest memory, laid out from ring_gva:
 *
 *   ring_gva + 0                  TX ring: struct pv_ring_indices, then
 *                                 PV_NET_RING_SIZE struct pv_net_desc
 *   ring_gva + PV_NET_RING_PAGES * PV_PAGE_SIZE   RX ring: the same
 *
 * (ring_pages = 2 * PV_NET_RING_PAGES).  The hypervisor zeroes them at
 * creation.  Frame buffers are the frontend's own memory, anywhere in the
 * domain (normally its heap); descriptors carry their guest addresses.
 *
 * TX: the frontend writes a descriptor {addr, len, id} in slot
 * req_prod & (size - 1), publishes req_prod (pv_ring.h rules) and notifies
 * event_port if pv_ring_need_notify(old, new, req_event).  The backend
 * copies the frame out and writes the response {id, status} into the SAME
 * slot index, then advances rsp_prod.  The buffer may be reused once its
 * response is seen.
 *
 * RX: the frontend posts empty buffers as requests {addr, len = buffer
 * size, id}.  For each frame the backend takes the oldest posted buffer,
 * copies the frame in, and writes the response {id, len = frame length,
 * status} into the same slot index.  With no buffer posted, the frame is
 * dropped and counted.
 *
 * The backend sets event_port's pending bit (shared_info.events_pending)
 * whenever it produces responses on either ring.
 *
 * What the backend checks, on every descriptor: the ring's prod - cons <=
 * PV_NET_RING_SIZE; addr + len inside the domain's memory without overflow,
 * backed, and writable for RX; 14 <= len <= PV_NET_MAX_FRAME for TX and
 * len >= PV_NET_MAX_FRAME for RX buffers; the source MAC of a TX frame is
 * the device's (else the frame is dropped and counted as spoofed, the
 * response says PV_NET_ERR_SPOOF).  A malformed ring or descriptor
 * disconnects the device (PV_NET_ERR_DISCONNECTED from then on, the
 * hypervisor logs why); the domain and everything else go on.
 */
#ifndef PARAVANE_PUBLIC_IO_NET_H
#define PARAVANE_PUBLIC_IO_NET_H

#include "../abi.h"
#include "../ring.h"

#define PV_NET_RING_SIZE   256u                  /* slots per ring */
#define PV_NET_RING_BYTES  (128u + PV_NET_RING_SIZE * 16u)
#define PV_NET_RING_PAGES  ((PV_NET_RING_BYTES + PV_PAGE_SIZE - 1) / PV_PAGE_SIZE)
#define PV_NET_MTU         1500u
#define PV_NET_MAX_FRAME   1514u                 /* Ethernet header + MTU, no FCS */
#define PV_NET_MIN_FRAME   14u

struct pv_net_desc {
	uint64_t addr;     /* IN: guest address of the buffer */
	uint32_t len;      /* IN: TX frame length / RX buffer size; OUT (RX): frame length */
	uint16_t id;       /* IN: the frontend's tag, echoed in the response */
	int16_t  status;   /* OUT: PV_NET_OK or a negative PV_NET_ERR_* */
};
PV_ASSERT_SIZE(struct pv_net_desc, 16);

#define PV_NET_OK                0
#define PV_NET_ERR_SPOOF       (-1)   /* TX source MAC is not the device's */
#define PV_NET_ERR_INVALID     (-2)   /* bad length */
#define PV_NET_ERR_DISCONNECTED (-3)

struct pv_net_ring {
	struct pv_ring_indices idx;
	struct pv_net_desc slot[PV_NET_RING_SIZE];
};
PV_ASSERT_SIZE(struct pv_net_ring, PV_NET_RING_BYTES);

#endif
