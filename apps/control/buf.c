/* Growable buffers (buf.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"

void buf_free(struct buf *b)
{
	free(b->p);
	*b = (struct buf){ 0 };
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	b->failed = false;
}

static bool reserve(struct buf *b, size_t n)
{
	size_t want = b->size ? b->size : 1024;
	char *p;

	if (b->failed || n > BUF_CAP - b->len)
		return !(b->failed = true);
	if (b->len + n <= b->size)
		return true;
	while (want < b->len + n)
		want *= 2;
	p = realloc(b->p, want);
	if (!p)
		return !(b->failed = true);
	b->p = p;
	b->size = want;
	return true;
}

void buf_add(struct buf *b, const void *p, size_t n)
{
	if (n && reserve(b, n)) {
		memcpy(b->p + b->len, p, n);
		b->len += n;
	}
}

void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	char small[512];
	va_list again;
	int n;

	va_copy(again, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n >= 0 && (size_t)n < sizeof(small)) {
		buf_add(b, small, (size_t)n);
	} else if (n > 0 && reserve(b, (size_t)n + 1)) {
		vsnprintf(b->p + b->len, (size_t)n + 1, fmt, again);
		b->len += (size_t)n;
	}
	va_end(again);
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 :
		     s[0] >= 0xe0 && s[0] < 0xf0 ? 3 : s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : 0;

	if (!len || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((len == 3 && s[0] == 0xe0 && s[1] < 0xa0) || (len == 4 && s[0] == 0xf0 && s[1] < 0x90) ||
	    (len == 4 && s[0] == 0xf4 && s[1] >= 0x90) || (len == 3 && s[0] == 0xed && s[1] >= 0xa0))
		return 0;                       /* overlong, past U+10FFFF, surrogates */
	return len;
}

void buf_json_str(struct buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	buf_add(b, "\"", 1);
	for (size_t i = 0, len; i < n; i += len) {
		len = utf8_len(u + i, n - i);
		if (len > 1 || (len == 1 && u[i] >= 0x20 && u[i] != '"' && u[i] != '\\' && u[i] != 0x7f))
			buf_add(b, s + i, len);
		else if (len == 1 && (u[i] == '"' || u[i] == '\\'))
			buf_printf(b, "\\%c", u[i]);
		else
			buf_printf(b, "\\u%04x", u[i]), len = 1;
	}
	buf_add(b, "\"", 1);
}

void buf_json_cstr(struct buf *b, const char *s)
{
	buf_json_str(b, s, strlen(s));
}

void buf_seconds(struct buf *b, uint64_t ns)
{
	buf_printf(b, "%lu.%06lu", (unsigned long)(ns / 1000000000u),
		   (unsigned long)(ns % 1000000000u / 1000u));
}

void buf_consume(struct buf *b, size_t n)
{
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}
