/* LVM2 on-disk metadata, read-only (io/lvm2_label.c, io/lvm2_text.c,
 * io/lvm2.c; the facts relied on are listed in docs/storage.md).  Every
 * byte comes from a disk and is treated as hostile: sizes, offsets and
 * nesting are bounded, checksums checked, numbers range-checked. */
#ifndef HV_LVM2_H
#define HV_LVM2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct disk;
struct volume;

#define LVM2_UUID_LEN   32           /* on disk, no dashes */
#define LVM2_TEXT_MAX   (256u << 10) /* metadata text read at most */
#define LVM2_NODES_MAX  8192u        /* parsed values at most */
#define LVM2_DEPTH_MAX  8u           /* section nesting at most (LVM2 uses 4) */

/* Where a PV lies: a whole disk (base 0), or a GPT partition of type
 * Linux LVM. */
struct lvm2_pvloc {
	struct disk *disk;
	uint64_t base, sectors;
};

/* ---- lvm2_label.c: label, PV header, metadata area, metadata text ---- */
struct lvm2_pv {
	char uuid[LVM2_UUID_LEN + 1];    /* the PV UUID, NUL-terminated */
	char *text;                      /* kmalloc'd metadata text, NUL-terminated */
	size_t text_len;
};

/* 0: d holds an LVM2 PV with metadata (pv->text to be freed with
 * lvm2_pv_free); 1: no LVM2 label; -EIO/-EINVAL with err: damaged. */
int lvm2_pv_read(const struct lvm2_pvloc *at, struct lvm2_pv *pv, char *err, size_t n);
/* The PV UUID alone (no metadata needed): 0, 1 (no label), or < 0. */
int lvm2_pv_uuid(const struct lvm2_pvloc *at, char uuid[LVM2_UUID_LEN + 1],
		 char *err, size_t n);
void lvm2_pv_free(struct lvm2_pv *pv);

/* ---- lvm2_text.c: the LVM2 text config format ------------------------
 * file    := item*
 * item    := key '=' value | key '{' item* '}'
 * value   := "string" | integer | '[' [scalar (',' scalar)*] ']'
 * '#' starts a comment to the end of the line.  Node 0 is the root
 * section; children are linked by first child / next sibling. */
enum lvm_kind { LVM_SECTION, LVM_INT, LVM_STR, LVM_ARRAY };

struct lvm_node {
	const char *key;                 /* into the text; not NUL-terminated */
	uint16_t key_len;
	uint8_t kind;
	int32_t child, next;             /* -1: none */
	int64_t num;                     /* LVM_INT */
	const char *str;                 /* LVM_STR: NUL-terminated, unescaped */
};

struct lvm_tree {
	struct lvm_node *node;           /* kmalloc'd, LVM2_NODES_MAX */
	uint32_t count;
};

/* Parses text (modified in place: strings are unescaped and terminated). */
int lvm_text_parse(char *text, size_t len, struct lvm_tree *t, char *err, size_t n);
void lvm_text_free(struct lvm_tree *t);
int lvm_child(const struct lvm_tree *t, int parent, const char *key);
bool lvm_get_int(const struct lvm_tree *t, int parent, const char *key, int64_t *v);
const char *lvm_get_str(const struct lvm_tree *t, int parent, const char *key);

/* ---- lvm2.c: a logical volume's extents ------------------------------ */
/* Fills v->disk, v->extent[], v->sectors for vg/lv from the metadata of
 * every PV (whole disks and Linux LVM GPT partitions; the newest seqno
 * wins): 0, -ENOENT or -EINVAL with err. */
int lvm2_find(const char *vg, const char *lv, struct volume *v, char *err, size_t n);
/* Parsed metadata (one VG) to extents; pv_at maps a PV id (dashed UUID
 * text) to where the PV lies, or NULL; v->readonly says what the caller
 * asks for (an LV that LVM2 marks read-only takes readers only).  Split
 * out for tests. */
typedef const struct lvm2_pvloc *lvm2_pv_at_fn(const char *uuid, void *ctx);
int lvm2_map(const struct lvm_tree *t, const char *vg, const char *lv,
	     lvm2_pv_at_fn *pv_at, void *ctx, struct volume *v, char *err, size_t n);

#endif
