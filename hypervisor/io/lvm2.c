/* An LVM2 logical volume's extents: the newest copy of its volume group's
 * metadata among the disks (highest seqno), then the LV's segments, each
 * a run of physical extents on one PV.  Only linear segments are mapped
 * (LVM2 writes them as type "striped" with stripe_count = 1); every other
 * kind needs device-mapper logic and is refused by name, as is the origin
 * of a snapshot (writing it directly would corrupt the snapshot). */
#include <hv/disk.h>
#include <hv/errno.h>
#include <hv/gpt.h>
#include <hv/lib.h>
#include <hv/lvm2.h>
#include <hv/mm.h>
#include <hv/volume.h>

struct seg_ctx {
	const struct lvm_tree *t;
	int pvs;                         /* the physical_volumes section */
	int64_t extent_size;             /* sectors */
	const char *vg, *lv;
	lvm2_pv_at_fn *pv_at;
	void *ctx;
	char *err;
	size_t n;
};

static int refuse(struct seg_ctx *c, int e, const char *what)
{
	snprintf(c->err, c->n, "lvm:%s/%s: %s", c->vg, c->lv, what);
	return e;
}

/* Appends an extent, merging it with the previous one if contiguous. */
static int add_extent(struct seg_ctx *c, struct volume *v, uint64_t start, uint64_t len)
{
	struct volume_extent *last = v->extent_count ? &v->extent[v->extent_count - 1] : NULL;

	if (last && last->disk_sector + last->sectors == start) {
		last->sectors += len;
	} else {
		if (v->extent_count >= VOLUME_MAX_EXTENTS)
			return refuse(c, -EINVAL, "too many segments (at most 32)");
		v->extent[v->extent_count++] = (struct volume_extent){ start, len };
	}
	v->sectors += len;
	return 0;
}

/* stripes = [ "pvN", first_pe ]: the PV's section and the extent. */
static int seg_stripe(struct seg_ctx *c, int seg, int *pv, int64_t *pe)
{
	const struct lvm_tree *t = c->t;
	int a = lvm_child(t, seg, "stripes"), e0, e1;

	if (a < 0 || t->node[a].kind != LVM_ARRAY)
		return refuse(c, -EINVAL, "a segment has no stripes");
	e0 = t->node[a].child;
	e1 = e0 >= 0 ? t->node[e0].next : -1;
	if (e1 < 0 || t->node[e1].next >= 0 || t->node[e0].kind != LVM_STR ||
	    t->node[e1].kind != LVM_INT || t->node[e1].num < 0)
		return refuse(c, -EINVAL, "a segment's stripes are malformed");
	*pv = lvm_child(t, c->pvs, t->node[e0].str);
	*pe = t->node[e1].num;
	return *pv < 0 ? refuse(c, -EINVAL, "a segment names an unknown physical volume") : 0;
}

/* Where PV section pv lies (*at), its pe_start and pe_count. */
static int pv_place(struct seg_ctx *c, struct volume *v, int pv, int64_t *start,
		    int64_t *count, const struct lvm2_pvloc **at)
{
	const char *id = lvm_get_str(c->t, pv, "id");

	if (!id || !lvm_get_int(c->t, pv, "pe_start", start) ||
	    !lvm_get_int(c->t, pv, "pe_count", count) || *start < 0 || *count < 0)
		return refuse(c, -EINVAL, "a physical volume's entry is malformed");
	*at = c->pv_at(id, c->ctx);
	if (!*at)
		return refuse(c, -ENOENT, "a physical volume it uses is on no disk "
			      "(all of a logical volume's PVs must be attached)");
	if (v->disk && v->disk != (*at)->disk)
		return refuse(c, -EINVAL, "spans physical volumes on several disks: "
			      "only logical volumes on one disk are supported");
	v->disk = (*at)->disk;
	return 0;
}

