/* Files from a directory (httpd --root DIR): GET /files/PATH answers the
 * file DIR/PATH, streamed as the connection drains, or a directory's
 * listing.  Paths with "..", "//", "%" or control bytes are refused (400):
 * nothing outside DIR is reachable by name.  (Symlinks inside DIR are
 * followed: DIR is the operator's volume.) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"

static const char *root;

void files_set_root(const char *dir)
{
	root = dir;
}

int files_enabled(void)
{
	return root != NULL;
}

static int safe(const char *p)
{
	if (strstr(p, "..") || strstr(p, "//") || strchr(p, '%'))
		return 0;
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

const char *files_type(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html" }, { ".txt", "text/plain" }, { ".css", "text/css" },
		{ ".js", "text/javascript" }, { ".json", "application/json" },
		{ ".png", "image/png" }, { ".svg", "image/svg+xml" },
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

/* An HTML list of dir's entries into out (at most n bytes); its length. */
static size_t listing(const char *dir, const char *url, char *out, size_t n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t len = (size_t)snprintf(out, n, "<!DOCTYPE html>\n<html><body><h1>%s</h1><ul>\n", url);

	while (d && (e = readdir(d)) && len + 600 < n)
		if (e->d_name[0] != '.')
			len += (size_t)snprintf(out + len, n - len, "<li><a href=\"%s%s%s\">%s</a></li>\n",
						url, url[strlen(url) - 1] == '/' ? "" : "/",
						e->d_name, e->d_name);
	if (d)
		closedir(d);
	len += (size_t)snprintf(out + len, n - len, "</ul></body></html>\n");
	return len < n ? len : n - 1;
}

int files_lookup(const char *url, struct files_answer *a, char *buf, size_t n)
{
	const char *rel = url + strlen(FILES_PREFIX);
	struct stat st;

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	if (!safe(rel) || (size_t)snprintf(a->path, sizeof(a->path), "%.255s/%.255s", root, rel) >=
			  sizeof(a->path))
		return 400;
	if (stat(a->path, &st))
		return errno == ENOENT || errno == ENOTDIR ? 404 : 500;
	if (S_ISDIR(st.st_mode)) {
		a->body_len = listing(a->path, url, buf, n);
		a->type = "text/html";
		return 200;
	}
	if (!S_ISREG(st.st_mode) || (a->fd = open(a->path, O_RDONLY)) < 0)
		return 403;
	a->size = (uint64_t)st.st_size;
	a->type = files_type(a->path);
	return 200;
}
