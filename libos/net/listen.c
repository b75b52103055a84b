/* pv_net_listen(): the few lines every TCP server starts with (pv_net.h). */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "lwip/sockets.h"
#include "pv_net.h"

int pv_net_listen(int port, int backlog, int nonblocking)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = lwip_htons((u16_t)port) };
	int fd = lwip_socket(AF_INET, SOCK_STREAM, 0), one = 1, err;

	if (fd < 0)
		return -errno;
	lwip_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_addr.s_addr = PP_HTONL(INADDR_ANY);
	if (lwip_bind(fd, (struct sockaddr *)&a, sizeof(a)) || lwip_listen(fd, backlog) ||
	    (nonblocking && lwip_fcntl(fd, F_SETFL, O_NONBLOCK))) {
		err = errno;
		lwip_close(fd);
		return -err;
	}
	return fd;
}
