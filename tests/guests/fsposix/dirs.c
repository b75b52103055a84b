/* Directories (readdir, a big one, deleting while listing) and stdio. */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fsposix.h"

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* Entries of dir other than . and ..; -1 on an error. */
static int count(const char *dir, int *dots)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	*dots = 0;
	errno = 0;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			++*dots;
		else
			n++;
	}
	int err = errno;

	closedir(d);
	return err ? -1 : n;
}

/* n files, listed, spot-checked, then removed while being listed. */
int mode_bigdir(const char *dir, int n)
{
	const char *big = at(2, dir, "big");
	char name[64];
	int dots, seen = 0;
	struct stat st;

	EXPECT(opendir(at(0, dir, "nope")) == NULL && errno == ENOENT, 1, 0);
	OK(mkdir(big, 0755));
	uint64_t t0 = now_ms();

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "entry-%06d-with-some-length", i);
		int fd = open(at(0, big, name), O_CREAT | O_EXCL | O_WRONLY, 0644);

		if (fd < 0 || write(fd, name, 6) != 6 || close(fd)) {
			fail_at(__LINE__, name, fd, errno);
			return 1;
		}
	}
	uint64_t t1 = now_ms();

	EXPECT(count(big, &dots), n, 0);
	CHECK(dots == 2);
	for (int i = 0; i < n; i += n / 17 + 1) {
		snprintf(name, sizeof(name), "entry-%06d-with-some-length", i);
		OK(stat(at(0, big, name), &st));
		CHECK(st.st_size == 6);
	}
	DIR *d = opendir(big);
	struct dirent *e;

	CHECK(d != NULL);
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		CHECK(e->d_type == DT_REG);
		if (unlink(at(0, big, e->d_name)) == 0)
			seen++;
	}
	if (d)
		closedir(d);
	CHECK(seen == n);
	printf("fsposix: bigdir ms create=%llu delete=%llu\n", (unsigned long long)(t1 - t0),
	       (unsigned long long)(now_ms() - t1));
	EXPECT(count(big, &dots), 0, 0);
	OK(rmdir(big));
	printf("fsposix: bigdir entries=%d\n", n);
	return 0;
}

int mode_stdio(const char *dir)
{
	const char *p = at(2, dir, "stdio.txt");
	char line[128];
	FILE *f = fopen(p, "w");

	CHECK(f != NULL);
	if (!f)
		return 1;
	for (int i = 0; i < 1000; i++)
		fprintf(f, "line %d of the stdio file\n", i);
	OK(fclose(f));
	f = fopen(p, "r");
	CHECK(f != NULL);
	int n = 0, ok = 1;

	while (f && fgets(line, sizeof(line), f)) {
		char want[64];

		snprintf(want, sizeof(want), "line %d of the stdio file\n", n++);
		ok &= !strcmp(line, want);
	}
	CHECK(ok && n == 1000);
	if (f)
		OK(fclose(f));
	f = fopen(p, "a");
	fputs("appended\n", f);
	OK(fclose(f));
	CHECK(fopen(at(0, dir, "nope/x"), "r") == NULL && errno == ENOENT);
	OK(remove(p));
	OK(mkdir(at(0, dir, "rmme"), 0755));
	OK(remove(at(0, dir, "rmme")));
	return 0;
}
