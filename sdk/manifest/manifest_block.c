/* block = SPEC [, ro | rw] [, name=NAME]
 *
 * SPEC names a volume the hypervisor finds on its disks at boot
 * (hv/volume.h): lvm:VG/LV, gpt:NAME, gpt:GUID or disk:N.  Checked here:
 * the syntax, the device name (unique in the guest, 1-15 of A-Z a-z 0-9 _
 * . -; by default the LV name, the partition name, gpt-XXXXXXXX for a GUID
 * or diskN) and the one-writer rule between the manifest's guests (the
 * hypervisor checks it again, by extents, when it claims the volumes). */
#include "manifest_internal.h"

#define LVM_NAME_MAX 127      /* LVM2 names (NAME_LEN - 1) */
#define GPT_NAME_MAX 36       /* UTF-16 units in a GPT partition name */

static bool name_char(char c)
{
	char l = mf_to_lower(c);

	return mf_is_digit(c) || (l >= 'a' && l <= 'z') || c == '_' || c == '.' || c == '-';
}

static bool all_chars(struct str s, bool lvm)
{
	for (size_t i = 0; i < s.n; i++)
		if (!name_char(s.p[i]) && !(lvm && s.p[i] == '+'))
			return false;
	return true;
}

static bool is_guid(struct str s)
{
	if (s.n != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s.p[i] != '-' : mf_hex_value(s.p[i]) < 0)
			return false;
	}
	return true;
}

static void put_str(struct sbuf *b, struct str s)
{
	for (size_t i = 0; i < s.n; i++)
		mf_sb_putc(b, s.p[i]);
}

/* lvm:VG/LV; the default device name is the LV's. */
static bool lvm_spec(struct str s, struct sbuf *dflt)
{
	size_t slash = mf_str_find(s, '/');
	struct str vg = mf_str_sub(s, 0, slash), lv = mf_str_sub(s, slash + 1, s.n);

	if (slash == s.n || !vg.n || !lv.n || vg.n > LVM_NAME_MAX || lv.n > LVM_NAME_MAX)
		return false;
	if (!all_chars(vg, true) || !all_chars(lv, true) || vg.p[0] == '-' || lv.p[0] == '-')
		return false;
	put_str(dflt, lv);
	return true;
}

/* gpt:NAME or gpt:GUID; a GUID's device is gpt-<its first 8 digits>. */
static bool gpt_spec(struct str s, struct sbuf *dflt)
{
	if (is_guid(s)) {
		mf_sb_puts(dflt, "gpt-");
		for (size_t i = 0; i < 8; i++)
			mf_sb_putc(dflt, mf_to_lower(s.p[i]));
		return true;
	}
	if (!s.n || s.n > GPT_NAME_MAX || !all_chars(s, false))
		return false;
	put_str(dflt, s);
	return true;
}

static bool disk_spec(struct str s, struct sbuf *dflt)
{
	uint64_t n;

	if (!s.n || s.n > 3 || !mf_parse_uint(s, &n) || n >= MANIFEST_BLOCK_DISKS)
		return false;
	mf_sb_puts(dflt, "disk");
	mf_sb_uint(dflt, n);
	return true;
}

static bool spec_ok(struct parser *p, struct str spec, struct sbuf *dflt)
{
	struct str kind = mf_str_sub(spec, 0, mf_str_find(spec, ':'));
	struct str rest = mf_str_sub(spec, kind.n + 1, spec.n);
	bool ok = false;

	if (spec.n >= MANIFEST_BLOCK_SPEC_MAX) {
		mf_fail_n(p, "block spec too long (max ", MANIFEST_BLOCK_SPEC_MAX - 1, " bytes)");
		return false;
	}
	if (kind.n < spec.n && mf_str_eq(kind, "lvm"))
		ok = lvm_spec(rest, dflt);
	else if (kind.n < spec.n && mf_str_eq(kind, "gpt"))
		ok = gpt_spec(rest, dflt);
	else if (kind.n < spec.n && mf_str_eq(kind, "disk"))
		ok = disk_spec(rest, dflt);
	if (!ok)
		mf_fail_q(p, "bad block spec ", spec,
			  " (use lvm:VG/LV, gpt:NAME|GUID or disk:N)");
	return ok;
}

static bool device_name_ok(struct str s)
{
	return s.n && s.n < MANIFEST_BLOCK_NAME_MAX && all_chars(s, false);
}

