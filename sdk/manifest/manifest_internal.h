/* What the files of the boot manifest parser share; not part of its API
 * (that is manifest.h).
 *
 *   manifest.c       errors, sections, the line loop and the API
 *   manifest_text.c  slices, output buffers and number parsing
 *   manifest_keys.c  the [hypervisor] and [guest] keys and their values
 *   manifest_block.c the block key: volume specs, options, one writer
 *
 * The parser is linked into the UEFI loader, the hypervisor and the host
 * tools, so every name shared between its files starts with mf_.
 */
#ifndef PARAVANE_MANIFEST_INTERNAL_H
#define PARAVANE_MANIFEST_INTERNAL_H

#include "manifest.h"

#define KEYS_MAX	16	/* keys in one section's table */
#define QUOTE_MAX	32	/* bytes of a bad value echoed in a message */

/* A byte range of the input: not NUL terminated. */
struct str {
	const char *p;
	size_t n;
};

/* A bounded output buffer, always NUL terminated once cap > 0. */
struct sbuf {
	char *p;
	size_t cap;
	size_t len;
};

enum section {
	SEC_NONE,	/* before the first header: keys have no home */
	SEC_SKIP,	/* after a header we cannot use: body ignored */
	SEC_HV,
	SEC_GUEST,
};

struct parser;
typedef void set_fn(struct parser *p, struct str v);

struct keydef {
	const char *name;
	set_fn *set;
	bool repeat;	/* may appear more than once (net, block) */
	bool required;
};

struct parser {
	struct manifest *m;
	uint32_t line;
	enum section sec;
	bool any_section;
	uint32_t hv_line;		/* first [hypervisor] header, 0 if none */
	struct manifest_hypervisor *hv;	/* m->hv, or scratch for a repeat */
	struct manifest_hypervisor scratch;
	struct manifest_guest *g;	/* current guest, NULL elsewhere */
	const struct keydef *keys;	/* current section's key table */
	uint32_t seen[KEYS_MAX];	/* line each key first appeared on */
	bool mount_rw[MANIFEST_MAX_BLOCKS];	/* guest's mount[i] said rw */
	struct str key;			/* names the key in error messages */
	char val[MANIFEST_CMDLINE_MAX];	/* a quoted value, unescaped */
};

/* ---- characters (manifest_internal.h) -------------------------------- */

static inline bool mf_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static inline bool mf_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline char mf_to_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Messages and names must be safe to print on any console. */
static inline char mf_printable(char c)
{
	return c >= 0x20 && c < 0x7f ? c : '?';
}

static inline int mf_hex_value(char c)
{
	if (mf_is_digit(c))
		return c - '0';
	c = mf_to_lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* ---- slices, buffers, numbers (manifest_text.c) ---------------------- */

struct str mf_str_of(const char *s);
struct str mf_str_sub(struct str s, size_t from, size_t to);
struct str mf_trim(struct str s);
size_t mf_str_find(struct str s, char c);
bool mf_str_eq(struct str a, const char *b);
bool mf_str_ieq(struct str a, const char *b);

void mf_zero_manifest(struct manifest *m);
void mf_swap_errors(struct manifest_error *a, struct manifest_error *b);
void mf_copy_field(char *dst, size_t cap, struct str s, bool sanitize);

struct sbuf mf_sb_init(char *p, size_t cap);
void mf_sb_putc(struct sbuf *b, char c);
void mf_sb_puts(struct sbuf *b, const char *s);
void mf_sb_uint(struct sbuf *b, uint64_t v);
void mf_sb_quote(struct sbuf *b, struct str s);

struct unit {
	const char *name;
	uint64_t scale;
};

bool mf_parse_uint(struct str s, uint64_t *v);
bool mf_next_item(struct str *list, struct str *item);
bool mf_parse_quantity(struct str s, const struct unit *u, uint64_t *v,
		       bool *big);

/* ---- errors (manifest.c) --------------------------------------------- */

void mf_fail_at(struct parser *p, uint32_t line, struct str key,
		const char *msg);
void mf_fail(struct parser *p, const char *msg);
void mf_fail_q(struct parser *p, const char *pre, struct str v,
	       const char *post);
void mf_fail_n(struct parser *p, const char *pre, uint64_t n,
	       const char *post);

/* ---- keys (manifest_keys.c) ------------------------------------------ */

void mf_hv_defaults(struct manifest_hypervisor *hv);

/* ---- block = SPEC [, ro | rw] [, name=NAME] (manifest_block.c) ------ */

void mf_set_block(struct parser *p, struct str v);
bool mf_block_rw_once(const struct manifest_guest *g);
void mf_set_mount(struct parser *p, struct str v);
void mf_check_mounts(struct parser *p);

extern const struct keydef mf_hv_keys[];
extern const struct keydef mf_guest_keys[];

#endif
