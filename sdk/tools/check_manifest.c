/* check-manifest: check boot manifests on the host with the parser the
 * loader and the hypervisor use (sdk/manifest/manifest.c).
 *
 *   check-manifest [-q] [--list] FILE...      (FILE "-" is stdin)
 *
 * Errors go to stderr as FILE:LINE: KEY: MESSAGE.  Then, on stdout, one
 * summary line per file, or with --list one line per valid guest:
 *   guest NAME image=PATH memory=BYTES
 * -q prints the errors only.  Exit status: 0 no errors, 1 errors found,
 * 2 bad usage or a file that cannot be read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

#define FILE_SIZE_MAX	(1u << 20)	/* a manifest is a few KiB of text */

enum { EXIT_CLEAN = 0, EXIT_ERRORS = 1, EXIT_USAGE = 2 };

struct options {
	bool quiet;
	bool list;
};

static struct manifest m;		/* ~80 KiB: not on the stack */
static char text[FILE_SIZE_MAX + 1];	/* +1 to notice a larger file */

static void usage(FILE *f)
{
	fprintf(f, "usage: check-manifest [-q] [--list] FILE...\n"
		   "  -q      print errors only\n"
		   "  --list  print each valid guest: guest NAME image=PATH memory=BYTES\n"
		   "exit status: 0 clean, 1 errors found, 2 usage or I/O error\n");
}

/* Read the whole file, binary safe.  Returns the length, or -1. */
static long read_file(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t n;

	if (!f) {
		fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
		return -1;
	}
	n = fread(text, 1, sizeof(text), f);
	if (ferror(f)) {
		fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
		n = sizeof(text) + 1;
	} else if (n > FILE_SIZE_MAX) {
		fprintf(stderr, "%s: too large for a manifest (over %u bytes)\n",
			path, FILE_SIZE_MAX);
	}
	if (f != stdin)
		fclose(f);
	return n > FILE_SIZE_MAX ? -1 : (long)n;
}

static void print_errors(const char *path)
{
	char buf[MANIFEST_FILE_MAX + MANIFEST_KEY_MAX + MANIFEST_MSG_MAX + 16];
	uint32_t i, stored = manifest_errors_stored(&m);

	for (i = 0; i < stored; i++) {
		manifest_format_error(&m, i, buf, sizeof(buf));
		fprintf(stderr, "%s\n", buf);
	}
	if (m.error_count > stored)
		fprintf(stderr, "%s: %u more errors not shown\n", path,
			m.error_count - stored);
}

static void print_summary(const char *path)
{
	uint32_t valid = manifest_valid_guests(&m);

	printf("%s: %u guest%s valid, %u invalid, %u error%s\n", path,
	       valid, valid == 1 ? "" : "s", m.guest_count - valid,
	       m.error_count, m.error_count == 1 ? "" : "s");
}

static void print_list(void)
{
	const struct manifest_guest *g;
	uint32_t i;

	for (i = 0; i < m.guest_count; i++) {
		g = &m.guest[i];
		if (g->valid)
			printf("guest %s image=%s memory=%llu\n", g->name,
			       g->image, (unsigned long long)g->memory);
	}
}

static int check_file(const char *path, const struct options *o)
{
	long len = read_file(path);

	if (len < 0)
		return EXIT_USAGE;
	manifest_parse(&m, path, text, (size_t)len);
	print_errors(path);
	if (o->list)
		print_list();
	else if (!o->quiet)
		print_summary(path);
	return m.error_count ? EXIT_ERRORS : EXIT_CLEAN;
}

/* Returns the index of the first file argument; exits on -h or a bad option. */
static int parse_options(int argc, char **argv, struct options *o)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--"))
			return i + 1;
		if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			o->quiet = true;
		} else if (!strcmp(argv[i], "--list")) {
			o->list = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			exit(EXIT_CLEAN);
		} else {
			fprintf(stderr, "check-manifest: unknown option %s\n", argv[i]);
			usage(stderr);
			exit(EXIT_USAGE);
		}
	}
	return i;
}

int main(int argc, char **argv)
{
	struct options o = { false, false };
	int i, rc, worst = EXIT_CLEAN;

	i = parse_options(argc, argv, &o);
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (; i < argc; i++) {
		rc = check_file(argv[i], &o);
		if (rc > worst)
			worst = rc;
	}
	return worst;
}
