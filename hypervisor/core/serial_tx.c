/* The serial log's transmit ring.  Every line, the hypervisor's and the
 * guests', is queued here whole and drained by the UART's THRE interrupt,
 * so no CPU waits for the wire (115200 baud is 11.5 KB/s).
 *
 * Guest lines may fill three quarters of the ring (it is large, so that a
 * burst such as many guests crashing at once fits); beyond that they are
 * refused, and the console drops and counts them.  The hypervisor's lines
 * always get in: on a full ring they wait, draining by polling.  Power-off
 * and panics drain the ring by polling, so the last lines come out.
 *
 * The drain is paced.  A real UART paces itself: THRE comes a FIFO's time
 * on the wire after the last fill.  An emulated one (QEMU) takes any
 * amount at once and raises THRE at once, so an unpaced drain would hold
 * the boot CPU until the ring is empty.  So one drain slice writes at most
 * SLICE bytes and the next may start only when the boot CPU has had
 * (100 - DUTY)% of the time since to itself: a flooding guest costs other
 * guests at most DUTY% of the boot CPU (DUTY_BEHIND% while the ring is
 * more than half full), in slices of under a millisecond.  With no
 * interrupt (no I/O APIC pin) a 1 ms poll drains instead. */
#include <hv/ioapic.h>
#include <hv/lib.h>
#include <hv/lock.h>
#include <hv/log.h>
#include <hv/percpu.h>
#include <hv/serial_tx.h>
#include <hv/time.h>
#include <hv/trap.h>
#include <hv/uart.h>
#include <hv/work.h>
#include <hv/x86.h>

#define RING_SIZE   (256 * 1024)      /* a power of two: 23 s at 115200 baud */
#define GUEST_LIMIT (RING_SIZE / 4 * 3)   /* the rest is kept for the hypervisor */
#define SLICE       512               /* bytes per drain slice at most */
#define KICK        16                /* bytes a writer sends to start an idle drain */
#define DUTY        25                /* percent of the boot CPU the drain may use, */
#define DUTY_BEHIND 50                /* or this with more than half the ring queued */
#define VEC_SERIAL  0x34
#define STALL_POLLS 200000            /* a UART that takes nothing for this many polls is given up on */
#define POLL_NS     1000000ULL        /* without the interrupt */

static char ring[RING_SIZE];
static uint32_t head, tail;           /* free-running: head - tail bytes queued */
static bool buffered;                 /* from serial_tx_start(); before, lines go out at once */
static bool irq_mode;
static bool draining;                 /* a THRE interrupt or the pacing poll will go on */
static uint64_t next_slice_tsc;       /* pacing: no drain slice before this */
static bool stalled;                  /* gave up on the UART; until it takes a byte again */
static struct serial_tx_stats stats;
/* The ring, its indices, the pacing and the UART's transmit side. */
static struct spinlock tx_lock = SPINLOCK_INIT("serial-tx", LOCK_RANK_SERIAL);

static void paced_poll(void);
static struct poll tx_poll = { .name = "serial-tx", .fn = paced_poll };

static uint32_t queued(void) { return head - tail; }

/* Stored as it goes on the wire: "\n" becomes "\r\n" here, so the drain
 * only copies. */
static uint32_t wire_len(const char *s, size_t n)
{
	uint32_t len = (uint32_t)n;

	for (const char *nl; (nl = memchr(s, '\n', n)); n -= (size_t)(nl + 1 - s), s = nl + 1)
		len++;
	return len;
}

/* s[0..n) into the ring at h, wrapping; the new head. */
static uint32_t copy_in(uint32_t h, const char *s, size_t n)
{
	uint32_t at = h % RING_SIZE, first = (uint32_t)MIN(n, RING_SIZE - at);

	memcpy(ring + at, s, first);
	memcpy(ring, s + first, n - first);
	return h + (uint32_t)n;
}

/* Line by line, each "\n" as "\r\n".  head moves once the text is
 * in: a panic drains without the lock. */
static void append(const char *s, size_t n)
{
	uint32_t h = head;

	while (n) {
		const char *nl = memchr(s, '\n', n);
		size_t run = nl ? (size_t)(nl - s) : n;

		h = copy_in(h, s, run);
		if (nl)
			h = copy_in(h, "\r\n", 2), run++;
		s += run;
		n -= run;
	}
	__atomic_store_n(&head, h, __ATOMIC_RELEASE);
}

/* tx_lock held (or panicking).  Up to max queued bytes to the UART while
 * it takes them; how many it took. */
static uint32_t send(uint32_t max)
{
	uint32_t off = tail % RING_SIZE, n = MIN(MIN(queued(), RING_SIZE - off), max);
	uint32_t sent = n ? (uint32_t)uart_tx_fill(ring + off, n) : 0;

	__atomic_store_n(&tail, tail + sent, __ATOMIC_RELEASE);
	return sent;
}

/* tx_lock held, boot CPU (THRE interrupt, pacing poll).  One slice if its
 * time has come, else the pacing poll is set for it; draining stays true
 * while bytes are queued. */
