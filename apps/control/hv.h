/* The hypervisor, through PV_HC_DOMCTL (public/domctl.h): every fact the
 * API reports comes from here, fresh, so nothing is lost when the control
 * domain restarts. */
#ifndef CONTROL_HV_H
#define CONTROL_HV_H

#include <stdbool.h>
#include <stdint.h>
#include <paravane.h>
#include <public/domctl.h>
#include <public/errno.h>

/* Fill the header of arg (size bytes) and call; hdr.message says why on
 * failure.  Returns 0 or -PV_E*. */
long hv_call(void *arg, uint16_t op, uint32_t size, uint32_t domid);

long hv_host(struct pv_domctl_host *h);
long hv_info(uint32_t domid, struct pv_domctl_dominfo *out);
long hv_config(uint32_t domid, struct pv_domctl_config *out);

/* Every live domain, in id order, into a malloc'd array; the count, or -1. */
int hv_domains(struct pv_domctl_dominfo **out);
/* The live domain that ref names (a decimal id or a name); 0 if none. */
uint32_t hv_lookup(const char *ref, struct pv_domctl_dominfo *out);

/* The named image store, by name (at most PV_DOMCTL_IMAGES_MAX). */
int hv_images(struct pv_domctl_image_entry *out);
const struct pv_domctl_image_entry *hv_image_by_name(const struct pv_domctl_image_entry *v, int n,
						     const char *name);
const struct pv_domctl_image_entry *hv_image_by_hash(const struct pv_domctl_image_entry *v, int n,
						     const uint8_t *hash);

void hex_hash(const uint8_t *hash, char out[65]);

#endif
