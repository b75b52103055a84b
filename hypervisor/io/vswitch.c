/* Virtual switch (see hv/vswitch.h).  The MAC table is open addressing with
 * linear probing and tombstones; lookups are O(1) on average and the table
 * never grows.  Learned MACs may hold at most VSWITCH_LEARN_MAX slots: the
 * rest is the guests' (an uplink flooding source MACs cannot keep a guest
 * port out); beyond that, new MACs are simply not learned and their frames
 * flood, which is still correct. */
#include <hv/errno.h>
#include <hv/lib.h>
#include <hv/vswitch.h>

enum slot_state { EMPTY = 0, STATIC, LEARNED, TOMB };

struct mac_entry {
	uint8_t mac[6];
	uint8_t state;
	struct vswitch_port *port;
	uint64_t seen;
};

static struct mac_entry table[VSWITCH_TABLE_SIZE];
static struct vswitch_port *ports;
static uint64_t age_limit;
static unsigned learned;

#define PV_NET_MIN 14u
#define PV_NET_MAX 1514u

static unsigned hash(const uint8_t *m)
{
	uint32_t h = 2166136261u;   /* FNV-1a */

	for (int i = 0; i < 6; i++)
		h = (h ^ m[i]) * 16777619u;
	return h & (VSWITCH_TABLE_SIZE - 1);
}

static bool expired(const struct mac_entry *e, uint64_t now)
{
	return e->state == LEARNED && now - e->seen > age_limit;
}

/* The live entry for mac, or NULL; *free_slot gets the first reusable slot. */
static struct mac_entry *find(const uint8_t *mac, struct mac_entry **free_slot)
{
	unsigned i = hash(mac);

	if (free_slot)
		*free_slot = NULL;
	for (unsigned n = 0; n < VSWITCH_TABLE_SIZE; n++, i = (i + 1) & (VSWITCH_TABLE_SIZE - 1)) {
		struct mac_entry *e = &table[i];

		if (e->state == EMPTY) {
			if (free_slot && !*free_slot)
				*free_slot = e;
			return NULL;
		}
		if (e->state == TOMB) {
			if (free_slot && !*free_slot)
				*free_slot = e;
			continue;
		}
		if (!memcmp(e->mac, mac, 6))
			return e;
	}
	return NULL;
}

static void forget(struct mac_entry *e)
{
	if (e->state == LEARNED)
		learned--;
	e->state = TOMB;
	e->port = NULL;
}

void vswitch_init(uint64_t age_ticks)
{
	memset(table, 0, sizeof(table));
	ports = NULL;
	learned = 0;
	age_limit = age_ticks;
}

int vswitch_port_add(struct vswitch_port *p, const char *name, const uint8_t *mac,
		     vswitch_deliver_fn deliver, void *ctx)
{
	struct mac_entry *e = NULL, *slot;
	struct vswitch_port **tail = &ports;

	memset(p, 0, sizeof(*p));
	if (mac) {
		e = find(mac, &slot);
		if (e && e->state == STATIC)
			return -EEXIST;
		if (e)
			forget(e);          /* a learned entry yields to the guest */
		e = e ? e : slot;
		if (!e)
			return -ENOSPC;
		memcpy(e->mac, mac, 6);
		e->state = STATIC;
		e->port = p;
		memcpy(p->mac, mac, 6);
	}
	p->used = true;
	p->is_uplink = !mac;
	p->flood_tokens = VSWITCH_FLOOD_BURST;
	strlcpy(p->name, name, sizeof(p->name));
	p->deliver = deliver;
	p->ctx = ctx;
	while (*tail)
		tail = &(*tail)->next;     /* appended: port order is join order */
	*tail = p;
	return 0;
}

void vswitch_port_remove(struct vswitch_port *p)
{
	struct vswitch_port **pp = &ports;

	for (unsigned i = 0; i < VSWITCH_TABLE_SIZE; i++)
		if ((table[i].state == STATIC || table[i].state == LEARNED) && table[i].port == p)
			forget(&table[i]);
	while (*pp && *pp != p)
		pp = &(*pp)->next;
	if (*pp)
		*pp = p->next;
	p->used = false;
}

struct vswitch_port *vswitch_lookup(const uint8_t mac[6], uint64_t now)
{
	struct mac_entry *e = find(mac, NULL);

