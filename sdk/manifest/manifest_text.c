/* The boot manifest parser, part 1 of 3: slices of the input, memory and
 * output buffers, and number parsing.  Nothing here knows about sections
 * or keys; manifest_internal.h lists the files and what they share.
 */
#include "manifest_internal.h"

/* ---- slices ----------------------------------------------------------- */

struct str mf_str_of(const char *s)
{
	struct str r = { s, 0 };

	while (s[r.n])
		r.n++;
	return r;
}

/* Bytes [from, to) of s, clamped to s. */
struct str mf_str_sub(struct str s, size_t from, size_t to)
{
	struct str r;

	if (to > s.n)
		to = s.n;
	if (from > to)
		from = to;
	r.p = s.p + from;
	r.n = to - from;
	return r;
}

struct str mf_trim(struct str s)
{
	while (s.n && mf_is_blank(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n && mf_is_blank(s.p[s.n - 1]))
		s.n--;
	return s;
}

/* Index of the first c in s, or s.n. */
size_t mf_str_find(struct str s, char c)
{
	size_t i = 0;

	while (i < s.n && s.p[i] != c)
		i++;
	return i;
}

bool mf_str_eq(struct str a, const char *b)
{
	size_t i;

	for (i = 0; i < a.n; i++)
		if (b[i] != a.p[i])
			return false;
	return b[i] == '\0';
}

/* Value keywords (yes, restart, dhcp...) ignore ASCII case. */
bool mf_str_ieq(struct str a, const char *b)
{
	size_t i;

	for (i = 0; i < a.n; i++)
		if (b[i] == '\0' || mf_to_lower(a.p[i]) != mf_to_lower(b[i]))
			return false;
	return b[i] == '\0';
}

/* ---- memory and output buffers --------------------------------------- */

/* Whole structures are cleared and moved a word at a time.  may_alias
 * makes that legal C (like char access); volatile keeps the compiler from
 * turning the loop into a memset call, which the loader and the hypervisor
 * need not provide. */
typedef uint64_t __attribute__((may_alias)) word64;
typedef uint32_t __attribute__((may_alias)) word32;

_Static_assert(sizeof(struct manifest) % sizeof(word64) == 0 &&
	       _Alignof(struct manifest) >= _Alignof(word64),
	       "struct manifest is cleared in 64-bit words");
_Static_assert(sizeof(struct manifest_error) % sizeof(word32) == 0,
	       "struct manifest_error is swapped in 32-bit words");

void mf_zero_manifest(struct manifest *m)
{
	volatile word64 *w = (volatile word64 *)m;
	size_t i;

	for (i = 0; i < sizeof(*m) / sizeof(*w); i++)
		w[i] = 0;
}

void mf_swap_errors(struct manifest_error *a, struct manifest_error *b)
{
	word32 *x = (word32 *)a, *y = (word32 *)b, t;
	size_t i;

	for (i = 0; i < sizeof(*a) / sizeof(*x); i++) {
		t = x[i];
		x[i] = y[i];
		y[i] = t;
	}
}

/* Copy into a fixed field, truncating; the field is always terminated. */
void mf_copy_field(char *dst, size_t cap, struct str s, bool sanitize)
{
	size_t i;

	for (i = 0; i < s.n && i + 1 < cap; i++)
		dst[i] = sanitize ? mf_printable(s.p[i]) : s.p[i];
	dst[i] = '\0';
}

struct sbuf mf_sb_init(char *p, size_t cap)
{
	struct sbuf b = { p, cap, 0 };

	if (cap)
		p[0] = '\0';
	return b;
}

void mf_sb_putc(struct sbuf *b, char c)
{
	if (b->len + 1 >= b->cap)
		return;
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

void mf_sb_puts(struct sbuf *b, const char *s)
{
	while (*s)
		mf_sb_putc(b, *s++);
}

void mf_sb_uint(struct sbuf *b, uint64_t v)
{
	char d[20];
	int i = 0;

	do {
		d[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		mf_sb_putc(b, d[--i]);
}

/* Echo what the user wrote: quoted, shortened, printable. */
void mf_sb_quote(struct sbuf *b, struct str s)
{
	size_t i;

	mf_sb_putc(b, '"');
	for (i = 0; i < s.n && i < QUOTE_MAX; i++)
		mf_sb_putc(b, mf_printable(s.p[i]));
	if (s.n > QUOTE_MAX)
		mf_sb_puts(b, "...");
	mf_sb_putc(b, '"');
}

/* ---- numbers ---------------------------------------------------------- */

/* Leading decimal digits of s; *big is set if they overflow 64 bits. */
static size_t scan_uint(struct str s, uint64_t *v, bool *big)
{
	uint64_t d;
	size_t i;

	*v = 0;
	*big = false;
	for (i = 0; i < s.n && mf_is_digit(s.p[i]); i++) {
		d = (uint64_t)(s.p[i] - '0');
		if (*v > (UINT64_MAX - d) / 10)
			*big = true;
		else
			*v = *v * 10 + d;
	}
	return i;
}

bool mf_parse_uint(struct str s, uint64_t *v)
{
	bool big;
	size_t n = scan_uint(s, v, &big);

	return n && n == s.n && !big;
}

/* NUMBER [blanks] UNIT.  False if s has another shape; *big if the
 * result does not fit in 64 bits. */
bool mf_parse_quantity(struct str s, const struct unit *u, uint64_t *v,
		       bool *big)
{
	size_t n = scan_uint(s, v, big);
	struct str unit = mf_trim(mf_str_sub(s, n, s.n));

	if (n == 0)
		return false;
	for (; u->name; u++) {
		if (!mf_str_eq(unit, u->name))
			continue;
		if (*v > UINT64_MAX / u->scale)
			*big = true;
		else
			*v *= u->scale;
		return true;
	}
	return false;
}

/* Take the next comma-separated item of *list, trimmed; list->p == NULL
 * once the last item has been taken. */
bool mf_next_item(struct str *list, struct str *item)
{
	size_t i;

	if (!list->p)
		return false;
	i = mf_str_find(*list, ',');
	*item = mf_trim(mf_str_sub(*list, 0, i));
	if (i < list->n)
		*list = mf_str_sub(*list, i + 1, list->n);
	else
		list->p = NULL;
	return true;
}
