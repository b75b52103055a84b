/* Guest consoles: bytes from PV_HC_CONSOLE_WRITE are assembled into lines
 * and printed whole as "NAME| line", so lines never interleave.  Control
 * characters become '?', so a guest cannot move the cursor, rewrite a line
 * or forge a hypervisor ("hv|") or "@event" line.  A token bucket per
 * domain bounds its share of the serial port; what it drops is counted and
 * reported when it may print again. */
#include <hv/domain.h>
#include <hv/errno.h>
#include <hv/lib.h>
#include <hv/log.h>
#include <hv/netback.h>
#include <hv/time.h>
#include <hv/uart.h>
#include <hv/work.h>
#include <hv/x86.h>

#define CHUNK 256

static void emit(struct domain *d, const char *text, uint32_t len)
{
	char out[PV_NAME_MAX + CONSOLE_LINE_MAX + 4];
	int n = snprintf(out, sizeof(out), "%s| ", d->name);

	memcpy(out + n, text, len);
	n += len;
	out[n++] = '\n';
	log_raw(out, (size_t)n);
}

static void report_dropped(struct domain *d)
{
	char msg[64];
	int n;

	if (!d->console.dropped)
		return;
	n = snprintf(msg, sizeof(msg), "[console: %lu bytes dropped]", d->console.dropped);
	emit(d, msg, (uint32_t)n);
	d->console.dropped = 0;
}

void console_flush(struct domain *d)
{
	if (d->console.len)
		emit(d, d->console.line, d->console.len);
	d->console.len = 0;
	report_dropped(d);
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
	if ((unsigned char)ch < 0x20 && ch != '\t')
		ch = '?';
	if ((unsigned char)ch >= 0x7f)
		ch = '?';
	c->line[c->len++] = ch;
	if (c->len == CONSOLE_LINE_MAX) {   /* long line: print it in pieces */
		emit(d, c->line, c->len);
		c->len = 0;
	}
}

/* Keys typed on the serial console, polled: 's' prints the switch's
 * per-port counters. */
#define KEY_POLL_MS 100

static void poll_keys(void)
{
	if (uart_getc() == 's' && IS_ENABLED(CONFIG_NET))
		net_report();
}

static struct poll key_poll = { .name = "console-keys", .fn = poll_keys,
				.period_ns = KEY_POLL_MS * 1000000ULL };

void console_init(void)
{
	poll_register(&key_poll);
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
		uint64_t n = MIN(len - done, (uint64_t)CHUNK), take = MIN(n, c->tokens);

		guest_copy_from(&d->mem, buf, gva + done, n);
		for (uint64_t i = 0; i < take; i++)
			put(d, buf[i]);
		c->tokens -= take;
		c->dropped += n - take;
		c->dropped_total += n - take;
		done += n;
	}
	return (int64_t)len;
}
