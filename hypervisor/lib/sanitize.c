/* The one sanitizer for guest bytes on their way into the log (console
 * lines, symbol names from a guest image).  Printable ASCII stays; every
 * other byte becomes "\xNN" and the backslash "\\", so a guest can neither
 * end a log line (and start a forged "@event" or "hv|" one) nor send the
 * terminal a control sequence, and the log still says what it sent. */
#include <hv/lib.h>

size_t sanitize_width(char ch)
{
	unsigned char c = (unsigned char)ch;

	return c == '\\' ? 2 : c >= 0x20 && c < 0x7f ? 1 : 4;
}

static size_t escape(unsigned char c, char out[4])
{
	static const char hex[] = "0123456789abcdef";
	size_t w = sanitize_width((char)c);

	out[0] = w == 1 ? (char)c : '\\';   /* only the first w bytes count */
	out[1] = w == 2 ? '\\' : 'x';
	out[2] = hex[c >> 4];
	out[3] = hex[c & 0xf];
	return w;
}

size_t sanitize(char *dst, size_t cap, const char *src, size_t n)
{
	size_t o = 0;

	if (!cap)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char e[4];
		size_t k = escape((unsigned char)src[i], e);

		if (o + k >= cap)      /* whole escapes only, room for the NUL */
			break;
		memcpy(dst + o, e, k);
		o += k;
	}
	dst[o] = '\0';
	return o;
}
