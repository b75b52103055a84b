/* Connections (conn.h).  A request goes HEAD -> (BODY) -> handler ->
 * WRITE -> HEAD again on keep-alive.  Authentication comes right after the
 * head, before the route is looked up and before any body is read. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>
#include "conn.h"

#define UPLOAD_MAX   PV_DOMCTL_IMAGE_MAX
#define UPLOADS_MAX  2           /* bodies of that size held at once */
#define STREAM_BODY_MAX (1ull << 40)
#define STREAM_PIECE (256u << 10) /* a streamed body goes to its sink in pieces of this */

#include <public/domctl.h>

static struct conn conns[CONN_MAX];
static int uploads;

/* A streamed body that did not all come (or was refused) is ended. */
static void sink_abort(struct conn *c)
{
	if (c->route && c->route->body == BODY_STREAM && c->req.feed.open)
		c->route->sink->abort(&c->req);
	c->req.feed.open = false;
}

static void conn_free_body(struct conn *c)
{
	sink_abort(c);
	if (c->body && c->route && c->route->body == BODY_UPLOAD)
		uploads--;
	free(c->body);
	c->body = NULL;
	c->body_len = 0;
}

static void conn_close(struct conn *c)
{
	if (c->streaming && c->stream.gone)
		c->stream.gone(&c->req, &c->stream);
	c->streaming = false;
	conn_free_body(c);
	buf_free(&c->out);
	close(c->fd);
	c->fd = -1;
}

/* No room: a 503 written straight away (it fits any socket buffer). */
static void refuse_connection(int fd)
{
	static const char body[] = "{\"error\":{\"code\":\"busy\",\"message\":\"too many connections\"}}\n";
	char head[200];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
			 "Retry-After: 1\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n", sizeof(body) - 1);

	send(fd, head, (size_t)n, 0);
	send(fd, body, sizeof(body) - 1, 0);
	close(fd);
}

void conn_accept(int lfd)
{
	int fd = accept(lfd, NULL, NULL);
	struct conn *c = NULL;

	if (fd < 0)
		return;
	for (int i = 0; i < CONN_MAX && !c && fd < FD_SETSIZE; i++)
		if (conns[i].fd < 0)
			c = &conns[i];
	if (!c)
		return refuse_connection(fd);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->state = C_HEAD;
	c->deadline_ms = now_ms() + IDLE_MS;
}

void conn_init(void)
{
	for (int i = 0; i < CONN_MAX; i++)
		conns[i].fd = -1;
}

bool conn_stream_slot(struct conn *c)
{
	int n = 0;

	for (int i = 0; i < CONN_MAX; i++)
		n += conns[i].fd >= 0 && conns[i].streaming && &conns[i] != c;
	return n < STREAM_MAX;
}

/* ---- answering --------------------------------------------------------- */

static void start_write(struct conn *c)
{
	c->state = C_WRITE;
	c->deadline_ms = now_ms() + IDLE_MS;     /* a client that stops reading */
}

static void run_handler(struct conn *c)
{
	c->req.body = c->body;
	c->req.body_len = c->body_len;
	c->req.body_total = c->body_taken + c->body_len;
	c->route->handler(&c->req);
	if (!c->answered)
		reply_error(&c->req, 500, "internal", NULL, "the handler gave no answer");
	conn_free_body(c);
	start_write(c);
}

static bool content_type_ok(struct conn *c)
{
	const char *t = c->http.ctype;

	if (c->route->body == BODY_UPLOAD)
		return !*t || !strcmp(t, "application/octet-stream") || !strcmp(t, "application/x-executable");
	if (c->route->body == BODY_STREAM)
		return !*t || !strcmp(t, "application/octet-stream");
	return !c->http.content_length || !strcmp(t, "application/json");
}

/* The head says a body follows (http_framing has let only chunked by). */
static bool has_body(const struct http_req *h)
{
	return h->content_length || h->chunked;
}

/* All of the body is in (a chunked one: up to its trailers' empty line). */
static bool body_complete(const struct conn *c)
{
	if (c->http.chunked)
		return c->chunked.state == CH_DONE;
	return c->body_taken + c->body_len == c->http.content_length;
}

/* Room left in c->body for the body's next bytes (Content-Length). */
static size_t body_room(const struct conn *c)
{
	uint64_t left = c->http.content_length - c->body_taken - c->body_len;

	if (c->route->body != BODY_STREAM)
		return (size_t)left;
	return (size_t)(left < STREAM_PIECE - c->body_len ? left : STREAM_PIECE - c->body_len);
}

