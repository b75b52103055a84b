/* Command lines <-> argument lists, with the libos's quoting (docs/sdk.md
 * "argv"): blanks separate words, "double quotes" group them, a backslash
 * takes the next character literally. */
#include <string.h>
#include "args.h"

static bool needs_quotes(const char *s)
{
	return !*s || strpbrk(s, " \t\r\n\"\\");
}

static bool put(char *out, size_t n, size_t *o, char c)
{
	if (*o + 1 >= n)
		return false;
	out[(*o)++] = c;
	return true;
}

static bool quote(char *out, size_t n, size_t *o, const char *s)
{
	bool q = needs_quotes(s), ok = !q || put(out, n, o, '"');

	for (; ok && *s; s++) {
		if (*s == '"' || *s == '\\')
			ok = put(out, n, o, '\\');
		ok = ok && put(out, n, o, *s);
	}
	return ok && (!q || put(out, n, o, '"'));
}

bool args_join(char *out, size_t n, const char *argv0, char *const *args, int nargs)
{
	size_t o = 0;
	bool ok = quote(out, n, &o, argv0);

	for (int i = 0; ok && i < nargs; i++)
		ok = put(out, n, &o, ' ') && quote(out, n, &o, args[i]);
	out[o < n ? o : n - 1] = 0;
	return ok;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* One word at s into w (unquoted); returns where it ended. */
static const char *word(const char *s, struct buf *w)
{
	bool quoted = false;

	for (; *s && (quoted || !blank(*s)); s++) {
		if (*s == '"') {
			quoted = !quoted;
			continue;
		}
		if (*s == '\\' && s[1])
			s++;
		buf_add(w, s, 1);
	}
	return s;
}

void args_json(struct buf *b, const char *cmdline)
{
	struct buf w = { 0 };
	int n = 0;

	buf_str(b, "[");
	for (const char *s = cmdline; *s;) {
		while (blank(*s))
			s++;
		if (!*s)
			break;
		buf_reset(&w);
		s = word(s, &w);
		if (n++ == 0)
			continue;               /* argv[0] */
		if (n > 2)
			buf_str(b, ",");
		buf_json_str(b, w.p ? w.p : "", w.len);
	}
	buf_str(b, "]");
	buf_free(&w);
}
