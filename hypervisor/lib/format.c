/* vsnprintf: the subset the hypervisor's logs need, no floating point. */
#include <hv/lib.h>

struct out {
	char *buf;
	size_t n, len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->n)
		o->buf[o->len] = c;
	o->len++;
}

/* Runs of text in one copy: logs are mostly literal text and names. */
static void put_n(struct out *o, const char *s, size_t len)
{
	size_t room = o->len + 1 < o->n ? o->n - 1 - o->len : 0;

	if (room)
		memcpy(o->buf + o->len, s, MIN(len, room));
	o->len += len;
}

static void pad(struct out *o, char c, int count)
{
	while (count-- > 0)
		put(o, c);
}

struct spec {
	bool left, zero;
	int width, prec;
	int lng;          /* 0 int, 1 long, 2 long long, 3 size_t */
};

static void emit_str(struct out *o, const struct spec *sp, const char *s)
{
	int len;

	if (!s)
		s = "(null)";
	len = (int)strnlen(s, sp->prec >= 0 ? (size_t)sp->prec : (size_t)-1);
	if (!sp->left)
		pad(o, ' ', sp->width - len);
	put_n(o, s, (size_t)len);
	if (sp->left)
		pad(o, ' ', sp->width - len);
}

static void emit_num(struct out *o, const struct spec *sp, uint64_t v,
		     unsigned base, bool neg, bool upper, const char *prefix)
{
	const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	size_t start = o->len;
	int len = 0, plen = (int)strlen(prefix) + (neg ? 1 : 0);

	do {
		tmp[len++] = dig[v % base];
		v /= base;
	} while (v);
	if (!sp->left && !sp->zero)
		pad(o, ' ', sp->width - len - plen);
	if (neg)
		put(o, '-');
	for (const char *p = prefix; *p; p++)
		put(o, *p);
	if (!sp->left && sp->zero)
		pad(o, '0', sp->width - len - plen);
	while (len)
		put(o, tmp[--len]);
	if (sp->left)
		pad(o, ' ', sp->width - (int)(o->len - start));
}

static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	sp->left = sp->zero = false;
	sp->width = 0;
	sp->prec = -1;
	sp->lng = 0;
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else
			break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		f++;
	}
	while (*f >= '0' && *f <= '9')
		sp->width = sp->width * 10 + (*f++ - '0');
	if (*f == '.') {
		sp->prec = 0;
		if (*++f == '*') {
			sp->prec = va_arg(*ap, int);
			f++;
		}
		while (*f >= '0' && *f <= '9')
			sp->prec = sp->prec * 10 + (*f++ - '0');
	}
	for (; *f == 'l'; f++)
		sp->lng++;
	if (*f == 'z') {
		sp->lng = 3;
		f++;
	}
	return f;
}

static uint64_t arg_unsigned(const struct spec *sp, va_list *ap)
{
	if (sp->lng == 0)
		return va_arg(*ap, unsigned int);
	return va_arg(*ap, uint64_t);
}

static int64_t arg_signed(const struct spec *sp, va_list *ap)
{
	if (sp->lng == 0)
		return va_arg(*ap, int);
	return va_arg(*ap, int64_t);
}

static void emit_conv(struct out *o, struct spec *sp, char c, va_list *ap)
{
	switch (c) {
	case 'd':
	case 'i': {
		int64_t v = arg_signed(sp, ap);

		emit_num(o, sp, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0, false, "");
		break;
	}
	case 'u':
		emit_num(o, sp, arg_unsigned(sp, ap), 10, false, false, "");
		break;
	case 'x':
	case 'X':
		emit_num(o, sp, arg_unsigned(sp, ap), 16, false, c == 'X', "");
		break;
	case 'p':
		sp->zero = true;
		sp->width = 18;
		emit_num(o, sp, (uint64_t)va_arg(*ap, void *), 16, false, false, "0x");
		break;
	case 's':
		emit_str(o, sp, va_arg(*ap, const char *));
		break;
	case 'c':
		put(o, (char)va_arg(*ap, int));
		break;
	default:
		put(o, '%');
		put(o, c);
	}
}

int vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
	struct out o = { buf, n, 0 };
	struct spec sp;
	va_list aq;

	va_copy(aq, ap);
	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			const char *end = f;

			while (end[1] && end[1] != '%')
				end++;
			put_n(&o, f, (size_t)(end - f) + 1);
			f = end;
			continue;
		}
		if (*++f == '%') {
			put(&o, '%');
			continue;
		}
		f = parse_spec(f, &sp, &aq);
		if (!*f)
			break;
		emit_conv(&o, &sp, *f, &aq);
	}
	va_end(aq);
	if (n)
		buf[o.len < n ? o.len : n - 1] = 0;
	return (int)o.len;
}

int snprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r;
}
