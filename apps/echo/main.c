/* echo: TCP and UDP echo (RFC 862) on the port given as argv[1], 7 by
 * default.  Shows the socket API on lwIP and the libos's threads: one
 * thread per TCP connection, one for UDP, and main accepting. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <paravane.h>
#include <pv_net.h>
#include <pv_thread.h>

PV_REQUIRE_DEVICES(1, 0);

#define BUF_SIZE 2048

struct conn {
	int fd;
	char peer[INET_ADDRSTRLEN + 8];
	char buf[BUF_SIZE];		/* not on the thread's 16 KiB stack */
};

static void name_peer(const struct sockaddr_in *sa, char *buf, size_t n)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof(ip));
	snprintf(buf, n, "%s:%u", ip, ntohs(sa->sin_port));
}

/* Write all of it: send() may take less than asked. */
static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, 0);

		if (n < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static void *tcp_conn(void *arg)
{
	struct conn *c = arg;
	unsigned long total = 0;
	ssize_t n;

	while ((n = recv(c->fd, c->buf, sizeof(c->buf), 0)) > 0) {
		if (send_all(c->fd, c->buf, n) < 0)
			break;
		total += n;
	}
	printf("tcp %s closed (%lu bytes echoed%s%s)\n", c->peer, total,
	       n < 0 ? ", " : "", n < 0 ? strerror(errno) : "");
	close(c->fd);
	free(c);
	return NULL;
}

static void *udp_echo(void *arg)
{
	int fd = (int)(long)arg;
	static char buf[BUF_SIZE];

	for (;;) {
		struct sockaddr_in from;
		socklen_t len = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0,
				     (struct sockaddr *)&from, &len);

		if (n < 0) {
			printf("udp: recvfrom: %s\n", strerror(errno));
			continue;
		}
		sendto(fd, buf, n, 0, (struct sockaddr *)&from, len);
	}
	return NULL;
}

static int open_socket(int type, unsigned int port)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_ANY),
	};
	int one = 1;
	int fd = socket(AF_INET, type, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 16) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void accept_loop(int lfd)
{
	for (;;) {
		struct sockaddr_in sa;
		socklen_t len = sizeof(sa);
		struct conn *c = malloc(sizeof(*c));
		struct pv_thread *t;

		if (!c || (c->fd = accept(lfd, (struct sockaddr *)&sa, &len)) < 0) {
			printf("accept: %s\n", strerror(c ? errno : ENOMEM));
			free(c);
			pv_thread_sleep_ns(100000000);	/* out of sockets */
			continue;
		}
		name_peer(&sa, c->peer, sizeof(c->peer));
		printf("tcp %s open\n", c->peer);
		t = pv_thread_create("conn", tcp_conn, c, 0);
		if (!t) {
			printf("tcp %s closed (no memory for a thread)\n", c->peer);
			close(c->fd);
			free(c);
			continue;
		}
		pv_thread_detach(t);
	}
}

int main(int argc, char **argv)
{
	unsigned int port = argc > 1 ? strtoul(argv[1], NULL, 0) : 7;
	char addr[96];
	int err, tfd, ufd;
	struct pv_thread *t;

	err = pv_net_start();
	if (err) {
		printf("echo: no network: %s\n", strerror(-err));
		return 1;
	}
	tfd = open_socket(SOCK_STREAM, port);
	ufd = open_socket(SOCK_DGRAM, port);
	if (tfd < 0 || ufd < 0) {
		printf("echo: port %u: %s\n", port, strerror(errno));
		return 1;
	}
	t = pv_thread_create("udp", udp_echo, (void *)(long)ufd, 0);
	if (!t)
		return 1;
	pv_thread_detach(t);
	pv_net_address(addr, sizeof(addr));
	printf("echo: %s, tcp and udp port %u\n", addr, port);
	accept_loop(tfd);
	return 0;
}