/* A streamed body's piece to its sink: when the piece is full or the
 * body complete.  A refusal is answered at once (the rest is drained). */
static bool sink_piece(struct conn *c)
{
	bool ok;

	if (!c->body_len || (c->body_len < STREAM_PIECE && !body_complete(c)))
		return true;
	ok = c->route->sink->take(&c->req, c->body, c->body_len);
	c->body_taken += c->body_len;
	c->body_len = 0;
	if (!ok)
		c->close_after = true;
	return ok;
}

static void body_progress(struct conn *c)
{
	c->deadline_ms = now_ms() + BODY_GAP_MS;
	if (c->route->body == BODY_STREAM && !sink_piece(c))
		return run_handler(c);
	if (body_complete(c))
		run_handler(c);
}

/* The first n bytes of c->in are used; the rest moves up. */
static void in_drop(struct conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
}

/* Body bytes that came in with the head; what follows the body stays in
 * c->in for the next request. */
static void take_pipelined_body(struct conn *c)
{
	size_t want = body_room(c), take = c->in_len < want ? c->in_len : want;

	memcpy(c->body, c->in, take);
	c->body_len = take;
	in_drop(c, take);
	body_progress(c);
}

/* Answer before reading the body: the connection closes after the answer
 * (the client may still be sending; written() drains it). */
