/* Guest consoles: bytes from PV_HC_CONSOLE_WRITE are assembled into lines
 * and printed whole as "NAME| line" by log_guest_line, which sanitizes
 * them (no guest byte can end a line, start an "hv|" or "@event" one, or
 * reach the terminal raw).  A token bucket per domain bounds its share of
 * the serial port; what it drops is counted and reported when it may print
 * again.  A line never waits for the wire: when the transmit ring has no
 * room it is dropped and counted, and said once, after the domain's next
 * line that gets through (or when it ends). */
#include <hv/domain.h>
#include <hv/errno.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/netback.h>
#include <hv/sched.h>
#include <hv/serial_tx.h>
#include <hv/time.h>
#include <hv/uart.h>
#include <hv/work.h>
#include <hv/x86.h>

#define CHUNK 256

static void report_full(struct domain *d)
{
	if (!d->console.full_dropped)
		return;
	log_warn("console: dropped %lu bytes from %s (serial buffer full)", d->console.full_dropped,
		 d->name);
	d->console.full_dropped = 0;
}

static bool emit(struct domain *d, const char *text, uint32_t len)
{
	if (!log_guest_line(d->name, text, len)) {
		d->console.full_dropped += len + 1;
		d->console.dropped_total += len + 1;
		return false;
	}
	report_full(d);
	return true;
}

static void report_dropped(struct domain *d)
{
	char msg[64];
	int n;

	if (!d->console.dropped)
		return;
	n = snprintf(msg, sizeof(msg), "[console: %lu bytes dropped]", d->console.dropped);
	if (emit(d, msg, (uint32_t)n))
		d->console.dropped = 0;
}

void console_flush(struct domain *d)
{
	if (d->console.len)
		emit(d, d->console.line, d->console.len);
	d->console.len = 0;
	report_dropped(d);
	report_full(d);
}

static void refill(struct domain_console *c)
{
	uint64_t now = rdtsc(), earned;

	earned = (now - c->refill_tsc) * CONFIG_CONSOLE_RATE / tsc_hz;
	if (earned) {
		c->tokens = MIN(c->tokens + earned, (uint64_t)CONFIG_CONSOLE_BURST);
		c->refill_tsc = now;
	}
}

/* The budget is in bytes on the wire: an escaped byte costs its escape,
 * so control characters buy no more of the line than text.  How many of
 * buf's n bytes the tokens pay for. */
static uint64_t spend(struct domain_console *c, const char *buf, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		uint64_t cost = buf[i] == '\n' || buf[i] == '\r' ? 1 : sanitize_width(buf[i]);

		if (cost > c->tokens)
			break;
		c->tokens -= cost;
	}
	return i;
}

/* Raw bytes are kept: log_guest_line sanitizes the whole line. */
static void put(struct domain *d, char ch)
{
	struct domain_console *c = &d->console;

	if (ch == '\n') {
		emit(d, c->line, c->len);
		c->len = 0;
		return;
	}
	if (ch == '\r')
		return;
	c->line[c->len++] = ch;
	if (c->len == CONSOLE_LINE_MAX) {   /* long line: print it in pieces */
		emit(d, c->line, c->len);
		c->len = 0;
	}
}

/* 'R' on the serial console is the operator's way out when the control
 * domain hangs: every privileged domain is ended as crashed (reason
 * killed), so its on_crash policy restarts it; no other domain notices. */
static bool kill_privileged(struct domain *d, void *count)
{
	if (d->privileged && !d->kill_requested) {
		sched_kill(d);
		(*(uint32_t *)count)++;
	}
	return true;
}

static void restart_control(void)
{
	uint32_t n = 0;

	domain_walk(0, kill_privileged, &n);
	log_event("console-restart-control killed=%u", n);
}

/* Keys typed on the serial console, polled: 's' prints the switch's
 * per-port counters, 'R' restarts the control domain.  The poll is also
 * the transmit ring's safety net against a lost interrupt. */
#define KEY_POLL_MS 100

static void poll_keys(void)
{
	int key = uart_getc();

	if (key == 's' && IS_ENABLED(CONFIG_NET))
		net_report();
	else if (key == 'R')
		restart_control();
	serial_tx_poll();
}

static struct poll key_poll = { .name = "console-keys", .fn = poll_keys,
				.period_ns = KEY_POLL_MS * 1000000ULL };

void console_init(void)
{
	poll_register(&key_poll);
	serial_tx_start();
}

int64_t console_write(struct domain *d, uint64_t gva, uint64_t len)
{
	struct domain_console *c = &d->console;
	char buf[CHUNK];
	uint64_t done = 0;
	int r = guest_check(&d->mem, gva, len, false);

	if (r)
		return r;
	refill(c);
	if (c->dropped && c->tokens > CONFIG_CONSOLE_BURST / 2)
		report_dropped(d);
	while (done < len) {
		uint64_t n = MIN(len - done, (uint64_t)CHUNK), take;

		guest_copy_from(&d->mem, buf, gva + done, n);
		text_ring_append(&c->ring, buf, n);   /* all of it: the ring is its own */
		take = spend(c, buf, n);
		for (uint64_t i = 0; i < take; i++)
			put(d, buf[i]);
		c->dropped += n - take;
		c->dropped_total += n - take;
		c->written_total += n;
		done += n;
	}
	return (int64_t)len;
}
