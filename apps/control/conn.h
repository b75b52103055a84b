/* Connections: reading a request (head, then body), answering it, and
 * keeping a streaming response fed; every phase has a deadline. */
#ifndef CONTROL_CONN_H
#define CONTROL_CONN_H

#include <sys/select.h>
#include "control.h"
#include "http_chunked.h"

enum conn_state {
	C_HEAD,          /* reading request line and headers */
	C_BODY,          /* reading Content-Length bytes, or a chunked body */
	C_WRITE,         /* sending the answer */
	C_DRAIN,         /* answered early: discarding what the client still sends */
};

struct conn {
	int fd;
	enum conn_state state;
	uint64_t deadline_ms;
	struct request req;
	struct http_req http;
	const struct route *route;
	char in[HTTP_HEAD_MAX];      /* a head; then a chunked body's coded bytes */
	size_t in_len;
	char *body;                  /* malloc'd: Content-Length bytes (a streamed body: a piece) */
	size_t body_len;
	uint64_t body_taken;         /* a streamed body's bytes its sink took */
	struct chunked chunked;      /* a chunked body's decoder */
	struct buf out;
	size_t out_off;
	bool close_after, answered, streaming;
	struct stream stream;
	const char *allow_header;    /* for a 405: "Allow: ...\r\n" */
	char allow[80];
};

void conn_init(void);
void conn_accept(int lfd);
/* select() sets for every connection; the largest fd. */
int conn_fill_sets(fd_set *rd, fd_set *wr, int maxfd);
void conn_service(fd_set *rd, fd_set *wr);
bool conn_stream_slot(struct conn *c);

#endif
