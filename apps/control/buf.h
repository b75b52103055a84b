/* A growable byte buffer for responses, with a hard cap so that no client
 * can make the control domain allocate without bound. */
#ifndef CONTROL_BUF_H
#define CONTROL_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BUF_CAP (32u << 20)     /* the largest response: 10,000 domains fit */

struct buf {
	char *p;
	size_t len, size;
	bool failed;             /* an append did not fit: the content is cut */
};

void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_str(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* A JSON string literal: quotes, escapes, and \u00XX for control bytes and
 * invalid UTF-8 (so guest bytes can never break the document). */
void buf_json_str(struct buf *b, const char *s, size_t n);
void buf_json_cstr(struct buf *b, const char *s);
/* Seconds from nanoseconds, as the API writes durations. */
void buf_seconds(struct buf *b, uint64_t ns);
/* Drop the first n bytes (what was sent). */
void buf_consume(struct buf *b, size_t n);

#endif
