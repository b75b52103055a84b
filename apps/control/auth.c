/* The bearer token (docs/api.md "Authentication"): from the command line
 * (the manifest), or made from getentropy() at boot and printed once. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "control.h"

#define TOKEN_MIN 16
#define TOKEN_MAX 128

static char token[TOKEN_MAX + 1];
static size_t token_len;

static bool b64token_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       strchr("-._~+/=", c);
}

static bool valid_token(const char *t)
{
	size_t n = strlen(t);

	for (size_t i = 0; i < n; i++)
		if (!b64token_char(t[i]))
			return false;
	return n >= TOKEN_MIN && n <= TOKEN_MAX;
}

static void generate(void)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char raw[32];

	if (getentropy(raw, sizeof(raw))) {
		printf("control: no entropy source; refusing to run without a token (set --token=)\n");
		_exit(1);
	}
	for (size_t i = 0; i < sizeof(raw); i++)
		token[i] = alphabet[raw[i] & 63];
	token[sizeof(raw)] = 0;
}

void auth_init(const char *t)
{
	if (t && !valid_token(t)) {
		printf("control: --token must be %d..%d characters of A-Z a-z 0-9 - . _ ~ + / =\n",
		       TOKEN_MIN, TOKEN_MAX);
		_exit(1);
	}
	if (t)
		strcpy(token, t);
	else
		generate();
	token_len = strlen(token);
}

const char *auth_token(void)
{
	return token;
}

/* "Bearer TOKEN", compared in time that depends only on the lengths. */
bool auth_ok(const char *h)
{
	size_t n = strlen(h);
	unsigned char diff;

	if (n < 7 || strncmp(h, "Bearer ", 7))
		return false;
	h += 7;
	n -= 7;
	diff = n != token_len;
	for (size_t i = 0; i < token_len; i++)
		diff |= (unsigned char)(token[i] ^ h[i < n ? i : 0]);
	return diff == 0;
}
