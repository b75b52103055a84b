/* The HTTP/1.1 chunked coding of a request body (RFC 9112 §7.1), decoded
 * incrementally: the coded bytes may come split anywhere, the decoder
 * keeps its place between calls and never reads past the body's end, so
 * what follows (a pipelined request) is left to the caller.
 *
 * Lines (chunk sizes, trailer fields) end in CRLF only; a bare LF or CR is
 * refused, as http.c refuses them in heads.  Chunk extensions (";name=val")
 * and trailer fields are read and ignored. */
#ifndef CONTROL_HTTP_CHUNKED_H
#define CONTROL_HTTP_CHUNKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHUNKED_LINE_MAX   256          /* a size or trailer line, with its CRLF */
#define CHUNKED_SIZE_MAX   (1ull << 40) /* one chunk's size */
#define CHUNKED_TRAILERS_MAX 64         /* trailer lines, like a head's */

enum chunked_state {
	CH_SIZE,        /* a chunk-size line: hex digits */
	CH_SIZE_WS,     /* whitespace after the digits: only ';' may follow */
	CH_EXT,         /* a chunk extension, up to the line's end */
	CH_DATA,        /* chunk data: left bytes to go */
	CH_DATA_CR,     /* the CRLF after chunk data */
	CH_DATA_LF,
	CH_TRAILER,     /* a trailer line (or the empty line ending them) */
	CH_DONE,        /* the body ended: nothing more is read */
	CH_ERROR,       /* malformed: error says how */
};

struct chunked {
	enum chunked_state state;
	uint64_t size;          /* the size line's value so far */
	uint64_t left;          /* of the current chunk's data */
	unsigned line;          /* bytes of the current line so far */
	unsigned digits;
	unsigned trailers;
	bool cr;                /* the current line's CR came: LF must follow */
	const char *error;      /* a short message, for a 400 */
};

void chunked_init(struct chunked *ch);
/* Decode from in[0..n) into out[0..room): returns the bytes written to out
 * and sets *used to the input bytes consumed.  Stops when out is full, in
 * is used up, or the state becomes CH_DONE or CH_ERROR. */
size_t chunked_decode(struct chunked *ch, const void *in, size_t n, size_t *used, void *out, size_t room);

#endif
