/* The virtual switch: an L2 learning switch between guest ports and the
 * uplink.  Pure logic over byte buffers (time is passed in), so the unit
 * tests drive it directly.
 *
 * - A guest port has one MAC, from the manifest: a frame it sends with any
 *   other source MAC is dropped and counted (anti-spoofing).  Guest MACs are
 *   static table entries and never age.
 * - Above L2, a guest port's IP guard (hv/ipguard.h, set by its owner after
 *   vswitch_port_add; off until then) drops and counts ARP and IPv4 frames
 *   with a sender address that is not the port's.  DHCP ACKs and NAKs
 *   coming in from the uplink bind leases to the port of their client MAC.
 * - MACs seen on the uplink are learned with a time stamp and forgotten
 *   after the aging time; a learned entry never overrides a guest's MAC,
 *   and learned entries never fill more than VSWITCH_LEARN_MAX slots.
 * - Broadcast, multicast and unknown unicast are flooded to every port but
 *   the one they came in on; known unicast goes to its port only.
 * - Storm control: what a port may flood is limited by a token bucket
 *   (VSWITCH_FLOOD_RATE frames/s, bursts of VSWITCH_FLOOD_BURST); beyond
 *   that its floods are dropped and counted, so a broadcasting guest
 *   cannot fill every other guest's receive ring.  Known unicast is never
 *   limited.
 */
#ifndef HV_VSWITCH_H
#define HV_VSWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <hv/ipguard.h>

#define VSWITCH_TABLE_SIZE 1024   /* MAC table slots (power of two) */
/* Learned (uplink) MACs take at most this many slots; the rest are kept
 * for guest ports, so learning can never starve them. */
#define VSWITCH_LEARN_MAX  (VSWITCH_TABLE_SIZE / 2)
#define VSWITCH_NAME_MAX   40
#define VSWITCH_FLOOD_RATE  2000  /* flooded frames per second per port */
#define VSWITCH_FLOOD_BURST 256

struct vswitch_port;
/* Hand a frame to the port's owner; a negative result counts a drop. */
typedef int (*vswitch_deliver_fn)(void *ctx, const void *frame, size_t len);

struct vswitch_counters {
	uint64_t rx_frames, rx_bytes;   /* received from the port's owner */
	uint64_t tx_frames, tx_bytes;   /* delivered to the port's owner */
	uint64_t drop_spoof;            /* sent with a source MAC not its own */
	uint64_t drop_ip_spoof;         /* ARP/IP sender not its own (IP guard) */
	uint64_t drop_tx;               /* owner refused delivery (no buffer, full) */
	uint64_t drop_invalid;          /* runt or oversized frames */
	uint64_t drop_storm;            /* floods over the port's rate (storm control) */
};

struct vswitch_port {
	bool used, is_uplink;
	uint8_t mac[6];
	char name[VSWITCH_NAME_MAX];
	uint32_t owner;                 /* owning domain's id, 0: the uplink (set by the owner) */
	vswitch_deliver_fn deliver;
	void *ctx;
	struct vswitch_counters c;
	struct ipguard guard;           /* which ARP/IPv4 senders it may use */
	uint64_t flood_tokens, flood_refill;   /* storm control bucket; refill time */
	struct vswitch_port *next;      /* all ports in port order: the order they joined */
};

enum vswitch_verdict {
	VSWITCH_FORWARDED = 0,
	VSWITCH_SPOOFED = -1,
	VSWITCH_INVALID = -2,
};

/* age_ticks: how long (in the caller's time unit, ms) a learned MAC lives. */
void vswitch_init(uint64_t age_ticks);
/* mac NULL: the uplink.  Returns 0 and fills *p; -EEXIST if the MAC is
 * already a guest's, -ENOSPC if the table is full. */
int vswitch_port_add(struct vswitch_port *p, const char *name, const uint8_t *mac,
		     vswitch_deliver_fn deliver, void *ctx);
void vswitch_port_remove(struct vswitch_port *p);
/* A frame entering the switch from port `in` at time now. */
enum vswitch_verdict vswitch_input(struct vswitch_port *in, const void *frame, size_t len,
				   uint64_t now);
/* Forget learned MACs older than the aging time; returns how many. */
unsigned vswitch_age(uint64_t now);
/* Port a MAC maps to now (NULL: unknown); for tests and the report. */
struct vswitch_port *vswitch_lookup(const uint8_t mac[6], uint64_t now);
/* The first port (then ->next), in port order: the order they were added,
 * so the uplink, added at start-up, is port 0. */
struct vswitch_port *vswitch_ports(void);
unsigned vswitch_learned(void);

#endif
