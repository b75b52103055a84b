/* A small HTTP/1.1 request parser and response writer, independent of
 * sockets so that it can be reasoned about (and tested) on its own. */
#ifndef HTTPD_HTTP_H
#define HTTPD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_MAX_REQUEST 4096   /* request line + headers */

struct http_request {
	char method[8];
	char path[256];
	bool http11;           /* HTTP/1.1 (else 1.0) */
	bool keep_alive;       /* after Connection: and the version's default */
	size_t length;         /* bytes of the buffer this request used */
};

enum http_parse {
	HTTP_INCOMPLETE = 0,   /* need more bytes */
	HTTP_OK = 1,
	HTTP_BAD = -1,         /* 400 */
	HTTP_TOO_LARGE = -2,   /* 431 */
};

/* Parse the request at the start of buf[0..len).  Bodies are not supported
 * (a Content-Length > 0 is refused as bad). */
enum http_parse http_parse(const char *buf, size_t len, struct http_request *req);

/* Format a full response (headers + body) into out; returns its length, or
 * 0 if it does not fit. */
size_t http_response(char *out, size_t n, int status, const char *type, const char *body,
		     size_t body_len, bool keep_alive, bool head);

const char *http_reason(int status);

#endif
