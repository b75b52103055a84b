/* HTTP/1.1 request parsing (http.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "http.h"

const char *http_reason(int status)
{
	static const struct { int s; const char *r; } t[] = {
		{ 100, "Continue" }, { 200, "OK" }, { 201, "Created" }, { 400, "Bad Request" },
		{ 401, "Unauthorized" }, { 403, "Forbidden" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 408, "Request Timeout" }, { 409, "Conflict" },
		{ 411, "Length Required" }, { 413, "Payload Too Large" },
		{ 415, "Unsupported Media Type" }, { 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" }, { 503, "Service Unavailable" },
		{ 507, "Insufficient Storage" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].s == status)
			return t[i].r;
	return "Error";
}

static const char *find_end(const char *buf, size_t len)
{
	const char *p = buf;

	while ((p = memchr(p, '\n', (size_t)(buf + len - p))) != NULL) {
		if (p + 2 < buf + len && p[1] == '\r' && p[2] == '\n')
			return p + 3;
		if (p + 1 < buf + len && p[1] == '\n')
			return p + 2;               /* bare LFs: found, to be refused */
		p++;
	}
	return NULL;
}

static bool copy(char *dst, size_t n, const char *s, size_t len)
{
	if (len >= n)
		return false;
	memcpy(dst, s, len);
	dst[len] = 0;
	return true;
}

/* The target: an origin-form path of visible ASCII, split at '?'. */
static bool parse_target(const char *t, size_t len, struct http_req *req)
{
	const char *q = memchr(t, '?', len);
	size_t plen = q ? (size_t)(q - t) : len;

	if (!len || t[0] != '/')
		return false;
	for (size_t i = 0; i < len; i++)
		if (t[i] <= 0x20 || t[i] >= 0x7f)
			return false;
	return copy(req->path, sizeof(req->path), t, plen) &&
	       copy(req->query, sizeof(req->query), q ? q + 1 : "", q ? len - plen - 1 : 0);
}

static bool parse_line(const char *p, const char *eol, struct http_req *req)
{
	const char *sp1 = memchr(p, ' ', (size_t)(eol - p)), *sp2;

	if (!sp1 || !(sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1))))
		return false;
	if (!copy(req->method, sizeof(req->method), p, (size_t)(sp1 - p)) || sp1 == p)
		return false;
	for (const char *m = p; m < sp1; m++)
		if (!isupper((unsigned char)*m))
			return false;
	if (!parse_target(sp1 + 1, (size_t)(sp2 - sp1 - 1), req) || eol - sp2 - 1 != 8)
		return false;
	req->http11 = !memcmp(sp2 + 1, "HTTP/1.1", 8);
	req->keep_alive = req->http11;
	return req->http11 || !memcmp(sp2 + 1, "HTTP/1.0", 8);
}

static bool parse_length(const char *v, size_t n, struct http_req *req)
{
	uint64_t x = 0;

	if (!n || n > 19 || req->has_length)
		return false;               /* two Content-Length headers: refuse */
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)v[i]))
			return false;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	req->content_length = x;
	req->has_length = true;
	return true;
}

static void keep_ctype(const char *v, size_t n, struct http_req *req)
{
	size_t i = 0;

	for (; i < n && i + 1 < sizeof(req->ctype) && v[i] != ';' && v[i] != ' '; i++)
		req->ctype[i] = (char)tolower((unsigned char)v[i]);
	req->ctype[i] = 0;
}

static bool is(const char *name, size_t n, const char *want)
{
	return n == strlen(want) && !strncasecmp(name, want, n);
}

/* Transfer-Encoding: kept whole for http_framing.  A second header adds
 * to the list ("chunked, chunked"), which is no longer chunked alone. */
static bool keep_coding(const char *v, size_t n, struct http_req *req)
{
	size_t have = strlen(req->coding);

	if (!n)
		return false;               /* an empty coding: malformed */
	req->chunked = !req->has_coding && is(v, n, "chunked");
	req->has_coding = true;
	snprintf(req->coding + have, sizeof(req->coding) - have, "%s%.*s", have ? ", " : "", (int)n, v);
	return true;
}

