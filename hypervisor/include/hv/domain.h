/* Domains: one ring-3 unikernel each, with its own page tables, memory,
 * saved registers and FPU state. */
#ifndef HV_DOMAIN_H
#define HV_DOMAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <public/hypercall.h>
#include <public/shared_info.h>
#include <public/start_info.h>
#include <hv/elf_image.h>
#include <hv/fpu.h>
#include <hv/guest_mem.h>
#include <hv/blkback.h>
#include <hv/netback.h>
#include <hv/percpu.h>
#include <hv/text_ring.h>
#include <hv/trap.h>

struct manifest_guest;

enum domain_state {
	DOM_RUNNABLE,     /* in the run queue */
	DOM_RUNNING,      /* current on this CPU */
	DOM_BLOCKED,      /* waiting for an event or deadline */
	DOM_PAUSED,       /* paused (domctl) and otherwise runnable: on no queue */
	DOM_DEAD,         /* ended; being torn down */
};

#define CONSOLE_LINE_MAX 160

struct domain_console {
	char line[CONSOLE_LINE_MAX];
	uint32_t len;
	uint64_t tokens;          /* bytes it may still print (token bucket) */
	uint64_t refill_tsc;      /* last refill */
	uint64_t dropped;         /* bytes over budget, not yet reported */
	uint64_t full_dropped;    /* bytes the full serial ring refused, not yet reported */
	uint64_t dropped_total;   /* both, ever */
	uint64_t written_total;   /* bytes it asked to print, ever */
	struct text_ring ring;    /* every byte it wrote, the newest CONSOLE_RING_BYTES */
};

#define CONSOLE_RING_BYTES 4096u  /* one page per domain, counted in its overhead */

struct domain {
	uint32_t id;
	uint32_t guest_index;     /* manifest guest this domain runs */
	uint32_t instance;        /* which copy of it (manifest `instances`) */
	uint32_t restart_no;      /* 0, or which restart of its configuration this is */
	const struct manifest_guest *cfg;   /* its settings: the manifest's, or its own (run time) */
	struct image *img;        /* its stored image (hv/image_store.h): one user reference */
	bool handed_on;           /* run time: cfg and img passed to its restart, not freed with it */
	char name[PV_NAME_MAX];
	enum domain_state state;
	bool privileged;

	/* memory */
	uint64_t pml4;            /* physical: the hypervisor's view (ring 0, hypercalls) */
	uint64_t user_pml4;       /* the guest's own view under isolation, else 0 */
	struct guest_mem mem;
	uint64_t guard_gva;       /* the unmapped page below the stack */
	uint64_t rings_gva;       /* device ring pages, after the image */
	uint64_t heap_gva;        /* heap: demand-zero pages up to guard_gva */
	uint64_t start_stack_page;/* top stack page, backed at once; the rest is demand-zero */
	uint64_t lazy_reserved;   /* frames still reserved for untouched heap pages */
	uint64_t private_frames;  /* guest frames it owns now (not shared image pages) */
	struct spinlock mem_lock; /* backing its demand-zero pages: its own faults on its
				   * CPU and backends on others (netback) race for them */
	uint64_t overhead_frames; /* page tables, this struct, the frame list */
	struct pv_start_info *start_info;    /* hypervisor views of the info pages */
	struct pv_shared_info *shared_info;

	/* image, kept for restarts and crash symbolization */
	const void *image;
	uint64_t image_size;
	struct elf_image elf;

	/* ring 3's registers: while it runs, every entry from ring 3 saves
	 * them here and every exit loads them from here (isr.S) */
	struct trap_frame regs;
	void *fpu;                /* XSAVE/FXSAVE area, 64-byte aligned */

