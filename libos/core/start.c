/* From _start to main: check what the hypervisor handed over, give newlib
 * its heap, build argv, run constructors, then exit(main(...)).
 *
 * The hypervisor has already zeroed .bss and set up the stack; nothing
 * here may rely on stdio or malloc until libos_heap_init() has run.
 */
#include <stdlib.h>
#include <string.h>

#include <paravane.h>

#include "libos.h"

/* argv: every word of the command line plus, when it has none, the name. */
#define MAX_ARGS (PV_CMDLINE_MAX / 2 + 2)

const struct pv_start_info *libos_si;
struct pv_shared_info *libos_shared;

static char arg_buf[PV_CMDLINE_MAX + 1];
static char name_buf[PV_NAME_MAX + 1];
static char *arg_v[MAX_ARGS + 1];

extern char **environ;	/* newlib's; empty: manifests set no env */
extern void __libc_init_array(void);
extern void __libc_fini_array(void);
int main(int argc, char **argv, char **envp);

/* Nothing is set up, so say why directly and end as a crash. */
__attribute__((noreturn)) static void refuse(const char *why)
{
	libos_console_puts("libos: ");
	libos_console_puts(why);
	libos_console_puts(": this image does not match the hypervisor\n");
	pv_shutdown(PV_SHUTDOWN_CRASH, 127);
}

static void check_start_info(const struct pv_start_info *si)
{
	const struct pv_shared_info *sh;

	if (si->magic != PV_START_INFO_MAGIC)
		refuse("bad start_info magic");
	if (si->abi_version != PV_ABI_VERSION)
		refuse("start_info ABI version differs");
	if (si->heap_start > si->heap_end)
		refuse("start_info heap bounds reversed");
	sh = (const struct pv_shared_info *)(uintptr_t)si->shared_info;
	if (!sh || sh->magic != PV_SHARED_INFO_MAGIC)
		refuse("bad shared_info magic");
}

/* argv[0] is the command line's first word; with an empty command line
 * it is the domain name, so argc is always at least 1. */
static int build_argv(const struct pv_start_info *si)
{
	int argc = libos_cmdline_split(si->cmdline, PV_CMDLINE_MAX, arg_buf,
				       sizeof(arg_buf), arg_v, MAX_ARGS);

	if (argc == 0) {
		strncpy(name_buf, si->name, PV_NAME_MAX);
		arg_v[argc++] = name_buf;
	}
	arg_v[argc] = NULL;
	return argc;
}

void libos_start(const struct pv_start_info *si)
{
	int argc;

	check_start_info(si);
	libos_si = si;
	libos_shared = (struct pv_shared_info *)(uintptr_t)si->shared_info;
	libos_heap_init(si->heap_start, si->heap_end);
	argc = build_argv(si);
	libos_fd_console_init();

	__libc_init_array();		/* _init(), then C constructors */
	atexit(__libc_fini_array);	/* destructors run from exit() */
	exit(main(argc, arg_v, environ));
}