/* One option: ro / readonly / rw, name=NAME.  *mode: 0 unset, 1 ro, 2 rw. */
static bool block_option(struct parser *p, struct str opt, int *mode, struct str *name)
{
	size_t eq = mf_str_find(opt, '=');
	int m = mf_str_ieq(opt, "ro") || mf_str_ieq(opt, "readonly") ? 1 :
		mf_str_ieq(opt, "rw") ? 2 : 0;

	if (m) {
		if (*mode && *mode != m)
			mf_fail(p, "both ro and rw given");
		*mode = *mode ? *mode : m;
		return *mode == m;
	}
	if (eq < opt.n && mf_str_ieq(mf_trim(mf_str_sub(opt, 0, eq)), "name")) {
		*name = mf_trim(mf_str_sub(opt, eq + 1, opt.n));
		if (device_name_ok(*name))
			return true;
		mf_fail_q(p, "bad device name ", *name, " (1-15 of A-Z a-z 0-9 _ . -)");
		return false;
	}
	mf_fail_q(p, "unknown block option ", opt, " (use ro, rw or name=NAME)");
	return false;
}

static bool is_guid_spec(const char *s)
{
	return s[0] == 'g' && s[1] == 'p' && s[2] == 't' && s[3] == ':' &&
	       is_guid(mf_str_of(s + 4));
}

/* The same volume, as far as the manifest can tell (GUIDs ignore case). */
static bool spec_same(const char *a, const char *b)
{
	if (is_guid_spec(a) && is_guid_spec(b))
		return mf_str_ieq(mf_str_of(a), b);
	return mf_str_eq(mf_str_of(a), b);
}

/* One writer per volume among the manifest's guests (this one included). */
static bool one_writer(struct parser *p, const struct manifest_block *b)
{
	char msg[MANIFEST_MSG_MAX];
	struct sbuf sb = mf_sb_init(msg, sizeof(msg));

	for (uint32_t i = 0; i < p->m->guest_count && !b->readonly; i++) {
		const struct manifest_guest *g = &p->m->guest[i];

		for (uint32_t j = 0; j < g->block_count; j++) {
			if (g->block[j].readonly || !spec_same(g->block[j].spec, b->spec))
				continue;
			mf_sb_quote(&sb, mf_str_of(b->spec));
			mf_sb_puts(&sb, g == p->g ? " written twice here" : " written by guest ");
			mf_sb_puts(&sb, g == p->g ? "" : g->name);
			mf_sb_puts(&sb, g == p->g ? " (one writer: add ro)" : " too (one writer: add ro)");
			mf_fail(p, msg);
			return false;
		}
	}
	return true;
}

static bool name_unique(struct parser *p, const char *name)
{
	for (uint32_t i = 0; i < p->g->block_count; i++) {
		if (mf_str_eq(mf_str_of(name), p->g->block[i].name)) {
			mf_fail_q(p, "device name ", mf_str_of(name),
				  " repeated in this guest (use name=NAME)");
			return false;
		}
	}
	return true;
}

/* The device's name: name=NAME, or the default (which must fit). */
static bool pick_name(struct parser *p, struct str given, const char *dflt,
		      struct manifest_block *b)
{
	struct str n = given.p ? given : mf_str_of(dflt);

	if (!given.p && !device_name_ok(n)) {
		mf_fail_q(p, "device name ", n, " too long for a device (add name=NAME)");
		return false;
	}
	mf_copy_field(b->name, sizeof(b->name), n, false);
	return name_unique(p, b->name);
}

static void set_block(struct parser *p, struct str v)
{
	struct manifest_guest *g = p->g;
	struct manifest_block *b = &g->block[g->block_count];
	char dflt[GPT_NAME_MAX + LVM_NAME_MAX + 1];
	struct sbuf sb = mf_sb_init(dflt, sizeof(dflt));
	struct str list = v, spec, opt, name = { 0 };
	int mode = 0;

	mf_next_item(&list, &spec);
	if (!spec_ok(p, spec, &sb))
		return;
	while (mf_next_item(&list, &opt))
		if (!block_option(p, opt, &mode, &name))
			return;
	/* Filled in place (no struct copies in the freestanding builds);
	 * counted only when whole. */
	mf_copy_field(b->spec, sizeof(b->spec), spec, false);
	b->readonly = mode == 1;
	if (pick_name(p, name, dflt, b) && one_writer(p, b))
		g->block_count++;
}

bool mf_block_rw_once(const struct manifest_guest *g)
{
	for (uint32_t i = 0; i < g->block_count; i++)
		if (!g->block[i].readonly)
			return true;
	return false;
}

void mf_set_block(struct parser *p, struct str v)
{
	if (p->g->block_count >= MANIFEST_MAX_BLOCKS)
		mf_fail_n(p, "too many block entries (max ", MANIFEST_MAX_BLOCKS, ")");
	else
		set_block(p, v);
}
