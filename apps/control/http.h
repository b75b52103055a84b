/* HTTP/1.1 request heads: parsed from the connection's buffer into a
 * struct http_req of copies (nothing points into the buffer, which moves).
 * Only what the API needs is kept; other headers are skipped. */
#ifndef CONTROL_HTTP_H
#define CONTROL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX   8192    /* request line + headers */
#define HTTP_LINES_MAX  64
#define HTTP_PATH_MAX   512
#define HTTP_TOKEN_MAX  160     /* the Authorization value kept */

struct http_req {
	char method[8];
	char path[HTTP_PATH_MAX];      /* without the query */
	char query[HTTP_PATH_MAX];     /* after '?', may be empty */
	char auth[HTTP_TOKEN_MAX];     /* Authorization value, "" if absent or too long */
	char ctype[64];                /* Content-Type, lower-cased, parameters cut */
	char last_event_id[24];
	char coding[48];               /* Transfer-Encoding, several joined by ", ", cut to fit */
	bool http11, keep_alive, expect_continue, has_length;
	bool has_coding;               /* a Transfer-Encoding came */
	bool chunked;                  /* ... and it is "chunked" alone (any case) */
	uint64_t content_length;
	size_t head_len;               /* bytes of the buffer the head used */
};

enum http_parse {
	HTTP_INCOMPLETE = 0,
	HTTP_OK = 1,
	HTTP_BAD = -1,                 /* 400 bad_request */
	HTTP_TOO_LARGE = -2,           /* 431 headers_too_large */
};

enum http_parse http_parse(const char *buf, size_t len, struct http_req *req);
const char *http_reason(int status);
/* Can the body's framing be read (RFC 9112 §6)?  0 if so, else the status
 * to refuse the request with (400, 501) and msg says why. */
int http_framing(const struct http_req *req, char *msg, size_t n);
/* The value of query parameter key ("" for "key" alone), or NULL. */
const char *http_query(const struct http_req *req, const char *key, char *out, size_t n);

#endif