	if (!e || expired(e, now))
		return NULL;
	return e->port;
}

static void learn(struct vswitch_port *in, const uint8_t *src, uint64_t now)
{
	struct mac_entry *slot, *e;

	if (src[0] & 1)
		return;                     /* never learn a group address */
	e = find(src, &slot);
	if (e && e->state == STATIC)
		return;                     /* a guest's MAC is not for the uplink to claim */
	if (!e) {
		if (!slot || learned >= VSWITCH_LEARN_MAX)
			return;             /* no room to learn: flood instead */
		e = slot;
		memcpy(e->mac, src, 6);
		e->state = LEARNED;
		learned++;
	}
	e->port = in;
	e->seen = now;
}

static void deliver(struct vswitch_port *out, const void *frame, size_t len)
{
	if (out->deliver(out->ctx, frame, len) < 0) {
		out->c.drop_tx++;
		return;
	}
	out->c.tx_frames++;
	out->c.tx_bytes += len;
}

/* Storm control: may `in` flood one more frame at time now (ms)? */
static bool flood_allowed(struct vswitch_port *in, uint64_t now)
{
	uint64_t earned = now > in->flood_refill ? (now - in->flood_refill) * VSWITCH_FLOOD_RATE / 1000 : 0;

	if (earned) {
		earned = MIN(earned, (uint64_t)VSWITCH_FLOOD_BURST);
		in->flood_tokens = MIN(in->flood_tokens + earned, (uint64_t)VSWITCH_FLOOD_BURST);
		in->flood_refill = now;
	}
	if (!in->flood_tokens) {
		in->c.drop_storm++;
		return false;
	}
	in->flood_tokens--;
	return true;
}

/* A DHCP server's answer from the uplink binds (or ends) a guest's lease. */
static void snoop(const void *frame, size_t len, uint64_t now)
{
	struct dhcp_reply r;
	struct mac_entry *e;

	if (!dhcp_snoop(frame, len, &r))
		return;
	e = find(r.chaddr, NULL);
	if (e && e->state == STATIC)
		ipguard_lease(&e->port->guard, &r, now);
}

/* May the frame enter at all?  Counts what it drops. */
static enum vswitch_verdict admit(struct vswitch_port *in, const uint8_t *frame, size_t len,
				  uint64_t now)
{
	if (len < PV_NET_MIN || len > PV_NET_MAX) {
		in->c.drop_invalid++;
		return VSWITCH_INVALID;
	}
	if (in->is_uplink)
		return VSWITCH_FORWARDED;
	if (memcmp(frame + 6, in->mac, 6)) {
		in->c.drop_spoof++;
		return VSWITCH_SPOOFED;
	}
	if (!ipguard_allows(&in->guard, in->mac, frame, len, now)) {
		in->c.drop_ip_spoof++;
		return VSWITCH_SPOOFED;
	}
	return VSWITCH_FORWARDED;
}

enum vswitch_verdict vswitch_input(struct vswitch_port *in, const void *frame, size_t len,
				   uint64_t now)
{
	const uint8_t *dst = frame, *src = (const uint8_t *)frame + 6;
	enum vswitch_verdict v = admit(in, frame, len, now);
	struct vswitch_port *out;

	if (v != VSWITCH_FORWARDED)
		return v;
	in->c.rx_frames++;
	in->c.rx_bytes += len;
	if (in->is_uplink) {
		learn(in, src, now);
		snoop(frame, len, now);
	}
	out = (dst[0] & 1) ? NULL : vswitch_lookup(dst, now);
	if (out) {
		if (out != in)
			deliver(out, frame, len);
		return VSWITCH_FORWARDED;
	}
	if (!flood_allowed(in, now))
		return VSWITCH_FORWARDED;     /* dropped at the edge, like a switch would */
	for (struct vswitch_port *p = ports; p; p = p->next)
		if (p != in)
			deliver(p, frame, len);
	return VSWITCH_FORWARDED;
}

unsigned vswitch_age(uint64_t now)
{
	unsigned n = 0;

	for (unsigned i = 0; i < VSWITCH_TABLE_SIZE; i++)
		if (expired(&table[i], now)) {
			forget(&table[i]);
			n++;
		}
	return n;
}

struct vswitch_port *vswitch_ports(void) { return ports; }
unsigned vswitch_learned(void) { return learned; }
