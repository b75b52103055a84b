/* The uplink NIC: the first virtio-net device (virtio 1.x over PCI).
 *
 * RX: every descriptor of queue 0 owns one pre-posted 2 KiB buffer
 * (12-byte virtio_net_hdr + frame).  MSI-X entry 0 raises NET_VEC_RX; the
 * handler drains the used ring into vswitch_from_uplink() (which copies)
 * and re-posts each buffer at once.  A periodic poll (io/net.c) calls
 * uplink_poll() too, so a lost or late interrupt delays a frame by one
 * poll period at most.  Every entry point runs under net_lock.
 *
 * TX: queue 1 with a small pool of bounce buffers.  A frame is copied in
 * behind a zeroed header (no offloads were negotiated).  Completions are
 * reaped lazily, when the pool runs dry and on every poll, so TX
 * interrupts are suppressed (MSI-X entry 1 exists, mostly silent).
 *
 * Nothing the device writes is trusted: a used id must be in range and
 * name a buffer we posted, a length must fit that buffer, and an
 * impossible used index stops the device (reset, so it stops DMA).
 * Everything runs with interrupts off: the interrupt handler, the tick and
 * hypercalls that transmit never interleave on one CPU. */
#include <hv/errno.h>
#include <hv/layout.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/mm.h>
#include <hv/net.h>
#include <hv/netback.h>
#include <hv/pci.h>
#include <hv/time.h>
#include <hv/trap.h>
#include <hv/virtio.h>
#include <public/io/net.h>

#define NET_VEC_RX     0x30
#define NET_VEC_TX     0x31
#define MSIX_RX        0
#define MSIX_TX        1
#define QUEUE_RX       0
#define QUEUE_TX       1
#define RX_RING_MAX    256
#define TX_RING_MAX    256
#define BUF_SIZE       2048u       /* two per frame */
#define NET_HDR_LEN    12u         /* virtio_net_hdr with VERSION_1 (num_buffers) */

_Static_assert(NET_HDR_LEN + PV_NET_MAX_FRAME <= BUF_SIZE, "a frame fits a buffer");
_Static_assert(RX_RING_MAX <= VIRTQ_MAX_SIZE && TX_RING_MAX <= VIRTQ_MAX_SIZE, "ring sizes");

struct uplink_counters {
	uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
	uint64_t irqs;
	uint64_t rx_from_poll;             /* frames the tick found first */
	uint64_t drop_rx_runt, drop_rx_oversize;
	uint64_t drop_rx_bad;              /* bad id, unposted buffer, len > buffer */
	uint64_t drop_tx_full, drop_tx_len;
	uint64_t tx_bad;                   /* bad or duplicate TX completions */
};

static struct uplink {
	bool present, broken;
	bool irq;                          /* MSI-X works; else poll only */
	struct pci_dev *pci;
	struct virtio_dev vd;
	struct virtq rx, tx;
	uint8_t mac[6];
	uint64_t rx_pa[RX_RING_MAX];       /* buffer i belongs to descriptor i */
	uint64_t tx_pa[TX_RING_MAX];
	bool rx_posted[RX_RING_MAX];
	bool tx_busy[TX_RING_MAX];
	uint16_t tx_free[TX_RING_MAX];     /* stack of idle TX descriptor ids */
	uint16_t tx_free_count;
	struct uplink_counters c;
} nic;

/* ---- buffers ----------------------------------------------------------------- */
static void free_buffers(uint64_t *pa, unsigned int n)
{
	for (unsigned int i = 0; i < n; i += 2)
		if (pa[i])
			frame_free(pa[i]);
	memset(pa, 0, n * sizeof(*pa));
}

static int alloc_buffers(uint64_t *pa, unsigned int n)
{
	for (unsigned int i = 0; i < n; i += 2) {
		uint64_t frame = frame_alloc();

		if (!frame)
			return -ENOMEM;
		pa[i] = frame;
		if (i + 1 < n)
			pa[i + 1] = frame + BUF_SIZE;
	}
	return 0;
}

/* ---- failure ------------------------------------------------------------------ */
/* The device broke the ring protocol: reset it (no more DMA into our
 * buffers) and never touch it again. */
static void device_broken(const char *why)
{
	if (nic.broken)
		return;
	nic.broken = true;
	virtio_give_up(&nic.vd);
	log_err("uplink: " PCI_BDF_FMT " %s; device reset and abandoned", PCI_BDF_ARGS(nic.pci),
		why);
}

/* ---- receive ------------------------------------------------------------------- */
static void rx_post(uint16_t id)
{
	nic.rx_posted[id] = true;
	virtq_add(&nic.rx, id, nic.rx_pa[id], BUF_SIZE, true);
}

/* One used RX buffer: deliver the frame (the switch copies it), or count
 * why not.  The buffer goes straight back to the device either way. */