static int seg_type_ok(struct seg_ctx *c, int seg)
{
	const char *type = lvm_get_str(c->t, seg, "type");
	int64_t stripes;
	char what[96];

	if (!type)
		return refuse(c, -EINVAL, "a segment has no type");
	if (strcmp(type, "striped") != 0) {
		snprintf(what, sizeof(what), "is a %.32s volume: only linear logical "
			 "volumes are supported", type);
		return refuse(c, -EINVAL, what);
	}
	if (!lvm_get_int(c->t, seg, "stripe_count", &stripes) || stripes != 1)
		return refuse(c, -EINVAL, "is striped: only linear logical volumes are supported");
	return 0;
}

/* One segment: LV extents [start_extent, +extent_count) on one PV. */
static int map_segment(struct seg_ctx *c, int seg, struct volume *v, uint64_t *next_le)
{
	int64_t le, count, pe, pe_start, pe_count;
	uint64_t es = (uint64_t)c->extent_size, sector;
	const struct lvm2_pvloc *at;
	int pv, r = seg_type_ok(c, seg);

	if (r)
		return r;
	if (!lvm_get_int(c->t, seg, "start_extent", &le) ||
	    !lvm_get_int(c->t, seg, "extent_count", &count) ||
	    (uint64_t)le != *next_le || count <= 0 || count > (1ll << 40))
		return refuse(c, -EINVAL, "its segments are malformed or out of order");
	r = seg_stripe(c, seg, &pv, &pe);
	if (!r)
		r = pv_place(c, v, pv, &pe_start, &pe_count, &at);
	if (r)
		return r;
	if (pe > pe_count || count > pe_count - pe || pe_start > (1ll << 50) ||
	    (uint64_t)(pe + count) > (1ull << 50) / es)
		return refuse(c, -EINVAL, "a segment lies outside its physical volume");
	sector = (uint64_t)pe_start + (uint64_t)pe * es;
	if (sector + (uint64_t)count * es > at->sectors || at->base > at->disk->sectors ||
	    at->base + sector + (uint64_t)count * es > at->disk->sectors)
		return refuse(c, -EINVAL, "a segment lies beyond the end of its physical volume");
	sector += at->base;
	*next_le += (uint64_t)count;
	return add_extent(c, v, sector, (uint64_t)count * es);
}

/* Is lv the origin of an old-style snapshot (a "snapshot" segment naming
 * it in another LV)? */
static bool is_snapshot_origin(const struct lvm_tree *t, int lvs, const char *lv)
{
	for (int l = t->node[lvs].child; l >= 0; l = t->node[l].next) {
		for (int s = t->node[l].child; s >= 0; s = t->node[s].next) {
			const char *type, *origin;

			if (t->node[s].kind != LVM_SECTION)
				continue;
			type = lvm_get_str(t, s, "type");
			origin = lvm_get_str(t, s, "origin");
			if (type && origin && !strcmp(type, "snapshot") && !strcmp(origin, lv))
				return true;
		}
	}
	return false;
}

/* Is word among the strings of the array key of section sec? */
static bool has_flag(const struct lvm_tree *t, int sec, const char *key, const char *word)
{
	int a = lvm_child(t, sec, key);

	if (a < 0 || t->node[a].kind != LVM_ARRAY)
		return false;
	for (int i = t->node[a].child; i >= 0; i = t->node[i].next)
		if (t->node[i].kind == LVM_STR && !strcmp(t->node[i].str, word))
			return true;
	return false;
}

/* LVM2 hides the parts of composite volumes (a RAID image, a thin pool's
 * data): writing one directly would corrupt the whole.  An LV without
 * WRITE takes readers only. */
static int lv_status_ok(struct seg_ctx *c, int lvsec, const struct volume *v)
{
	if (!has_flag(c->t, lvsec, "status", "VISIBLE"))
		return refuse(c, -EINVAL, "is a hidden part of another volume");
	if (!has_flag(c->t, lvsec, "status", "READ"))
		return refuse(c, -EINVAL, "is not readable in its LVM2 status");
	if (!v->readonly && !has_flag(c->t, lvsec, "status", "WRITE"))
		return refuse(c, -EINVAL, "is read-only in LVM2 (use ro)");
	return 0;
}