	/* scheduling: guarded by the run-queue lock of CPU `cpu` (hv/sched_cpu.h) */
	uint32_t cpu;             /* whose queue / deadline heap it is on, or runs on */
	uint64_t affinity;        /* CPUs it may run on (bit = CPU index) */
	struct fair_entity fair;  /* weight and virtual time (hv/sched_fair.h) */
	uint32_t heap_index;      /* position in the deadline heap, or NO_HEAP */
	uint64_t deadline_tsc;
	uint64_t block_mask;
	uint64_t slice_start_tsc; /* when it last went on a CPU */
	uint64_t cpus_used;       /* every CPU it ever ran on (bit = index) */
	volatile bool kill_requested;   /* end it at its next exit (sched_kill) */
	bool paused;              /* domctl PAUSE: never queued until UNPAUSE */
	bool destroy_requested;   /* the kill came from domctl DESTROY (before sched_kill) */
	bool wake_rax_pending;    /* woken while still current: result for rax */
	uint64_t wake_rax;

	/* save and restore (core/save.c, core/restore.c) */
	bool held;                /* a save or restore has it: never destroyed or resumed by
				   * anyone else (set and cleared under domains_lock, only
				   * while it is off every CPU) */
	struct save_cursor *save; /* the save in progress, or NULL (under domains_lock) */
	bool unlinked;            /* out of the table: ending (under domains_lock) */
	uint64_t clock_offset_ns; /* its monotonic clock minus the hypervisor's (a restore) */
	struct snapshot *snap;    /* a clone's: the snapshot whose frames it maps (a reference) */

	/* accounting */
	uint64_t created_tsc, cpu_tsc, switches, hypercalls;
	struct domain_console console;
	uint32_t net_count;
	struct netback net[PV_MAX_DEVICES];
	uint32_t blk_count;
	struct blkback *blk[PV_MAX_DEVICES];   /* its own lifetime (hv/blkback.h) */
	struct domain *all_next;  /* every live domain */
};

#define NO_HEAP UINT32_MAX

/* How a domain ended. */
/* How a domain ended: its own exit, a crash (or a kill), or the control
 * plane's DESTROY, which is neither the domain's failure nor restarted. */
enum domain_end { END_EXIT, END_CRASH, END_DESTROYED };


struct boot_module;
const struct boot_module *boot_module_for(uint32_t guest);

/* Create from the manifest entry and its image; NULL with a logged reason. */
struct domain *domain_create(uint32_t guest_index, uint32_t instance, uint32_t restarts);
/* Create at run time (domctl): g (from domain_cfg_alloc) and the image
 * reference pass to the domain on success, which returns its id (the
 * domain may already be running, even gone, elsewhere); 0 with err on
 * failure (the caller keeps them).  guest_index is DOMAIN_RUNTIME; its
 * on_exit / on_crash restart it like a manifest domain (domain_restart.c),
 * a DESTROY never does. */
#define DOMAIN_RUNTIME UINT32_MAX
struct image;
struct manifest_guest *domain_cfg_alloc(void);   /* zeroed; NULL: no memory */
void domain_cfg_free(struct manifest_guest *g);
uint32_t domain_create_runtime(const struct manifest_guest *g, struct image *img, char *err, size_t n);
/* domain_create_runtime for restart number restart_no of g (core/
 * domain_restart.c); a restart (> 0) is refused if a live domain has its
 * name. */
uint32_t domain_create_restart(const struct manifest_guest *g, struct image *img, uint32_t restart_no,
			       char *err, size_t n);
/* domain_create_runtime for a restore (core/restore.c): the domain is
 * made paused and held, and given back (it cannot go away while held);
 * domain_unhold starts it or, with start false, has its CPU destroy it. */
struct domain *domain_create_held(const struct manifest_guest *g, struct image *img, char *err, size_t n);
/* A held domain (a save's or a restore's) let go: started (unpaused),
 * left paused, or destroyed by its CPU. */
enum unhold { UNHOLD_START, UNHOLD_PAUSED, UNHOLD_DESTROY };
void domain_unhold(struct domain *d, enum unhold how);
/* A live save's round is over (core/save_live.c): d, held while its
 * dirty bits were read, runs again (unless it was paused before) and
 * keeps its save. */
void domain_unhold_round(struct domain *d, bool start);

/* Page i's leaf page-table entry (the build made every table), walking
 * once per 2 MiB: a cursor starts as { .region = 1 }. */
