/* The descriptor table and the calls that take a descriptor (see
 * libos.h): read, write, pread, pwrite, lseek, fstat, ftruncate, fsync,
 * fdatasync, close, dup, dup2, fcntl, isatty.  An entry points to an open
 * file description (ops, object, O_* flags, offset-free: the object keeps
 * its own), shared by dup() and freed with its last descriptor.
 *
 * One vCPU and cooperative threads: an op that blocks lets other threads
 * run, and they may close the descriptor meanwhile, so a call holds a
 * reference to the description until its op returns. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libos.h"

struct ofd {
	const struct libos_file_ops *ops;
	void *obj;
	int flags;                 /* O_ACCMODE | O_APPEND | O_NONBLOCK ... */
	int refs;                  /* descriptors + calls in progress */
};

static struct ofd *table[LIBOS_FD_MAX];

/* ---- the table ------------------------------------------------------------- */

static int lowest_free(int from)
{
	if (from < libos_fd_reserved_end)
		from = libos_fd_reserved_end;
	for (int fd = from; fd < LIBOS_FD_MAX; fd++)
		if (!table[fd])
			return fd;
	return -EMFILE;
}

/* The description fd names, with a reference the caller drops (put). */
static struct ofd *get(int fd)
{
	struct ofd *o = fd >= 0 && fd < LIBOS_FD_MAX ? table[fd] : NULL;

	if (o)
		o->refs++;
	return o;
}

static int put(struct ofd *o)
{
	if (--o->refs)
		return 0;
	int r = o->ops->close ? o->ops->close(o->obj) : 0;

	free(o);
	return r;
}

int libos_fd_install(const struct libos_file_ops *ops, void *obj, int flags)
{
	int fd = lowest_free(0);
	struct ofd *o;

	if (fd < 0)
		return fd;
	if (!(o = malloc(sizeof(*o))))
		return -ENOMEM;
	*o = (struct ofd){ ops, obj, flags, 1 };
	table[fd] = o;
	return fd;
}

void *libos_fd_object(int fd, const struct libos_file_ops *ops)
{
	struct ofd *o = fd >= 0 && fd < LIBOS_FD_MAX ? table[fd] : NULL;

	return o && o->ops == ops ? o->obj : NULL;
}

/* The console's descriptors (fd_console.c) are filled in before main(). */
void libos_fd_set_static(int fd, const struct libos_file_ops *ops, void *obj, int flags)
{
	static struct ofd fixed[3];

	fixed[fd] = (struct ofd){ ops, obj, flags, 1 };
	fixed[fd].refs++;            /* never freed: static storage */
	table[fd] = &fixed[fd];
}

/* ---- calls ------------------------------------------------------------------ */

static long ret(long r)
{
	return r < 0 ? libos_fail((int)-r) : r;
}

static int writable(const struct ofd *o)
{
	return (o->flags & O_ACCMODE) != O_RDONLY;
}

static int readable(const struct ofd *o)
{
	return (o->flags & O_ACCMODE) != O_WRONLY;
}

/* newlib 3.3 declares read() and write() as returning int. */
_READ_WRITE_RETURN_TYPE read(int fd, void *buf, size_t n)
{
	struct ofd *o = get(fd);
	long r = !o ? -EBADF : !readable(o) || !o->ops->read ? -EBADF :
		 o->ops->read(o->obj, buf, n > INT_MAX ? INT_MAX : n);

	if (o)
		put(o);
	return ret(r);
}

_READ_WRITE_RETURN_TYPE write(int fd, const void *buf, size_t n)
{
	struct ofd *o = get(fd);
	long r = !o ? -EBADF : !writable(o) || !o->ops->write ? -EBADF :
		 o->ops->write(o->obj, buf, n > INT_MAX ? INT_MAX : n, o->flags);

	if (o)
		put(o);
	return ret(r);
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	struct ofd *o = get(fd);
	long r = !o || !readable(o) ? -EBADF : !o->ops->pread ? -ESPIPE :
		 off < 0 ? -EINVAL : o->ops->pread(o->obj, buf, n > INT_MAX ? INT_MAX : n, off);

	if (o)
		put(o);
	return ret(r);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	struct ofd *o = get(fd);
	long r = !o || !writable(o) ? -EBADF : !o->ops->pwrite ? -ESPIPE :
		 off < 0 ? -EINVAL : o->ops->pwrite(o->obj, buf, n > INT_MAX ? INT_MAX : n, off);

	if (o)
		put(o);
	return ret(r);
}

