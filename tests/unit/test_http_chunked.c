/* The chunked coding of request bodies (apps/control/http_chunked.c) and
 * the Transfer-Encoding rules of request heads (http.c's http_framing).
 * The decoder meets a body cut at every byte and output areas of every
 * small size, since TCP may hand it over in any pieces. */
#include <stdlib.h>
#include "harness.h"
#include "../../apps/control/http.h"
#include "../../apps/control/http_chunked.h"

/* A body with extensions, upper-case and zero-padded sizes and trailers,
 * followed by a pipelined request that must be left alone. */
static const char coded[] =
	"4\r\nWiki\r\n"
	"5;name=value\r\npedia\r\n"
	"00E ; quoted=\"a;b\" ;flag\r\n in\r\n\r\nchunks.\r\n"
	"1A\r\nabcdefghijklmnopqrstuvwxyz\r\n"
	"0;last=yes\r\n"
	"Expires: never\r\nX-Sum: 1\r\n"
	"\r\n";
static const char next[] = "GET /v1/host HTTP/1.1\r\n\r\n";
static const char plain[] = "Wikipedia in\r\n\r\nchunks.abcdefghijklmnopqrstuvwxyz";

struct result {
	struct chunked ch;
	char out[512];
	size_t out_len;
	size_t used;            /* input bytes consumed in all */
};

/* Feed n bytes with output areas of room bytes, as conn.c does: again
 * and again until the input is used or the body ended or failed. */
static void feed(struct result *r, const char *p, size_t n, size_t room)
{
	size_t used, made;

	while (n && r->ch.state != CH_DONE && r->ch.state != CH_ERROR) {
		made = chunked_decode(&r->ch, p, n, &used, r->out + r->out_len, room);
		if (!harness_check(used || made, __FILE__, __LINE__, "no progress with %zu bytes left", n))
			return;
		r->out_len += made;
		r->used += used;
		p += used;
		n -= used;
	}
}

static void decode(struct result *r, const char *in, size_t n, size_t cut, size_t room)
{
	memset(r, 0, sizeof(*r));
	chunked_init(&r->ch);
	feed(r, in, cut, room);
	feed(r, in + cut, n - cut, room);
}

static bool decodes_to_plain(const struct result *r)
{
	return r->ch.state == CH_DONE && r->out_len == sizeof(plain) - 1 &&
	       !memcmp(r->out, plain, r->out_len) && r->used == sizeof(coded) - 1;
}

static void test_every_split_and_room_gives_the_same_bytes(void)
{
	char in[sizeof(coded) + sizeof(next)];
	size_t n = sizeof(coded) - 1 + sizeof(next) - 1;
	static const size_t rooms[] = { 1, 2, 3, 7, 256 };
	struct result r;

	memcpy(in, coded, sizeof(coded) - 1);
	memcpy(in + sizeof(coded) - 1, next, sizeof(next));
	for (size_t k = 0; k < sizeof(rooms) / sizeof(rooms[0]); k++)
		for (size_t cut = 0; cut <= n; cut++) {
			decode(&r, in, n, cut, rooms[k]);
			harness_check(decodes_to_plain(&r), __FILE__, __LINE__,
				      "cut at %zu, room %zu: state %d, %zu bytes out, %zu used", cut, rooms[k],
				      r.ch.state, r.out_len, r.used);
		}
}

/* The bytes after the body are left, whatever else comes in the call. */
static void test_pipelined_bytes_are_left(void)
{
	char in[64], out[16];
	size_t used, made;
	struct chunked ch;

	snprintf(in, sizeof(in), "3\r\nabc\r\n0\r\n\r\n%s", "POST /x");
	chunked_init(&ch);
	made = chunked_decode(&ch, in, strlen(in), &used, out, sizeof(out));
	CHECK_EQ_INT(made, 3);
	CHECK_EQ_INT(used, strlen(in) - 7);
	CHECK_EQ_INT(ch.state, CH_DONE);
	made = chunked_decode(&ch, in + used, 7, &used, out, sizeof(out));
	CHECK(made == 0 && used == 0);              /* done: nothing more is read */
}

static void test_empty_body_and_large_sizes(void)
{
	struct result r;

	decode(&r, "0\r\n\r\n", 5, 2, 8);
	CHECK(r.ch.state == CH_DONE && r.out_len == 0 && r.used == 5);
	decode(&r, "10000000000\r\n", 13, 13, 8);   /* 2^40: allowed */
	CHECK(r.ch.state == CH_DATA && r.ch.left == 1ull << 40);
	decode(&r, "ffFFffFFff\r\nxyz", 15, 3, 8);
	CHECK(r.ch.state == CH_DATA && r.ch.left == 0xffffffffffull - 3 && r.out_len == 3);
}

static void refused(const char *in, size_t n, const char *words, int line)
{
	struct result r;

	for (size_t cut = 0; cut <= n; cut += n / 7 + 1) {
		decode(&r, in, n, cut, 4);
		if (!harness_check(r.ch.state == CH_ERROR && r.ch.error, __FILE__, line,
				   "should be refused (cut %zu): %.40s", cut, in))
			return;
		harness_check(strstr(r.ch.error, words) != NULL, __FILE__, line, "\"%s\" says \"%s\"", r.ch.error,
			      words);
	}
}