static bool parse_header(const char *p, const char *eol, struct http_req *req)
{
	const char *colon = memchr(p, ':', (size_t)(eol - p)), *v, *e = eol;
	size_t n;

	if (!colon || colon == p || *p == ' ' || *p == '\t')
		return false;               /* no obsolete line folding */
	for (v = colon + 1; v < e && (*v == ' ' || *v == '\t'); v++)
		;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	n = (size_t)(colon - p);
	if (is(p, n, "content-length"))
		return parse_length(v, (size_t)(e - v), req);
	if (is(p, n, "connection"))
		req->keep_alive = is(v, (size_t)(e - v), "close") ? false :
				  is(v, (size_t)(e - v), "keep-alive") ? true : req->keep_alive;
	else if (is(p, n, "authorization"))
		copy(req->auth, sizeof(req->auth), v, (size_t)(e - v));
	else if (is(p, n, "content-type"))
		keep_ctype(v, (size_t)(e - v), req);
	else if (is(p, n, "expect"))
		req->expect_continue = is(v, (size_t)(e - v), "100-continue");
	else if (is(p, n, "transfer-encoding"))
		return keep_coding(v, (size_t)(e - v), req);
	else if (is(p, n, "last-event-id"))
		copy(req->last_event_id, sizeof(req->last_event_id), v, (size_t)(e - v));
	return true;
}

enum http_parse http_parse(const char *buf, size_t len, struct http_req *req)
{
	const char *end = find_end(buf, len), *p, *eol;
	int lines = 0;

	memset(req, 0, sizeof(*req));
	if (!end)
		return len >= HTTP_HEAD_MAX ? HTTP_TOO_LARGE : HTTP_INCOMPLETE;
	if ((size_t)(end - buf) > HTTP_HEAD_MAX)
		return HTTP_TOO_LARGE;
	eol = memchr(buf, '\n', (size_t)(end - buf));
	if (eol == buf || eol[-1] != '\r' || !parse_line(buf, eol - 1, req))
		return HTTP_BAD;
	for (p = eol + 1; p < end - 2; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == p || eol[-1] != '\r' || !parse_header(p, eol - 1, req))
			return HTTP_BAD;
		if (++lines > HTTP_LINES_MAX)
			return HTTP_TOO_LARGE;
	}
	req->head_len = (size_t)(end - buf);
	return HTTP_OK;
}

/* Only chunked alone is decoded (http_chunked.c), only in HTTP/1.1, and
 * never beside Content-Length: RFC 9112 §6.3 lets chunked win, but a
 * request with both is how bodies are smuggled past a proxy that framed it
 * by the other one, so it is refused (and the connection closed). */
int http_framing(const struct http_req *req, char *msg, size_t n)
{
	if (!req->has_coding)
		return 0;
	if (!req->http11)
		return snprintf(msg, n, "Transfer-Encoding in an HTTP/1.0 request"), 400;
	if (!req->chunked)
		return snprintf(msg, n, "Transfer-Encoding %s is not supported (only chunked)", req->coding), 501;
	if (req->has_length)
		return snprintf(msg, n, "Content-Length and Transfer-Encoding: chunked together"), 400;
	return 0;
}

const char *http_query(const struct http_req *req, const char *key, char *out, size_t n)
{
	size_t klen = strlen(key);

	for (const char *p = req->query; *p; p += strcspn(p, "&"), p += *p == '&') {
		size_t plen = strcspn(p, "&");

		if (plen >= klen && !strncmp(p, key, klen) && (plen == klen || p[klen] == '=')) {
			const char *v = plen == klen ? p + klen : p + klen + 1;

			/* Too long for out: a value no parser accepts. */
			return copy(out, n, v, (size_t)(p + plen - v)) ? out : strcpy(out, "!");
		}
	}
	return NULL;
}
