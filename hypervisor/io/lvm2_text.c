/* The LVM2 text metadata format (what lib/format_text/export.c writes and
 * device_mapper's config parser reads), parsed into a bounded node array.
 * The text is from a disk: every limit (nodes, depth, key and number
 * length) is checked, and anything outside the small grammar in hv/lvm2.h
 * is an error naming the line. */
#include <hv/errno.h>
#include <hv/lib.h>
#include <hv/lvm2.h>
#include <hv/mm.h>

#define KEY_MAX 128                  /* LVM2 names are at most 127 bytes */

struct parser {
	char *s;
	size_t len, pos;
	uint32_t line;
	struct lvm_tree *t;
	char *err;
	size_t n;
};

static int fail(struct parser *p, const char *what)
{
	snprintf(p->err, p->n, "LVM2 metadata line %u: %s", p->line, what);
	return -EINVAL;
}

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' || c == '+';
}

/* Skips blanks, newlines and '#' comments; returns the next char or 0. */
static char peek(struct parser *p)
{
	while (p->pos < p->len) {
		char c = p->s[p->pos];

		if (c == '#') {
			while (p->pos < p->len && p->s[p->pos] != '\n')
				p->pos++;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			p->line += c == '\n';
			p->pos++;
		} else {
			return c;
		}
	}
	return 0;
}

static int new_node(struct parser *p, int parent, int *last, enum lvm_kind kind)
{
	struct lvm_tree *t = p->t;
	int i;

	if (t->count >= LVM2_NODES_MAX)
		return fail(p, "too many values");
	i = (int)t->count++;
	t->node[i] = (struct lvm_node){ .kind = (uint8_t)kind, .child = -1, .next = -1 };
	if (*last >= 0)
		t->node[*last].next = i;
	else
		t->node[parent].child = i;
	*last = i;
	return i;
}

static int parse_key(struct parser *p, const char **key, uint16_t *len)
{
	size_t start = p->pos;

	while (p->pos < p->len && is_key_char(p->s[p->pos]))
		p->pos++;
	if (p->pos == start)
		return fail(p, "expected a name");
	if (p->pos - start >= KEY_MAX)
		return fail(p, "name too long");
	*key = p->s + start;
	*len = (uint16_t)(p->pos - start);
	return 0;
}

/* "..." with backslash escaping the next byte; unescaped in place and
 * NUL-terminated where the closing quote was. */
static int parse_string(struct parser *p, struct lvm_node *nd)
{
	char *out = p->s + p->pos + 1;
	size_t i = p->pos + 1;

	nd->str = out;
	while (i < p->len && p->s[i] != '"') {
		if (p->s[i] == '\\' && ++i >= p->len)
			break;
		p->line += p->s[i] == '\n';
		*out++ = p->s[i++];
	}
	if (i >= p->len)
		return fail(p, "unterminated string");
	*out = 0;
	p->pos = i + 1;
	return 0;
}

/* A decimal integer, optionally negative, that fits int64_t. */
static int parse_int(struct parser *p, struct lvm_node *nd)
{
	bool neg = p->s[p->pos] == '-';
	uint64_t v = 0, limit = neg ? (1ull << 63) : (1ull << 63) - 1;
	size_t start;

	p->pos += neg;
	start = p->pos;
	while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
		uint32_t d = (uint32_t)(p->s[p->pos++] - '0');

		if (v > (limit - d) / 10)
			return fail(p, "number out of range");
		v = v * 10 + d;
	}
	if (p->pos == start || (p->pos < p->len && is_key_char(p->s[p->pos])))
		return fail(p, "bad number");
	nd->num = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

static int parse_scalar(struct parser *p, int parent, int *last)
{
	char c = peek(p);
	int i = new_node(p, parent, last, c == '"' ? LVM_STR : LVM_INT);

	if (i < 0)
		return i;
	if (c == '"')
		return parse_string(p, &p->t->node[i]);
	if (c == '-' || (c >= '0' && c <= '9'))
		return parse_int(p, &p->t->node[i]);
	return fail(p, "expected a string or a number");
}

