/* The virtual switch (io/vswitch.c): learning, aging, flooding, spoofing. */
#include <stdlib.h>
#include <hv/vswitch.h>
#include "harness.h"


#define NPORTS 4
static struct vswitch_port port[NPORTS];   /* 0 = uplink, 1..3 guests */
static int got[NPORTS], refuse[NPORTS];

static int deliver(void *ctx, const void *f, size_t len)
{
	int i = (int)(long)ctx;

	if (refuse[i])
		return -1;
	got[i]++;
	return 0;
}

static uint8_t mac_of(int i, uint8_t m[6])
{
	uint8_t v[6] = { 0x02, 0, 0, 0, 0, (uint8_t)i };

	memcpy(m, v, 6);
	return 0;
}

static size_t frame(uint8_t *f, const uint8_t *dst, const uint8_t *src)
{
	memset(f, 0, 60);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	return 60;
}

static void setup(void)
{
	uint8_t m[6];

	vswitch_init(100);
	memset(got, 0, sizeof(got));
	memset(refuse, 0, sizeof(refuse));
	vswitch_port_add(&port[0], "uplink", NULL, deliver, (void *)0L);
	for (long i = 1; i < NPORTS; i++) {
		mac_of((int)i, m);
		vswitch_port_add(&port[i], "g", m, deliver, (void *)i);
	}
}

static void test_unicast_between_guests(void)
{
	uint8_t a[6], b[6], f[60];

	setup();
	mac_of(1, a);
	mac_of(2, b);
	CHECK_EQ_INT(vswitch_input(&port[1], f, frame(f, b, a), 0), VSWITCH_FORWARDED);
	CHECK_EQ_INT(got[2], 1);
	CHECK_EQ_INT(got[0] + got[1] + got[3], 0);       /* nobody else saw it */
	CHECK_EQ_U64(port[1].c.rx_frames, 1);
	CHECK_EQ_U64(port[2].c.tx_frames, 1);
}

static void test_broadcast_and_unknown_flood(void)
{
	uint8_t a[6], f[60], bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t unknown[6] = { 0x02, 9, 9, 9, 9, 9 }, mcast[6] = { 0x01, 0, 0x5e, 0, 0, 1 };

	setup();
	mac_of(1, a);
	vswitch_input(&port[1], f, frame(f, bc, a), 0);
	CHECK(got[0] == 1 && got[1] == 0 && got[2] == 1 && got[3] == 1);
	vswitch_input(&port[1], f, frame(f, unknown, a), 0);
	CHECK(got[0] == 2 && got[1] == 0 && got[2] == 2 && got[3] == 2);
	vswitch_input(&port[1], f, frame(f, mcast, a), 0);
	CHECK(got[0] == 3 && got[1] == 0);
}

/* A port floods at most a burst, then VSWITCH_FLOOD_RATE per second;
 * unicast to a known port is never limited. */
static void test_storm_control(void)
{
	uint8_t a[6], b[6], f[60], bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	int i;

	setup();
	mac_of(1, a);
	mac_of(2, b);
	for (i = 0; i < VSWITCH_FLOOD_BURST + 100; i++)
		vswitch_input(&port[1], f, frame(f, bc, a), 1000);
	CHECK_EQ_INT(got[3], VSWITCH_FLOOD_BURST);
	CHECK_EQ_U64(port[1].c.drop_storm, 100);
	for (i = 0; i < 50; i++)
		vswitch_input(&port[1], f, frame(f, b, a), 1000);
	CHECK_EQ_INT(got[2], VSWITCH_FLOOD_BURST + 50);    /* unicast went through */
	mac_of(3, b);
	vswitch_input(&port[3], f, frame(f, bc, b), 1000);   /* another port's bucket is its own */
	CHECK_EQ_INT(got[1], 1);
	/* 10 ms later: VSWITCH_FLOOD_RATE / 100 more */
	for (i = 0; i < 100; i++)
		vswitch_input(&port[1], f, frame(f, bc, a), 1010);
	CHECK_EQ_INT(got[3], VSWITCH_FLOOD_BURST + VSWITCH_FLOOD_RATE / 100);
	/* a long pause refills at most a burst */
	for (i = 0; i < VSWITCH_FLOOD_BURST + 10; i++)
		vswitch_input(&port[1], f, frame(f, bc, a), 100000);
	CHECK_EQ_INT(got[3], 2 * VSWITCH_FLOOD_BURST + VSWITCH_FLOOD_RATE / 100);
}

static void test_spoofed_source_dropped(void)
{
	uint8_t a[6], b[6], f[60], forged[6] = { 0x02, 0xde, 0xad, 0, 0, 1 };

	setup();
	mac_of(1, a);
	mac_of(2, b);
	CHECK_EQ_INT(vswitch_input(&port[1], f, frame(f, a, forged), 0), VSWITCH_SPOOFED);
	CHECK_EQ_INT(vswitch_input(&port[1], f, frame(f, a, b), 0), VSWITCH_SPOOFED); /* another guest's */
	CHECK_EQ_U64(port[1].c.drop_spoof, 2);
	CHECK_EQ_INT(got[0] + got[1] + got[2] + got[3], 0);
	CHECK_EQ_INT(vswitch_input(&port[1], f, 10, 0), VSWITCH_INVALID);   /* runt */
	CHECK_EQ_INT(vswitch_input(&port[1], f, 1515, 0), VSWITCH_INVALID); /* too long */
}

