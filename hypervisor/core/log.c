/* The hypervisor log on the serial console: whole lines, in order, into
 * the transmit ring (core/serial_tx.c).  Guest console lines come through
 * here too, prefixed and sanitized. */
#include <stdarg.h>
#include <hv/ipi.h>
#include <hv/lib.h>
#include <hv/lock.h>
#include <hv/log.h>
#include <hv/power.h>
#include <hv/serial_tx.h>
#include <hv/text_ring.h>
#include <hv/x86.h>

#define LINE_MAX 256
#define GUEST_LINE_MAX 768   /* a name and 160 guest bytes, each escaped to 4 */

static int log_level = CONFIG_LOG_LEVEL;
/* Whole lines reach the ring one at a time, whatever CPU prints them. */
static struct spinlock log_lock = SPINLOCK_INIT("log", LOCK_RANK_LOG);
static const char *const level_tag[] = { "error: ", "warn: ", "", "debug: " };

void log_set_level(int level) { log_level = level; }
int log_get_level(void) { return log_level; }

/* A panicking CPU prints without the lock: its holder may be dead.  Inside
 * a block this CPU already holds it. */
static void out(const char *s, size_t n)
{
	uint64_t f;

	if (lock_panicking() || spin_held_here(&log_lock)) {
		serial_tx_put(s, n);
		return;
	}
	f = spin_lock(&log_lock);
	serial_tx_put(s, n);
	spin_unlock(&log_lock, f);
}

/* Every byte after "NAME| " went through sanitize(), so no guest byte can
 * end the line, start another or reach the terminal raw. */
bool log_guest_line(const char *name, const char *text, size_t len)
{
	char line[GUEST_LINE_MAX];
	size_t n = sanitize(line, sizeof(line) / 8, name, strlen(name));
	uint64_t f;
	bool ok;

	n += strlcpy(line + n, "| ", sizeof(line) - n);
	n += sanitize(line + n, sizeof(line) - n - 1, text, len);
	line[n++] = '\n';
	if (lock_panicking())
		return serial_tx_put_guest(line, n);
	f = spin_lock(&log_lock);
	ok = serial_tx_put_guest(line, n);
	spin_unlock(&log_lock, f);
	return ok;
}

uint64_t log_block_begin(void)
{
	return lock_panicking() ? 0 : spin_lock(&log_lock);
}

void log_block_end(uint64_t flags)
{
	if (spin_held_here(&log_lock))
		spin_unlock(&log_lock, flags);
}

void log_rawf(const char *fmt, ...)
{
	char line[192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	n = MIN(n, (int)sizeof(line) - 2);
	line[n++] = '\n';
	out(line, (size_t)n);
}

static void log_vline(const char *prefix, const char *fmt, va_list ap)
{
	char line[LINE_MAX];
	size_t p = strlcpy(line, prefix, sizeof(line));
	int n = vsnprintf(line + p, sizeof(line) - p - 1, fmt, ap);

	n = MIN((size_t)n + p, sizeof(line) - 2);
	line[n++] = '\n';
	out(line, (size_t)n);
}

void log_printf(int level, const char *fmt, ...)
{
	char prefix[16];
	va_list ap;

	if (level > log_level)
		return;
	snprintf(prefix, sizeof(prefix), "hv| %s", level_tag[level & 3]);
	va_start(ap, fmt);
	log_vline(prefix, fmt, ap);
	va_end(ap);
}

/* Every @event record also goes into a ring the control domain reads by
 * offset (domctl EVENTS_READ), without the "@event " prefix. */
#define EVENT_RING_BYTES (64u << 10)
static char event_store[EVENT_RING_BYTES];
static struct text_ring events = { event_store, EVENT_RING_BYTES, 0 };

const struct text_ring *log_events(void)
{
	return &events;
}

void log_event(const char *fmt, ...)
{
	char line[LINE_MAX];
	size_t p = strlcpy(line, "@event ", sizeof(line));
	va_list ap;
	int n;
	uint64_t f = 0;
	bool locked = !lock_panicking() && !spin_held_here(&log_lock);

	va_start(ap, fmt);
	n = vsnprintf(line + p, sizeof(line) - p - 1, fmt, ap);
	va_end(ap);
	n = MIN((size_t)n + p, sizeof(line) - 2);
	line[n++] = '\n';
	if (locked)
		f = spin_lock(&log_lock);
	serial_tx_put(line, (size_t)n);
	text_ring_append(&events, line + p, (size_t)n - p);
	if (locked)
		spin_unlock(&log_lock, f);
}

/* From here on this CPU is the only one talking: the others are parked by
 * NMI and the log lock is ignored, so a report is never cut up. */
void panic_begin(void)
{
	cli();
	if (lock_panicking())
		return;
	lock_break_for_panic();
	ipi_stop_others();
}

void panic(const char *fmt, ...)
{
	va_list ap;

	panic_begin();
	va_start(ap, fmt);
	log_vline("hv| PANIC: ", fmt, ap);
	va_end(ap);
	power_off(POWER_STATUS_PANIC);
}
