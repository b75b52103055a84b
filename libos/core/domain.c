/* This domain's identity, counters and end. */
#include <string.h>

#include <paravane.h>

#include "hypercall.h"
#include "libos.h"

const struct pv_start_info *pv_start_info(void)
{
	return libos_si;
}

uint32_t pv_domid(void)
{
	return libos_si->domid;
}

uint32_t pv_generation(void)
{
	return __atomic_load_n(&libos_shared->generation, __ATOMIC_ACQUIRE);
}

/* start_info is read-only and its name need not be terminated when it
 * fills the field; copy it into a terminated buffer, again when this
 * domain became a clone (another name). */
const char *pv_domain_name(void)
{
	static char name[PV_NAME_MAX + 1];
	static uint32_t copied_for;
	uint32_t gen = pv_generation();

	if (!name[0] || copied_for != gen) {
		strncpy(name, libos_si->name, PV_NAME_MAX);
		copied_for = gen;
	}
	return name;
}

int pv_domain_info(struct pv_domain_info *out)
{
	return pv_hypercall1(PV_HC_DOMAIN_INFO, (uintptr_t)out);
}

long pv_domctl(void *arg, size_t size)
{
	return pv_hypercall2(PV_HC_DOMCTL, (uintptr_t)arg, size);
}

long pv_domctl_op(void *arg, uint16_t op, uint32_t size, uint32_t domid)
{
	struct pv_domctl_hdr *h = arg;

	h->magic = PV_DOMCTL_MAGIC;
	h->version = PV_DOMCTL_VERSION;
	h->op = op;
	h->size = size;
	h->domid = domid;
	h->message[0] = 0;
	return pv_domctl(arg, size);
}

void pv_shutdown(uint32_t reason, int32_t code)
{
	for (;;)		/* the hypercall does not return; be sure */
		pv_hypercall2(PV_HC_SHUTDOWN, reason, (uint64_t)(int64_t)code);
}