off_t lseek(int fd, off_t off, int whence)
{
	struct ofd *o = get(fd);
	long r = !o ? -EBADF : !o->ops->lseek ? -ESPIPE : o->ops->lseek(o->obj, off, whence);

	if (o)
		put(o);
	return ret(r);
}

int fstat(int fd, struct stat *st)
{
	struct ofd *o = get(fd);
	long r = !o ? -EBADF : !o->ops->fstat ? -EINVAL : o->ops->fstat(o->obj, st);

	if (o)
		put(o);
	return ret(r);
}

int ftruncate(int fd, off_t len)
{
	struct ofd *o = get(fd);
	long r = !o || !writable(o) ? -EBADF : !o->ops->ftruncate ? -EINVAL :
		 len < 0 ? -EINVAL : o->ops->ftruncate(o->obj, len);

	if (o)
		put(o);
	return ret(r);
}

static int sync_fd(int fd, int datasync)
{
	struct ofd *o = get(fd);
	long r = !o ? -EBADF : !o->ops->fsync ? -EINVAL : o->ops->fsync(o->obj, datasync);

	if (o)
		put(o);
	return ret(r);
}

int fsync(int fd)
{
	return sync_fd(fd, 0);
}

int fdatasync(int fd)
{
	return sync_fd(fd, 1);
}

int isatty(int fd)
{
	struct ofd *o = get(fd);
	int tty;

	if (!o)
		return libos_fail(EBADF), 0;
	tty = o->ops->isatty && o->ops->isatty(o->obj);
	put(o);
	return tty ? 1 : (libos_fail(ENOTTY), 0);
}

int close(int fd)
{
	struct ofd *o = fd >= 0 && fd < LIBOS_FD_MAX ? table[fd] : NULL;

	if (!o)
		return libos_fail(EBADF);
	table[fd] = NULL;
	return ret(put(o));
}

/* ---- duplicates ------------------------------------------------------------- */

static int dup_at(int fd, int from)
{
	struct ofd *o = fd >= 0 && fd < LIBOS_FD_MAX ? table[fd] : NULL;
	int nfd;

	if (!o)
		return libos_fail(EBADF);
	if (from < 0 || from >= LIBOS_FD_MAX)
		return libos_fail(EINVAL);
	if ((nfd = lowest_free(from)) < 0)
		return libos_fail(-nfd);
	o->refs++;
	table[nfd] = o;
	return nfd;
}

int dup(int fd)
{
	return dup_at(fd, 0);
}

/* Any target but a socket's number (lwIP owns those). */
int dup2(int fd, int to)
{
	struct ofd *o = fd >= 0 && fd < LIBOS_FD_MAX ? table[fd] : NULL;

	if (!o || to < 0 || to >= LIBOS_FD_MAX || (to >= 3 && to < libos_fd_reserved_end))
		return libos_fail(EBADF);
	if (to == fd)
		return to;
	o->refs++;
	if (table[to])
		put(table[to]);
	table[to] = o;
	return to;
}

int fcntl(int fd, int cmd, ...)
{
	struct ofd *o = fd >= 0 && fd < LIBOS_FD_MAX ? table[fd] : NULL;
	va_list ap;
	int arg;

	va_start(ap, cmd);
	arg = va_arg(ap, int);
	va_end(ap);
	if (!o)
		return libos_fail(EBADF);
	switch (cmd) {
	case F_GETFL:
		return o->flags;
	case F_SETFL:           /* only O_APPEND and O_NONBLOCK may change */
		o->flags = (o->flags & ~(O_APPEND | O_NONBLOCK)) | (arg & (O_APPEND | O_NONBLOCK));
		return 0;
	case F_GETFD:
	case F_SETFD:           /* no exec: close-on-exec means nothing */
		return 0;
	case F_DUPFD:
		return dup_at(fd, arg);
	default:
		return libos_fail(EINVAL);
	}
}
