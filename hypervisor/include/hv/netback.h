/* Net backends: one per guest net device, the hypervisor side of
 * public/io/net.h, plugged into the virtual switch. */
#ifndef HV_NETBACK_H
#define HV_NETBACK_H

#include <stdbool.h>
#include <stdint.h>
#include <public/io/net.h>
#include <hv/lock.h>
#include <hv/vswitch.h>

struct domain;
struct manifest_net;

struct netback {
	struct domain *d;
	uint32_t index;           /* device index within the domain */
	uint32_t port;            /* event port */
	uint64_t tx_gva, rx_gva;  /* the two rings */
	uint32_t tx_cons;         /* TX requests consumed = responses produced */
	uint32_t rx_cons;         /* RX buffers used = responses produced */
	bool attached, disconnected;
	bool quiesced;            /* a save runs: frames for it are dropped, its pages stay still */
	uint64_t rx_no_buffer;    /* frames dropped: no RX buffer posted */
	struct vswitch_port sw;
};

/* Ring pages a net device needs in guest memory. */
#define NETBACK_RING_PAGES (2 * PV_NET_RING_PAGES)

void net_init(void);
int netback_attach(struct netback *nb, struct domain *d, uint32_t index,
		   const struct manifest_net *cfg, uint64_t ring_gva, char *err, size_t n);
void netback_detach(struct netback *nb);
/* The guest notified nb's port: process its TX ring. */
int netback_kick(struct netback *nb);   /* -EIO once disconnected */
/* Save and restore (io/netback_save.c), net_lock held: stop or restart
 * delivering to the guest; its state as a save record; a restored
 * domain's backend (attached, not yet started) takes the record's. */
struct pv_save_device;
void netback_quiesce(struct netback *nb, bool on);
/* Frames for a quiesced backend (io/netback_park.c), net_lock held: kept
 * (false: no room, dropped); handed, oldest first, to out (NULL: dropped),
 * returning how many out took.  netback_rx is the ring delivery. */
bool netback_park(const struct netback *nb, const void *frame, size_t len);
uint32_t netback_unpark(const struct netback *nb, int (*out)(void *ctx, const void *frame, size_t len),
			void *ctx);
int netback_rx(void *ctx, const void *frame, size_t len);
void netback_save(const struct netback *nb, struct pv_save_device *out);
int netback_restore(struct netback *nb, const struct pv_save_device *in, char *err, size_t n);
/* The switch tells the segment (the uplink too) where the device's
 * address now is, by a gratuitous ARP from its port: a restored or
 * migrated domain, before it runs. */
void netback_announce(struct netback *nb);
/* A clone's backend: the snapshot's ring positions, and the next RX
 * buffers the guest had posted made the clone's own now (while it runs
 * nowhere), so the first frames can be written while it runs
 * (core/clone.c). */
void netback_clone(struct netback *nb, const struct pv_save_device *in);
/* Per-port counters to the log (also as @event lines). */
void net_report(void);
void net_report_port(const struct vswitch_port *p);
/* fn(p, ctx) for each switch port in port order, under net_lock (ports
 * neither come nor go meanwhile; fn must not take a lock ranked at or
 * below it) until fn returns false.  Returns how many times it returned
 * true. */
uint32_t net_ports_walk(bool (*fn)(const struct vswitch_port *p, void *ctx), void *ctx);
/* The lock of the whole network subsystem (io/net.c), and its clock. */
extern struct spinlock net_lock;
uint64_t net_now_ms(void);

#endif
