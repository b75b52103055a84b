/* httpd: an HTTP/1.1 server unikernel.  One thread, non-blocking sockets
 * and select(): keep-alive, pipelining, a static page embedded in the image
 * and a JSON status endpoint.  Garbage gets a 400 and the connection
 * closed; idle or slow clients are closed after IDLE_MS; a peer that
 * vanishes is simply dropped.
 *
 *   httpd [PORT] [--root DIR]    (default port 80)
 *
 * With --root, GET /files/PATH serves DIR/PATH (a file, streamed, or a
 * directory's listing; files.c): built with files (PV_FS), DIR is a
 * volume the manifest mounts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>
#include <paravane.h>
#include <pv_net.h>
#include "http.h"
#include "files.h"

#define MAX_CONN 64
#define IDLE_MS  10000
#define OUT_MAX  8192

static const char index_html[] =
	"<!DOCTYPE html>\n<html><head><title>Paravane</title></head>\n"
	"<body><h1>Hello from a Paravane unikernel</h1>\n"
	"<p>This page is served by lwIP inside a ring-3 PV domain.</p>\n"
	"<p>Status as JSON: <a href=\"/api/status\">/api/status</a></p></body></html>\n";

struct conn {
	int fd;
	uint64_t last_ms;
	size_t in_len, out_len, out_off;
	bool closing;
	int file_fd;                                /* >= 0: streaming file_left bytes */
	uint64_t file_left;
	char in[HTTP_MAX_REQUEST];
	char out[OUT_MAX];
};

static struct conn conns[MAX_CONN];
static unsigned long requests, accepted;
static uint64_t start_ms;

static uint64_t now_ms(void) { return pv_monotonic_ns() / 1000000; }

static void conn_close(struct conn *c)
{
	close(c->fd);
	c->fd = -1;
	if (c->file_fd >= 0)
		close(c->file_fd);
	c->file_fd = -1;
}

static void respond(struct conn *c, int status, const char *type, const char *body, size_t len,
		    bool keep, bool head)
{
	size_t n = http_response(c->out + c->out_len, OUT_MAX - c->out_len, status, type, body, len,
				 keep, head);

	if (!n) {                                   /* output full: give up on this client */
		c->closing = true;
		return;
	}
	c->out_len += n;
	c->closing = c->closing || !keep;
}

/* GET /files/...: headers now, the file's bytes as the output drains. */
static void serve_file(struct conn *c, const struct http_request *req, bool head)
{
	static char list[OUT_MAX - 512];
	struct files_answer a;
	int status = files_lookup(req->path, &a, list, sizeof(list));

	if (status != 200) {
		respond(c, status, "text/plain", http_reason(status), strlen(http_reason(status)),
			req->keep_alive, head);
		return;
	}
	if (a.fd < 0) {
		respond(c, 200, a.type, list, a.body_len, req->keep_alive, head);
		return;
	}
	respond(c, 200, a.type, NULL, a.size, req->keep_alive, true);
	if (head || !a.size)
		close(a.fd);
	else
		c->file_fd = a.fd, c->file_left = a.size;
}

/* Refill the drained output from the file being sent; 0 when done. */
static int stream_file(struct conn *c)
{
	size_t want = c->file_left < OUT_MAX ? (size_t)c->file_left : OUT_MAX;
	ssize_t n = read(c->file_fd, c->out, want);

	if (n <= 0) {                               /* shrank or failed: cut it short */
		c->closing = true;
		c->file_left = 0;
	} else {
		c->out_len = (size_t)n;
		c->file_left -= (uint64_t)n;
	}
	if (!c->file_left) {
		close(c->file_fd);
		c->file_fd = -1;
	}
	return n > 0;
}

static void serve(struct conn *c, const struct http_request *req)
{
	bool head = !strcmp(req->method, "HEAD");
	char json[256];
	int n;

	requests++;
	if (strcmp(req->method, "GET") && !head) {
		respond(c, 405, "text/plain", "method not allowed\n", 19, req->keep_alive, false);
	} else if (!strcmp(req->path, "/") || !strcmp(req->path, "/index.html")) {
		respond(c, 200, "text/html", index_html, sizeof(index_html) - 1, req->keep_alive, head);
	} else if (files_enabled() && !strncmp(req->path, FILES_PREFIX, strlen(FILES_PREFIX))) {
		serve_file(c, req, head);
	} else if (!strcmp(req->path, "/api/status")) {
		n = snprintf(json, sizeof(json),
			     "{\"domain\":\"%s\",\"domid\":%u,\"uptime_ms\":%lu,\"requests\":%lu,"
			     "\"connections\":%lu}\n", pv_domain_name(), pv_domid(),
			     (unsigned long)(now_ms() - start_ms), requests, accepted);
		respond(c, 200, "application/json", json, (size_t)n, req->keep_alive, head);
	} else {
		respond(c, 404, "text/plain", "not found\n", 10, req->keep_alive, head);
	}
}