static void rx_complete(uint16_t id, uint32_t len)
{
	const uint8_t *buf = phys_to_virt(nic.rx_pa[id]);

	if (len > BUF_SIZE) {
		nic.c.drop_rx_bad++;
	} else if (len < NET_HDR_LEN + PV_NET_MIN_FRAME) {
		nic.c.drop_rx_runt++;
	} else if (len - NET_HDR_LEN > PV_NET_MAX_FRAME) {
		nic.c.drop_rx_oversize++;
	} else {
		nic.c.rx_frames++;
		nic.c.rx_bytes += len - NET_HDR_LEN;
		vswitch_from_uplink(buf + NET_HDR_LEN, len - NET_HDR_LEN);
	}
	rx_post(id);
}

/* At most one ring's worth per call, so a flood cannot hold the CPU; the
 * rest waits for the next interrupt or tick.  Returns used entries seen. */
static unsigned int rx_drain(void)
{
	unsigned int n = 0, reposted = 0;
	uint16_t id;
	uint32_t len;

	while (n < nic.rx.size && !nic.broken) {
		int r = virtq_next_used(&nic.rx, &id, &len);

		if (r == 0)
			break;
		n++;
		if (r == -EIO) {
			device_broken("wrote an impossible RX used index");
		} else if (r < 0 || !nic.rx_posted[id]) {
			nic.c.drop_rx_bad++;       /* not ours to reuse: leave it */
		} else {
			nic.rx_posted[id] = false;
			rx_complete(id, len);
			reposted++;
		}
	}
	if (reposted && !nic.broken) {
		virtq_publish(&nic.rx);
		virtq_kick(&nic.rx);       /* QEMU stops receiving when out of buffers */
	}
	return n;
}

/* ---- transmit ------------------------------------------------------------------- */
static void tx_reap(void)
{
	uint16_t id;
	uint32_t len;

	for (unsigned int n = 0; n < nic.tx.size && !nic.broken; n++) {
		int r = virtq_next_used(&nic.tx, &id, &len);

		if (r == 0)
			break;
		if (r == -EIO) {
			device_broken("wrote an impossible TX used index");
		} else if (r < 0 || !nic.tx_busy[id]) {
			nic.c.tx_bad++;
		} else {
			nic.tx_busy[id] = false;
			nic.tx_free[nic.tx_free_count++] = id;
		}
	}
}

int uplink_transmit(const void *frame, size_t len)
{
	uint16_t id;
	uint8_t *buf;

	if (!nic.present || nic.broken)
		return -ENODEV;
	if (len < PV_NET_MIN_FRAME || len > PV_NET_MAX_FRAME) {
		nic.c.drop_tx_len++;
		return -EINVAL;
	}
	if (!nic.tx_free_count)
		tx_reap();
	if (!nic.tx_free_count) {
		nic.c.drop_tx_full++;
		return -EAGAIN;
	}
	id = nic.tx_free[--nic.tx_free_count];
	buf = phys_to_virt(nic.tx_pa[id]);
	memset(buf, 0, NET_HDR_LEN);       /* no checksum or segmentation offload */
	memcpy(buf + NET_HDR_LEN, frame, len);
	nic.tx_busy[id] = true;
	virtq_add(&nic.tx, id, nic.tx_pa[id], NET_HDR_LEN + (uint32_t)len, false);
	virtq_publish(&nic.tx);
	virtq_kick(&nic.tx);
	nic.c.tx_frames++;
	nic.c.tx_bytes += len;
	return 0;
}

/* ---- interrupt and poll ---------------------------------------------------------- */
static unsigned int service(void)
{
	unsigned int n;

	if (!nic.present || nic.broken)
		return 0;
	n = rx_drain();
	tx_reap();
	return n;
}

static void uplink_irq(struct trap_frame *f)
{
	uint64_t flags = spin_lock(&net_lock);

	nic.c.irqs++;
	service();
	spin_unlock(&net_lock, flags);
	lapic_eoi();
}

void uplink_poll(void)
{
	nic.c.rx_from_poll += service();
}

void uplink_report(void)
{
	if (!nic.present)
		return;
	log_event("net-uplink rx_frames=%lu rx_bytes=%lu tx_frames=%lu tx_bytes=%lu irqs=%lu "
		  "rx_from_poll=%lu drop_rx_runt=%lu drop_rx_oversize=%lu drop_rx_bad=%lu "
		  "drop_tx_full=%lu drop_tx_len=%lu tx_bad=%lu broken=%d",
		  nic.c.rx_frames, nic.c.rx_bytes, nic.c.tx_frames, nic.c.tx_bytes, nic.c.irqs,
		  nic.c.rx_from_poll, nic.c.drop_rx_runt, nic.c.drop_rx_oversize, nic.c.drop_rx_bad,
		  nic.c.drop_tx_full, nic.c.drop_tx_len, nic.c.tx_bad, nic.broken);
}

/* ---- bring-up ---------------------------------------------------------------------- */
static struct pci_dev *find_nic(void)
{
	struct pci_dev *d = pci_find(VIRTIO_PCI_VENDOR, VIRTIO_PCI_MODERN_BASE + VIRTIO_ID_NET, 0);

