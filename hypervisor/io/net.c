/* Network glue: the switch, its uplink port, the periodic polls and the
 * counters report.  One lock, net_lock, guards the whole subsystem: the
 * switch's ports and MAC table, every domain's net backend, the uplink
 * NIC.  Coarse on purpose: a frame crosses all three, and each hop is a
 * short copy. */
#include <hv/domain.h>
#include <hv/errno.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/net.h>
#include <hv/netback.h>
#include <hv/time.h>
#include <hv/work.h>

#define MAC_AGE_SECONDS 300

#define UPLINK_POLL_MS  50     /* safety net behind the NIC's interrupt */
#define MAC_AGE_CHECK_MS 10000

struct spinlock net_lock = SPINLOCK_INIT("net", LOCK_RANK_NET);
static struct vswitch_port uplink_port;
static bool uplink_up;

uint64_t net_now_ms(void)
{
	return time_ns() / 1000000;
}

static int uplink_deliver(void *ctx, const void *frame, size_t len)
{
	return uplink_transmit(frame, len);
}

static void age(void)
{
	uint64_t f = spin_lock(&net_lock);

	vswitch_age(net_now_ms());
	spin_unlock(&net_lock, f);
}

static void poll_uplink(void)
{
	uint64_t f = spin_lock(&net_lock);

	uplink_poll();
	spin_unlock(&net_lock, f);
}

static struct poll age_poll = { .name = "mac-ageing", .fn = age, .period_ns = MAC_AGE_CHECK_MS * 1000000ULL };
static struct poll uplink_poll_entry = { .name = "uplink", .fn = poll_uplink,
					 .period_ns = UPLINK_POLL_MS * 1000000ULL };

/* net_lock held (the uplink's interrupt or poll). */
void vswitch_from_uplink(const void *frame, size_t len)
{
	if (uplink_up)
		vswitch_input(&uplink_port, frame, len, net_now_ms());
}

void net_init(void)
{
	uint8_t mac[6];

	vswitch_init((uint64_t)MAC_AGE_SECONDS * 1000);
	poll_register(&age_poll);
	if (uplink_init(mac)) {
		log_info("net: no uplink NIC; guests reach each other only");
		return;
	}
	vswitch_port_add(&uplink_port, "uplink", NULL, uplink_deliver, NULL);
	uplink_up = true;
	poll_register(&uplink_poll_entry);
	log_info("net: uplink %02x:%02x:%02x:%02x:%02x:%02x on the virtual switch",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}


void net_report_port(const struct vswitch_port *p)
{
	log_event("net-port name=%s rx_frames=%lu rx_bytes=%lu tx_frames=%lu tx_bytes=%lu "
		  "drop_spoof=%lu drop_ip_spoof=%lu drop_tx=%lu drop_invalid=%lu drop_storm=%lu",
		  p->name, p->c.rx_frames, p->c.rx_bytes, p->c.tx_frames, p->c.tx_bytes,
		  p->c.drop_spoof, p->c.drop_ip_spoof, p->c.drop_tx, p->c.drop_invalid,
		  p->c.drop_storm);
}

uint32_t net_ports_walk(bool (*fn)(const struct vswitch_port *p, void *ctx), void *ctx)
{
	uint64_t f = spin_lock(&net_lock);
	uint32_t n = 0;

	for (const struct vswitch_port *p = vswitch_ports(); p; p = p->next, n++)
		if (!fn(p, ctx))
			break;
	spin_unlock(&net_lock, f);
	return n;
}

void net_report(void)
{
	uint64_t f = spin_lock(&net_lock);

	for (struct vswitch_port *p = vswitch_ports(); p; p = p->next)
		net_report_port(p);
	if (uplink_up)
		uplink_report();
	spin_unlock(&net_lock, f);
}
