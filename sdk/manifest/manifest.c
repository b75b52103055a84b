/* The boot manifest parser; docs/manifest.md describes the format.
 *
 * The same files are built into the UEFI loader, the hypervisor and the
 * host tools, so they use no libc, no floating point and little stack
 * (about 1 KiB): the input is never copied, lines and values are
 * (pointer, length) slices into it, and the only buffer holds one
 * unescaped quoted value, which no key allows to be longer than a command
 * line.
 *
 * This file holds errors, sections, the line loop and the API;
 * manifest_text.c the slices, buffers and numbers; manifest_keys.c the
 * keys and their values.  manifest_internal.h is what they share.
 */
#include "manifest_internal.h"

/* ---- comments --------------------------------------------------------- */

/* '#' or ';' at the start or after a blank opens a comment, so that
 * "a#b" stays a value but "a #b" does not. */
static bool comment_at(struct str s, size_t i)
{
	return (s.p[i] == '#' || s.p[i] == ';') &&
	       (i == 0 || mf_is_blank(s.p[i - 1]));
}

static bool rest_is_comment(struct str s)
{
	s = mf_trim(s);
	return s.n == 0 || s.p[0] == '#' || s.p[0] == ';';
}

/* ---- errors ----------------------------------------------------------- */

static void error_add(struct manifest *m, uint32_t line, struct str key,
		      const char *msg)
{
	struct manifest_error *e;

	if (m->error_count < MANIFEST_MAX_ERRORS) {
		e = &m->error[m->error_count];
		e->line = line;
		mf_copy_field(e->key, sizeof(e->key), key, true);
		mf_copy_field(e->msg, sizeof(e->msg), mf_str_of(msg), true);
	}
	if (m->error_count < UINT32_MAX)
		m->error_count++;
}

/* Any error inside a guest section keeps that guest from booting. */
void mf_fail_at(struct parser *p, uint32_t line, struct str key,
		const char *msg)
{
	error_add(p->m, line, key, msg);
	if (p->g)
		p->g->valid = false;
}

void mf_fail(struct parser *p, const char *msg)
{
	mf_fail_at(p, p->line, p->key, msg);
}

/* PRE "VALUE" POST: most value errors echo what was written. */
void mf_fail_q(struct parser *p, const char *pre, struct str v,
	       const char *post)
{
	char msg[MANIFEST_MSG_MAX];
	struct sbuf b = mf_sb_init(msg, sizeof(msg));

	mf_sb_puts(&b, pre);
	mf_sb_quote(&b, v);
	mf_sb_puts(&b, post);
	mf_fail(p, msg);
}

/* PRE NUMBER POST */
void mf_fail_n(struct parser *p, const char *pre, uint64_t n,
	       const char *post)
{
	char msg[MANIFEST_MSG_MAX];
	struct sbuf b = mf_sb_init(msg, sizeof(msg));

	mf_sb_puts(&b, pre);
	mf_sb_uint(&b, n);
	mf_sb_puts(&b, post);
	mf_fail(p, msg);
}

/* Errors are found in reading order except "missing key", which is known
 * only at the end of a section: a stable sort puts it back in line order. */
static void sort_errors(struct manifest *m)
{
	uint32_t i, j, n = manifest_errors_stored(m);

	for (i = 1; i < n; i++)
		for (j = i; j && m->error[j - 1].line > m->error[j].line; j--)
			mf_swap_errors(&m->error[j - 1], &m->error[j]);
}

/* ---- sections --------------------------------------------------------- */

static void section_begin(struct parser *p, enum section sec,
			  const struct keydef *keys)
{
	int i;

	p->sec = sec;
	p->keys = keys;
	for (i = 0; i < KEYS_MAX; i++)
		p->seen[i] = 0;
}

/* Report required keys that never came, then forget the section. */
/* Copies of one section share everything but the name: not a MAC.  (A
 * name is NUL-terminated within its field, so a byte past the 24th is
 * a longer name.) */
static void check_instances(struct parser *p)
{
	const struct manifest_guest *g = p->g;

	if (g->instances <= 1)
		return;
	if (g->net_count)
		mf_fail_at(p, g->line, mf_str_of("instances"),
			   "a guest with net devices runs once (each copy would need its own MAC)");
	else if (mf_block_rw_once(g))
		mf_fail_at(p, g->line, mf_str_of("instances"),
			   "a guest with a read-write block device runs once (one writer)");
	else if (g->name[MANIFEST_INSTANCE_NAME_MAX])
		mf_fail_at(p, g->line, mf_str_of("instances"),
			   "name too long for numbered copies (max 24 characters)");
}

