/* PV_HC_DOMCTL wrappers (hv.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "control.h"
#include "hv.h"

long hv_call(void *arg, uint16_t op, uint32_t size, uint32_t domid)
{
	return pv_domctl_op(arg, op, size, domid);
}

long hv_host(struct pv_domctl_host *h)
{
	memset(h, 0, sizeof(*h));
	return hv_call(h, PV_DOMCTL_HOST_INFO, sizeof(*h), 0);
}

long hv_info(uint32_t domid, struct pv_domctl_dominfo *out)
{
	struct pv_domctl_info a;
	long r;

	memset(&a, 0, sizeof(a));
	r = hv_call(&a, PV_DOMCTL_INFO, sizeof(a), domid);
	*out = a.info;
	return r;
}

long hv_config(uint32_t domid, struct pv_domctl_config *out)
{
	struct pv_domctl_getconfig a;
	long r;

	memset(&a, 0, sizeof(a));
	r = hv_call(&a, PV_DOMCTL_GET_CONFIG, sizeof(a), domid);
	*out = a.config;
	return r;
}

/* One LIST call: live domains after after_id into v[0..max), at most
 * PV_DOMCTL_LIST_MAX of them (the hypervisor refuses a larger max). */
static long list_page(uint32_t after_id, struct pv_domctl_dominfo *v, uint32_t max, uint32_t *count,
		      uint32_t *total)
{
	struct pv_domctl_list l;
	long r;

	memset(&l, 0, sizeof(l));
	l.after_id = after_id;
	l.max = max < PV_DOMCTL_LIST_MAX ? max : PV_DOMCTL_LIST_MAX;
	l.buf_gva = (uintptr_t)v;
	r = hv_call(&l, PV_DOMCTL_LIST, sizeof(l), 0);
	*count = l.count;
	*total = l.total;
	return r;
}

int hv_domains(struct pv_domctl_dominfo **out)
{
	uint32_t n = 0, cap = 64, count, total;
	struct pv_domctl_dominfo *v = malloc(cap * sizeof(*v)), *grown;

	do {
		if (!v)
			return -1;
		if (list_page(n ? v[n - 1].domid : 0, v + n, cap - n, &count, &total)) {
			free(v);
			return -1;
		}
		n += count;
		if (n == cap) {
			cap = total + 64 > cap * 2 ? total + 64 : cap * 2;
			grown = realloc(v, cap * sizeof(*v));
			if (!grown)
				free(v);
			v = grown;
		}
	} while (count && n < total && v);
	*out = v;
	return v ? (int)n : -1;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

uint32_t hv_lookup(const char *ref, struct pv_domctl_dominfo *out)
{
	struct pv_domctl_dominfo *v;
	uint32_t id = 0;
	int n;

	if (all_digits(ref)) {
		unsigned long x = strlen(ref) <= 10 ? strtoul(ref, NULL, 10) : 0;

		return x && x <= UINT32_MAX && !hv_info((uint32_t)x, out) ? (uint32_t)x : 0;
	}
	if (!valid_name(ref) || (n = hv_domains(&v)) < 0)
		return 0;
	for (int i = 0; i < n && !id; i++)
		if (!strncmp(v[i].name, ref, sizeof(v[i].name)) && v[i].state != PV_DOMCTL_ENDING)
			id = v[i].domid, *out = v[i];
	free(v);
	return id;
}

int hv_images(struct pv_domctl_image_entry *out)
{
	struct pv_domctl_image_list l;

	memset(&l, 0, sizeof(l));
	l.buf_gva = (uintptr_t)out;
	l.max = PV_DOMCTL_IMAGES_MAX;
	return hv_call(&l, PV_DOMCTL_IMAGE_LIST, sizeof(l), 0) ? 0 : (int)l.count;
}

const struct pv_domctl_image_entry *hv_image_by_name(const struct pv_domctl_image_entry *v, int n,
						     const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strncmp(v[i].name, name, sizeof(v[i].name)))
			return &v[i];
	return NULL;
}

const struct pv_domctl_image_entry *hv_image_by_hash(const struct pv_domctl_image_entry *v, int n,
						     const uint8_t *hash)
{
	for (int i = 0; i < n; i++)
		if (!memcmp(v[i].hash, hash, sizeof(v[i].hash)))
			return &v[i];
	return NULL;
}

void hex_hash(const uint8_t *hash, char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", hash[i]);
}