static void test_learning_and_aging(void)
{
	uint8_t a[6], f[60], ext[6] = { 0x52, 0x55, 10, 0, 2, 2 };

	setup();
	mac_of(1, a);
	vswitch_input(&port[0], f, frame(f, a, ext), 10);   /* uplink host talks */
	CHECK(vswitch_lookup(ext, 10) == &port[0]);
	CHECK_EQ_INT(vswitch_learned(), 1);
	memset(got, 0, sizeof(got));
	vswitch_input(&port[1], f, frame(f, ext, a), 50);   /* reply: unicast to uplink */
	CHECK(got[0] == 1 && got[2] == 0 && got[3] == 0);
	CHECK(vswitch_lookup(ext, 111) == NULL);             /* older than 100: forgotten */
	CHECK_EQ_INT(vswitch_age(111), 1);
	CHECK_EQ_INT(vswitch_learned(), 0);
	memset(got, 0, sizeof(got));
	vswitch_input(&port[1], f, frame(f, ext, a), 120);  /* unknown again: flood */
	CHECK(got[0] == 1 && got[2] == 1 && got[3] == 1);
}

static void test_uplink_cannot_claim_guest_mac(void)
{
	uint8_t a[6], b[6], f[60];

	setup();
	mac_of(1, a);
	mac_of(2, b);
	vswitch_input(&port[0], f, frame(f, b, a), 0);      /* uplink forges guest 1's MAC */
	CHECK(vswitch_lookup(a, 0) == &port[1]);
	CHECK_EQ_INT(vswitch_learned(), 0);
	CHECK_EQ_INT(vswitch_port_add(&port[3], "dup", a, deliver, (void *)3L), -17); /* EEXIST */
}

static void test_port_removal_and_refusal(void)
{
	uint8_t a[6], b[6], f[60];

	setup();
	mac_of(1, a);
	mac_of(2, b);
	vswitch_port_remove(&port[2]);
	CHECK(vswitch_lookup(b, 0) == NULL);
	vswitch_input(&port[1], f, frame(f, b, a), 0);      /* now unknown: flood, not to 2 */
	CHECK(got[2] == 0 && got[0] == 1 && got[3] == 1);
	refuse[3] = 1;
	vswitch_input(&port[1], f, frame(f, b, a), 0);
	CHECK_EQ_U64(port[3].c.drop_tx, 1);
}

static void test_table_full_still_forwards(void)
{
	uint8_t a[6], f[60], ext[6] = { 0x52, 0, 0, 0, 0, 0 };

	setup();
	mac_of(1, a);
	for (int i = 0; i < VSWITCH_TABLE_SIZE + 100; i++) {
		ext[4] = (uint8_t)(i >> 8);
		ext[5] = (uint8_t)i;
		vswitch_input(&port[0], f, frame(f, a, ext), 0);
	}
	CHECK(vswitch_learned() <= VSWITCH_LEARN_MAX);
	CHECK_EQ_INT(got[1], VSWITCH_TABLE_SIZE + 100);     /* guest got every frame */
	CHECK(vswitch_lookup(a, 0) == &port[1]);
}

/* Item 7 of issue 8: MACs learned from the uplink must never take the
 * room guest ports need.  Flood the table with source MACs from the
 * uplink, then add as many guest ports as the manifest allows. */
#define MANY_PORTS 256   /* MANIFEST_MAX_GUESTS * MANIFEST_MAX_NETS */
static struct vswitch_port many[MANY_PORTS];

static void test_uplink_flood_cannot_starve_guest_ports(void)
{
	uint8_t a[6], m[6], f[60], ext[6] = { 0x52, 0, 0, 0, 0, 0 };
	int i, added = 0;

	setup();
	mac_of(1, a);
	for (i = 0; i < 4 * VSWITCH_TABLE_SIZE; i++) {
		ext[3] = (uint8_t)(i >> 16);
		ext[4] = (uint8_t)(i >> 8);
		ext[5] = (uint8_t)i;
		vswitch_input(&port[0], f, frame(f, a, ext), 0);
	}
	CHECK_EQ_INT(vswitch_learned(), VSWITCH_LEARN_MAX);
	for (i = 0; i < MANY_PORTS; i++) {
		uint8_t v[6] = { 0x06, 0, 0, 0, (uint8_t)(i >> 8), (uint8_t)i };

		added += vswitch_port_add(&many[i], "many", v, deliver, (void *)2L) == 0;
	}
	CHECK_EQ_INT(added, MANY_PORTS);
	memcpy(m, (uint8_t[6]){ 0x06, 0, 0, 0, 0, MANY_PORTS - 1 }, 6);
	CHECK(vswitch_lookup(m, 0) == &many[MANY_PORTS - 1]);
	memset(got, 0, sizeof(got));
	vswitch_input(&port[0], f, frame(f, m, ext), 0);    /* known unicast from the uplink */
	CHECK(got[2] == 1 && got[1] == 0 && got[3] == 0);
	CHECK(vswitch_learned() <= VSWITCH_LEARN_MAX);
}

int main(void)
{
	RUN(test_unicast_between_guests);
	RUN(test_broadcast_and_unknown_flood);
	RUN(test_storm_control);
	RUN(test_spoofed_source_dropped);
	RUN(test_learning_and_aging);
	RUN(test_uplink_cannot_claim_guest_mac);
	RUN(test_port_removal_and_refusal);
	RUN(test_table_full_still_forwards);
	RUN(test_uplink_flood_cannot_starve_guest_ports);
	return harness_report();
}
