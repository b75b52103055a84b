/* fetch: a client unikernel.  Fetches http://IP:PORT/PATH from another
 * unikernel across the virtual switch and prints what it got.
 *
 *   fetch IP [PORT] [PATH]       (defaults: 80, /)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <paravane.h>
#include <pv_net.h>

/* The server may still be starting: retry for a few seconds. */
static int connect_retry(const char *ip, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	if (!inet_aton(ip, &a.sin_addr))
		return -1;
	for (int attempt = 0; attempt < 50; attempt++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			return fd;
		if (fd >= 0)
			close(fd);
		pv_block_until(pv_monotonic_ns() + 100000000ull);
	}
	return -1;
}

int main(int argc, char **argv)
{
	const char *ip = argc > 1 ? argv[1] : "10.0.0.2", *path = argc > 3 ? argv[3] : "/";
	int port = argc > 2 ? atoi(argv[2]) : 80, fd;
	static char buf[16384];
	size_t got = 0;
	ssize_t n;

	pv_net_start();
	fd = connect_retry(ip, port);
	if (fd < 0) {
		printf("fetch: cannot connect to %s:%d\n", ip, port);
		return 1;
	}
	n = snprintf(buf, sizeof(buf), "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, ip);
	send(fd, buf, (size_t)n, 0);
	while (got < sizeof(buf) - 1 && (n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = 0;
	printf("fetch: got %zu bytes from %s:%d%s\n", got, ip, port, path);
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		printf("fetch> %s\n", line);
	return got ? 0 : 1;
}