static void refuse(struct conn *c, int status, const char *code, const char *more, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void refuse(struct conn *c, int status, const char *code, const char *more, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->close_after = true;
	reply_error_more(&c->req, status, code, more, "%s", msg);
	start_write(c);
}

/* A chunked body that cannot be taken: malformed (400) or over the limit
 * (413).  Its sink is aborted, the rest of it is not read. */
static bool chunked_refused(struct conn *c)
{
	char more[32];

	if (c->chunked.state == CH_ERROR) {
		conn_free_body(c);
		refuse(c, 400, "bad_request", NULL, "chunked body: %s", c->chunked.error);
		return true;
	}
	if (c->body_taken + c->body_len <= STREAM_BODY_MAX)
		return false;
	conn_free_body(c);
	snprintf(more, sizeof(more), "\"limit\":%llu", STREAM_BODY_MAX);
	refuse(c, 413, "too_large", more, "the body is over %llu bytes", STREAM_BODY_MAX);
	return true;
}

/* A chunked body's coded bytes, read raw into c->in, decoded from there
 * into the piece, which goes to the sink whenever it is full.  So c->in
 * is emptied each time, unless the body ended: then what follows it stays
 * there for the next request. */
static void chunked_progress(struct conn *c)
{
	size_t used;

	do {
		c->body_len += chunked_decode(&c->chunked, c->in, c->in_len, &used, c->body + c->body_len,
					      STREAM_PIECE - c->body_len);
		in_drop(c, used);
		if (chunked_refused(c))
			return;
		body_progress(c);
	} while (c->state == C_BODY && c->in_len);
}

/* No such route (404) or method (405, with Allow). */
static void no_route(struct conn *c)
{
	static char allow[100];
	struct http_req *h = &c->http;

	if (has_body(h))
		c->close_after = true;              /* its body is not read */
	snprintf(allow, sizeof(allow), "Allow: %s\r\n", c->allow);
	c->allow_header = *c->allow ? allow : NULL;
	if (*c->allow)
		reply_error(&c->req, 405, "method_not_allowed", NULL, "%s is not allowed here (allowed: %s)",
			    h->method, c->allow);
	else
		reply_error(&c->req, 404, "not_found", NULL, "no route %s", h->path);
	c->allow_header = NULL;
	start_write(c);
}

static void read_body(struct conn *c)
{
	struct http_req *h = &c->http;

	if (h->expect_continue && c->in_len == 0)
		buf_str(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
	c->state = C_BODY;
	if (!h->chunked)
		return take_pipelined_body(c);
	chunked_init(&c->chunked);
	chunked_progress(c);
}

/* A streamed body: its sink begins (and may refuse before a byte is
 * read), then takes it piece by piece. */
static void sink_start(struct conn *c)
{
	c->body_taken = 0;
	c->body = malloc(STREAM_PIECE);
	if (!c->body)
		return refuse(c, 507, "admission_refused", "\"resource\":\"memory\"",
			      "the control domain has no room for a body buffer");
	if (!c->route->sink->begin(&c->req)) {
		if (has_body(&c->http))
			c->close_after = true;
		return run_handler(c);
	}
	c->req.feed.open = true;
	if (!has_body(&c->http))
		return run_handler(c);
	read_body(c);
}

/* A body whose framing cannot be read (http_framing) is refused before
 * anything else about it. */
static bool framing_refused(struct conn *c)
{
	char msg[120];
	int status = http_framing(&c->http, msg, sizeof(msg));

	if (status)
		refuse(c, status, status == 501 ? "not_implemented" : "bad_request", NULL, "%s", msg);
	return status;
}

/* The head is in: check what can be checked before reading a body. */
static void head_done(struct conn *c)
{
	struct http_req *h = &c->http;
	size_t limit;
	char more[32];

	c->req = (struct request){ .conn = c, .http = h };
	if (!route_public(h->path) && !auth_ok(h->auth))
		return refuse(c, 401, "unauthorized", NULL, "a valid bearer token is required");
	if (framing_refused(c))
		return;
	c->route = route_find(h->method, h->path, c->req.arg, sizeof(c->req.arg), c->allow, sizeof(c->allow));
	if (!c->route)
		return no_route(c);
	limit = c->route->body == BODY_UPLOAD ? UPLOAD_MAX : c->route->body == BODY_STREAM ? STREAM_BODY_MAX :
		JSON_BODY_MAX;
	snprintf(more, sizeof(more), "\"limit\":%zu", limit);
	/* Only a streamed body can be of unknown length: the others are held whole. */
	if (h->chunked ? c->route->body != BODY_STREAM : !h->has_length && c->route->body != BODY_JSON)
		return refuse(c, 411, "length_required", NULL,
			      "a request body needs Content-Length (chunked bodies: streamed routes only)");
	if (h->content_length > limit)
		return refuse(c, 413, "too_large", more, "the body is %llu bytes; at most %zu are taken",
			      (unsigned long long)h->content_length, limit);
	if (!content_type_ok(c))
		return refuse(c, 415, "unsupported_media_type", NULL, "Content-Type %s is not taken here",
			      *h->ctype ? h->ctype : "(none)");
	if (c->route->body == BODY_UPLOAD && uploads >= UPLOADS_MAX)
		return refuse(c, 503, "busy", NULL, "another upload is in progress");
	if (c->route->body == BODY_STREAM)
		return sink_start(c);
	if (!h->content_length)
		return run_handler(c);
	c->body = malloc(h->content_length);
	if (!c->body)
		return refuse(c, 507, "admission_refused", "\"resource\":\"memory\"",
			      "the control domain has no room for a %llu-byte body",
			      (unsigned long long)h->content_length);
	uploads += c->route->body == BODY_UPLOAD;
	c->body_taken = 0;
	read_body(c);
}

/* A phase's deadline passed: a slow head or body gets 408, an idle
 * keep-alive connection or a finished drain is just closed. */
static void timed_out(struct conn *c)
{
	if ((c->state == C_HEAD && c->in_len) || c->state == C_BODY) {
		conn_free_body(c);          /* first: a streamed body's sink is in c->req */
		c->req = (struct request){ .conn = c, .http = &c->http };
		c->http.keep_alive = false;
		reply_error(&c->req, 408, "timeout", NULL, "the request did not arrive in time");
		c->state = C_WRITE;
		c->close_after = true;
		c->deadline_ms = now_ms() + DRAIN_MS;
		return;
	}
	conn_close(c);      /* idle keep-alive, drain over, or a client not reading */
}

/* Handle a complete head in c->in, if there is one. */
static void try_head(struct conn *c)
{
	enum http_parse r = http_parse(c->in, c->in_len, &c->http);
	size_t rest;

	if (r == HTTP_INCOMPLETE)
		return;
	c->req = (struct request){ .conn = c, .http = &c->http };
	c->answered = false;
	if (r != HTTP_OK) {
		c->http.keep_alive = false;
		if (r == HTTP_TOO_LARGE)
			reply_error_more(&c->req, 431, "headers_too_large", "\"limit\":8192",
					 "request line and headers over %d bytes or %d lines", HTTP_HEAD_MAX,
					 HTTP_LINES_MAX);
		else
			reply_error(&c->req, 400, "bad_request", NULL, "malformed HTTP request head");
		return start_write(c);
	}
	rest = c->in_len - c->http.head_len;
	memmove(c->in, c->in + c->http.head_len, rest);
	c->in_len = rest;
	head_done(c);
}

/* ---- the socket side ------------------------------------------------------ */

/* Bytes read, or -1 when the connection is gone (closed, reset, or
 * dropped mid-upload: the partial body is freed with it). */
static ssize_t read_some(struct conn *c, char *into, size_t room)
{
	ssize_t n = recv(c->fd, into, room, 0);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
		conn_close(c);
		return -1;
	}
	return n > 0 ? n : 0;
}

/* Bytes into c->in: a head's, or a chunked body's coded bytes (there is
 * room: chunked_progress empties c->in while the body goes on). */
static void read_in(struct conn *c)
{
	ssize_t n = read_some(c, c->in + c->in_len, sizeof(c->in) - c->in_len);

	if (n <= 0)
		return;
	if (c->state == C_HEAD && c->in_len == 0)
		c->deadline_ms = now_ms() + HEAD_MS;
	c->in_len += (size_t)n;
	if (c->state == C_HEAD)
		try_head(c);
	else
		chunked_progress(c);
}

static void on_readable(struct conn *c)
{
	char scratch[2048];
	ssize_t n;

	if (c->state == C_HEAD || (c->state == C_BODY && c->http.chunked)) {
		read_in(c);
	} else if (c->state == C_BODY) {
		n = read_some(c, c->body + c->body_len, body_room(c));
		c->body_len += n > 0 ? (size_t)n : 0;
		if (n > 0)
			body_progress(c);
	} else {
		read_some(c, scratch, sizeof(scratch));   /* while streaming or draining: dropped */
	}
}

/* Everything sent: what comes next. */
static void written(struct conn *c)
{
	buf_reset(&c->out);
	c->out_off = 0;
	if (c->state != C_WRITE || c->streaming)
		return;
	if (c->close_after) {
		shutdown(c->fd, SHUT_WR);
		c->state = C_DRAIN;
		c->deadline_ms = now_ms() + DRAIN_MS;
		return;
	}
	c->state = C_HEAD;
	c->deadline_ms = now_ms() + (c->in_len ? HEAD_MS : IDLE_MS);
	try_head(c);                              /* a pipelined request */
}

static void on_writable(struct conn *c)
{
	ssize_t n = send(c->fd, c->out.p + c->out_off, c->out.len - c->out_off, 0);

	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		conn_close(c);
		return;
	}
	if (n > 0) {
		c->out_off += (size_t)n;
		c->deadline_ms = c->state == C_WRITE ? now_ms() + IDLE_MS : c->deadline_ms;
	}
	if (c->out_off == c->out.len)
		written(c);
}

