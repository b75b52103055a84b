/* POST /v1/domains: check every field (docs/api.md "POST /v1/domains"),
 * build a struct pv_domctl_config, create from the stored image by hash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "create.h"
#include "json_in.h"

#define MEMORY_MIN  (64ll << 10)
#define MEMORY_MAX  (64ll << 30)
#define ARGS_MAX    64

struct create {
	struct pv_domctl_create c;
	const struct jdoc *doc;
	struct jerr err;
	int status;                  /* besides 400: 404, 409, 507 */
};

static const char *const top_fields[] = { "name", "image", "memory", "args", "cpus", "weight", "net",
					  "on_exit", "on_crash", "restart_limit", NULL };


static int field(struct create *x, int obj, const char *key, bool required, const char *path)
{
	int t = json_get(x->doc, obj, key);

	if (t < 0 && required)
		json_fail(&x->err, "missing_field", path, "%s: required", path);
	return t;
}

static bool name_of(struct create *x)
{
	char *name = x->c.config.name;
	int t = field(x, 0, "name", true, "name");

	if (t < 0 || !json_string(x->doc, t, "name", name, PV_NAME_MAX, &x->err))
		return false;
	if (!valid_name(name))
		return json_fail(&x->err, "bad_field", "name",
				 "name: 1..31 of A-Z a-z 0-9 _ . -, starting with a letter or digit, not all digits");
	return true;
}

static bool hex_to_hash(const char *s, uint8_t *hash)
{
	if (strlen(s) != 64)
		return false;
	for (int i = 0; i < 64; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return false;
	for (int i = 0; i < 32; i++)
		hash[i] = (uint8_t)strtoul((char[3]){ s[2 * i], s[2 * i + 1], 0 }, NULL, 16);
	return true;
}

static bool image_of(struct create *x)
{
	static struct pv_domctl_image_entry images[PV_DOMCTL_IMAGES_MAX];
	const struct pv_domctl_image_entry *e;
	char name[80];
	int t = field(x, 0, "image", true, "image"), n;

	if (t < 0 || !json_string(x->doc, t, "image", name, sizeof(name), &x->err))
		return false;
	n = hv_images(images);
	if (!strncmp(name, "sha256:", 7)) {
		if (!hex_to_hash(name + 7, x->c.image_hash))
			return json_fail(&x->err, "bad_field", "image", "image: sha256: needs 64 lower-case hex digits");
		e = hv_image_by_hash(images, n, x->c.image_hash);
	} else {
		e = hv_image_by_name(images, n, name);
	}
	if (!e)
		return x->status = 404, json_fail(&x->err, "no_such_image", "image", "no image \"%s\"", name);
	memcpy(x->c.image_hash, e->hash, sizeof(e->hash));
	return true;
}

static bool memory_of(struct create *x)
{
	int64_t m;
	int t = field(x, 0, "memory", true, "memory");

	if (t < 0 || !json_int(x->doc, t, "memory", MEMORY_MIN, MEMORY_MAX, &m, &x->err))
		return false;
	if (m % 4096)
		return json_fail(&x->err, "bad_field", "memory", "memory: %lld is not a multiple of 4096 "
				 "(use 65536..68719476736 bytes in 4 KiB pages)", (long long)m);
	x->c.config.memory = (uint64_t)m;
	return true;
}

static bool args_of(struct create *x)
{
	static char words[ARGS_MAX][PV_CMDLINE_MAX];
	char *argv[ARGS_MAX], path[16];
	int t = field(x, 0, "args", false, "args"), n = 0;

	if (t >= 0 && (n = json_array(x->doc, t, "args", &x->err)) < 0)
		return false;
	if (n > ARGS_MAX)
		return json_fail(&x->err, "bad_field", "args", "args: at most %d arguments", ARGS_MAX);
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "args.%d", i);
		if (!json_string(x->doc, json_elem(x->doc, t, i), path, words[i], sizeof(words[i]), &x->err))
			return false;
		argv[i] = words[i];
	}
	if (!args_join(x->c.config.cmdline, PV_CMDLINE_MAX, x->c.config.name, argv, n))
		return json_fail(&x->err, "bad_field", "args", "args: the command line they make is over %d bytes",
				 PV_CMDLINE_MAX - 1);
	return true;
}