static void section_end(struct parser *p)
{
	const struct keydef *k;

	if (p->sec == SEC_GUEST) {
		for (k = p->keys; k->name; k++)
			if (k->required && !p->seen[k - p->keys])
				mf_fail_at(p, p->g->line, mf_str_of(k->name),
					"required key missing");
		check_instances(p);
		mf_check_mounts(p);
	}
	p->sec = SEC_SKIP;
	p->keys = NULL;
	p->g = NULL;
	p->hv = NULL;
}

static void open_hv(struct parser *p)
{
	p->key = mf_str_of("hypervisor");
	section_begin(p, SEC_HV, mf_hv_keys);
	if (!p->hv_line) {
		p->hv_line = p->line;
		p->hv = &p->m->hv;
		return;
	}
	/* Parse a repeat into scratch space so that its errors still show. */
	mf_hv_defaults(&p->scratch);
	p->hv = &p->scratch;
	mf_fail_n(p, "section repeated (first on line ", p->hv_line, ")");
}

static bool name_ok(struct str s)
{
	size_t i;
	char c;

	if (s.n == 0 || s.n >= MANIFEST_NAME_MAX)
		return false;
	for (i = 0; i < s.n; i++) {
		c = s.p[i];
		if (!mf_is_digit(c) &&
		    !(mf_to_lower(c) >= 'a' && mf_to_lower(c) <= 'z') &&
		    c != '_' && c != '.' && c != '-')
			return false;
	}
	return true;
}

static void check_name(struct parser *p, struct str name)
{
	const struct manifest_guest *g;
	uint32_t i;

	if (name.n == 0) {
		mf_fail(p, "missing name, as in [guest web]");
		return;
	}
	if (!name_ok(name)) {
		mf_fail_q(p, "bad name ", name, " (1-31 of A-Z a-z 0-9 _ . -)");
		return;
	}
	for (i = 0; i + 1 < p->m->guest_count; i++) {
		g = &p->m->guest[i];
		if (mf_str_eq(name, g->name)) {
			mf_fail_n(p, "duplicate name (first on line ", g->line, ")");
			return;
		}
	}
}

static void open_guest(struct parser *p, struct str name)
{
	struct manifest *m = p->m;
	struct manifest_guest *g;

	p->key = mf_str_of("guest");
	if (m->guest_count >= MANIFEST_MAX_GUESTS) {
		mf_fail_n(p, "too many guests (max ", MANIFEST_MAX_GUESTS, ")");
		return;
	}
	g = &m->guest[m->guest_count++];
	mf_copy_field(g->name, sizeof(g->name), name, true);
	g->line = p->line;
	g->on_exit = MANIFEST_ACTION_DESTROY;
	g->on_crash = MANIFEST_ACTION_DESTROY;
	g->restart_limit = 3;
	g->restart_delay_us = MANIFEST_RESTART_DELAY_BUILD;
	g->weight = MANIFEST_WEIGHT_DEFAULT;
	g->instances = 1;
	g->valid = true;
	section_begin(p, SEC_GUEST, mf_guest_keys);
	p->g = g;
	check_name(p, name);
}

static void open_section(struct parser *p, struct str inner)
{
	struct str word = mf_str_sub(inner, 0, 5);

	if (mf_str_eq(inner, "hypervisor"))
		open_hv(p);
	else if (mf_str_eq(word, "guest") &&
		 (inner.n == 5 || mf_is_blank(inner.p[5])))
		open_guest(p, mf_trim(mf_str_sub(inner, 5, inner.n)));
	else
		mf_fail_q(p, "unknown section ", inner,
			  " (use [hypervisor] or [guest NAME])");
}

/* "[name]" with optional blanks inside and a comment after. */
static void parse_header(struct parser *p, struct str s)
{
	size_t close = mf_str_find(s, ']');

	section_end(p);
	p->any_section = true;
	p->key = mf_str_of("");
	open_section(p, mf_trim(mf_str_sub(s, 1, close)));
	if (close == s.n)
		mf_fail(p, "missing ']' in section header");
	else if (!rest_is_comment(mf_str_sub(s, close + 1, s.n)))
		mf_fail(p, "unexpected text after ']'");
}

/* ---- key = value ------------------------------------------------------ */

/* A quoted value: \" and \\ are the only escapes; after the closing quote
 * only a comment may follow.  No key takes more than a command line. */