	/* A transitional device also speaks virtio 1.x when it has the
	 * modern capabilities; virtio_pci_init() checks for them. */
	for (unsigned int n = 0; !d; n++) {
		struct pci_dev *t = pci_find(VIRTIO_PCI_VENDOR, VIRTIO_PCI_LEGACY_NET, n);

		if (!t)
			break;
		if (t->subsys_id == VIRTIO_ID_NET)
			d = t;
	}
	return d;
}

/* The device's MAC if it gives a usable one, else a locally administered
 * address derived from the PCI location. */
static void read_mac(void)
{
	static const uint8_t zero[6];
	uint8_t *m = nic.mac;

	if ((nic.vd.features & VIRTIO_NET_F_MAC) && !virtio_read_config(&nic.vd, 0, m, 6) &&
	    !(m[0] & 1) && memcmp(m, zero, 6))
		return;
	log_warn("uplink: device gives no usable MAC; using a locally administered one");
	m[0] = 0x02, m[1] = 0, m[2] = 0, m[3] = nic.pci->bus;
	m[4] = nic.pci->slot, m[5] = nic.pci->fn;
}

static int setup_queues(void)
{
	static const uint8_t vectors[] = { [MSIX_RX] = NET_VEC_RX, [MSIX_TX] = NET_VEC_TX };
	int err;

	/* MSI-X first: the device resolves queue vectors against its table.
	 * Without it the tick's poll alone drives the NIC. */
	nic.irq = !pci_msix_enable(nic.pci, vectors, ARRAY_SIZE(vectors));
	if (!nic.irq)
		log_warn("uplink: " PCI_BDF_FMT " has no usable MSI-X; polled every tick only",
			 PCI_BDF_ARGS(nic.pci));
	err = virtio_queue_setup(&nic.vd, &nic.rx, QUEUE_RX, RX_RING_MAX,
				 nic.irq ? MSIX_RX : VIRTIO_NO_VECTOR);
	if (!err)
		err = virtio_queue_setup(&nic.vd, &nic.tx, QUEUE_TX, TX_RING_MAX,
					 nic.irq ? MSIX_TX : VIRTIO_NO_VECTOR);
	if (!err)
		err = alloc_buffers(nic.rx_pa, nic.rx.size);
	if (!err)
		err = alloc_buffers(nic.tx_pa, nic.tx.size);
	return err;
}

static void fill_rings(void)
{
	for (uint16_t id = 0; id < nic.rx.size; id++)
		rx_post(id);
	virtq_publish(&nic.rx);
	for (uint16_t id = 0; id < nic.tx.size; id++)
		nic.tx_free[nic.tx_free_count++] = id;
	virtq_suppress_interrupts(&nic.tx);
}

static int nic_start(void)
{
	int err = virtio_pci_init(&nic.vd, nic.pci);

	if (!err)
		err = virtio_negotiate(&nic.vd, VIRTIO_F_VERSION_1, VIRTIO_NET_F_MAC);
	if (!err)
		err = setup_queues();
	if (err)
		return err;
	read_mac();
	fill_rings();
	if (nic.irq) {
		trap_set_irq(NET_VEC_RX, uplink_irq);
		trap_set_irq(NET_VEC_TX, uplink_irq);
	}
	virtio_driver_ok(&nic.vd);
	virtq_kick(&nic.rx);               /* not before DRIVER_OK (spec 3.1.1) */
	return 0;
}

/* Undo a failed start: reset first so the device lets go of everything. */
static void nic_stop(void)
{
	virtio_give_up(&nic.vd);
	free_buffers(nic.rx_pa, RX_RING_MAX);
	free_buffers(nic.tx_pa, TX_RING_MAX);
	virtio_queue_free(&nic.rx);
	virtio_queue_free(&nic.tx);
}

static void log_started(void)
{
	char how[24] = "polled";

	if (nic.irq)
		snprintf(how, sizeof(how), "msi-x 0x%x/0x%x", NET_VEC_RX, NET_VEC_TX);
	log_info("pci: " PCI_BDF_FMT " %04x:%04x virtio-net mac %02x:%02x:%02x:%02x:%02x:%02x "
		 "rx %u tx %u %s", PCI_BDF_ARGS(nic.pci), nic.pci->vendor, nic.pci->device,
		 nic.mac[0], nic.mac[1], nic.mac[2], nic.mac[3], nic.mac[4], nic.mac[5],
		 nic.rx.size, nic.tx.size, how);
}

int uplink_init(uint8_t mac[6])
{
	int err;

	if (!nic.present) {
		pci_init();
		nic.pci = find_nic();
		if (!nic.pci)
			return -ENODEV;
		err = nic_start();
		if (err) {
			log_warn("uplink: " PCI_BDF_FMT " virtio-net not started (%d)",
				 PCI_BDF_ARGS(nic.pci), err);
			nic_stop();
			return err;
		}
		nic.present = true;
		log_started();
	}
	memcpy(mac, nic.mac, 6);
	return 0;
}