static void drain_slice(void)
{
	uint64_t start = rdtsc(), duty;

	draining = queued() != 0;
	if (!draining)
		return;
	if (start < next_slice_tsc) {
		if (irq_mode)
			poll_wake(&tx_poll, next_slice_tsc);
		return;
	}
	duty = queued() > RING_SIZE / 2 ? DUTY_BEHIND : DUTY;
	if (send(SLICE))
		next_slice_tsc = rdtsc() + (rdtsc() - start) * (100 - duty) / duty;
}

/* A writer starts an idle drain with a few bytes; their THRE interrupt
 * carries it on. */
static void kick(void)
{
	if (draining)
		return;
	draining = true;
	send(KICK);
}

static void on_irq(struct trap_frame *f)
{
	uint64_t fl = spin_lock(&tx_lock);

	stats.irqs++;
	uart_irq_ack();
	drain_slice();
	spin_unlock(&tx_lock, fl);
	lapic_eoi();
}

static void paced_poll(void)
{
	uint64_t f = spin_lock(&tx_lock);

	drain_slice();
	spin_unlock(&tx_lock, f);
}

/* The key poll's safety net against a lost THRE interrupt. */
void serial_tx_poll(void)
{
	if (buffered)
		paced_poll();
}

/* ---- polled draining: full ring, power-off, panic ------------------------ */

static void locked_send(void)
{
	uint64_t f;

	if (lock_panicking()) {     /* other CPUs are parked, maybe holding it */
		send(RING_SIZE);
		return;
	}
	f = spin_lock(&tx_lock);
	send(SLICE);
	spin_unlock(&tx_lock, f);
}

/* Poll until the tail passes mark; false when the UART stalled.  Counted
 * in polls, not time: under emulation the host may stop this CPU for a
 * while, which is no reason to give up on the line.  Once given up on,
 * the UART must take a byte before anyone waits for it again. */
static bool drain_to(uint32_t mark)
{
	uint32_t seen = __atomic_load_n(&tail, __ATOMIC_ACQUIRE), now, polls = 0;

	while ((int32_t)(mark - seen) > 0) {
		locked_send();
		now = __atomic_load_n(&tail, __ATOMIC_ACQUIRE);
		if (now != seen) {
			seen = now;
			polls = 0;
			stalled = false;
		} else if (stalled || ++polls > STALL_POLLS) {
			stalled = true;
			__atomic_fetch_add(&stats.stalls, 1, __ATOMIC_RELAXED);
			return false;
		} else {
			pause();
		}
	}
	return true;
}

void serial_tx_flush(void)
{
	uint32_t mark = __atomic_load_n(&head, __ATOMIC_ACQUIRE);

	if (mark != __atomic_load_n(&tail, __ATOMIC_ACQUIRE))
		drain_to(mark);
}

/* ---- writers ------------------------------------------------------------- */

/* Queue s if the ring then holds at most limit bytes; else *mark is how
 * far the tail must move first. */
static bool put(const char *s, size_t n, uint32_t limit, uint32_t *mark)
{
	uint32_t need = wire_len(s, n);
	uint64_t f = spin_lock(&tx_lock);
	bool fits = queued() + need <= limit;

	if (fits) {
		append(s, n);
		stats.high_water = MAX(stats.high_water, queued());
		kick();
	}
	*mark = head + need - limit;
	spin_unlock(&tx_lock, f);
	return fits;
}

/* Before buffering starts (boot) and while panicking (the ring's lock may
 * be held by a parked CPU): straight to the UART, after what is queued. */
static bool unbuffered(const char *s, size_t n)
{
	if (buffered && !lock_panicking())
		return false;
	serial_tx_flush();
	uart_write(s, n);
	return true;
}

void serial_tx_put(const char *s, size_t n)
{
	uint32_t mark;

	if (unbuffered(s, n))
		return;
	while (!put(s, n, RING_SIZE, &mark))
		if (!drain_to(mark))
			return;        /* a dead UART loses the line, not the CPU */
}

bool serial_tx_put_guest(const char *s, size_t n)
{
	uint32_t mark;

	if (unbuffered(s, n) || put(s, n, GUEST_LIMIT, &mark))
		return true;
	__atomic_fetch_add(&stats.refused_bytes, n, __ATOMIC_RELAXED);
	return false;
}

/* ---- start-up and counters ----------------------------------------------- */

void serial_tx_start(void)
{
	int irq = uart_isa_irq();

	trap_set_irq(VEC_SERIAL, on_irq);
	irq_mode = irq >= 0 && !ioapic_route_isa((unsigned int)irq, VEC_SERIAL, this_cpu()->apic_id);
	if (!irq_mode)
		tx_poll.period_ns = POLL_NS;
	poll_register(&tx_poll);
	if (irq_mode)
		uart_tx_irq(true);
	buffered = true;
	log_info("serial: %u KiB transmit buffer, drained by %s", RING_SIZE / 1024,
		 irq_mode ? "the THRE interrupt" : "a 1 ms poll (no interrupt)");
}

void serial_tx_report(void)
{
	log_event("serial-tx mode=%s irqs=%lu high_water=%u refused_bytes=%lu stalls=%lu",
		  irq_mode ? "irq" : "poll", stats.irqs, stats.high_water, stats.refused_bytes, stats.stalls);
}