static bool unquote(struct parser *p, struct str s, struct str *v)
{
	size_t i, n = 0;

	for (i = 1; i < s.n && s.p[i] != '"'; i++) {
		if (s.p[i] == '\\' && ++i < s.n && s.p[i] != '"' &&
		    s.p[i] != '\\') {
			mf_fail_q(p, "bad escape ", mf_str_sub(s, i - 1, i + 1),
				  " in quotes (use \\\" or \\\\)");
			return false;
		}
		if (n == sizeof(p->val) - 1) {
			mf_fail_n(p, "too long (max ", sizeof(p->val) - 1, " bytes)");
			return false;
		}
		if (i < s.n)
			p->val[n++] = s.p[i];
	}
	if (i >= s.n) {
		mf_fail(p, "unterminated quote");
		return false;
	}
	if (!rest_is_comment(mf_str_sub(s, i + 1, s.n))) {
		mf_fail(p, "unexpected text after closing quote");
		return false;
	}
	v->p = p->val;
	v->n = n;
	return true;
}

/* A bare value runs to the end of the line or to a comment.  Quotes inside
 * it are kept as written but still hide '#' and ';'. */
static bool bare_value(struct parser *p, struct str s, struct str *v)
{
	bool inq = false;
	size_t i;

	for (i = 0; i < s.n; i++) {
		if (inq && s.p[i] == '\\')
			i++;
		else if (s.p[i] == '"')
			inq = !inq;
		else if (!inq && comment_at(s, i))
			break;
	}
	if (inq) {
		mf_fail(p, "unterminated quote");
		return false;
	}
	*v = mf_trim(mf_str_sub(s, 0, i));
	if (v->n == 0) {
		mf_fail(p, "empty value");
		return false;
	}
	return true;
}

static bool parse_value(struct parser *p, struct str s, struct str *v)
{
	s = mf_trim(s);
	if (s.n && s.p[0] == '"')
		return unquote(p, s, v);
	return bare_value(p, s, v);
}

/* Index of the '=' of a key = value line, or s.n if none comes before a
 * comment or the end. */
static size_t find_equals(struct str s)
{
	size_t i;

	for (i = 0; i < s.n && !comment_at(s, i); i++)
		if (s.p[i] == '=')
			return i;
	return s.n;
}

static struct str first_word(struct str s)
{
	size_t i = 0;

	while (i < s.n && !mf_is_blank(s.p[i]))
		i++;
	return mf_str_sub(s, 0, i);
}

/* The key tables are in manifest_keys.c. */
static const struct keydef *find_key(const struct keydef *k, struct str name)
{
	for (; k->name; k++)
		if (mf_str_eq(name, k->name))
			return k;
	return NULL;
}

/* Record the key's first line; refuse a repeat unless the key repeats. */
static bool first_use(struct parser *p, const struct keydef *k)
{
	uint32_t *seen = &p->seen[k - p->keys];

	if (*seen && !k->repeat) {
		mf_fail_n(p, "duplicate key (first on line ", *seen, ")");
		return false;
	}
	if (!*seen)
		*seen = p->line;
	return true;
}

static void parse_keyval(struct parser *p, struct str s)
{
	size_t eq = find_equals(s);
	const struct keydef *k;
	struct str v;

	if (p->sec == SEC_SKIP)
		return;
	p->key = mf_trim(mf_str_sub(s, 0, eq));
	if (eq == s.n) {
		p->key = first_word(s);
		mf_fail(p, "missing '=' (expected key = value)");
	} else if (p->key.n == 0) {
		mf_fail(p, "missing key before '='");
	} else if (p->sec == SEC_NONE) {
		mf_fail(p, "key outside any section");
	} else if (!(k = find_key(p->keys, p->key))) {
		mf_fail(p, p->sec == SEC_HV ? "unknown key in [hypervisor]" :
					   "unknown key in [guest]");
	} else if (first_use(p, k) &&
		   parse_value(p, mf_str_sub(s, eq + 1, s.n), &v)) {
		k->set(p, v);
	}
}

/* ---- lines ------------------------------------------------------------ */

static void fail_byte(struct parser *p, unsigned char c, size_t column)
{
	char msg[MANIFEST_MSG_MAX];
	struct sbuf b = mf_sb_init(msg, sizeof(msg));

	if (c) {
		mf_sb_puts(&b, "control byte 0x");
		mf_sb_putc(&b, "0123456789abcdef"[c >> 4]);
		mf_sb_putc(&b, "0123456789abcdef"[c & 15]);
	} else {
		mf_sb_puts(&b, "NUL byte");
	}
	mf_sb_puts(&b, " at column ");
	mf_sb_uint(&b, column);
	mf_sb_puts(&b, " (not a text file?)");
	mf_fail(p, msg);
}

