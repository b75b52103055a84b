/* fsposix MODE DIR [N]: POSIX file calls on the volume mounted at DIR. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsposix.h"

int checks, failures;

void fail_at(int line, const char *what, long got, int err)
{
	failures++;
	printf("fsposix: FAIL line %d: %s -> %ld errno %d (%s)\n", line, what, got, err,
	       strerror(err));
}

const char *at(int slot, const char *dir, const char *name)
{
	static char buf[4][1200];

	snprintf(buf[slot], sizeof(buf[slot]), "%s/%s", dir, name);
	return buf[slot];
}

int write_file(const char *path, const char *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return -1;
	if (write(fd, data, n) != (long)n) {
		close(fd);
		return -1;
	}
	return close(fd);
}

long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : (long)st.st_size;
}

static int run(const char *mode, const char *dir, int n)
{
	if (!strcmp(mode, "calls"))
		return mode_calls(dir);
	if (!strcmp(mode, "stdio"))
		return mode_stdio(dir);
	if (!strcmp(mode, "bigdir"))
		return mode_bigdir(dir, n);
	if (!strcmp(mode, "fill"))
		return mode_fill(dir);
	if (!strcmp(mode, "many"))
		return mode_many(dir);
	if (!strcmp(mode, "ro"))
		return mode_ro(dir);
	if (!strcmp(mode, "host"))
		return mode_host(dir);
	if (!strcmp(mode, "crash"))
		return mode_crash(dir);
	if (!strcmp(mode, "list"))
		return mode_list(dir);
	if (!strcmp(mode, "commit-crash"))
		return mode_commit_crash(dir);
	printf("fsposix: unknown mode %s\n", mode);
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		printf("usage: fsposix MODE DIR [N]\n");
		return 2;
	}
	int r = run(argv[1], argv[2], argc > 3 ? atoi(argv[3]) : 0);

	if (r == 0 && failures == 0)
		printf("fsposix: %s ok checks=%d\n", argv[1], checks);
	return r || failures ? 1 : 0;
}
