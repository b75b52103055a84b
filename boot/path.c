/* Manifest-style paths: ASCII, absolute, '/' separated ("/paravane/x.elf").
 * Pure C so that it is unit-testable on the host. */
#include "path.h"

static bool is_sep(char c)
{
	return c == '/' || c == '\\';
}

/* Append one component, or drop the last one for "..". */
static bool path_push(char *out, size_t *len, size_t n, const char *c,
		      size_t clen)
{
	if (clen == 1 && c[0] == '.')
		return true;
	if (clen == 2 && c[0] == '.' && c[1] == '.') {
		if (*len == 0)
			return false;	/* above the root */
		while (*len > 0 && out[*len] != '/')
			(*len)--;
		out[*len] = 0;
		return true;
	}
	if (*len + 1 + clen + 1 > n)
		return false;
	out[(*len)++] = '/';
	__builtin_memcpy(out + *len, c, clen);
	*len += clen;
	out[*len] = 0;
	return true;
}

static bool path_push_all(char *out, size_t *len, size_t n, const char *p)
{
	const char *c;

	while (*p) {
		while (is_sep(*p))
			p++;
		for (c = p; *p && !is_sep(*p); p++)
			;
		if (p > c && !path_push(out, len, n, c, p - c))
			return false;
	}
	return true;
}

bool path_resolve(const char *dir, const char *path, char *out, size_t n)
{
	size_t len = 0;

	if (n < 2)
		return false;
	out[0] = 0;
	if (!is_sep(path[0]) && !path_push_all(out, &len, n, dir))
		return false;
	if (!path_push_all(out, &len, n, path))
		return false;
	if (len == 0) {
		out[0] = '/';
		out[1] = 0;
	}
	return true;
}
