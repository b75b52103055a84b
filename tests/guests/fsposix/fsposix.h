/* The POSIX file calls on a mounted volume (tests/system/test_posix_files.py):
 * each check prints nothing when it holds and "fsposix: FAIL ..." when not;
 * a mode ends with "fsposix: MODE ok checks=N" or exit code 1. */
#ifndef FSPOSIX_H
#define FSPOSIX_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

extern int checks, failures;

void fail_at(int line, const char *what, long got, int err);

/* expr must be true. */
#define CHECK(expr) do { checks++; if (!(expr)) fail_at(__LINE__, #expr, 0, errno); } while (0)
/* call must return ret (and, if ret is -1, set errno to e). */
#define EXPECT(call, ret, e) do { \
	errno = 0; long r_ = (long)(call); checks++; \
	if (r_ != (ret) || ((ret) == -1 && errno != (e))) fail_at(__LINE__, #call, r_, errno); \
} while (0)
#define OK(call) EXPECT(call, 0, 0)

/* path = dir "/" name, in a static buffer per slot. */
const char *at(int slot, const char *dir, const char *name);
int write_file(const char *path, const char *data, size_t n);
long file_size(const char *path);

int mode_calls(const char *dir);
int mode_stdio(const char *dir);
int mode_bigdir(const char *dir, int n);
int mode_fill(const char *dir);
int mode_many(const char *dir);
int mode_ro(const char *dir);
int mode_host(const char *dir);
int mode_crash(const char *dir);
int mode_list(const char *dir);
int mode_commit_crash(const char *dir);

#endif
