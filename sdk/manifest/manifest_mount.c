/* mount = PATH:DEVICE [, ro | rw]
 *
 * The file system on the guest's block device DEVICE (its name in the
 * guest, from `block`) appears at PATH in the guest's file namespace
 * (docs/files.md).  PATH is absolute and plain: no "." or ".." component,
 * no empty one (no "//", no trailing "/" except the root itself), none of
 * space, ':' or a control byte, at most 63 bytes.  One mount per path and
 * per device.  A read-only device is mounted read-only whatever the mount
 * says; `rw` on it is an error.  Whether DEVICE exists is only known when
 * the section ends (a `block` line may come later): mf_check_mounts(). */
#include "manifest_internal.h"

static bool path_char(char c)
{
	return c > ' ' && c < 0x7f && c != ':';
}

/* Absolute, no empty, "." or ".." component, no trailing '/'. */
static bool path_ok(struct str s)
{
	size_t start = 1;

	if (!s.n || s.p[0] != '/' || s.n >= MANIFEST_MOUNT_PATH_MAX)
		return false;
	for (size_t i = 1; i <= s.n; i++) {
		if (i < s.n && s.p[i] != '/') {
			if (!path_char(s.p[i]))
				return false;
			continue;
		}
		struct str c = mf_str_sub(s, start, i);

		if (s.n > 1 && (!c.n || mf_str_eq(c, ".") || mf_str_eq(c, "..")))
			return false;
		start = i + 1;
	}
	return true;
}

static bool path_unique(struct parser *p, const char *path)
{
	for (uint32_t i = 0; i < p->g->mount_count; i++)
		if (mf_str_eq(mf_str_of(path), p->g->mount[i].path)) {
			mf_fail_q(p, "mount path ", mf_str_of(path), " repeated in this guest");
			return false;
		}
	return true;
}

static bool device_unique(struct parser *p, const char *dev)
{
	for (uint32_t i = 0; i < p->g->mount_count; i++)
		if (mf_str_eq(mf_str_of(dev), p->g->mount[i].device)) {
			mf_fail_q(p, "device ", mf_str_of(dev), " mounted twice in this guest");
			return false;
		}
	return true;
}

/* ro / readonly / rw; *mode: 0 unset, 1 ro, 2 rw. */
static bool mount_option(struct parser *p, struct str opt, int *mode)
{
	int m = mf_str_ieq(opt, "ro") || mf_str_ieq(opt, "readonly") ? 1 :
		mf_str_ieq(opt, "rw") ? 2 : 0;

	if (!m)
		mf_fail_q(p, "unknown mount option ", opt, " (use ro or rw)");
	else if (*mode && *mode != m)
		mf_fail(p, "both ro and rw given");
	else
		*mode = m;
	return m && *mode == m;
}

static bool split_spec(struct parser *p, struct str spec, struct str *path, struct str *dev)
{
	size_t colon = mf_str_find(spec, ':');

	*path = mf_trim(mf_str_sub(spec, 0, colon));
	*dev = mf_trim(mf_str_sub(spec, colon + 1, spec.n));
	if (colon == spec.n || !dev->n) {
		mf_fail_q(p, "bad mount ", spec, " (use PATH:DEVICE, e.g. /data:vol0)");
		return false;
	}
	if (!path_ok(*path)) {
		mf_fail_q(p, "bad mount path ", *path,
			  " (absolute, at most 63 bytes, no . or .. or empty part, no space or :)");
		return false;
	}
	if (dev->n >= MANIFEST_BLOCK_NAME_MAX) {
		mf_fail_q(p, "bad device name ", *dev, " (at most 15 bytes)");
		return false;
	}
	return true;
}

static void set_mount(struct parser *p, struct str v)
{
	struct manifest_mount *mt = &p->g->mount[p->g->mount_count];
	struct str list = v, spec, opt, path, dev;
	int mode = 0;

	mf_next_item(&list, &spec);
	if (!split_spec(p, spec, &path, &dev))
		return;
	while (mf_next_item(&list, &opt))
		if (!mount_option(p, opt, &mode))
			return;
	mf_copy_field(mt->path, sizeof(mt->path), path, false);
	mf_copy_field(mt->device, sizeof(mt->device), dev, false);
	mt->readonly = mode == 1;
	mt->line = p->line;
	if (path_unique(p, mt->path) && device_unique(p, mt->device)) {
		p->g->mount_count++;
		p->mount_rw[p->g->mount_count - 1] = mode == 2;
	}
}

void mf_set_mount(struct parser *p, struct str v)
{
	if (p->g->mount_count >= MANIFEST_MAX_BLOCKS)
		mf_fail_n(p, "too many mount entries (max ", MANIFEST_MAX_BLOCKS, ")");
	else
		set_mount(p, v);
}

static const struct manifest_block *find_block(const struct manifest_guest *g, const char *name)
{
	for (uint32_t i = 0; i < g->block_count; i++)
		if (mf_str_eq(mf_str_of(name), g->block[i].name))
			return &g->block[i];
	return NULL;
}

/* At the end of a guest section: every mount names one of its block
 * devices, and a read-only device is mounted read-only. */
void mf_check_mounts(struct parser *p)
{
	struct manifest_guest *g = p->g;

	for (uint32_t i = 0; i < g->mount_count; i++) {
		struct manifest_mount *mt = &g->mount[i];
		const struct manifest_block *b = find_block(g, mt->device);

		if (!b)
			mf_fail_at(p, mt->line, mf_str_of("mount"),
				   "no block device of that name in this guest (see block = ..., name=)");
		else if (b->readonly && p->mount_rw[i])
			mf_fail_at(p, mt->line, mf_str_of("mount"),
				   "device is read-only (block = ..., ro): mount it ro");
		else
			mt->readonly |= b->readonly;
	}
}
