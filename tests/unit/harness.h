/* A tiny unit-test harness: include it once per test program.
 *
 *	static void test_foo(void) { CHECK_EQ_INT(foo(2), 4); }
 *	int main(void) { RUN(test_foo); return harness_report(); }
 *
 * A failed check prints where and why and the test goes on, so that one
 * run shows every failure.  harness_report() prints "N passed, N failed"
 * and returns the exit status (nonzero when anything failed).
 */
#ifndef PARAVANE_TEST_HARNESS_H
#define PARAVANE_TEST_HARNESS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static unsigned harness_passed, harness_failed;
static const char *harness_test = "?";

__attribute__((format(printf, 4, 5)))
static bool harness_check(bool ok, const char *file, int line,
			  const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		harness_passed++;
		return true;
	}
	harness_failed++;
	fprintf(stderr, "FAIL %s (%s:%d): ", harness_test, file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return false;
}

/* Each macro evaluates its arguments once and yields true on success. */
#define CHECK(cond) \
	harness_check(!!(cond), __FILE__, __LINE__, "%s", #cond)

#define CHECK_EQ_INT(a, b) ({ \
	long long a_ = (long long)(a), b_ = (long long)(b); \
	harness_check(a_ == b_, __FILE__, __LINE__, "%s == %s (%lld != %lld)", \
		      #a, #b, a_, b_); })

#define CHECK_EQ_U64(a, b) ({ \
	unsigned long long a_ = (a), b_ = (b); \
	harness_check(a_ == b_, __FILE__, __LINE__, "%s == %s (%llu != %llu)", \
		      #a, #b, a_, b_); })

#define CHECK_STR(a, b) ({ \
	const char *a_ = (a), *b_ = (b); \
	harness_check(a_ && b_ && strcmp(a_, b_) == 0, __FILE__, __LINE__, \
		      "%s == %s (\"%s\" != \"%s\")", #a, #b, \
		      a_ ? a_ : "(null)", b_ ? b_ : "(null)"); })

#define RUN(fn) do { harness_test = #fn; fn(); } while (0)

static int harness_report(void)
{
	printf("%u passed, %u failed\n", harness_passed, harness_failed);
	return harness_failed ? 1 : 0;
}

#endif