/* Refuse over-long lines and binary bytes before looking at the syntax. */
static bool line_ok(struct parser *p, struct str s)
{
	unsigned char c;
	size_t i;

	p->key = mf_str_of("");
	if (s.n > MANIFEST_LINE_MAX) {
		mf_fail_n(p, "line too long (max ", MANIFEST_LINE_MAX, " bytes)");
		return false;
	}
	for (i = 0; i < s.n; i++) {
		c = (unsigned char)s.p[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			fail_byte(p, c, i + 1);
			return false;
		}
	}
	return true;
}

static void parse_line(struct parser *p, struct str s)
{
	s = mf_trim(s);
	if (s.n == 0 || s.p[0] == '#' || s.p[0] == ';')
		return;
	if (s.p[0] == '[')
		parse_header(p, s);
	else
		parse_keyval(p, s);
}

/* Split at LF; a CR before the LF (or at the very end) is dropped. */
static void parse_text(struct parser *p, const char *text, size_t len)
{
	size_t pos = 0, end;
	struct str line;

	while (pos < len) {
		for (end = pos; end < len && text[end] != '\n'; end++)
			;
		line.p = text + pos;
		line.n = end - pos;
		if (line.n && line.p[line.n - 1] == '\r')
			line.n--;
		if (p->line < UINT32_MAX)
			p->line++;
		if (line_ok(p, line))
			parse_line(p, line);
		pos = end + 1;
	}
}

/* ---- API -------------------------------------------------------------- */

/* A long name keeps its tail, where the file name is. */
static void set_file_name(struct manifest *m, const char *file)
{
	struct str s = mf_str_of(file ? file : "manifest");
	struct sbuf b = mf_sb_init(m->file, sizeof(m->file));
	size_t keep = sizeof(m->file) - 4;

	if (s.n >= sizeof(m->file)) {
		mf_sb_puts(&b, "...");
		s = mf_str_sub(s, s.n - keep, s.n);
	}
	while (s.n--)
		mf_sb_putc(&b, *s.p++);
}

static void parser_init(struct parser *p, struct manifest *m)
{
	p->m = m;
	p->line = 0;
	p->any_section = false;
	p->hv_line = 0;
	p->hv = NULL;
	p->g = NULL;
	p->key = mf_str_of("");
	mf_hv_defaults(&p->scratch);
	section_begin(p, SEC_NONE, NULL);
}

uint32_t manifest_parse(struct manifest *m, const char *file,
			const char *text, size_t len)
{
	const unsigned char *u = (const unsigned char *)text;
	struct parser p;

	mf_zero_manifest(m);
	set_file_name(m, file);
	mf_hv_defaults(&m->hv);
	parser_init(&p, m);
	if (!text)
		len = 0;
	if (len >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf) {
		text += 3;	/* UTF-8 byte order mark, as Notepad writes */
		len -= 3;
	}
	parse_text(&p, text, len);
	section_end(&p);
	if (!p.any_section)
		mf_fail_at(&p, 0, mf_str_of(""), "manifest has no sections");
	sort_errors(m);
	return m->error_count;
}

size_t manifest_format_error(const struct manifest *m, uint32_t i,
			     char *buf, size_t n)
{
	const struct manifest_error *e;
	struct sbuf b = mf_sb_init(buf, buf ? n : 0);

	if (!m || i >= manifest_errors_stored(m))
		return 0;
	e = &m->error[i];
	mf_sb_puts(&b, m->file);
	if (e->line) {
		mf_sb_putc(&b, ':');
		mf_sb_uint(&b, e->line);
	}
	mf_sb_puts(&b, ": ");
	if (e->key[0]) {
		mf_sb_puts(&b, e->key);
		mf_sb_puts(&b, ": ");
	}
	mf_sb_puts(&b, e->msg);
	return b.len;
}

uint32_t manifest_valid_guests(const struct manifest *m)
{
	uint32_t i, n = 0;

	for (i = 0; i < m->guest_count && i < MANIFEST_MAX_GUESTS; i++)
		if (m->guest[i].valid)
			n++;
	return n;
}

const char *manifest_action_name(enum manifest_action a)
{
	switch (a) {
	case MANIFEST_ACTION_DESTROY:
		return "destroy";
	case MANIFEST_ACTION_RESTART:
		return "restart";
	case MANIFEST_ACTION_POWEROFF:
		return "poweroff";
	}
	return "?";
}

