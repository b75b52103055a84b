/* The log sanitizer (lib/sanitize.c): the one door for guest bytes. */
#include <stdlib.h>
#include <hv/lib.h>
#include "harness.h"

static char out[1100];

static const char *clean(const char *s, size_t n, size_t cap)
{
	memset(out, '#', sizeof(out));
	sanitize(out, cap, s, n);
	return out;
}

static void test_printable_stays(void)
{
	CHECK_STR(clean("hello, @event hv| x=1 ~", 23, sizeof(out)), "hello, @event hv| x=1 ~");
	CHECK_EQ_INT(sanitize(out, sizeof(out), "abc", 3), 3);
}

static void test_everything_else_is_escaped(void)
{
	CHECK_STR(clean("\n\r\t\x1b[2J", 7, sizeof(out)), "\\x0a\\x0d\\x09\\x1b[2J");
	CHECK_STR(clean("\x7f\x80\x9b\xff", 4, sizeof(out)), "\\x7f\\x80\\x9b\\xff");
	CHECK_STR(clean("a\0b", 3, sizeof(out)), "a\\x00b");
	CHECK_STR(clean("C:\\x1b", 6, sizeof(out)), "C:\\\\x1b");   /* a literal "\x1b" stays tellable */
}

static bool printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] >= 0x7f)
			return false;
	return true;
}

/* Every byte value: the output is printable ASCII only, of the expected
 * length, and never has a line break. */
static void test_every_byte(void)
{
	for (int c = 0; c < 256; c++) {
		char in = (char)c;
		size_t n = sanitize(out, sizeof(out), &in, 1);
		size_t want = c >= 0x20 && c < 0x7f ? (c == '\\' ? 2 : 1) : 4;

		CHECK_EQ_INT(n, want);
		CHECK_EQ_INT(sanitize_width(in), want);
		CHECK_EQ_INT(strlen(out), n);
		CHECK(printable(out, n));
	}
}

static void test_truncation_keeps_escapes_whole(void)
{
	CHECK_STR(clean("ab\x1b", 3, 6), "ab");          /* "\x1b" needs 4 + NUL */
	CHECK_STR(clean("ab\x1b", 3, 7), "ab\\x1b");
	CHECK_STR(clean("ab\\", 3, 4), "ab");
	CHECK_STR(clean("abc", 3, 1), "");
	CHECK_EQ_INT(sanitize(out, 0, "abc", 3), 0);
	out[0] = '#';
	sanitize(out, 0, "abc", 3);
	CHECK(out[0] == '#');                            /* cap 0: nothing written */
}

/* 256 random bytes at a time, any cap: NUL-terminated within cap, printable. */
static void test_random(void)
{
	char in[256];

	srand(8);
	for (int round = 0; round < 2000; round++) {
		size_t cap = 1 + (size_t)rand() % sizeof(out);
		size_t n;

		for (size_t i = 0; i < sizeof(in); i++)
			in[i] = (char)rand();
		n = sanitize(out, cap, in, sizeof(in));
		CHECK(n < cap && out[n] == '\0' && strlen(out) == n);
		CHECK(printable(out, n));
	}
}

int main(void)
{
	RUN(test_printable_stays);
	RUN(test_everything_else_is_escaped);
	RUN(test_every_byte);
	RUN(test_truncation_keeps_escapes_whole);
	RUN(test_random);
	return harness_report();
}