static int map_segments(struct seg_ctx *c, int lvsec, struct volume *v)
{
	int64_t segs;
	uint64_t next_le = 0;
	char key[24];

	if (!lvm_get_int(c->t, lvsec, "segment_count", &segs) || segs < 1 ||
	    segs > VOLUME_MAX_EXTENTS)
		return refuse(c, -EINVAL, "bad segment_count (1 to 32 segments)");
	for (int64_t i = 1; i <= segs; i++) {
		int seg, r;

		snprintf(key, sizeof(key), "segment%d", (int)i);
		seg = lvm_child(c->t, lvsec, key);
		if (seg < 0 || c->t->node[seg].kind != LVM_SECTION)
			return refuse(c, -EINVAL, "a segment is missing");
		r = map_segment(c, seg, v, &next_le);
		if (r)
			return r;
	}
	return 0;
}

static int section(const struct lvm_tree *t, int parent, const char *key)
{
	int i = lvm_child(t, parent, key);

	return i >= 0 && t->node[i].kind == LVM_SECTION ? i : -1;
}

int lvm2_map(const struct lvm_tree *t, const char *vg, const char *lv,
	     lvm2_pv_at_fn *pv_at, void *ctx, struct volume *v, char *err, size_t n)
{
	struct seg_ctx c = { .t = t, .vg = vg, .lv = lv, .pv_at = pv_at,
			     .ctx = ctx, .err = err, .n = n };
	int vgs = section(t, 0, vg), lvs, lvsec;

	v->disk = NULL;                  /* v->readonly: as the caller asks */
	v->sectors = 0;
	v->extent_count = 0;
	if (vgs < 0)
		return refuse(&c, -ENOENT, "no such volume group");
	c.pvs = section(t, vgs, "physical_volumes");
	lvs = section(t, vgs, "logical_volumes");
	if (c.pvs < 0 || !lvm_get_int(t, vgs, "extent_size", &c.extent_size) ||
	    c.extent_size < 1 || c.extent_size > (1ll << 32))
		return refuse(&c, -EINVAL, "the volume group's metadata is malformed");
	lvsec = lvs < 0 ? -1 : section(t, lvs, lv);
	if (lvsec < 0)
		return refuse(&c, -ENOENT, "no such logical volume in the volume group");
	if (is_snapshot_origin(t, lvs, lv))
		return refuse(&c, -EINVAL, "is the origin of a snapshot: only plain "
			      "linear logical volumes are supported");
	return lv_status_ok(&c, lvsec, v) ? -EINVAL : map_segments(&c, lvsec, v);
}

/* ---- the disks: where PVs lie, their UUIDs, the newest metadata ------ */
#define PVS_MAX (DISK_MAX * (1 + GPT_MATCH_MAX))

struct scan {
	const char *vg;
	uint32_t pvs;
	struct lvm2_pvloc at[PVS_MAX];           /* whole disks, LVM partitions */
	char uuid[PVS_MAX][LVM2_UUID_LEN + 1];   /* "" where no PV */
	struct lvm2_pv pv;                       /* the best copy so far */
	struct lvm_tree tree;
	int64_t seqno;
	char why[128];                           /* a damaged PV, for the error */
};

/* id is the dashed text form ("xxxxxx-xxxx-...-xxxxxx"). */
static const struct lvm2_pvloc *pv_at_of(const char *id, void *ctx)
{
	struct scan *s = ctx;
	char plain[LVM2_UUID_LEN + 1];
	size_t k = 0;

	for (; *id && k < LVM2_UUID_LEN; id++)
		if (*id != '-')
			plain[k++] = *id;
	plain[k] = 0;
	if (k != LVM2_UUID_LEN || *id)
		return NULL;
	for (uint32_t i = 0; i < s->pvs; i++)
		if (!strcmp(s->uuid[i], plain))
			return &s->at[i];
	return NULL;
}

