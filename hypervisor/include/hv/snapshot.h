/* Snapshots kept by the hypervisor (core/snapshot.c) and the clones made
 * from them (core/clone.c): docs/migration.md, "Snapshots and clones".
 *
 * A snapshot owns a copy of every page its domain owned, its registers,
 * FPU state, net ring positions and clock, and a user reference on its
 * image.  It is reference counted: its name in the store holds one, each
 * clone one (d->snap), so its frames go when it is dropped and its last
 * clone has ended.  Its pages never change: clones map them read-only. */
#ifndef HV_SNAPSHOT_H
#define HV_SNAPSHOT_H

#include <stdint.h>
#include <public/domctl.h>
#include <public/save.h>
#include <hv/trap.h>

struct domain;
struct image;

struct snapshot {
	char name[PV_NAME_MAX];
	char domain[PV_NAME_MAX];
	uint32_t refs;                     /* atomic */
	struct pv_domctl_config config;    /* its domain's settings */
	struct image *img;
	uint64_t mem_pages;                /* its domain's address range */
	uint64_t pages;                    /* frames it holds */
	uint64_t *frame;                   /* [mem_pages]: pa | GF_WRITE/GF_EXEC, or 0 */
	uint64_t list_pages, struct_pages; /* what frame[] and this struct take */
	struct trap_frame regs;
	void *fpu;
	uint64_t system_ns;                /* its clock when taken */
	uint64_t created_ns;
	uint32_t generation;
	uint32_t net_count;
	struct pv_save_device net[PV_DOMCTL_MAX_NETS];
	struct snapshot *next;             /* the store, by name */
};

/* The named one, with a reference for the caller; NULL if none. */
struct snapshot *snapshot_get(const char *name);
void snapshot_put(struct snapshot *s);
/* Live domains holding s (its references but the store's). */
uint32_t snapshot_clones(const struct snapshot *s);

#endif
