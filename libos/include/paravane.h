/* Paravane library OS: the app-facing API.
 *
 * An app is an ordinary C program (main, printf, malloc, clock_gettime,
 * nanosleep, exit) linked with newlib and the libos.  This header adds what
 * only a Paravane guest has: its start_info, the hypervisor's clock, the
 * console, events and shutdown.  Everything here is prefixed pv_; the libos
 * keeps its internals static or prefixed libos_, so an app may use any
 * other name.  docs/sdk.md is the guide; the headers in public/ are the
 * ABI beneath.
 *
 * Times are nanoseconds.  "System time" counts from the hypervisor's start
 * and never goes backwards; it is what deadlines are measured in.
 */
#ifndef PARAVANE_H
#define PARAVANE_H

#include <stddef.h>
#include <stdint.h>

#include <public/domctl.h>
#include <public/elfnote.h>
#include <public/hypercall.h>
#include <public/start_info.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- who am I ------------------------------------------------------------ */

/* The read-only start_info page the hypervisor gave this domain: name,
 * memory bounds, command line, devices.  Valid for the whole run. */
const struct pv_start_info *pv_start_info(void);

/* This domain's id (also what getpid() returns). */
uint32_t pv_domid(void);

/* Its identity's generation (shared_info): it changes when this domain
 * becomes a clone of a snapshot (docs/migration.md), with another id,
 * name, MAC and address.  The libOS follows (its network interface takes
 * the new MAC and address; arc4random() keeps no state to share); an app
 * that keeps something that must be unique (a session id, a lease) looks
 * here and renews it when the value moves. */
uint32_t pv_generation(void);

/* The domain's name from the manifest's [guest NAME], NUL terminated. */
const char *pv_domain_name(void);

/* Fill *out with this domain's counters (CPU time, hypercalls, memory,
 * dropped console bytes).  Returns 0, or a negative PV_E* error. */
int pv_domain_info(struct pv_domain_info *out);
/* Privileged domains: one domain-control operation (public/domctl.h);
 * 0 or -PV_E*.  arg starts with a filled struct pv_domctl_hdr. */
long pv_domctl(void *arg, size_t size);
/* The same with the header filled in: magic, version, op, size (of the
 * whole structure at arg), domid, and an empty message. */
long pv_domctl_op(void *arg, uint16_t op, uint32_t size, uint32_t domid);

/* ---- time ---------------------------------------------------------------- */

/* System time: ns since the hypervisor started.  Monotonic, no hypercall. */
uint64_t pv_monotonic_ns(void);

/* Wall-clock time: ns since 1970-01-01 UTC (from the RTC at boot). */
uint64_t pv_wallclock_ns(void);

/* The system time at which the TSC read tsc (e.g. start_info.created_tsc). */
uint64_t pv_tsc_to_ns(uint64_t tsc);

/* ---- console ------------------------------------------------------------- */

/* Write len bytes to this domain's console (what stdout and stderr use).
 * The hypervisor prefixes each line with the domain's name and may drop
 * bytes beyond the domain's rate budget (counted, never blocking).
 * Returns len, or a negative PV_E* error if nothing was written. */
long pv_console_write(const void *buf, size_t len);

/* ---- events and scheduling ----------------------------------------------- */

/* Bit N set = event port N pending.  Read without clearing. */
uint64_t pv_events_poll(void);

/* Clear the pending bits in mask (after handling them), atomically. */
void pv_events_clear(uint64_t mask);

/* Kick the backend bound to port.  Returns 0 or a negative PV_E* error. */
int pv_event_notify(uint32_t port);

/* Sleep until an event in mask is pending or system time reaches
 * deadline_ns (PV_DEADLINE_NONE: events only).  Returns 1 for an event,
 * 0 for the deadline, or a negative PV_E* error (e.g. mask 0 with no
 * deadline).  Pending bits stay set: clear them with pv_events_clear(). */
int pv_block(uint64_t deadline_ns, uint64_t mask);

/* Sleep until system time reaches deadline_ns, whatever events arrive. */
void pv_block_until(uint64_t deadline_ns);

/* Let other runnable domains run first. */
void pv_yield(void);

/* ---- ending -------------------------------------------------------------- */

/* End this domain now: no atexit handlers, no stdio flush (call exit() for
 * those).  reason is PV_SHUTDOWN_EXIT, _CRASH or _POWEROFF (privileged
 * domains only); the manifest's on_exit / on_crash decide what follows. */
__attribute__((noreturn)) void pv_shutdown(uint32_t reason, int32_t code);

/* ---- image notes --------------------------------------------------------- */

/* Emit one note into the image's .note.paravane section (public/elfnote.h).
 * The note is a fixed header, the name padded to 4 bytes, then desc. */
#define PV_ELF_NOTE(var, note_type, desc_type, ...)			\
	__attribute__((section(".note.paravane"), aligned(4), used))	\
	static const struct {						\
		uint32_t namesz, descsz, type;				\
		char name[(sizeof(PV_NOTE_NAME) + 3) & ~3u];		\
		desc_type desc;						\
	} var = {							\
		sizeof(PV_NOTE_NAME), sizeof(desc_type), note_type,	\
		PV_NOTE_NAME, __VA_ARGS__				\
	}

/* Declare, once per app at file scope, the devices the app needs; the
 * hypervisor refuses to start it unless the manifest gives at least these.
 * Example: PV_REQUIRE_DEVICES(1, 0);   one network device, no block device */
#define PV_REQUIRE_DEVICES(nets, blocks)				\
	PV_ELF_NOTE(pv_note_devices_, PV_NOTE_DEVICES,			\
		    struct pv_note_devices,				\
		    { .net = (nets), .block = (blocks) })

#ifdef __cplusplus
}
#endif

#endif
