/* The route table: docs/api.md's "Routes", one line each.  A route is
 * served if and only if it is here (tests/system/test_api.py checks this
 * table against the document). */
#include <stdio.h>
#include <string.h>
#include "api.h"
#include "control.h"

static const struct route routes[] = {
	{ "GET", "/v1/host", api_host, BODY_JSON, NULL },
	{ "GET", "/v1/domains", api_domain_list, BODY_JSON, NULL },
	{ "POST", "/v1/domains", api_domain_create, BODY_JSON, NULL },
	{ "GET", "/v1/domains/*", api_domain_get, BODY_JSON, NULL },
	{ "DELETE", "/v1/domains/*", api_domain_destroy, BODY_JSON, NULL },
	{ "POST", "/v1/domains/*/pause", api_domain_pause, BODY_JSON, NULL },
	{ "POST", "/v1/domains/*/resume", api_domain_resume, BODY_JSON, NULL },
	{ "GET", "/v1/domains/*/console", api_console, BODY_JSON, NULL },
	{ "GET", "/v1/domains/*/save", api_domain_save, BODY_JSON, NULL },
	{ "POST", "/v1/restore", api_restore, BODY_STREAM, &restore_sink },
	{ "POST", "/v1/domains/*/migrate", api_domain_migrate, BODY_JSON, NULL },
	{ "POST", "/v1/domains/*/snapshot", api_domain_snapshot, BODY_JSON, NULL },
	{ "GET", "/v1/snapshots", api_snapshot_list, BODY_JSON, NULL },
	{ "GET", "/v1/snapshots/*", api_snapshot_get, BODY_JSON, NULL },
	{ "DELETE", "/v1/snapshots/*", api_snapshot_delete, BODY_JSON, NULL },
	{ "POST", "/v1/snapshots/*/clone", api_snapshot_clone, BODY_JSON, NULL },
	{ "GET", "/v1/images", api_image_list, BODY_JSON, NULL },
	{ "PUT", "/v1/images/*", api_image_put, BODY_UPLOAD, NULL },
	{ "GET", "/v1/images/*", api_image_get, BODY_JSON, NULL },
	{ "DELETE", "/v1/images/*", api_image_delete, BODY_JSON, NULL },
	{ "GET", "/v1/events", api_events, BODY_JSON, NULL },
	{ "GET", "/metrics", api_metrics, BODY_JSON, NULL },
	{ "GET", "/", api_ui, BODY_JSON, NULL },
	{ "GET", "/ui/*", api_ui, BODY_JSON, NULL },
};

bool metrics_open;

bool route_public(const char *path)
{
	return !strcmp(path, "/") || !strncmp(path, "/ui/", 4) || (metrics_open && !strcmp(path, "/metrics"));
}

/* Does path match pattern?  The one '*' segment is copied to arg. */
static bool match(const char *pattern, const char *path, char *arg, size_t n)
{
	const char *star = strchr(pattern, '*');
	size_t pre = star ? (size_t)(star - pattern) : 0, seg;

	if (!star)
		return !strcmp(pattern, path);
	if (strncmp(pattern, path, pre))
		return false;
	seg = strcspn(path + pre, "/");
	if (!seg || seg >= n || strcmp(star + 1, path + pre + seg))
		return false;
	memcpy(arg, path + pre, seg);
	arg[seg] = 0;
	return true;
}

const struct route *route_find(const char *method, const char *path, char *arg, size_t n,
			       char *allow, size_t allow_n)
{
	*allow = 0;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!match(routes[i].pattern, path, arg, n))
			continue;
		if (!strcmp(routes[i].method, method))
			return &routes[i];
		if (!strstr(allow, routes[i].method))
			snprintf(allow + strlen(allow), allow_n - strlen(allow), "%s%s", *allow ? ", " : "",
				 routes[i].method);
	}
	return NULL;
}
