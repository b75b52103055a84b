/* Strict JSON input (json_in.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "json_in.h"

struct parser {
	struct jdoc *doc;
	size_t pos, len;
	int depth;
};

bool json_fail(struct jerr *err, const char *code, const char *field, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return false;
}

static bool at(struct parser *p, const char *set);

static void skip_ws(struct parser *p)
{
	while (at(p, " \t\r\n"))
		p->pos++;
}

static char peek(struct parser *p)
{
	skip_ws(p);
	return p->pos < p->len ? p->doc->text[p->pos] : 0;
}

static int new_tok(struct parser *p, enum jtype type)
{
	struct jtok *t;

	if (p->doc->ntok >= JSON_TOKENS_MAX)
		return -1;
	t = &p->doc->tok[p->doc->ntok];
	*t = (struct jtok){ .type = type, .start = (int)p->pos };
	return p->doc->ntok++;
}

static bool value(struct parser *p);

static bool string(struct parser *p)
{
	const char *s = p->doc->text;
	int t = (p->pos++, new_tok(p, J_STRING));

	for (; t >= 0 && p->pos < p->len && s[p->pos] != '"'; p->pos++) {
		if ((unsigned char)s[p->pos] < 0x20)
			return false;
		if (s[p->pos] != '\\')
			continue;
		p->pos++;
		if (!at(p, "\"\\/bfnrtu"))
			return false;
		for (int i = 0, u = s[p->pos] == 'u'; u && i < 4; i++)
			if (p->pos++, !at(p, "0123456789abcdefABCDEF"))
				return false;
	}
	if (t < 0 || p->pos >= p->len)
		return false;
	p->doc->tok[t].end = (int)p->pos++;
	p->doc->tok[t].next = p->doc->ntok;
	return true;
}

static bool digits(struct parser *p)
{
	size_t from = p->pos;

	while (p->pos < p->len && p->doc->text[p->pos] >= '0' && p->doc->text[p->pos] <= '9')
		p->pos++;
	return p->pos > from;
}

static bool at(struct parser *p, const char *set)
{
	return p->pos < p->len && p->doc->text[p->pos] && strchr(set, p->doc->text[p->pos]);
}

/* RFC 8259 section 6: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool number(struct parser *p)
{
	p->pos += at(p, "-");
	if (at(p, "0"))
		p->pos++;
	else if (!digits(p))
		return false;
	if (at(p, ".") && (++p->pos, !digits(p)))
		return false;
	if (at(p, "eE")) {
		p->pos++;
		p->pos += at(p, "+-");
		return digits(p);
	}
	return true;
}

static bool primitive(struct parser *p)
{
	const char *s = p->doc->text + p->pos;
	size_t n = p->len - p->pos;
	int t = new_tok(p, J_PRIMITIVE);

	if (t < 0)
		return false;
	if (n >= 4 && (!memcmp(s, "true", 4) || !memcmp(s, "null", 4)))
		p->pos += 4;
	else if (n >= 5 && !memcmp(s, "false", 5))
		p->pos += 5;
	else if (!number(p))
		return false;
	p->doc->tok[t].end = (int)p->pos;
	p->doc->tok[t].next = p->doc->ntok;
	return true;
}

/* Members (object) or elements (array) up to the closing bracket. */
static bool compound(struct parser *p, enum jtype type)
{
	char close = type == J_OBJECT ? '}' : ']';
	int t = (p->pos++, new_tok(p, type));

	if (t < 0 || ++p->depth > JSON_DEPTH_MAX)
		return false;
	if (peek(p) != close) {
		do {
			if (type == J_OBJECT && (peek(p) != '"' || !string(p) || peek(p) != ':' || !++p->pos))
				return false;
			if (!value(p))
				return false;
			p->doc->tok[t].size++;
		} while (peek(p) == ',' && ++p->pos);
	}
	if (peek(p) != close)
		return false;
	p->pos++;
	p->depth--;
	p->doc->tok[t].end = (int)p->pos;
	p->doc->tok[t].next = p->doc->ntok;
	return true;
}

static bool value(struct parser *p)
{
	char c = peek(p);

	return c == '{' ? compound(p, J_OBJECT) : c == '[' ? compound(p, J_ARRAY) :
	       c == '"' ? string(p) : c ? primitive(p) : false;
}