/* A stream whose output is drained gets its next piece, or ends. */
static void feed_stream(struct conn *c)
{
	if (c->out.len || c->state != C_WRITE)
		return;
	if (!c->stream.poll(&c->req, &c->stream)) {
		if (c->stream.failed)
			c->close_after = true;    /* cut short: the client must not take it as whole */
		else
			buf_str(&c->out, "0\r\n\r\n");
		c->streaming = false;
	}
	c->deadline_ms = now_ms() + IDLE_MS;
}

int conn_fill_sets(fd_set *rd, fd_set *wr, int maxfd)
{
	uint64_t now = now_ms();

	for (int i = 0; i < CONN_MAX; i++) {
		struct conn *c = &conns[i];

		if (c->fd < 0)
			continue;
		if (c->streaming)
			feed_stream(c);
		if (now > c->deadline_ms && !(c->state == C_WRITE && c->out.len == c->out_off))
			timed_out(c);
		if (c->fd < 0)
			continue;
		FD_SET(c->fd, rd);
		if (c->out.len > c->out_off)
			FD_SET(c->fd, wr);
		maxfd = c->fd > maxfd ? c->fd : maxfd;
	}
	return maxfd;
}

void conn_service(fd_set *rd, fd_set *wr)
{
	for (int i = 0; i < CONN_MAX; i++) {
		struct conn *c = &conns[i];

		if (c->fd >= 0 && FD_ISSET(c->fd, wr))
			on_writable(c);
		if (c->fd >= 0 && FD_ISSET(c->fd, rd))
			on_readable(c);
	}
}
