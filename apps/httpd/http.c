/* HTTP/1.1 parsing and formatting (see http.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "http.h"

const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

static const char *find_end(const char *buf, size_t len)
{
	for (size_t i = 3; i < len; i++)
		if (buf[i - 3] == '\r' && buf[i - 2] == '\n' && buf[i - 1] == '\r' && buf[i] == '\n')
			return buf + i + 1;
	return NULL;
}

static int parse_line(const char *p, const char *eol, struct http_request *req)
{
	const char *sp1 = memchr(p, ' ', (size_t)(eol - p)), *sp2;
	size_t mlen, plen;

	if (!sp1)
		return -1;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (!sp2)
		return -1;
	mlen = (size_t)(sp1 - p);
	plen = (size_t)(sp2 - sp1 - 1);
	if (!mlen || mlen >= sizeof(req->method) || !plen || plen >= sizeof(req->path) || sp1[1] != '/')
		return -1;
	memcpy(req->method, p, mlen);
	req->method[mlen] = 0;
	memcpy(req->path, sp1 + 1, plen);
	req->path[plen] = 0;
	for (size_t i = 0; i < mlen; i++)
		if (!isupper((unsigned char)p[i]))
			return -1;
	if ((size_t)(eol - sp2 - 1) == 8 && !memcmp(sp2 + 1, "HTTP/1.1", 8))
		req->http11 = true;
	else if (!((size_t)(eol - sp2 - 1) == 8 && !memcmp(sp2 + 1, "HTTP/1.0", 8)))
		return -1;
	req->keep_alive = req->http11;
	return 0;
}

static int parse_header(const char *p, const char *eol, struct http_request *req)
{
	const char *colon = memchr(p, ':', (size_t)(eol - p)), *v;
	size_t vlen;

	if (!colon || colon == p)
		return -1;
	for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
		;
	vlen = (size_t)(eol - v);
	if ((size_t)(colon - p) == 10 && !strncasecmp(p, "Connection", 10)) {
		if (vlen == 5 && !strncasecmp(v, "close", 5))
			req->keep_alive = false;
		else if (vlen == 10 && !strncasecmp(v, "keep-alive", 10))
			req->keep_alive = true;
	}
	if ((size_t)(colon - p) == 14 && !strncasecmp(p, "Content-Length", 14) && atol(v) != 0)
		return -1;
	return 0;
}

enum http_parse http_parse(const char *buf, size_t len, struct http_request *req)
{
	const char *end = find_end(buf, len), *p = buf, *eol;

	memset(req, 0, sizeof(*req));
	if (!end)
		return len >= HTTP_MAX_REQUEST ? HTTP_TOO_LARGE : HTTP_INCOMPLETE;
	if ((size_t)(end - buf) > HTTP_MAX_REQUEST)
		return HTTP_TOO_LARGE;
	eol = memchr(p, '\r', (size_t)(end - p));
	if (!eol || eol[1] != '\n' || parse_line(p, eol, req))
		return HTTP_BAD;
	for (p = eol + 2; p < end - 2; p = eol + 2) {
		eol = memchr(p, '\r', (size_t)(end - p));
		if (!eol || eol[1] != '\n' || parse_header(p, eol, req))
			return HTTP_BAD;
	}
	req->length = (size_t)(end - buf);
	return HTTP_OK;
}

size_t http_response(char *out, size_t n, int status, const char *type, const char *body,
		     size_t body_len, bool keep_alive, bool head)
{
	int h = snprintf(out, n,
			 "HTTP/1.1 %d %s\r\nServer: paravane-httpd\r\nContent-Type: %s\r\n"
			 "Content-Length: %zu\r\nConnection: %s\r\n\r\n",
			 status, http_reason(status), type, body_len, keep_alive ? "keep-alive" : "close");

	if (h < 0 || (size_t)h >= n || (!head && (size_t)h + body_len > n))
		return 0;
	if (!head)
		memcpy(out + h, body, body_len);
	return (size_t)h + (head ? 0 : body_len);
}
