/* GET / and GET /ui/{file}: the dashboard's static files, embedded in the
 * image (embed_ui.sh makes the table from ui/).  They hold no data, so
 * they need no token. */
#include <string.h>
#include "api.h"

struct ui_file {
	const char *name, *start, *end;
};
extern const struct ui_file ui_files[];

static const char *type_of(const char *name)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" }, { ".svg", "image/svg+xml" },
		{ ".png", "image/png" }, { ".ico", "image/x-icon" }, { ".json", "application/json" },
	};
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

void api_ui(struct request *r)
{
	const char *want = r->http->path[1] ? r->arg : "index.html";

	for (const struct ui_file *f = ui_files; f->name; f++)
		if (!strcmp(f->name, want))
			return reply(r, 200, type_of(f->name), "X-Content-Type-Options: nosniff\r\n", f->start,
				     (size_t)(f->end - f->start));
	reply_error(r, 404, "not_found", NULL, "no dashboard file \"%s\"", want);
}
