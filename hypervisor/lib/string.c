/* Memory and string primitives; gcc may also emit calls to the mem* ones. */
#include <hv/lib.h>

/* Bulk in 8-byte steps, then the tail: frames are zeroed and copied a page
 * at a time, and "rep stosq" is 8x fewer iterations (TCG counts each). */
void *memset(void *d, int c, size_t n)
{
	void *ret = d;
	uint64_t v = (uint8_t)c * 0x0101010101010101ULL;
	size_t q = n / 8, r = n % 8;

	__asm__ volatile("rep stosq" : "+D"(d), "+c"(q) : "a"(v) : "memory");
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(r) : "a"(v) : "memory");
	return ret;
}

void *memcpy(void *d, const void *s, size_t n)
{
	void *ret = d;
	size_t q = n / 8, r = n % 8;

	__asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(q) :: "memory");
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(r) :: "memory");
	return ret;
}

void *memmove(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	if (dp <= sp || dp >= sp + n)
		return memcpy(d, s, n);
	while (n--)
		dp[n] = sp[n];
	return d;
}

/* "repne scasb": TCG counts one instruction a byte, a C loop five. */
void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;
	bool found;

	if (!n)
		return NULL;
	__asm__("repne scasb" : "+D"(p), "+c"(n), "=@ccz"(found) : "a"(c), "m"(*(const char(*)[n])s));
	return found ? (void *)(p - 1) : NULL;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

size_t strlcpy(char *d, const char *s, size_t n)
{
	size_t len = strlen(s);

	if (n) {
		size_t c = len < n - 1 ? len : n - 1;

		memcpy(d, s, c);
		d[c] = 0;
	}
	return len;
}
