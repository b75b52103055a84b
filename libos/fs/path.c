/* Names to nodes.  A path is walked one component at a time from the
 * root or the working directory, keeping its canonical form (absolute, no
 * ".", "..", symlink or repeated "/"): that string decides which mount a
 * name is on (the longest mount path that is a prefix of it, component by
 * component), and ".." is the canonical path minus its last component, so
 * ".." at a mount's root leaves the mount.  A symlink met on the way (or
 * last, with FS_FOLLOW) is replaced by its target, at most FS_LINK_MAX
 * times (ELOOP); an absolute target starts again at "/" of the whole
 * namespace, not of its file system.  Directories above mount points exist
 * without a file system ("synthetic": mnt NULL) and hold only those. */
#include <errno.h>
#include <string.h>

#include "fs.h"

static char cwd[FS_PATH_MAX] = "/";

const char *fs_cwd(void)
{
	return cwd;
}

/* ---- the mount table -------------------------------------------------------- */

/* Is prefix (length n, no trailing '/') canon or a directory above it? */
static int path_under(const char *canon, const char *prefix, size_t n)
{
	return !strncmp(canon, prefix, n) && (canon[n] == '/' || canon[n] == '\0');
}

static struct fs_mount *mount_of(const char *canon, const char **rest)
{
	struct fs_mount *best = NULL;

	for (int i = 0; i < fs_mount_count; i++) {
		struct fs_mount *m = &fs_mounts[i];

		if (path_under(canon, m->path, m->len) && (!best || m->len > best->len))
			best = m;
	}
	*rest = best ? canon + best->len : canon;
	return best;
}

/* A directory above some mount point (or "/" itself). */
static int leads_to_mount(const char *canon)
{
	size_t n = strcmp(canon, "/") ? strlen(canon) : 0;

	for (int i = 0; i < fs_mount_count; i++)
		if (fs_mounts[i].len > n && path_under(fs_mounts[i].path, canon, n))
			return 1;
	return n == 0;
}

int fs_child_mount(const char *canon, int index, const char **name, size_t *len)
{
	size_t n = strcmp(canon, "/") ? strlen(canon) : 0;

	for (int i = 0, seen = 0; i < fs_mount_count; i++) {
		const char *p = fs_mounts[i].path;

		if (fs_mounts[i].len <= n || !path_under(p, canon, n) || strchr(p + n + 1, '/'))
			continue;
		if (seen++ == index) {
			*name = p + n + 1;
			*len = strlen(*name);
			return 1;
		}
	}
	return 0;
}

int fs_writable(const struct fs_node *n)
{
	return !n->mnt || n->mnt->readonly ? -EROFS : 0;
}

/* ---- canonical paths --------------------------------------------------------- */

/* The node at a canonical path: its mount's root, then plain lookups. */
static int node_at(const char *canon, struct fs_node *out)
{
	const char *rest;
	struct fs_mount *m = mount_of(canon, &rest);
	char name[FS_NAME_MAX + 1];

	if (!m) {
		*out = (struct fs_node){ NULL, 0 };
		return leads_to_mount(canon) ? 0 : -ENOENT;
	}
	*out = (struct fs_node){ m, EXT2_ROOT_INO };
	while (*rest) {
		size_t n;

		rest += strspn(rest, "/");
		n = strcspn(rest, "/");
		if (!n)
			break;
		memcpy(name, rest, n);
		name[n] = '\0';
		rest += n;
		int r = fs_find(out, name, out);

		if (r)
			return r;
	}
	return 0;
}

static void canon_up(char *canon)
{
	char *slash = strrchr(canon, '/');

	if (slash == canon)
		canon[1] = '\0';
	else if (slash)
		*slash = '\0';
}

static int canon_down(char *canon, const char *name, size_t n)
{
	size_t len = strlen(canon);
	size_t sep = strcmp(canon, "/") != 0;

	if (len + sep + n >= FS_PATH_MAX)
		return -ENAMETOOLONG;
	if (sep)
		canon[len++] = '/';
	memcpy(canon + len, name, n);
	canon[len + n] = '\0';
	return 0;
}

/* ---- the walk ------------------------------------------------------------------ */

struct walk {
	char todo[2 * FS_PATH_MAX];        /* what is left to walk */
	char *at;                          /* next component in todo */
	char *canon;                       /* where the walk is */
	struct fs_node node;
	int links;                         /* symlinks followed so far */
};

/* The next component of the walk into name; 0 when there is none. */
static size_t next_part(struct walk *w, char *name)
{
	size_t n;

	w->at += strspn(w->at, "/");
	n = strcspn(w->at, "/");
	memcpy(name, w->at, n < FS_NAME_MAX ? n : FS_NAME_MAX);
	name[n < FS_NAME_MAX ? n : FS_NAME_MAX] = '\0';
	w->at += n;
	return n;
}

