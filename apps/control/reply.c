/* Writing responses into the connection's output (control.h). */
#include <stdio.h>
#include <string.h>
#include "conn.h"
#include "control.h"

struct buf *request_out(struct request *r)
{
	return &r->conn->out;
}

static void head(struct request *r, int status, const char *ctype, const char *extra)
{
	struct conn *c = r->conn;

	if (!r->http->keep_alive)
		c->close_after = true;
	buf_printf(&c->out, "HTTP/1.1 %d %s\r\nServer: paravane-control\r\nCache-Control: no-store\r\n",
		   status, http_reason(status));
	if (ctype)
		buf_printf(&c->out, "Content-Type: %s\r\n", ctype);
	buf_printf(&c->out, "%sConnection: %s\r\n", extra ? extra : "",
		   c->close_after ? "close" : "keep-alive");
}

void reply(struct request *r, int status, const char *ctype, const char *extra, const void *body,
	   size_t n)
{
	head(r, status, ctype, extra);
	buf_printf(&r->conn->out, "Content-Length: %zu\r\n\r\n", n);
	buf_add(&r->conn->out, body, n);
	r->conn->answered = true;
}

void reply_json(struct request *r, int status, const struct buf *json, const char *extra)
{
	if (json->failed) {
		reply_error(r, 500, "internal", NULL, "the response did not fit in %u bytes", BUF_CAP);
		return;
	}
	reply(r, status, "application/json", extra, json->p, json->len);
}

static void error_v(struct request *r, int status, const char *code, const char *more,
		    const char *fmt, va_list ap)
{
	char msg[400];
	struct buf b = { 0 };
	const char *extra = status == 401 ? "WWW-Authenticate: Bearer realm=\"paravane\"\r\n" :
			    status == 503 ? "Retry-After: 1\r\n" : r->conn->allow_header;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	buf_printf(&b, "{\"error\":{\"code\":\"%s\",\"message\":", code);
	buf_json_cstr(&b, msg);
	if (more && *more)
		buf_printf(&b, ",%s", more);
	buf_str(&b, "}}\n");
	reply(r, status, "application/json", extra, b.p, b.len);
	buf_free(&b);
}

void reply_error(struct request *r, int status, const char *code, const char *field,
		 const char *fmt, ...)
{
	struct buf more = { 0 };
	va_list ap;

	if (field && *field) {
		buf_str(&more, "\"field\":");
		buf_json_cstr(&more, field);
	}
	buf_add(&more, "", 1);
	va_start(ap, fmt);
	error_v(r, status, code, more.p, fmt, ap);
	va_end(ap);
	buf_free(&more);
}

void reply_error_more(struct request *r, int status, const char *code, const char *more,
		      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_v(r, status, code, more, fmt, ap);
	va_end(ap);
}

struct stream *reply_stream(struct request *r, const char *ctype, const char *extra,
			    const struct stream *s)
{
	if (!conn_stream_slot(r->conn)) {
		reply_error(r, 503, "busy", NULL, "too many streaming responses (at most %d)", STREAM_MAX);
		return NULL;
	}
	head(r, 200, ctype, extra);
	buf_str(&r->conn->out, "Transfer-Encoding: chunked\r\n\r\n");
	r->conn->stream = *s;
	r->conn->stream.last_ms = now_ms();
	r->conn->streaming = true;
	r->conn->answered = true;
	return &r->conn->stream;
}

void stream_chunk(struct request *r, const void *p, size_t n)
{
	buf_printf(&r->conn->out, "%zx\r\n", n);
	buf_add(&r->conn->out, p, n);
	buf_str(&r->conn->out, "\r\n");
}