/* Handle every complete request in the input buffer (pipelining). */
static void handle_input(struct conn *c)
{
	struct http_request req;
	enum http_parse r;

	while (!c->closing && c->file_fd < 0 &&
	       (r = http_parse(c->in, c->in_len, &req)) != HTTP_INCOMPLETE) {
		if (r != HTTP_OK) {
			int status = r == HTTP_TOO_LARGE ? 431 : 400;

			respond(c, status, "text/plain", "bad request\n", 12, false, false);
			c->in_len = 0;
			return;
		}
		serve(c, &req);
		memmove(c->in, c->in + req.length, c->in_len - req.length);
		c->in_len -= req.length;
	}
}

static void on_readable(struct conn *c)
{
	ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
		conn_close(c);                      /* peer closed or reset */
		return;
	}
	if (n > 0) {
		c->in_len += (size_t)n;
		c->last_ms = now_ms();
		handle_input(c);
	}
}

static void on_writable(struct conn *c)
{
	ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, 0);

	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		conn_close(c);
		return;
	}
	if (n > 0) {
		c->out_off += (size_t)n;
		c->last_ms = now_ms();
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		if (c->file_fd >= 0 && stream_file(c))
			return;
		if (c->closing)
			conn_close(c);
		else
			handle_input(c);            /* requests that waited for room */
	}
}

static void on_accept(int lfd)
{
	int fd = accept(lfd, NULL, NULL);
	struct conn *c = NULL;

	if (fd < 0)
		return;
	for (int i = 0; i < MAX_CONN && !c && fd < FD_SETSIZE; i++)
		if (conns[i].fd < 0)
			c = &conns[i];
	if (!c) {                                   /* full: refuse politely */
		static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

		send(fd, busy, sizeof(busy) - 1, 0);
		close(fd);
		return;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	memset(c, 0, offsetof(struct conn, in));
	c->fd = fd;
	c->file_fd = -1;
	c->last_ms = now_ms();
	accepted++;
}

static int fill_sets(int lfd, fd_set *rd, fd_set *wr)
{
	int maxfd = lfd;

	FD_ZERO(rd);
	FD_ZERO(wr);
	FD_SET(lfd, rd);
	for (int i = 0; i < MAX_CONN; i++) {
		struct conn *c = &conns[i];

		if (c->fd < 0)
			continue;
		if (now_ms() - c->last_ms > IDLE_MS) {
			conn_close(c);              /* slow or idle client */
			continue;
		}
		if (c->out_len || c->file_fd >= 0)
			FD_SET(c->fd, wr);
		else
			FD_SET(c->fd, rd);
		maxfd = c->fd > maxfd ? c->fd : maxfd;
	}
	return maxfd;
}

int main(int argc, char **argv)
{
	int port = argc > 1 && argv[1][0] != '-' ? atoi(argv[1]) : 80, lfd;
	char addr[96];

	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--root"))
			files_set_root(argv[i + 1]);
	start_ms = now_ms();
	for (int i = 0; i < MAX_CONN; i++)
		conns[i].fd = -1;
	if (pv_net_start() < 0 && pv_net_netif() == NULL)
		printf("httpd: warning: no network device\n");
	pv_net_address(addr, sizeof(addr));
	lfd = pv_net_listen(port, 64, 1);
	if (lfd < 0) {
		printf("httpd: cannot listen on port %d (errno %d)\n", port, -lfd);
		return 1;
	}
	printf("httpd: serving on %s port %d\n", addr, port);
	fflush(stdout);
	for (;;) {
		fd_set rd, wr;
		struct timeval tv = { 1, 0 };
		int maxfd = fill_sets(lfd, &rd, &wr);

		if (select(maxfd + 1, &rd, &wr, NULL, &tv) <= 0)
			continue;
		if (FD_ISSET(lfd, &rd))
			on_accept(lfd);
		for (int i = 0; i < MAX_CONN; i++) {
			struct conn *c = &conns[i];

			if (c->fd >= 0 && FD_ISSET(c->fd, &wr))
				on_writable(c);
			else if (c->fd >= 0 && FD_ISSET(c->fd, &rd))
				on_readable(c);
		}
	}
}