/* Keeps pv's metadata if it describes s->vg with a higher seqno. */
static void consider(struct scan *s, const struct lvm2_pvloc *at, struct lvm2_pv *pv)
{
	struct lvm_tree t;
	int64_t seq;
	int vgs;
	char why[96];

	if (lvm_text_parse(pv->text, pv->text_len, &t, why, sizeof(why))) {
		snprintf(s->why, sizeof(s->why), "%s: %s", at->disk->name, why);
		lvm2_pv_free(pv);
		return;
	}
	vgs = section(&t, 0, s->vg);
	if (vgs < 0 || !lvm_get_int(&t, vgs, "seqno", &seq) || seq <= s->seqno) {
		lvm_text_free(&t);
		lvm2_pv_free(pv);
		return;
	}
	if (s->tree.node) {
		lvm_text_free(&s->tree);
		lvm2_pv_free(&s->pv);
	}
	s->tree = t;
	s->pv = *pv;
	s->seqno = seq;
}

static void scan_pv(struct scan *s, uint32_t i)
{
	struct lvm2_pv pv;
	int r = lvm2_pv_read(&s->at[i], &pv, s->why, sizeof(s->why));

	if (r == 0) {
		strlcpy(s->uuid[i], pv.uuid, sizeof(s->uuid[i]));
		consider(s, &s->at[i], &pv);
	} else if (r < 0) {
		/* A PV without metadata areas still holds extents. */
		char e[8];

		if (lvm2_pv_uuid(&s->at[i], s->uuid[i], e, sizeof(e)) != 0)
			s->uuid[i][0] = 0;
	}
}

/* Every place a PV may lie: each whole disk, each Linux LVM partition. */
static void find_pvs(struct scan *s)
{
	static const struct gpt_key lvm_parts = { .type = gpt_type_lvm };

	for (uint32_t i = 0; i < disk_count() && i < DISK_MAX; i++) {
		struct disk *d = disk_get(i);
		struct gpt_match m;
		char e[8];

		s->at[s->pvs++] = (struct lvm2_pvloc){ d, 0, d->sectors };
		if (gpt_scan(d, &lvm_parts, &m, e, sizeof(e)) != 0)
			continue;
		for (uint32_t p = 0; p < m.found && p < GPT_MATCH_MAX; p++)
			s->at[s->pvs++] = (struct lvm2_pvloc){ d, m.part[p].first,
							       m.part[p].sectors };
	}
}

/* No copy of the VG's metadata: say so, and why the last damaged PV was. */
static int no_vg(const struct scan *s, const char *lv, char *err, size_t n)
{
	if (s->why[0])
		snprintf(err, n, "lvm:%s/%s: no volume group %s on any disk (%s)", s->vg, lv,
			 s->vg, s->why);
	else
		snprintf(err, n, "lvm:%s/%s: no volume group %s on any disk", s->vg, lv, s->vg);
	return -ENOENT;
}

int lvm2_find(const char *vg, const char *lv, struct volume *v, char *err, size_t n)
{
	struct scan *s = kzalloc(sizeof(*s));
	int r;

	if (!s) {
		snprintf(err, n, "lvm:%s/%s: out of memory", vg, lv);
		return -ENOMEM;
	}
	s->vg = vg;
	s->seqno = -1;
	find_pvs(s);
	for (uint32_t i = 0; i < s->pvs; i++)
		scan_pv(s, i);
	if (!s->tree.node) {
		r = no_vg(s, lv, err, n);
	} else {
		r = lvm2_map(&s->tree, vg, lv, pv_at_of, s, v, err, n);
		lvm_text_free(&s->tree);
		lvm2_pv_free(&s->pv);
	}
	kfree(s);
	return r;
}