/* Valid UTF-8 throughout (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
static bool utf8_ok(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t len = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 :
			     c >= 0xf0 && c < 0xf5 ? 4 : 0;

		if (!len || len > n - i)
			return false;
		for (size_t k = 1; k < len; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
		if ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] >= 0xa0) ||
		    (c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] >= 0x90))
			return false;
		i += len;
	}
	return true;
}

static bool key_eq(const struct jdoc *doc, int k1, int k2)
{
	const struct jtok *a = &doc->tok[k1], *b = &doc->tok[k2];

	return a->end - a->start == b->end - b->start &&
	       !memcmp(doc->text + a->start, doc->text + b->start, (size_t)(a->end - a->start));
}

/* No object anywhere has the same key twice (compared as written). */
static bool no_duplicates(const struct jdoc *doc)
{
	for (int o = 0; o < doc->ntok; o++) {
		if (doc->tok[o].type != J_OBJECT)
			continue;
		for (int k = o + 1; k < doc->tok[o].next; k = doc->tok[k + 1].next)
			for (int j = doc->tok[k + 1].next; j < doc->tok[o].next; j = doc->tok[j + 1].next)
				if (key_eq(doc, k, j))
					return false;
	}
	return true;
}

bool json_parse(struct jdoc *doc, const char *body, size_t len, struct jerr *err)
{
	struct parser p = { .doc = doc, .len = len };

	doc->text = body;
	doc->ntok = 0;
	if (!utf8_ok((const unsigned char *)body, len))
		return json_fail(err, "bad_json", NULL, "the body is not valid UTF-8");
	if (peek(&p) != '{')
		return json_fail(err, "bad_json", NULL, "the body must be one JSON object");
	if (!value(&p) || peek(&p))
		return json_fail(err, "bad_json", NULL, "the body is not valid JSON (near byte %zu)", p.pos);
	if (!no_duplicates(doc))
		return json_fail(err, "bad_json", NULL, "an object has the same key twice");
	return true;
}

static bool key_is(const struct jdoc *doc, int k, const char *key)
{
	const struct jtok *t = &doc->tok[k];

	return (size_t)(t->end - t->start) == strlen(key) && !memcmp(doc->text + t->start, key, strlen(key));
}

int json_get(const struct jdoc *doc, int obj, const char *key)
{
	for (int k = obj + 1; k < doc->tok[obj].next; k = doc->tok[k + 1].next)
		if (key_is(doc, k, key))
			return k + 1;
	return -1;
}

static bool allowed_key(const struct jdoc *doc, int k, const char *const *allowed)
{
	for (; *allowed; allowed++)
		if (key_is(doc, k, *allowed))
			return true;
	return false;
}

bool json_only(const struct jdoc *doc, int obj, const char *const *allowed, const char *path,
	       struct jerr *err)
{
	for (int k = obj + 1; k < doc->tok[obj].next; k = doc->tok[k + 1].next) {
		char name[40];
		const struct jtok *t = &doc->tok[k];

		if (allowed_key(doc, k, allowed))
			continue;
		snprintf(name, sizeof(name), "%.*s", t->end - t->start > 32 ? 32 : t->end - t->start,
			 doc->text + t->start);
		for (char *c = name; *c; c++)
			*c = (*c < 0x20 || *c > 0x7e || *c == '"' || *c == '\\') ? '?' : *c;
		json_fail(err, "unknown_field", NULL, "unknown field \"%s%s%s\"", path, *path ? "." : "", name);
		snprintf(err->field, sizeof(err->field), "%s%s%s", path, *path ? "." : "", name);
		return false;
	}
	return true;
}

bool json_is_null(const struct jdoc *doc, int t)
{
	return doc->tok[t].type == J_PRIMITIVE && doc->text[doc->tok[t].start] == 'n';
}

