/* newlib's system calls, by their POSIX names.  This target builds newlib
 * with MISSING_SYSCALL_NAMES, so its _write_r() and friends call write(),
 * not _write() (shared/TOOLCHAIN.md section 3).  Errors are set with
 * libos_fail(), which fills both of newlib's errno copies (libc/errno.c).
 *
 * There is no file system and no process: file descriptors 0-2 are the
 * console, every other descriptor is EBADF, and the "process" is the
 * domain.  Clocks and sleeps are in libc/clock.c, memory in libc/memory.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <paravane.h>

#include "libos.h"

static int is_console(int fd)
{
	return fd >= 0 && fd <= 2;
}

/* ---- file descriptors: 0-2 are the console ------------------------------- */

/* newlib 3.3 declares read() and write() as returning int. */
_READ_WRITE_RETURN_TYPE write(int fd, const void *buf, size_t n)
{
	long r;

	if (fd != STDOUT_FILENO && fd != STDERR_FILENO)
		return libos_fail(EBADF);
	if (n > INT_MAX)
		n = INT_MAX;
	r = pv_console_write(buf, n);
	return r < 0 ? libos_fail(-r) : r;
}

/* The console has no input yet: stdin is always at end of file. */
_READ_WRITE_RETURN_TYPE read(int fd, void *buf, size_t n)
{
	return fd == STDIN_FILENO ? 0 : libos_fail(EBADF);
}

int close(int fd)
{
	return is_console(fd) ? 0 : libos_fail(EBADF);
}

/* A character device, so newlib makes stdout line-buffered. */
int fstat(int fd, struct stat *st)
{
	if (!is_console(fd))
		return libos_fail(EBADF);
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFCHR | 0620;
	return 0;
}

int isatty(int fd)
{
	if (!is_console(fd))
		return libos_fail(EBADF);
	return 1;
}

off_t lseek(int fd, off_t off, int whence)
{
	return libos_fail(is_console(fd) ? ESPIPE : EBADF);
}

/* Enough for fdopen() and the like on the console descriptors. */
int fcntl(int fd, int cmd, ...)
{
	if (!is_console(fd))
		return libos_fail(EBADF);
	switch (cmd) {
	case F_GETFL:
		return fd == STDIN_FILENO ? O_RDONLY : O_WRONLY;
	case F_GETFD:
	case F_SETFD:
	case F_SETFL:
		return 0;
	default:
		return libos_fail(EINVAL);
	}
}

/* ---- no file system ------------------------------------------------------ */

int open(const char *path, int flags, ...)
{
	return libos_fail(ENOENT);
}

int stat(const char *path, struct stat *st)
{
	return libos_fail(ENOENT);
}

int unlink(const char *path)
{
	return libos_fail(ENOENT);
}

int link(const char *old, const char *new)
{
	return libos_fail(ENOENT);
}

int mkdir(const char *path, mode_t mode)
{
	return libos_fail(ENOSYS);
}

/* ---- the process is the domain ------------------------------------------- */

pid_t getpid(void)
{
	return pv_domid();
}

pid_t fork(void)
{
	return libos_fail(ENOSYS);
}

int execve(const char *path, char *const argv[], char *const envp[])
{
	return libos_fail(ENOSYS);
}

pid_t wait(int *status)
{
	return libos_fail(ECHILD);
}

/* No asynchronous signals exist, so there is nothing to mask. */
int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	if (old)
		*old = 0;
	return 0;
}

/* "libos: killed by signal NN" without stdio: this is a crash path. */
static void say_signal(int sig)
{
	char msg[] = "libos: killed by signal 00\n";
	char *d = msg + sizeof(msg) - 4;

	d[0] = '0' + sig / 10 % 10;
	d[1] = '0' + sig % 10;
	libos_console_puts(msg);
}

/* raise() with the default handler ends up here.  Signals whose default
 * action is to ignore them do nothing; the others end the domain as a
 * crash whose code is the signal number. */
int kill(pid_t pid, int sig)
{
	if (pid != getpid() && pid != 0)	/* 0: our "process group" */
		return libos_fail(ESRCH);
	if (sig < 0 || sig >= NSIG)
		return libos_fail(EINVAL);
	if (sig == 0 || sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH ||
	    sig == SIGCONT)
		return 0;
	say_signal(sig);
	pv_shutdown(PV_SHUTDOWN_CRASH, sig);
}

/* exit() has run atexit handlers and flushed stdio by now. */
void _exit(int code)
{
	pv_shutdown(PV_SHUTDOWN_EXIT, code);
}

/* Replaces newlib's abort(), which would raise(SIGABRT) and then _exit(1),
 * an ordinary exit.  Flushing stdio from a broken program may fault or
 * loop, so a fixed line goes straight to the console instead; assert()
 * has already printed its message on (unbuffered) stderr. */
void abort(void)
{
	libos_console_puts("abort() called\n");
	pv_shutdown(PV_SHUTDOWN_CRASH, SIGABRT);
}

/* __libc_init_array() calls _init() and __libc_fini_array() calls _fini();
 * there is no crti.o/crtn.o: constructors come from .init_array instead. */
void _init(void)
{
}

void _fini(void)
{
}