#define REFUSED(in, words) refused(in, sizeof(in) - 1, words, __LINE__)

static void test_malformed_bodies_are_refused(void)
{
	REFUSED("\r\n", "without a size");
	REFUSED(";ext\r\n", "without a size");
	REFUSED("g\r\n", "not hex");
	REFUSED("-1\r\n", "not hex");
	REFUSED(" 1\r\n", "not hex");
	REFUSED("0x10\r\n", "not hex");
	REFUSED("1 x\r\n", "other than an extension");
	REFUSED("10000000001\r\n", "over 2^40");
	REFUSED("ffffffffffffffffffffffff\r\n", "over 2^40");
	REFUSED("1\nA\r\n0\r\n\r\n", "bare LF");
	REFUSED("1\rA\r\n", "CR without LF");
	REFUSED("1;a=\x01\r\n", "control character");
	REFUSED("3\r\nabcd\r\n", "no CRLF");
	REFUSED("3\r\nabc\n0\r\n\r\n", "no CRLF");
	REFUSED("3\r\nabc\r0\r\n\r\n", "no CRLF");
}

/* A body that stops short is not refused by the decoder (more may come):
 * conn.c's deadline ends it. */
static void test_a_cut_body_is_incomplete(void)
{
	struct result r;

	decode(&r, "3\r\nabc", 6, 3, 8);
	CHECK(r.ch.state == CH_DATA_CR && r.out_len == 3);
}

static void test_overlong_lines_are_refused(void)
{
	char in[400];
	struct result r;
	size_t n;

	n = (size_t)snprintf(in, sizeof(in), "1;%0*d\r\n", 252, 0);     /* 256 with CRLF: allowed */
	decode(&r, in, n, n / 2, 8);
	CHECK_EQ_INT(r.ch.state, CH_DATA);
	n = (size_t)snprintf(in, sizeof(in), "1;%0*d\r\n", 253, 0);
	refused(in, n, "chunk size line is over 256", __LINE__);
	n = (size_t)snprintf(in, sizeof(in), "0\r\nX: %0*d\r\n\r\n", 300, 0);
	refused(in, n, "trailer line is over 256", __LINE__);
	n = (size_t)snprintf(in, sizeof(in), "0\r\nX: 1\nY: 2\r\n\r\n");
	refused(in, n, "bare LF", __LINE__);
}

static void test_too_many_trailer_lines_are_refused(void)
{
	char in[64 * 8 + 16];
	size_t n = (size_t)snprintf(in, sizeof(in), "0\r\n");
	struct result r;

	for (int i = 0; i < CHUNKED_TRAILERS_MAX; i++)
		n += (size_t)snprintf(in + n, sizeof(in) - n, "T: %02d\r\n", i);
	memcpy(in + n, "\r\n", 2);
	decode(&r, in, n + 2, n / 3, 8);
	CHECK_EQ_INT(r.ch.state, CH_DONE);               /* 64: allowed */
	n += (size_t)snprintf(in + n, sizeof(in) - n, "T: 64\r\n\r\n");
	refused(in, n, "more than 64 trailer lines", __LINE__);
}

static int framing(const char *head, char *msg)
{
	struct http_req r;

	if (!CHECK_EQ_INT(http_parse(head, strlen(head), &r), HTTP_OK))
		return -1;
	return http_framing(&r, msg, 120);
}

static void test_transfer_encoding_heads(void)
{
	struct http_req r;
	char msg[120];
	const char *bad = "POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n";

	CHECK_EQ_INT(framing("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", msg), 0);
	CHECK_EQ_INT(framing("POST / HTTP/1.1\r\ntransfer-encoding:  CHUNKED \r\n\r\n", msg), 0);
	CHECK_EQ_INT(framing("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n", msg), 0);
	CHECK_EQ_INT(framing("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", msg), 501);
	CHECK_STR(msg, "Transfer-Encoding gzip is not supported (only chunked)");
	CHECK_EQ_INT(framing("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", msg), 501);
	CHECK_EQ_INT(framing("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
			     msg), 501);
	CHECK_STR(msg, "Transfer-Encoding chunked, chunked is not supported (only chunked)");
	CHECK_EQ_INT(framing("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", msg), 400);
	CHECK(strstr(msg, "Content-Length") != NULL);
	CHECK_EQ_INT(framing("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", msg), 400);
	CHECK_EQ_INT(http_parse(bad, strlen(bad), &r), HTTP_BAD);
}

int main(void)
{
	RUN(test_every_split_and_room_gives_the_same_bytes);
	RUN(test_pipelined_bytes_are_left);
	RUN(test_empty_body_and_large_sizes);
	RUN(test_malformed_bodies_are_refused);
	RUN(test_a_cut_body_is_incomplete);
	RUN(test_overlong_lines_are_refused);
	RUN(test_too_many_trailer_lines_are_refused);
	RUN(test_transfer_encoding_heads);
	return harness_report();
}
