/* Network glue: the switch, its uplink port, the tick work and the
 * counters report. */
#include <hv/domain.h>
#include <hv/errno.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/net.h>
#include <hv/netback.h>
#include <hv/time.h>

#define MAC_AGE_SECONDS 300

static struct vswitch_port uplink_port;
static bool uplink_up;
static uint64_t ticks_seen;

static int uplink_deliver(void *ctx, const void *frame, size_t len)
{
	return uplink_transmit(frame, len);
}

void vswitch_from_uplink(const void *frame, size_t len)
{
	if (uplink_up)
		vswitch_input(&uplink_port, frame, len, clock_ticks);
}

void net_init(void)
{
	uint8_t mac[6];

	vswitch_init((uint64_t)MAC_AGE_SECONDS * CONFIG_TIMER_HZ);
	if (uplink_init(mac)) {
		log_info("net: no uplink NIC; guests reach each other only");
		return;
	}
	vswitch_port_add(&uplink_port, "uplink", NULL, uplink_deliver, NULL);
	uplink_up = true;
	log_info("net: uplink %02x:%02x:%02x:%02x:%02x:%02x on the virtual switch",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

void net_tick(void)
{
	if (uplink_up)
		uplink_poll();
	if (++ticks_seen % ((uint64_t)10 * CONFIG_TIMER_HZ) == 0)
		vswitch_age(clock_ticks);
}

void net_report_port(const struct vswitch_port *p)
{
	log_event("net-port name=%s rx_frames=%lu rx_bytes=%lu tx_frames=%lu tx_bytes=%lu "
		  "drop_spoof=%lu drop_tx=%lu drop_invalid=%lu", p->name, p->c.rx_frames,
		  p->c.rx_bytes, p->c.tx_frames, p->c.tx_bytes, p->c.drop_spoof,
		  p->c.drop_tx, p->c.drop_invalid);
}

void net_report(void)
{
	for (struct vswitch_port *p = vswitch_ports(); p; p = p->next)
		net_report_port(p);
	if (uplink_up)
		uplink_report();
}
