/* Guest-to-guest transfers over lwIP sockets, checked on both ends.
 *
 *   tcpxfer server PORT           receive one stream, print its checksum, send it back
 *   tcpxfer client IP PORT MIB    send MIB MiB of pseudo-random bytes, compare checksums
 *   tcpxfer udp IP PORT COUNT     COUNT datagrams to a UDP echo server, count replies
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <paravane.h>
#include <pv_net.h>

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	while (n--)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

static uint64_t now_ns(void) { return pv_monotonic_ns(); }

static int server(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	static uint8_t buf[16384];
	uint64_t h = 0xcbf29ce484222325ull, bytes = 0;
	int lfd = socket(AF_INET, SOCK_STREAM, 0), fd;
	char reply[32];
	ssize_t n;

	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 1))
		return 1;
	printf("tcpxfer: server listening on %d\n", port);
	fflush(stdout);
	fd = accept(lfd, NULL, NULL);
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		h = fnv(h, buf, (size_t)n);
		bytes += (uint64_t)n;
	}
	n = snprintf(reply, sizeof(reply), "%016llx", (unsigned long long)h);
	send(fd, reply, (size_t)n, 0);
	close(fd);
	printf("tcpxfer: server received=%llu checksum=%016llx\n", (unsigned long long)bytes,
	       (unsigned long long)h);
	return 0;
}

static int connect_retry(const char *ip, int port, int type)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	inet_aton(ip, &a.sin_addr);
	for (int attempt = 0; attempt < 50; attempt++) {
		int fd = socket(AF_INET, type, 0);

		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			return fd;
		close(fd);
		pv_block_until(now_ns() + 100000000ull);
	}
	return -1;
}

/* Baseline for the transfer: copying the same number of bytes, in the same
 * chunks, inside this guest. */
static uint64_t memcpy_rate(uint64_t total)
{
	static uint8_t a[16384], b[16384];
	uint64_t t0 = now_ns();

	for (uint64_t done = 0; done < total; done += sizeof(a)) {
		memcpy(b, a, sizeof(a));
		__asm__ volatile("" :: "r"(a), "r"(b) : "memory");   /* both escape: no dead copy */
	}
	t0 = now_ns() - t0;
	return total * 1000000000ull / 1024 / (t0 ? t0 : 1);
}

static int client(const char *ip, int port, long mib)
{
	static uint8_t buf[16384];
	uint64_t h = 0xcbf29ce484222325ull, x = 88172645463325252ull, total = (uint64_t)mib << 20;
	uint64_t sent = 0, t0;
	char reply[17] = { 0 }, mine[17];
	int fd = connect_retry(ip, port, SOCK_STREAM);
	size_t got = 0;
	ssize_t n;

	if (fd < 0)
		return 1;
	t0 = now_ns();
	while (sent < total) {
		for (size_t i = 0; i < sizeof(buf); i += 8) {   /* xorshift64 stream */
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			memcpy(buf + i, &x, 8);
		}
		for (size_t off = 0; off < sizeof(buf);) {
			n = send(fd, buf + off, sizeof(buf) - off, 0);
			if (n <= 0)
				return 1;
			off += (size_t)n;
		}
		h = fnv(h, buf, sizeof(buf));
		sent += sizeof(buf);
	}
	shutdown(fd, SHUT_WR);
	while (got < 16 && (n = recv(fd, reply + got, 16 - got, 0)) > 0)
		got += (size_t)n;
	t0 = now_ns() - t0;
	snprintf(mine, sizeof(mine), "%016llx", (unsigned long long)h);
	printf("tcpxfer: client sent=%llu checksum=%s server=%s match=%d kib_per_s=%llu memcpy_kib_per_s=%llu\n",
	       (unsigned long long)sent, mine, reply, !strcmp(mine, reply),
	       (unsigned long long)(sent * 1000000000ull / 1024 / (t0 ? t0 : 1)),
	       (unsigned long long)memcpy_rate(total));
	return strcmp(mine, reply) ? 1 : 0;
}

static int udp(const char *ip, int port, long count)
{
	int fd = connect_retry(ip, port, SOCK_DGRAM);
	struct timeval tv = { 0, 200000 };
	char msg[64], back[64];
	long ok = 0;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	pv_block_until(now_ns() + 500000000ull);      /* the echo server may be starting */
	for (long i = 0; i < count; i++) {
		int n = snprintf(msg, sizeof(msg), "datagram %ld", i);

		send(fd, msg, (size_t)n, 0);
		if (recv(fd, back, sizeof(back), 0) == n && !memcmp(back, msg, (size_t)n))
			ok++;
	}
	printf("tcpxfer: udp sent=%ld echoed=%ld\n", count, ok);
	return ok == count ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	pv_net_start();
	if (!strcmp(mode, "server") && argc > 2)
		return server(atoi(argv[2]));
	if (!strcmp(mode, "client") && argc > 4)
		return client(argv[2], atoi(argv[3]), atol(argv[4]));
	if (!strcmp(mode, "udp") && argc > 4)
		return udp(argv[2], atoi(argv[3]), atol(argv[4]));
	printf("tcpxfer: usage: server PORT | client IP PORT MIB | udp IP PORT COUNT\n");
	return 2;
}
