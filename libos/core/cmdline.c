/* Split the manifest's command line into argv words, shell-like but small:
 * words are separated by blanks; "double quotes" group blanks into a word
 * (and may be empty: "" is an empty argument); a backslash takes the next
 * character literally, inside quotes or not.  No variables, no globbing,
 * no single quotes.  Pure function: tests can run it on the host. */
#include <stddef.h>

#include "libos.h"

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *skip_blanks(const char *s, const char *end)
{
	while (s < end && *s && is_blank(*s))
		s++;
	return s;
}

/* Copy one word from s into d (undoing quotes and escapes), stopping at an
 * unquoted blank, the NUL or end.  d always has room: a word never grows.
 * Returns where the word ended in the source; *dp moves past its NUL. */
static const char *copy_word(const char *s, const char *end, char **dp)
{
	int quoted = 0;
	char *d = *dp;

	while (s < end && *s && (quoted || !is_blank(*s))) {
		if (*s == '"') {
			quoted = !quoted;
			s++;
			continue;
		}
		if (*s == '\\' && s + 1 < end && s[1])
			s++;
		*d++ = *s++;
	}
	*d++ = '\0';
	*dp = d;
	return s;
}

/* line: at most line_max bytes, NUL terminated or not.  buf: cap bytes;
 * line_max + 1 always suffices.  Fills argv[0..n-1] (at most max words,
 * the rest dropped) and returns n.  argv[n] is NOT set: the caller may
 * add words before terminating it. */
int libos_cmdline_split(const char *line, size_t line_max, char *buf,
			size_t cap, char **argv, int max)
{
	const char *s = line, *end = line + line_max;
	char *d = buf;
	int n = 0;

	if (cap < line_max + 1)
		return 0;
	for (s = skip_blanks(s, end); s < end && *s && n < max;
	     s = skip_blanks(s, end)) {
		argv[n++] = d;
		s = copy_word(s, end, &d);
	}
	return n;
}
