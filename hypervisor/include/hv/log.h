/* Hypervisor log: one complete line per call, "hv| " prefixed, filtered by
 * level.  Guest console lines go through the same serial port with the
 * guest's name as prefix (core/console.c, log_guest_line).  Lines are
 * queued whole and sent by the UART's interrupt (core/serial_tx.c). */
#ifndef HV_LOG_H
#define HV_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

void log_set_level(int level);
int log_get_level(void);
void log_printf(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One guest console line, printed as "NAME| text" with name and text
 * sanitized (lib/sanitize.c); text of up to 160 bytes fits whole.  Guest
 * lines never wait for the wire: false when the transmit ring had no room
 * and the line was dropped. */
bool log_guest_line(const char *name, const char *text, size_t len);
/* One formatted line, no prefix and no filtering (exception reports);
 * uses only a stack buffer, so it is safe on the fault path. */
void log_rawf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A multi-line report that no other CPU's line may split: everything this
 * CPU logs between begin and end comes out as one block. */
uint64_t log_block_begin(void);
void log_block_end(uint64_t flags);

#define log_err(...)   log_printf(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_printf(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_printf(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_printf(LOG_DEBUG, __VA_ARGS__)

/* Machine-readable event lines: "@event NAME key=value ...", always
 * printed whatever the level; tests and tools parse these. */
void log_event(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

__attribute__((noreturn, format(printf, 1, 2)))
void panic(const char *fmt, ...);
void panic_begin(void);
/* The @event records so far (the newest 64 KiB), read by offset. */
struct text_ring;
const struct text_ring *log_events(void);   /* before a report that ends in panic() */

#define HV_ASSERT(c) do { if (!(c)) panic("assertion failed: %s at %s:%d", #c, __FILE__, __LINE__); } while (0)

#endif
