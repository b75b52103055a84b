/* Socket descriptors in read(), write(), close() and fcntl().
 *
 * The libos owns those four names for the console (libc/syscalls.c) and
 * lwIP keeps its own as lwip_read() & co. (LWIP_POSIX_SOCKETS_IO_NAMES 0:
 * its macros would rename every read( token in an app).  PV_NET apps are
 * linked with --wrap for each name (sdk/mk/guest.mk GUEST_NET_LIBS), so
 * every call, the app's and newlib's alike, comes here first: socket
 * descriptors go to lwIP, the rest to the libos.
 */
#include <stdarg.h>
#include <unistd.h>

#include "lwip/sockets.h"

_READ_WRITE_RETURN_TYPE __real_read(int fd, void *buf, size_t n);
_READ_WRITE_RETURN_TYPE __real_write(int fd, const void *buf, size_t n);
int __real_close(int fd);
int __real_fcntl(int fd, int cmd, ...);

_READ_WRITE_RETURN_TYPE __wrap_read(int fd, void *buf, size_t n);
_READ_WRITE_RETURN_TYPE __wrap_write(int fd, const void *buf, size_t n);
int __wrap_close(int fd);
int __wrap_fcntl(int fd, int cmd, ...);

/* lwIP numbers its sockets from LWIP_SOCKET_OFFSET (3, after the console);
 * the libos's descriptor table (libc/fd.c) leaves that range to it. */
const int libos_fd_reserved_end = LWIP_SOCKET_OFFSET + MEMP_NUM_NETCONN;

static int is_socket(int fd)
{
	return fd >= LWIP_SOCKET_OFFSET &&
	       fd < LWIP_SOCKET_OFFSET + MEMP_NUM_NETCONN;
}

_READ_WRITE_RETURN_TYPE __wrap_read(int fd, void *buf, size_t n)
{
	if (is_socket(fd))
		return lwip_read(fd, buf, n);
	return __real_read(fd, buf, n);
}

_READ_WRITE_RETURN_TYPE __wrap_write(int fd, const void *buf, size_t n)
{
	if (is_socket(fd))
		return lwip_write(fd, buf, n);
	return __real_write(fd, buf, n);
}

int __wrap_close(int fd)
{
	return is_socket(fd) ? lwip_close(fd) : __real_close(fd);
}

/* lwIP knows F_GETFL and F_SETFL with O_NONBLOCK (newlib's value: cc.h
 * includes <fcntl.h> before lwIP defines its own). */
int __wrap_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	int val;

	va_start(ap, cmd);
	val = va_arg(ap, int);
	va_end(ap);
	if (is_socket(fd))
		return lwip_fcntl(fd, cmd, val);
	return __real_fcntl(fd, cmd, val);
}
