/* The route handlers, one file per resource (docs/api.md). */
#ifndef CONTROL_API_H
#define CONTROL_API_H

#include "args.h"
#include "control.h"
#include "hv.h"

void api_host(struct request *r);
void api_domain_list(struct request *r);
void api_domain_create(struct request *r);
void api_domain_get(struct request *r);
void api_domain_destroy(struct request *r);
void api_domain_pause(struct request *r);
void api_domain_resume(struct request *r);
void api_console(struct request *r);
void api_image_list(struct request *r);
void api_image_put(struct request *r);
void api_image_get(struct request *r);
void api_image_delete(struct request *r);
void api_events(struct request *r);
void api_metrics(struct request *r);
void api_ui(struct request *r);
void api_domain_save(struct request *r);
void api_restore(struct request *r);
void api_domain_migrate(struct request *r);
void api_domain_snapshot(struct request *r);
void api_snapshot_list(struct request *r);
void api_snapshot_get(struct request *r);
void api_snapshot_delete(struct request *r);
void api_snapshot_clone(struct request *r);
extern const struct body_sink restore_sink;

/* The domain object (api_domains.c); images: the store, for image names. */
void domain_json(struct buf *b, const struct pv_domctl_dominfo *d,
		 const struct pv_domctl_image_entry *images, int nimages);
/* The domain object as a response (extra: header lines, or NULL). */
void reply_domain(struct request *r, int status, const struct pv_domctl_dominfo *d, const char *extra);
/* 404 no_such_domain unless ref names a live domain. */
uint32_t domain_ref(struct request *r, struct pv_domctl_dominfo *out);
/* A hypervisor failure as an API error (api_domains.c): -ENOENT is
 * no_such_domain, anything else hv_refused's 500 hypervisor_error. */
void hv_error(struct request *r, long err, const char *message);
void hv_refused(struct request *r, long err, const char *message);

const char *state_name(uint32_t state);

#endif
