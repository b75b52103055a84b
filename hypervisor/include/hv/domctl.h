/* Privileged domain control (public/domctl.h, core/domctl.c). */
#ifndef HV_DOMCTL_H
#define HV_DOMCTL_H

#include <stdbool.h>
#include <stdint.h>

struct domain;
struct trap_frame;

/* PV_HC_DOMCTL(gva arg, u64 size) for domain d. */
int64_t hc_domctl(struct domain *d, struct trap_frame *f);

/* CREATE on the caller's copy (core/domctl_create.c). */
struct pv_domctl_create;
int64_t domctl_create(struct domain *caller, struct pv_domctl_create *q);
/* 1..31 of [A-Za-z0-9_.-], NUL terminated within PV_NAME_MAX. */
bool domctl_name_ok(const char *name);
/* CREATE's settings as a manifest section of our own (g zeroed); false
 * with a message naming the field. */
struct pv_domctl_config;
struct manifest_guest;
bool domctl_settings(const struct pv_domctl_config *c, struct manifest_guest *g, char *err, size_t n);

/* The named image store's operations (core/domctl_image.c). */
struct pv_domctl_image;
struct pv_domctl_image_list;
int64_t domctl_image_add(struct domain *caller, struct pv_domctl_image *q);
int64_t domctl_image_remove(struct domain *caller, struct pv_domctl_image *q);
int64_t domctl_image_list(struct domain *caller, struct pv_domctl_image_list *l);

/* GET_CONFIG (core/domctl_config.c). */
struct pv_domctl_getconfig;
int64_t domctl_get_config(struct domain *caller, struct pv_domctl_getconfig *q);
/* d's settings as CREATE would take them (d cannot go away meanwhile). */
void domain_config_of(const struct domain *d, struct pv_domctl_config *c);

/* SAVE_* (core/save.c) and RESTORE_* (core/restore.c). */
struct pv_domctl_save;
struct pv_domctl_restore;
int64_t domctl_save_begin(struct domain *caller, struct pv_domctl_save *q);
int64_t domctl_save_read(struct domain *caller, struct pv_domctl_save *q);
int64_t domctl_save_end(struct domain *caller, struct pv_domctl_save *q);
int64_t domctl_restore_begin(struct domain *caller, struct pv_domctl_restore *q);
int64_t domctl_restore_write(struct domain *caller, struct pv_domctl_restore *q);
int64_t domctl_restore_end(struct domain *caller, struct pv_domctl_restore *q);
/* A privileged domain ended: the saves it began end with their domains
 * resumed, the restores it opened are dropped (core/save.c, restore.c). */
void save_owner_gone(uint32_t owner);
/* A domain with a live save ended by itself (core/domain.c, once it is
 * unlinked): its save ends with it, before its memory goes. */
void save_domain_gone(struct domain *d);
void restore_owner_gone(uint32_t owner);
/* SNAPSHOT* (core/snapshot.c) and CLONE (core/clone.c). */
struct pv_domctl_snapshot;
struct pv_domctl_snapshot_list;
struct pv_domctl_clone;
int64_t domctl_snapshot(struct domain *caller, struct pv_domctl_snapshot *q);
int64_t domctl_snapshot_drop(struct domain *caller, struct pv_domctl_snapshot *q);
int64_t domctl_snapshot_list(struct domain *caller, struct pv_domctl_snapshot_list *l);
int64_t domctl_clone(struct domain *caller, struct pv_domctl_clone *q);

/* CPU_STATS and NET_PORTS on the caller's copy (core/domctl_stats.c). */
struct pv_domctl_cpus;
struct pv_domctl_ports;
int64_t domctl_cpu_stats(struct domain *caller, struct pv_domctl_cpus *q);
int64_t domctl_net_ports(struct domain *caller, struct pv_domctl_ports *q);

#endif