bool json_int(const struct jdoc *doc, int t, const char *path, int64_t min, int64_t max,
	      int64_t *out, struct jerr *err)
{
	const struct jtok *k = &doc->tok[t];
	const char *s = doc->text + k->start;
	bool neg = *s == '-';
	uint64_t v = 0;

	for (int i = k->start + neg; k->type == J_PRIMITIVE && i < k->end; i++) {
		if (doc->text[i] < '0' || doc->text[i] > '9' || v > (UINT64_MAX - 9) / 10)
			goto bad;
		v = v * 10 + (uint64_t)(doc->text[i] - '0');
	}
	if (k->type != J_PRIMITIVE || !(*s == '-' || (*s >= '0' && *s <= '9')))
		goto bad;
	if ((!neg && v > (uint64_t)max) || (neg && (min >= 0 || v > (uint64_t)-(min + 1) + 1)))
		goto bad;
	*out = neg ? -(int64_t)(v - 1) - 1 : (int64_t)v;
	if (*out >= min)
		return true;
bad:
	return json_fail(err, "bad_field", path, "%s: must be an integer in %lld..%lld", path,
			 (long long)min, (long long)max);
}

bool json_bool(const struct jdoc *doc, int t, const char *path, bool *out, struct jerr *err)
{
	const struct jtok *k = &doc->tok[t];
	char c = doc->text[k->start];

	if (k->type != J_PRIMITIVE || (c != 't' && c != 'f'))
		return json_fail(err, "bad_field", path, "%s: must be true or false", path);
	*out = c == 't';
	return true;
}

static int hex(char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* Put code point u as UTF-8 at out[*o] if it fits in n - 1 bytes. */
static bool put_utf8(char *out, size_t n, size_t *o, unsigned u)
{
	char b[4];
	size_t len = u < 0x80 ? 1 : u < 0x800 ? 2 : u < 0x10000 ? 3 : 4;

	if (len == 1)
		b[0] = (char)u;
	else
		for (size_t i = len; i-- > 0; u >>= 6)
			b[i] = (char)(i ? 0x80 | (u & 0x3f) : (0xf0 << (4 - len)) | u);
	if (*o + len >= n)
		return false;
	memcpy(out + *o, b, len);
	*o += len;
	return true;
}

static unsigned hex4(const char *s)
{
	return (unsigned)(hex(s[0]) << 12 | hex(s[1]) << 8 | hex(s[2]) << 4 | hex(s[3]));
}

/* One escape at s (after the backslash); returns the code point and moves *i. */
static long unescape(const char *s, int *i, int end)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	unsigned u, lo;

	if (s[*i] != 'u')
		return (*i)++, to[strchr(from, s[*i - 1]) - from];
	u = hex4(s + *i + 1);
	*i += 5;
	if (u >= 0xdc00 && u < 0xe000)
		return -1;                  /* a lone low surrogate */
	if (u < 0xd800 || u >= 0xdc00)
		return u;
	if (*i + 6 > end || s[*i] != '\\' || s[*i + 1] != 'u' || (lo = hex4(s + *i + 2)) < 0xdc00 || lo >= 0xe000)
		return -1;
	*i += 6;
	return 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
}

bool json_string(const struct jdoc *doc, int t, const char *path, char *out, size_t n,
		 struct jerr *err)
{
	const struct jtok *k = &doc->tok[t];
	size_t o = 0;

	if (k->type != J_STRING)
		return json_fail(err, "bad_field", path, "%s: must be a string", path);
	for (int i = k->start; i < k->end;) {
		long u = doc->text[i] == '\\' ? (i++, unescape(doc->text, &i, k->end)) : -2;

		if (u == -2 && o + 1 < n)
			out[o++] = doc->text[i++];
		else if (u == 0 || u == -1)
			return json_fail(err, "bad_field", path, "%s: %s", path,
					 u ? "a \\u escape is not a character" : "must not hold NUL bytes");
		else if (u == -2 || !put_utf8(out, n, &o, (unsigned)u))
			return json_fail(err, "bad_field", path, "%s: longer than %zu bytes", path, n - 1);
	}
	out[o] = 0;
	return true;
}

int json_array(const struct jdoc *doc, int t, const char *path, struct jerr *err)
{
	if (doc->tok[t].type != J_ARRAY)
		return json_fail(err, "bad_field", path, "%s: must be an array", path), -1;
	return doc->tok[t].size;
}

int json_elem(const struct jdoc *doc, int arr, int i)
{
	int t = arr + 1;

	while (i-- > 0)
		t = doc->tok[t].next;
	return t;
}

bool json_is_object(const struct jdoc *doc, int t, const char *path, struct jerr *err)
{
	if (doc->tok[t].type != J_OBJECT)
		return json_fail(err, "bad_field", path, "%s: must be an object", path);
	return true;
}