static int more_parts(const struct walk *w)
{
	return w->at[strspn(w->at, "/")] != '\0';
}

/* Replace the walk's remaining path by the link's target + the rest. */
static int follow(struct walk *w, const struct fs_node *link)
{
	char target[FS_PATH_MAX];
	int n = fs_readlink(link, target, sizeof(target) - 1);
	size_t rest = strlen(w->at);

	if (n < 0)
		return n;
	if (++w->links > FS_LINK_MAX)
		return -ELOOP;
	if ((size_t)n + rest + 1 >= sizeof(w->todo))
		return -ENAMETOOLONG;
	target[n] = '\0';
	memmove(w->todo + n, w->at, rest + 1);
	memcpy(w->todo, target, n);
	w->at = w->todo;
	if (target[0] == '/') {
		strcpy(w->canon, "/");
		return node_at(w->canon, &w->node);
	}
	return 0;
}

/* One step: name (not empty) from w->node. */
static int step(struct walk *w, const char *name, int follow_it)
{
	struct fs_node child;
	struct stat st;
	int r;

	if (!strcmp(name, "."))
		return fs_is_dir(&w->node) == 1 ? 0 : -ENOTDIR;
	if (!strcmp(name, "..")) {
		canon_up(w->canon);
		return node_at(w->canon, &w->node);
	}
	if ((r = fs_is_dir(&w->node)) != 1)
		return r < 0 ? r : -ENOTDIR;
	if ((r = canon_down(w->canon, name, strlen(name))))
		return r;
	const char *rest;
	struct fs_mount *m = mount_of(w->canon, &rest);

	if (m && !*rest)                   /* a mount point: its root */
		return w->node = (struct fs_node){ m, EXT2_ROOT_INO }, 0;
	if (!w->node.mnt)
		return leads_to_mount(w->canon) ? (w->node = (struct fs_node){ NULL, 0 }, 0) : -ENOENT;
	if ((r = fs_find(&w->node, name, &child)))
		return r;
	if (!follow_it || (r = fs_stat(&child, &st)) || !S_ISLNK(st.st_mode))
		return r ? r : (w->node = child, 0);
	canon_up(w->canon);                /* the link's target replaces it */
	return follow(w, &child);
}

static int walk_start(struct walk *w, const char *path, char *canon)
{
	size_t n = strlen(path);

	if (!n)
		return -ENOENT;
	if (n >= FS_PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(w->todo, path, n + 1);
	w->at = w->todo;
	w->canon = canon;
	w->links = 0;
	strcpy(canon, path[0] == '/' ? "/" : cwd);
	return node_at(canon, &w->node);
}

/* Walk every component; the last one is followed only with FS_FOLLOW
 * (a trailing "/" always follows: "link/" names the directory). */
static int walk_all(struct walk *w, int flags)
{
	char name[FS_NAME_MAX + 1];
	size_t n;
	int r = 0;

	while (!r && (n = next_part(w, name))) {
		int last = !more_parts(w);

		if (n > FS_NAME_MAX)
			return -ENAMETOOLONG;
		r = step(w, name, !last || (flags & FS_FOLLOW) || *w->at == '/');
	}
	return r;
}

int fs_lookup(const char *path, int flags, struct fs_node *out, char *canon)
{
	struct walk w;
	char own[FS_PATH_MAX];
	int r = walk_start(&w, path, canon ? canon : own);

	if (!r)
		r = walk_all(&w, flags);
	if (!r)
		*out = w.node;
	return r;
}

/* Split off the last component (trailing slashes ignored), walk the rest. */
int fs_lookup_parent(const char *path, struct fs_node *dir, char *canon,
		     char name[FS_NAME_MAX + 1])
{
	struct walk w;
	char own[FS_PATH_MAX];
	size_t end = strlen(path), start;
	int r;

	while (end > 1 && path[end - 1] == '/')
		end--;
	start = end;
	while (start && path[start - 1] != '/')
		start--;
	if (end - start > FS_NAME_MAX)
		return -ENAMETOOLONG;
	if (end == start)                  /* "/" or "" */
		return end ? -EBUSY : -ENOENT;
	memcpy(name, path + start, end - start);
	name[end - start] = '\0';
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	if ((r = walk_start(&w, start ? path : ".", canon ? canon : own)))
		return r;
	w.todo[start] = '\0';              /* only the directories */
	if ((r = walk_all(&w, FS_FOLLOW)))
		return r;
	if ((r = fs_is_dir(&w.node)) != 1)
		return r < 0 ? r : -ENOTDIR;
	*dir = w.node;
	return 0;
}

int fs_chdir(const char *path)
{
	char canon[FS_PATH_MAX];
	struct fs_node n;
	int r = fs_lookup(path, FS_FOLLOW, &n, canon);

	if (!r && (r = fs_is_dir(&n)) == 1)
		strcpy(cwd, canon);
	return r < 0 ? r : r == 1 ? 0 : -ENOTDIR;
}
