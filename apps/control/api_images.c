/* /v1/images: the hypervisor's named image store (docs/api.md "Images").
 * Bytes go to the hypervisor once, at upload; the control domain keeps
 * nothing, so a restarted one finds every image where it was. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"

static struct pv_domctl_image_entry images[PV_DOMCTL_IMAGES_MAX];

static void image_json(struct buf *b, const struct pv_domctl_image_entry *e)
{
	char hash[65];

	hex_hash(e->hash, hash);
	buf_str(b, "{\"name\":");
	buf_json_str(b, e->name, strnlen(e->name, sizeof(e->name)));
	buf_printf(b, ",\"sha256\":\"%s\",\"size\":%lu,\"users\":%u}", hash, (unsigned long)e->size, e->users);
}

static void one(struct request *r, int status, const struct pv_domctl_image_entry *e, const char *extra)
{
	struct buf b = { 0 };

	image_json(&b, e);
	buf_str(&b, "\n");
	reply_json(r, status, &b, extra);
	buf_free(&b);
}

void api_image_list(struct request *r)
{
	int n = hv_images(images);
	struct buf b = { 0 };

	buf_str(&b, "{\"images\":[");
	for (int i = 0; i < n; i++) {
		if (i)
			buf_str(&b, ",");
		image_json(&b, &images[i]);
	}
	buf_str(&b, "]}\n");
	reply_json(r, 200, &b, NULL);
	buf_free(&b);
}

static const struct pv_domctl_image_entry *named(struct request *r)
{
	const struct pv_domctl_image_entry *e = hv_image_by_name(images, hv_images(images), r->arg);

	if (!e)
		reply_error(r, 404, "no_such_image", NULL, "no image \"%s\"", r->arg);
	return e;
}

void api_image_get(struct request *r)
{
	const struct pv_domctl_image_entry *e = named(r);

	if (e)
		one(r, 200, e, NULL);
}

static void store_refused(struct request *r, long err, const struct pv_domctl_image *a)
{
	struct pv_domctl_host h = { 0 };
	char msg[PV_DOMCTL_MSG_MAX + 1], more[160];

	snprintf(msg, sizeof(msg), "%s", a->hdr.message);
	hv_host(&h);
	if (err == -PV_EINVAL)
		return reply_error(r, 400, "bad_image", NULL, "%s", msg);
	if (err == -PV_EEXIST)
		return reply_error(r, 409, "image_exists", NULL, "image \"%s\" holds other bytes; delete it first",
				   r->arg);
	if (err == -PV_ENOSPC && h.images >= PV_DOMCTL_IMAGES_MAX)
		snprintf(more, sizeof(more), "\"resource\":\"images\",\"requested\":1,\"available\":0");
	else if (err == -PV_ENOSPC)
		snprintf(more, sizeof(more), "\"resource\":\"image_store\",\"requested\":%lu,\"available\":%lu",
			 (unsigned long)a->image_size,
			 (unsigned long)(h.image_limit > h.image_bytes ? h.image_limit - h.image_bytes : 0));
	else if (err == -PV_ENOMEM)
		snprintf(more, sizeof(more), "\"resource\":\"memory\",\"requested\":%lu,\"available\":%lu",
			 (unsigned long)a->image_size, (unsigned long)h.memory_free);
	else
		return hv_refused(r, err, msg);
	reply_error_more(r, 507, "admission_refused", more, "%s", msg);
}

void api_image_put(struct request *r)
{
	static struct pv_domctl_image a;
	char loc[80];
	long err;

	if (!valid_name(r->arg))
		return reply_error(r, 400, "bad_field", "name",
				   "name: 1..31 of A-Z a-z 0-9 _ . -, starting with a letter or digit, not all digits");
	if (!r->body_len)
		return reply_error(r, 400, "bad_image", NULL, "the image is empty");
	memset(&a, 0, sizeof(a));
	a.image_gva = (uintptr_t)r->body;
	a.image_size = r->body_len;
	memcpy(a.entry.name, r->arg, strlen(r->arg));
	err = hv_call(&a, PV_DOMCTL_IMAGE_ADD, sizeof(a), 0);
	if (err)
		return store_refused(r, err, &a);
	snprintf(loc, sizeof(loc), "Location: /v1/images/%s\r\n", r->arg);
	one(r, a.flags & PV_DOMCTL_IMAGE_EXISTED ? 200 : 201, &a.entry, a.flags & PV_DOMCTL_IMAGE_EXISTED ? NULL : loc);
}

/* Live domains running e's bytes, named in the 409's message. */
static void in_use(struct request *r, const struct pv_domctl_image_entry *e)
{
	struct pv_domctl_dominfo *v;
	int n = hv_domains(&v), k = 0;
	struct buf names = { 0 };

	for (int i = 0; i < n; i++)
		if (!memcmp(v[i].image_hash, e->hash, sizeof(e->hash)) && k++ < 8)
			buf_printf(&names, "%s%.*s", k > 1 ? ", " : "", (int)strnlen(v[i].name, PV_NAME_MAX), v[i].name);
	buf_add(&names, "", 1);
	reply_error(r, 409, "image_in_use", NULL, "image \"%s\" is run by %u live domain%s: %s%s", r->arg, e->users,
		    e->users == 1 ? "" : "s", names.p, k > 8 ? ", ..." : "");
	buf_free(&names);
	if (n >= 0)
		free(v);
}

void api_image_delete(struct request *r)
{
	static struct pv_domctl_image a;
	const struct pv_domctl_image_entry *e = named(r);
	long err;

	if (!e)
		return;
	if (e->users && e->names == 1)
		return in_use(r, e);
	memset(&a, 0, sizeof(a));
	memcpy(a.entry.name, e->name, sizeof(a.entry.name));
	err = hv_call(&a, PV_DOMCTL_IMAGE_REMOVE, sizeof(a), 0);
	if (err == -PV_ENOENT)
		return reply_error(r, 404, "no_such_image", NULL, "no image \"%s\"", r->arg);
	if (err)
		return hv_refused(r, err, a.hdr.message);
	one(r, 200, &a.entry, NULL);
}