struct pte_cursor {
	uint64_t region;          /* the first gva its table maps, or 1: none yet */
	uint64_t *table;          /* its entry 0 */
};
uint64_t *domain_pte(struct domain *d, uint64_t i, struct pte_cursor *c);
/* Its net backends deliver nothing to it (on: a held domain's pages and
 * ring positions stand still; frames are kept meanwhile) or deliver again,
 * the kept frames first. */
void domain_net_quiesce(struct domain *d, bool on);
/* Its addresses announced on the switch (netback_announce). */
void domain_net_announce(struct domain *d);
/* End a domain (from its own trap or hypercall, or from outside). */
void domain_end(struct domain *d, enum domain_end how, int code, const char *reason);
void domain_raise_event(struct domain *d, uint32_t port);
/* End every domain whose name starts with prefix, wherever it runs. */
uint32_t domain_kill_matching(const char *prefix);
/* fn(d, ctx) for each live domain with an id above after_id, in id order,
 * under the domain table's lock (no domain goes away meanwhile) until fn
 * returns false; true when it did. */
bool domain_walk(uint32_t after_id, bool (*fn)(struct domain *d, void *ctx), void *ctx);
/* fn(d) for the first domain whose name starts with prefix, under the
 * domain table's lock (d cannot go away meanwhile); false: none. */
bool domain_visit_first(const char *prefix, void (*fn)(struct domain *));
uint32_t domain_count(void);
uint64_t domain_cpu_ns(const struct domain *d);   /* d current here */

/* ---- between core/domain.c and core/domain_restart.c -------------------- */
struct spinlock;
extern struct spinlock domains_lock;   /* the domain table, restart and exit counts */
/* What restarting an ended domain needs, taken from it before it is freed:
 * a run-time domain's settings and image reference pass to the restart. */
struct domain_restart {
	bool wanted;
	uint32_t gi, instance, restart_no;
	struct manifest_guest *g;  /* run time only, owned from here */
	struct image *img;         /* run time only, owned from here */
};
void domain_restart_keep(struct domain *d, struct domain_restart *r);
void domain_restart_schedule(const struct domain_restart *r);
/* Power off if asked to and nothing is left (own_timers: hypervisor timers
 * the caller itself is, so a failed restart does not wait for itself). */
void domain_check_all_ended(uint32_t own_timers);

/* The control plane's view of d (core/domain_query.c); under domain_walk. */
struct pv_domctl_dominfo;
void domain_describe(const struct domain *d, struct pv_domctl_dominfo *o);

/* Address space construction (core/domain_build.c). */
struct elf_image;
int domain_image_check(const void *bytes, uint64_t size, struct elf_image *elf, char *err, size_t n);
int domain_build(struct domain *d, const struct manifest_guest *g, const struct elf_image *parsed,
		 char *err, size_t n);
void domain_free_memory(struct domain *d);
/* A fault at gva: back it if it is an untouched heap page (not present),
 * or copy it if it is a copy-on-write page (write).  True when the guest
 * can simply retry. */
bool domain_fault_in(struct domain *d, uint64_t gva, bool write);
/* A clone's page i, whose leaf entry is pte, maps frame pa (a
 * snapshot's, permissions gf) copy-on-write; false: no frame to reserve
 * for it (the caller copies). */
bool domain_map_cow(struct domain *d, uint64_t i, uint64_t pa, uint64_t gf, uint64_t *pte);

/* Guest faults (core/guest_fault.c): report, then end the domain. */
void guest_fault(struct trap_frame *f);

/* Console (core/console.c). */
int64_t console_write(struct domain *d, uint64_t gva, uint64_t len);
void console_flush(struct domain *d);
void console_init(void);     /* key poll; buffered serial output from here on */

/* Hypercall entry (arch/x86_64/syscall.S, core/hypercall.c). */
void syscall_init(void);
void hypercall_dispatch(struct trap_frame *f);
void hypercall_yield(struct trap_frame *f);   /* PV_HC_YIELD, called directly */
#define VEC_SYSCALL 0x100     /* trap_frame.vector for hypercall frames */

#endif
