/* The control domain: the toolstack as an SDK unikernel (docs/api.md).
 * One thread and a select() loop serve the REST API, the event stream and
 * the dashboard; everything about domains and images comes from the
 * hypervisor (hv.c), so a restarted control domain has lost nothing. */
#ifndef CONTROL_H
#define CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "http.h"

#define CONN_MAX        32
#define STREAM_MAX      16
#define JSON_BODY_MAX   (64u << 10)
#define HEAD_MS         10000     /* to send request line and headers */
#define BODY_GAP_MS     10000     /* between body bytes */
#define IDLE_MS         60000     /* idle keep-alive */
#define DRAIN_MS        2000      /* reading what a refused client still sends */

struct conn;

/* A body taken as it arrives (BODY_STREAM): what the sink keeps. */
struct body_feed {
	bool open;                    /* begun and not yet ended or aborted */
	uint32_t handle;
	long err;                     /* a refusal: the handler answers it */
	char msg[160];
};

/* One request as a handler sees it. */
struct request {
	struct conn *conn;
	const struct http_req *http;
	char arg[HTTP_PATH_MAX];      /* the path's {ref}, {name} or {file} */
	const char *body;
	size_t body_len;
	/* The body's bytes (a streamed body's: those its sink took, all unless
	 * it refused one, feed.err).  A chunked body (http->chunked) has no
	 * Content-Length: this is its length. */
	uint64_t body_total;
	struct body_feed feed;        /* BODY_STREAM routes */
};

/* A streaming response (console follow, events): conn.c calls poll every
 * loop turn while the connection's output is drained. */
struct stream {
	bool (*poll)(struct request *r, struct stream *s);   /* false: end it */
	/* The connection went before poll ended the stream (may be NULL). */
	void (*gone)(struct request *r, struct stream *s);
	uint32_t domid;
	uint32_t arg;                 /* the route's own */
	void *ctx;                    /* the route's own */
	uint64_t offset;
	uint64_t last_ms;             /* last data (or keepalive) sent */
	bool sse;
	bool failed;                  /* poll ended it on an error: no final chunk, the client sees it cut */
};

/* Responses (reply.c).  extra: more header lines, each ending in \r\n. */
void reply(struct request *r, int status, const char *ctype, const char *extra, const void *body,
	   size_t n);
void reply_json(struct request *r, int status, const struct buf *json, const char *extra);
void reply_error(struct request *r, int status, const char *code, const char *field,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* An error with more members (already JSON: "\"limit\":65536"). */
void reply_error_more(struct request *r, int status, const char *code, const char *more,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Start a chunked streaming response; false if too many streams. */
struct stream *reply_stream(struct request *r, const char *ctype, const char *extra,
			    const struct stream *s);
void stream_chunk(struct request *r, const void *p, size_t n);
struct buf *request_out(struct request *r);

/* Authentication (auth.c). */
void auth_init(const char *token);
const char *auth_token(void);
bool auth_ok(const char *authorization);

/* Routing (router.c).  A BODY_UPLOAD body is held whole for the handler
 * (images); a BODY_STREAM body goes to the route's sink as it arrives
 * (save streams, larger than any buffer we would hold), then the handler
 * answers. */
enum body_kind { BODY_JSON, BODY_UPLOAD, BODY_STREAM };
struct body_sink {
	bool (*begin)(struct request *r);             /* false: r->feed.err says why */
	bool (*take)(struct request *r, const void *p, size_t n);
	void (*abort)(struct request *r);             /* the body did not all come */
};
struct route {
	const char *method, *pattern;     /* '*' matches one path segment */
	void (*handler)(struct request *r);
	enum body_kind body;
	const struct body_sink *sink;     /* BODY_STREAM */
};
/* The route for method and path, with its '*' copied into arg; NULL with
 * *allow set (the methods the path has, for 405) or empty (404). */
const struct route *route_find(const char *method, const char *path, char *arg, size_t n,
			       char *allow, size_t allow_n);
bool route_public(const char *path);      /* no token needed */
extern bool metrics_open;

/* Names (docs/api.md "Names"). */
bool valid_name(const char *s);
uint64_t now_ms(void);

#endif
