/* The chunked coding of request bodies (http_chunked.h):
 *
 *	chunked-body = *chunk last-chunk trailer-section CRLF
 *	chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *	last-chunk   = 1*("0") [ chunk-ext ] CRLF
 *
 * A byte at a time through the lines, a memcpy through the data.  Every
 * limit is checked as the bytes come, so no input makes the decoder hold
 * more than its struct. */
#include <string.h>
#include "http_chunked.h"

void chunked_init(struct chunked *ch)
{
	memset(ch, 0, sizeof(*ch));
	ch->state = CH_SIZE;
}

static void fail(struct chunked *ch, const char *msg)
{
	ch->state = CH_ERROR;
	ch->error = msg;
}

static int hex_value(unsigned char b)
{
	if (b >= '0' && b <= '9')
		return b - '0';
	b |= 0x20;                          /* lower case */
	return b >= 'a' && b <= 'f' ? b - 'a' + 10 : -1;
}

/* A size line's digits.  The size is checked at each digit, so it never
 * gets near overflowing (2^40 shifted by 4 is far from 2^64). */
static void size_char(struct chunked *ch, unsigned char b)
{
	int v = hex_value(b);

	if (v >= 0) {
		ch->size = ch->size << 4 | (uint64_t)v;
		ch->digits++;
		if (ch->size > CHUNKED_SIZE_MAX)
			fail(ch, "a chunk size is over 2^40");
	} else if (!ch->digits) {
		fail(ch, b == ';' ? "a chunk size line without a size" : "a chunk size is not hex");
	} else if (b == ';') {
		ch->state = CH_EXT;
	} else if (b == ' ' || b == '\t') {
		ch->state = CH_SIZE_WS;             /* BWS before ';' */
	} else {
		fail(ch, "a chunk size is not hex");
	}
}

static void size_ws_char(struct chunked *ch, unsigned char b)
{
	if (b == ';')
		ch->state = CH_EXT;
	else if (b != ' ' && b != '\t')
		fail(ch, "a chunk size is followed by something other than an extension");
}

/* Extensions are ignored, but a control character is no token nor quoted
 * text: refused, rather than passed on to whoever reads the line next. */
static void ext_char(struct chunked *ch, unsigned char b)
{
	if ((b < 0x20 && b != '\t') || b == 0x7f)
		fail(ch, "a control character in a chunk extension");
}

static void size_end(struct chunked *ch)
{
	if (!ch->digits)
		return fail(ch, "a chunk size line without a size");
	ch->left = ch->size;
	ch->state = ch->size ? CH_DATA : CH_TRAILER;   /* size 0: the last chunk */
	ch->size = 0;
	ch->digits = 0;
}

static void trailer_end(struct chunked *ch, bool empty)
{
	if (empty)
		ch->state = CH_DONE;
	else if (++ch->trailers > CHUNKED_TRAILERS_MAX)
		fail(ch, "more than 64 trailer lines");
}

static void line_end(struct chunked *ch)
{
	bool empty = ch->line == 2;

	ch->line = 0;
	ch->cr = false;
	if (ch->state == CH_TRAILER)
		return trailer_end(ch, empty);
	size_end(ch);
}

/* A line's next byte: CR LF ends it; anything else is the line's own. */
static void line_byte(struct chunked *ch, unsigned char b)
{
	if (++ch->line > CHUNKED_LINE_MAX)
		return fail(ch, ch->state == CH_TRAILER ? "a trailer line is over 256 bytes" :
			    "a chunk size line is over 256 bytes");
	if (ch->cr)
		return b == '\n' ? line_end(ch) : fail(ch, "a CR without LF in a chunk line");
	if (b == '\r')
		ch->cr = true;
	else if (b == '\n')
		fail(ch, "a bare LF in a chunk line (lines end in CRLF)");
	else if (ch->state == CH_SIZE)
		size_char(ch, b);
	else if (ch->state == CH_SIZE_WS)
		size_ws_char(ch, b);
	else if (ch->state == CH_EXT)
		ext_char(ch, b);
	/* a trailer field's bytes: ignored */
}

/* The CRLF that must follow a chunk's data. */
static void data_end(struct chunked *ch, unsigned char b)
{
	if (b != (ch->state == CH_DATA_CR ? '\r' : '\n'))
		return fail(ch, "no CRLF after a chunk's data");
	ch->state = ch->state == CH_DATA_CR ? CH_DATA_LF : CH_SIZE;
}

static size_t data(struct chunked *ch, const unsigned char *in, size_t n, char *out, size_t room)
{
	size_t k = n < room ? n : room;

	k = k < ch->left ? k : (size_t)ch->left;
	if (!k)
		return 0;                       /* out may be NULL when room is 0 */
	memcpy(out, in, k);
	ch->left -= k;
	if (!ch->left)
		ch->state = CH_DATA_CR;
	return k;
}

size_t chunked_decode(struct chunked *ch, const void *in, size_t n, size_t *used, void *out, size_t room)
{
	const unsigned char *p = in;
	size_t i = 0, made = 0, k;

	while (i < n && ch->state != CH_DONE && ch->state != CH_ERROR) {
		if (ch->state == CH_DATA_CR || ch->state == CH_DATA_LF) {
			data_end(ch, p[i++]);
		} else if (ch->state != CH_DATA) {
			line_byte(ch, p[i++]);
		} else {
			k = data(ch, p + i, n - i, (char *)out + made, room - made);
			if (!k)
				break;                  /* out is full */
			i += k;
			made += k;
		}
	}
	*used = i;
	return made;
}
