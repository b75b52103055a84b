/* newlib's system calls, by their POSIX names.  This target builds newlib
 * with MISSING_SYSCALL_NAMES, so its _write_r() and friends call write(),
 * not _write() (shared/TOOLCHAIN.md section 3).  Errors are set with
 * libos_fail(), which fills both of newlib's errno copies (libc/errno.c).
 *
 * There is no process: the "process" is the domain.  Descriptors are in
 * libc/fd.c, paths in libc/nofs.c (or libos/fs with files), clocks and
 * sleeps in libc/clock.c, memory in libc/memory.c.
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
	libos_exit_hook();
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
