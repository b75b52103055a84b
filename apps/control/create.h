/* Parts of POST /v1/domains (api_create.c). */
#ifndef CONTROL_CREATE_H
#define CONTROL_CREATE_H

#include "api.h"
#include "json_in.h"

/* One "net" element (create_net.c). */
bool net_device(const struct jdoc *doc, int t, const char *path, struct pv_domctl_net *out,
		struct jerr *err);

/* Admission (create_admit.c): answer the 409s and 507s the hypervisor
 * would answer less precisely (a live MAC, memory, domains; a live name is
 * the hypervisor's own refusal); create_conflicts true and create_admits
 * false when they answered. */
bool create_conflicts(struct request *r, const struct pv_domctl_config *cfg);
bool create_admits(struct request *r, const struct pv_domctl_config *cfg);
/* CREATE failed: the error the API promises for err. */
void create_failed(struct request *r, long err, const struct pv_domctl_create *c);

#endif