/* '[' already seen: scalars separated by commas up to ']'. */
static int parse_array(struct parser *p, int arr)
{
	int last = -1, r;

	p->pos++;
	if (peek(p) == ']') {
		p->pos++;
		return 0;
	}
	for (;;) {
		r = parse_scalar(p, arr, &last);
		if (r < 0)
			return r;
		if (peek(p) == ']') {
			p->pos++;
			return 0;
		}
		if (peek(p) != ',')
			return fail(p, "expected ',' or ']' in an array");
		p->pos++;
	}
}

static int parse_value(struct parser *p, int parent, int *last)
{
	int i;

	if (peek(p) != '[')
		return parse_scalar(p, parent, last);
	i = new_node(p, parent, last, LVM_ARRAY);
	return i < 0 ? i : parse_array(p, i);
}

static int parse_items(struct parser *p, int parent, uint32_t depth, bool top);

static int parse_item(struct parser *p, int parent, int *last, uint32_t depth)
{
	const char *key;
	uint16_t klen;
	int r = parse_key(p, &key, &klen);
	char c;

	if (r < 0)
		return r;
	c = peek(p);
	if (c == '=') {
		p->pos++;
		r = parse_value(p, parent, last);
	} else if (c == '{') {
		if (depth >= LVM2_DEPTH_MAX)
			return fail(p, "sections nested too deep");
		p->pos++;
		r = new_node(p, parent, last, LVM_SECTION);
		if (r >= 0)
			r = parse_items(p, r, depth + 1, false);
	} else {
		return fail(p, "expected '=' or '{' after a name");
	}
	if (r < 0)
		return r;
	p->t->node[*last].key = key;
	p->t->node[*last].key_len = klen;
	return 0;
}

/* Items up to '}' (closing a section) or the end of the text (top). */
static int parse_items(struct parser *p, int parent, uint32_t depth, bool top)
{
	int last = -1, r;

	for (;;) {
		char c = peek(p);

		if (c == 0 || c == '}') {
			if ((c == 0) != top)
				return fail(p, top ? "unexpected '}'" : "unterminated section");
			p->pos += c == '}';
			return 0;
		}
		r = parse_item(p, parent, &last, depth);
		if (r < 0)
			return r;
	}
}

int lvm_text_parse(char *text, size_t len, struct lvm_tree *t, char *err, size_t n)
{
	struct parser p = { .s = text, .len = len, .line = 1, .t = t, .err = err, .n = n };
	int r;

	t->count = 0;
	t->node = kmalloc(LVM2_NODES_MAX * sizeof(*t->node));
	if (!t->node) {
		snprintf(err, n, "LVM2 metadata: out of memory");
		return -ENOMEM;
	}
	p.len = strnlen(text, len);          /* LVM2 ends the text with a NUL */
	t->node[0] = (struct lvm_node){ .kind = LVM_SECTION, .child = -1, .next = -1 };
	t->count = 1;
	r = parse_items(&p, 0, 0, true);
	if (r < 0)
		lvm_text_free(t);
	return r;
}

void lvm_text_free(struct lvm_tree *t)
{
	kfree(t->node);
	t->node = NULL;
	t->count = 0;
}

/* The first child of parent named key, or -1. */
int lvm_child(const struct lvm_tree *t, int parent, const char *key)
{
	size_t kl = strlen(key);

	if (parent < 0 || (uint32_t)parent >= t->count)
		return -1;
	for (int i = t->node[parent].child; i >= 0; i = t->node[i].next) {
		const struct lvm_node *nd = &t->node[i];

		if (nd->key_len == kl && memcmp(nd->key, key, kl) == 0)
			return i;
	}
	return -1;
}

bool lvm_get_int(const struct lvm_tree *t, int parent, const char *key, int64_t *v)
{
	int i = lvm_child(t, parent, key);

	if (i < 0 || t->node[i].kind != LVM_INT)
		return false;
	*v = t->node[i].num;
	return true;
}

const char *lvm_get_str(const struct lvm_tree *t, int parent, const char *key)
{
	int i = lvm_child(t, parent, key);

	return i >= 0 && t->node[i].kind == LVM_STR ? t->node[i].str : NULL;
}