static bool cpus_of(struct create *x)
{
	int t = field(x, 0, "cpus", false, "cpus"), n;
	char path[16];
	int64_t cpu;

	if (t < 0 || json_is_null(x->doc, t))
		return true;
	if ((n = json_array(x->doc, t, "cpus", &x->err)) < 0)
		return false;
	if (n == 0)
		return json_fail(&x->err, "bad_field", "cpus", "cpus: at least one CPU, or null for any");
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "cpus.%d", i);
		if (!json_int(x->doc, json_elem(x->doc, t, i), path, 0, 63, &cpu, &x->err))
			return false;
		x->c.config.cpu_mask |= 1ull << cpu;
	}
	return true;
}

static bool int_field(struct create *x, const char *key, int64_t min, int64_t max, int64_t dflt,
		      int64_t *out)
{
	int t = field(x, 0, key, false, key);

	*out = dflt;
	return t < 0 || json_int(x->doc, t, key, min, max, out, &x->err);
}

static bool action_of(struct create *x, const char *key, uint8_t *out)
{
	char s[16];
	int t = field(x, 0, key, false, key);

	*out = PV_DOMCTL_ACTION_DESTROY;
	if (t < 0)
		return true;
	if (!json_string(x->doc, t, key, s, sizeof(s), &x->err))
		return false;
	if (strcmp(s, "destroy") && strcmp(s, "restart"))
		return json_fail(&x->err, "bad_field", key, "%s: must be \"destroy\" or \"restart\"", key);
	*out = strcmp(s, "restart") ? PV_DOMCTL_ACTION_DESTROY : PV_DOMCTL_ACTION_RESTART;
	return true;
}

static bool policy_of(struct create *x)
{
	int64_t weight, limit;

	if (!int_field(x, "weight", 1, 65535, 256, &weight) ||
	    !int_field(x, "restart_limit", 0, 1000, 3, &limit) ||
	    !action_of(x, "on_exit", &x->c.config.on_exit) || !action_of(x, "on_crash", &x->c.config.on_crash))
		return false;
	x->c.config.weight = (uint32_t)weight;
	x->c.config.restart_limit = (uint16_t)limit;
	return true;
}

static bool net_of(struct create *x)
{
	int t = field(x, 0, "net", false, "net"), n = 0;
	char path[16];

	if (t >= 0 && (n = json_array(x->doc, t, "net", &x->err)) < 0)
		return false;
	if (n > (int)PV_DOMCTL_MAX_NETS)
		return json_fail(&x->err, "bad_field", "net", "net: at most %u devices", PV_DOMCTL_MAX_NETS);
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "net.%d", i);
		if (!net_device(x->doc, json_elem(x->doc, t, i), path, &x->c.config.net[i], &x->err))
			return false;
	}
	x->c.config.net_count = (uint32_t)n;
	return true;
}

static bool parse(struct create *x, const struct request *r)
{
	static struct jdoc doc;

	x->doc = &doc;
	x->status = 400;
	return json_parse(&doc, r->body ? r->body : "", r->body_len, &x->err) &&
	       json_only(&doc, 0, top_fields, "", &x->err) && name_of(x) && memory_of(x) && args_of(x) &&
	       cpus_of(x) && policy_of(x) && net_of(x) && image_of(x);
}

static void created(struct request *r, uint32_t id, const struct pv_domctl_create *c)
{
	static struct pv_domctl_image_entry images[PV_DOMCTL_IMAGES_MAX];
	struct pv_domctl_dominfo d;
	struct buf b = { 0 };
	char loc[64];

	if (hv_info(id, &d)) {                 /* ended already: what it was made as */
		memset(&d, 0, sizeof(d));
		d.domid = id;
		d.state = PV_DOMCTL_ENDING;
		memcpy(d.name, c->config.name, sizeof(d.name));
		memcpy(d.image_hash, c->image_hash, sizeof(d.image_hash));
		d.memory = c->config.memory;
		d.weight = c->config.weight;
		d.cpu_mask = c->config.cpu_mask;
	}
	domain_json(&b, &d, images, hv_images(images));
	buf_str(&b, "\n");
	snprintf(loc, sizeof(loc), "Location: /v1/domains/%u\r\n", id);
	reply_json(r, 201, &b, loc);
	buf_free(&b);
}

void api_domain_create(struct request *r)
{
	static struct create x;
	long err;

	memset(&x, 0, sizeof(x));
	if (!parse(&x, r))
		return reply_error(r, x.status, x.err.code, x.err.field, "%s", x.err.message);
	if (create_conflicts(r, &x.c.config) || !create_admits(r, &x.c.config))
		return;
	err = hv_call(&x.c, PV_DOMCTL_CREATE, sizeof(x.c), 0);
	if (err)
		return create_failed(r, err, &x.c);
	created(r, x.c.hdr.domid, &x.c);
}
