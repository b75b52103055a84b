/* The boot manifest parser; docs/manifest.md describes the format.
 *
 * The same file is built into the UEFI loader, the hypervisor and the host
 * tools, so it uses no libc, no floating point and little stack (about
 * 1 KiB): the input is never copied, lines and values are (pointer, length)
 * slices into it, and the only buffer holds one unescaped quoted value,
 * which no key allows to be longer than a command line.
 */
#include "manifest.h"

#define KEYS_MAX	16	/* keys in one section's table */
#define QUOTE_MAX	32	/* bytes of a bad value echoed in a message */

/* A byte range of the input: not NUL terminated. */
struct str {
	const char *p;
	size_t n;
};

/* A bounded output buffer, always NUL terminated once cap > 0. */
struct sbuf {
	char *p;
	size_t cap;
	size_t len;
};

enum section {
	SEC_NONE,	/* before the first header: keys have no home */
	SEC_SKIP,	/* after a header we cannot use: body ignored */
	SEC_HV,
	SEC_GUEST,
};

struct parser;
typedef void set_fn(struct parser *p, struct str v);

struct keydef {
	const char *name;
	set_fn *set;
	bool repeat;	/* may appear more than once (net, block) */
	bool required;
};

struct parser {
	struct manifest *m;
	uint32_t line;
	enum section sec;
	bool any_section;
	uint32_t hv_line;		/* first [hypervisor] header, 0 if none */
	struct manifest_hypervisor *hv;	/* m->hv, or scratch for a repeat */
	struct manifest_hypervisor scratch;
	struct manifest_guest *g;	/* current guest, NULL elsewhere */
	const struct keydef *keys;	/* current section's key table */
	uint32_t seen[KEYS_MAX];	/* line each key first appeared on */
	struct str key;			/* names the key in error messages */
	char val[MANIFEST_CMDLINE_MAX];	/* a quoted value, unescaped */
};

/* ---- characters and slices ------------------------------------------- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char to_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Messages and names must be safe to print on any console. */
static char printable(char c)
{
	return c >= 0x20 && c < 0x7f ? c : '?';
}

static int hex_value(char c)
{
	if (is_digit(c))
		return c - '0';
	c = to_lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static struct str str_of(const char *s)
{
	struct str r = { s, 0 };

	while (s[r.n])
		r.n++;
	return r;
}

/* Bytes [from, to) of s, clamped to s. */
static struct str str_sub(struct str s, size_t from, size_t to)
{
	struct str r;

	if (to > s.n)
		to = s.n;
	if (from > to)
		from = to;
	r.p = s.p + from;
	r.n = to - from;
	return r;
}

static struct str trim(struct str s)
{
	while (s.n && is_blank(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n && is_blank(s.p[s.n - 1]))
		s.n--;
	return s;
}

/* Index of the first c in s, or s.n. */
static size_t str_find(struct str s, char c)
{
	size_t i = 0;

	while (i < s.n && s.p[i] != c)
		i++;
	return i;
}

static bool str_eq(struct str a, const char *b)
{
	size_t i;

	for (i = 0; i < a.n; i++)
		if (b[i] != a.p[i])
			return false;
	return b[i] == '\0';
}

/* Value keywords (yes, restart, dhcp...) ignore ASCII case. */
static bool str_ieq(struct str a, const char *b)
{
	size_t i;

	for (i = 0; i < a.n; i++)
		if (b[i] == '\0' || to_lower(a.p[i]) != to_lower(b[i]))
			return false;
	return b[i] == '\0';
}

/* '#' or ';' at the start or after a blank opens a comment, so that
 * "a#b" stays a value but "a #b" does not. */
static bool comment_at(struct str s, size_t i)
{
	return (s.p[i] == '#' || s.p[i] == ';') &&
	       (i == 0 || is_blank(s.p[i - 1]));
}

static bool rest_is_comment(struct str s)
{
	s = trim(s);
	return s.n == 0 || s.p[0] == '#' || s.p[0] == ';';
}

/* ---- memory and output buffers --------------------------------------- */

/* Whole structures are cleared and moved a word at a time.  may_alias
 * makes that legal C (like char access); volatile keeps the compiler from
 * turning the loop into a memset call, which the loader and the hypervisor
 * need not provide. */
typedef uint64_t __attribute__((may_alias)) word64;
typedef uint32_t __attribute__((may_alias)) word32;

_Static_assert(sizeof(struct manifest) % sizeof(word64) == 0 &&
	       _Alignof(struct manifest) >= _Alignof(word64),
	       "struct manifest is cleared in 64-bit words");
_Static_assert(sizeof(struct manifest_error) % sizeof(word32) == 0,
	       "struct manifest_error is swapped in 32-bit words");

static void zero_manifest(struct manifest *m)
{
	volatile word64 *w = (volatile word64 *)m;
	size_t i;

	for (i = 0; i < sizeof(*m) / sizeof(*w); i++)
		w[i] = 0;
}

static void swap_errors(struct manifest_error *a, struct manifest_error *b)
{
	word32 *x = (word32 *)a, *y = (word32 *)b, t;
	size_t i;

	for (i = 0; i < sizeof(*a) / sizeof(*x); i++) {
		t = x[i];
		x[i] = y[i];
		y[i] = t;
	}
}

/* Copy into a fixed field, truncating; the field is always terminated. */
static void copy_field(char *dst, size_t cap, struct str s, bool sanitize)
{
	size_t i;

	for (i = 0; i < s.n && i + 1 < cap; i++)
		dst[i] = sanitize ? printable(s.p[i]) : s.p[i];
	dst[i] = '\0';
}

static struct sbuf sb_init(char *p, size_t cap)
{
	struct sbuf b = { p, cap, 0 };

	if (cap)
		p[0] = '\0';
	return b;
}

static void sb_putc(struct sbuf *b, char c)
{
	if (b->len + 1 >= b->cap)
		return;
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
	while (*s)
		sb_putc(b, *s++);
}

static void sb_uint(struct sbuf *b, uint64_t v)
{
	char d[20];
	int i = 0;

	do {
		d[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		sb_putc(b, d[--i]);
}

/* Echo what the user wrote: quoted, shortened, printable. */
static void sb_quote(struct sbuf *b, struct str s)
{
	size_t i;

	sb_putc(b, '"');
	for (i = 0; i < s.n && i < QUOTE_MAX; i++)
		sb_putc(b, printable(s.p[i]));
	if (s.n > QUOTE_MAX)
		sb_puts(b, "...");
	sb_putc(b, '"');
}

/* ---- errors ----------------------------------------------------------- */

static void error_add(struct manifest *m, uint32_t line, struct str key,
		      const char *msg)
{
	struct manifest_error *e;

	if (m->error_count < MANIFEST_MAX_ERRORS) {
		e = &m->error[m->error_count];
		e->line = line;
		copy_field(e->key, sizeof(e->key), key, true);
		copy_field(e->msg, sizeof(e->msg), str_of(msg), true);
	}
	if (m->error_count < UINT32_MAX)
		m->error_count++;
}

/* Any error inside a guest section keeps that guest from booting. */
static void fail_at(struct parser *p, uint32_t line, struct str key,
		    const char *msg)
{
	error_add(p->m, line, key, msg);
	if (p->g)
		p->g->valid = false;
}

static void fail(struct parser *p, const char *msg)
{
	fail_at(p, p->line, p->key, msg);
}

/* PRE "VALUE" POST: most value errors echo what was written. */
static void fail_q(struct parser *p, const char *pre, struct str v,
		   const char *post)
{
	char msg[MANIFEST_MSG_MAX];
	struct sbuf b = sb_init(msg, sizeof(msg));

	sb_puts(&b, pre);
	sb_quote(&b, v);
	sb_puts(&b, post);
	fail(p, msg);
}

/* PRE NUMBER POST */
static void fail_n(struct parser *p, const char *pre, uint64_t n,
		   const char *post)
{
	char msg[MANIFEST_MSG_MAX];
	struct sbuf b = sb_init(msg, sizeof(msg));

	sb_puts(&b, pre);
	sb_uint(&b, n);
	sb_puts(&b, post);
	fail(p, msg);
}

/* Errors are found in reading order except "missing key", which is known
 * only at the end of a section: a stable sort puts it back in line order. */
static void sort_errors(struct manifest *m)
{
	uint32_t i, j, n = manifest_errors_stored(m);

	for (i = 1; i < n; i++)
		for (j = i; j && m->error[j - 1].line > m->error[j].line; j--)
			swap_errors(&m->error[j - 1], &m->error[j]);
}

/* ---- numbers ---------------------------------------------------------- */

/* Leading decimal digits of s; *big is set if they overflow 64 bits. */
static size_t scan_uint(struct str s, uint64_t *v, bool *big)
{
	uint64_t d;
	size_t i;

	*v = 0;
	*big = false;
	for (i = 0; i < s.n && is_digit(s.p[i]); i++) {
		d = (uint64_t)(s.p[i] - '0');
		if (*v > (UINT64_MAX - d) / 10)
			*big = true;
		else
			*v = *v * 10 + d;
	}
	return i;
}

static bool parse_uint(struct str s, uint64_t *v)
{
	bool big;
	size_t n = scan_uint(s, v, &big);

	return n && n == s.n && !big;
}

struct unit {
	const char *name;
	uint64_t scale;
};

static const struct unit size_units[] = {
	{ "", 1 },
	{ "K", 1ull << 10 }, { "KiB", 1ull << 10 },
	{ "M", 1ull << 20 }, { "MiB", 1ull << 20 },
	{ "G", 1ull << 30 }, { "GiB", 1ull << 30 },
	{ NULL, 0 },
};

static const struct unit time_units[] = {	/* in microseconds */
	{ "", 1000 }, { "us", 1 }, { "ms", 1000 }, { "s", 1000000 },
	{ NULL, 0 },
};

/* NUMBER [blanks] UNIT.  False if s has another shape; *big if the
 * result does not fit in 64 bits. */
static bool parse_quantity(struct str s, const struct unit *u, uint64_t *v,
			   bool *big)
{
	size_t n = scan_uint(s, v, big);
	struct str unit = trim(str_sub(s, n, s.n));

	if (n == 0)
		return false;
	for (; u->name; u++) {
		if (!str_eq(unit, u->name))
			continue;
		if (*v > UINT64_MAX / u->scale)
			*big = true;
		else
			*v *= u->scale;
		return true;
	}
	return false;
}

struct word {
	const char *name;
	uint32_t val;
};

static bool lookup(const struct word *w, struct str s, uint32_t *v)
{
	for (; w->name; w++) {
		if (str_ieq(s, w->name)) {
			*v = w->val;
			return true;
		}
	}
	return false;
}

static const struct word bool_words[] = {
	{ "yes", 1 }, { "no", 0 }, { "true", 1 }, { "false", 0 },
	{ "on", 1 }, { "off", 0 }, { "1", 1 }, { "0", 0 }, { NULL, 0 },
};

static bool parse_bool(struct parser *p, struct str v, bool *out)
{
	uint32_t b;

	if (!lookup(bool_words, v, &b)) {
		fail_q(p, "bad boolean ", v, " (use yes or no)");
		return false;
	}
	*out = b;
	return true;
}

/* ---- [hypervisor] keys ------------------------------------------------ */

static void hv_defaults(struct manifest_hypervisor *hv)
{
	hv->log_level = 2;
	hv->time_slice_us = 10000;
	hv->poweroff_when_idle = false;
	hv->selftest = MANIFEST_SELFTEST_NONE;
}

static const struct word log_words[] = {
	{ "error", 0 }, { "warn", 1 }, { "info", 2 }, { "debug", 3 },
	{ "0", 0 }, { "1", 1 }, { "2", 2 }, { "3", 3 }, { NULL, 0 },
};

static void set_log_level(struct parser *p, struct str v)
{
	if (!lookup(log_words, v, &p->hv->log_level))
		fail_q(p, "bad log level ", v,
		       " (use error, warn, info, debug or 0..3)");
}

static void set_time_slice(struct parser *p, struct str v)
{
	uint64_t us;
	bool big;

	if (!parse_quantity(v, time_units, &us, &big))
		fail_q(p, "bad duration ", v, " (use a number with us, ms or s)");
	else if (big || us < MANIFEST_SLICE_MIN_US || us > MANIFEST_SLICE_MAX_US)
		fail_q(p, "duration ", v, " out of range (100us..1s)");
	else
		p->hv->time_slice_us = (uint32_t)us;
}

static void set_poweroff(struct parser *p, struct str v)
{
	parse_bool(p, v, &p->hv->poweroff_when_idle);
}

static const struct word selftest_words[] = {
	{ "none", MANIFEST_SELFTEST_NONE },
	{ "fault", MANIFEST_SELFTEST_FAULT },
	{ "timer", MANIFEST_SELFTEST_TIMER },
	{ NULL, 0 },
};

static void set_selftest(struct parser *p, struct str v)
{
	uint32_t t;

	if (lookup(selftest_words, v, &t))
		p->hv->selftest = (enum manifest_selftest)t;
	else
		fail_q(p, "bad selftest ", v, " (use none, fault or timer)");
}

/* ---- [guest NAME] scalar keys ----------------------------------------- */

/* Paths name files on the FAT ESP: printable ASCII without the characters
 * FAT forbids (the loader converts them to UCS-2 as they are). */
static bool path_char(char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '*' && c != ':' &&
	       c != '<' && c != '>' && c != '?' && c != '|';
}

static bool path_ok(struct parser *p, struct str s)
{
	size_t i;

	if (s.n == 0) {
		fail(p, "empty path");
		return false;
	}
	if (s.n >= MANIFEST_PATH_MAX) {
		fail_n(p, "path too long (max ", MANIFEST_PATH_MAX - 1, " bytes)");
		return false;
	}
	for (i = 0; i < s.n; i++) {
		if (!path_char(s.p[i])) {
			fail_q(p, "bad path ", s, " (ASCII only, no \" * : < > ? |)");
			return false;
		}
	}
	if (s.p[s.n - 1] == '/' || s.p[s.n - 1] == '\\') {
		fail_q(p, "path ", s, " names a folder, not a file");
		return false;
	}
	return true;
}

static void set_image(struct parser *p, struct str v)
{
	if (path_ok(p, v))
		copy_field(p->g->image, sizeof(p->g->image), v, false);
}

static void set_memory(struct parser *p, struct str v)
{
	uint64_t bytes;
	bool big;

	if (!parse_quantity(v, size_units, &bytes, &big))
		fail_q(p, "bad size ", v, " (use a number with K, M or G)");
	else if (big || bytes > MANIFEST_MEMORY_MAX)
		fail_q(p, "size ", v, " too large (max 64G)");
	else if (bytes < MANIFEST_MEMORY_MIN)
		fail_q(p, "size ", v, " too small (min 64K)");
	else if (bytes % MANIFEST_PAGE_SIZE)
		fail_q(p, "size ", v, " is not a multiple of 4K");
	else
		p->g->memory = bytes;
}

/* The command line is the one value that may hold non-ASCII bytes. */
static void set_cmdline(struct parser *p, struct str v)
{
	if (v.n >= MANIFEST_CMDLINE_MAX)
		fail_n(p, "too long (max ", MANIFEST_CMDLINE_MAX - 1, " bytes)");
	else
		copy_field(p->g->cmdline, sizeof(p->g->cmdline), v, false);
}

static const struct word action_words[] = {
	{ "destroy", MANIFEST_ACTION_DESTROY },
	{ "restart", MANIFEST_ACTION_RESTART },
	{ "poweroff", MANIFEST_ACTION_POWEROFF },
	{ NULL, 0 },
};

static void parse_action(struct parser *p, struct str v,
			 enum manifest_action *a)
{
	uint32_t w;

	if (lookup(action_words, v, &w))
		*a = (enum manifest_action)w;
	else
		fail_q(p, "bad action ", v, " (use destroy, restart or poweroff)");
}

static void set_on_exit(struct parser *p, struct str v)
{
	parse_action(p, v, &p->g->on_exit);
}

static void set_on_crash(struct parser *p, struct str v)
{
	parse_action(p, v, &p->g->on_crash);
}

static void set_restart_limit(struct parser *p, struct str v)
{
	uint64_t n;

	if (!parse_uint(v, &n) || n > MANIFEST_RESTART_MAX)
		fail_q(p, "bad count ", v, " (use 0..1000)");
	else
		p->g->restart_limit = (uint32_t)n;
}

static void set_privileged(struct parser *p, struct str v)
{
	parse_bool(p, v, &p->g->privileged);
}

/* ---- net = mac=..., ip=A.B.C.D/N, gw=A.B.C.D | dhcp ------------------- */

#define NET_MAC		1u
#define NET_IP		2u
#define NET_GW		4u
#define NET_DHCP	8u

/* Take the next comma-separated item of *list, trimmed; list->p == NULL
 * once the last item has been taken. */
static bool next_item(struct str *list, struct str *item)
{
	size_t i;

	if (!list->p)
		return false;
	i = str_find(*list, ',');
	*item = trim(str_sub(*list, 0, i));
	if (i < list->n)
		*list = str_sub(*list, i + 1, list->n);
	else
		list->p = NULL;
	return true;
}

static bool parse_mac(struct str s, uint8_t mac[6])
{
	int i, hi, lo;

	if (s.n != 17)
		return false;
	for (i = 0; i < 6; i++) {
		hi = hex_value(s.p[3 * i]);
		lo = hex_value(s.p[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s.p[3 * i + 2] != ':'))
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* Dotted quad; no leading zeros, which some tools read as octal. */
static bool parse_ipv4(struct str s, uint32_t *ip)
{
	uint32_t v = 0, o;
	size_t i = 0, start;
	int part;

	for (part = 0; part < 4; part++) {
		if (part && (i >= s.n || s.p[i++] != '.'))
			return false;
		start = i;
		for (o = 0; i < s.n && is_digit(s.p[i]) && i - start < 3; i++)
			o = o * 10 + (uint32_t)(s.p[i] - '0');
		if (i == start || o > 255 || (s.p[start] == '0' && i - start > 1))
			return false;
		v = v << 8 | o;
	}
	*ip = v;
	return i == s.n;
}

static bool net_mac(struct parser *p, struct str v, struct manifest_net *net)
{
	if (!parse_mac(v, net->mac)) {
		fail_q(p, "bad MAC ", v, " (use 6 hex pairs, 02:00:00:00:00:01)");
		return false;
	}
	if (net->mac[0] & 1) {
		fail_q(p, "MAC ", v, " is multicast (first octet must be even)");
		return false;
	}
	if (!(net->mac[0] | net->mac[1] | net->mac[2] | net->mac[3] |
	      net->mac[4] | net->mac[5])) {
		fail(p, "MAC 00:00:00:00:00:00 is not allowed");
		return false;
	}
	return true;
}

static bool net_ip(struct parser *p, struct str v, struct manifest_net *net)
{
	size_t slash = str_find(v, '/');
	struct str len = str_sub(v, slash + 1, v.n);
	uint64_t prefix;

	if (!parse_ipv4(str_sub(v, 0, slash), &net->ipv4) || !net->ipv4) {
		fail_q(p, "bad address ", v, " (use ip=10.0.0.2/24)");
		return false;
	}
	if (slash == v.n || !parse_uint(len, &prefix) || prefix > 32) {
		fail_q(p, "bad prefix length in ", v, " (use /0../32)");
		return false;
	}
	net->prefix_len = (uint8_t)prefix;
	return true;
}

static bool net_gw(struct parser *p, struct str v, struct manifest_net *net)
{
	if (!parse_ipv4(v, &net->gateway) || !net->gateway) {
		fail_q(p, "bad gateway ", v, " (use gw=10.0.0.1)");
		return false;
	}
	return true;
}

/* One "name=value" or "dhcp" item of a net line. */
static bool net_item(struct parser *p, struct str it,
		     struct manifest_net *net, uint32_t *have)
{
	size_t eq = str_find(it, '=');
	struct str name = trim(str_sub(it, 0, eq));
	struct str val = trim(str_sub(it, eq + 1, it.n));
	uint32_t bit;

	if (eq == it.n && str_ieq(it, "dhcp"))
		bit = NET_DHCP;
	else if (eq < it.n && str_ieq(name, "mac"))
		bit = NET_MAC;
	else if (eq < it.n && str_ieq(name, "ip"))
		bit = NET_IP;
	else if (eq < it.n && str_ieq(name, "gw"))
		bit = NET_GW;
	else {
		fail_q(p, "unknown net option ", it, " (use mac=, ip=, gw=, dhcp)");
		return false;
	}
	if (*have & bit) {
		fail_q(p, "repeated net option ", eq < it.n ? name : it, "");
		return false;
	}
	*have |= bit;
	if (bit == NET_MAC)
		return net_mac(p, val, net);
	if (bit == NET_IP)
		return net_ip(p, val, net);
	if (bit == NET_GW)
		return net_gw(p, val, net);
	net->dhcp = true;
	return true;
}

static uint32_t prefix_mask(uint32_t len)
{
	return len ? 0xffffffffu << (32 - len) : 0;
}

/* The items are each fine; do they make sense together? */
static bool net_check(struct parser *p, const struct manifest_net *net,
		      uint32_t have)
{
	uint32_t mask = prefix_mask(net->prefix_len);
	const char *err = NULL;

	if (!(have & NET_MAC))
		err = "needs mac=";
	else if ((have & NET_IP) && (have & NET_DHCP))
		err = "use ip= or dhcp, not both";
	else if (!(have & (NET_IP | NET_DHCP)))
		err = "needs ip=ADDR/LEN or dhcp";
	else if ((have & NET_GW) && !(have & NET_IP))
		err = "gw= needs ip=";
	else if ((have & NET_GW) && net->gateway == net->ipv4)
		err = "gateway is the guest's own address";
	else if ((have & NET_GW) &&
		 (net->gateway & mask) != (net->ipv4 & mask))
		err = "gateway is outside the ip= subnet";
	if (err)
		fail(p, err);
	return !err;
}

static bool mac_equal(const uint8_t *a, const uint8_t *b)
{
	int i;

	for (i = 0; i < 6; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/* Two guests on one switch with one MAC would steal each other's frames. */
static bool mac_unique(struct parser *p, const uint8_t *mac)
{
	const struct manifest_guest *g;
	uint32_t i, j;

	for (i = 0; i < p->m->guest_count; i++) {
		g = &p->m->guest[i];
		for (j = 0; j < g->net_count; j++) {
			if (!mac_equal(g->net[j].mac, mac))
				continue;
			fail_at(p, p->line, p->key,
				g == p->g ? "MAC repeated in this guest" :
				"MAC already used by another guest");
			return false;
		}
	}
	return true;
}

static void set_net(struct parser *p, struct str v)
{
	struct manifest_guest *g = p->g;
	struct manifest_net net = { { 0 }, false, 0, 0, 0 };
	struct str list = v, item;
	uint32_t have = 0;

	if (g->net_count >= MANIFEST_MAX_NETS) {
		fail_n(p, "too many net entries (max ", MANIFEST_MAX_NETS, ")");
		return;
	}
	while (next_item(&list, &item)) {
		if (item.n == 0) {
			fail(p, "empty item in net list");
			return;
		}
		if (!net_item(p, item, &net, &have))
			return;
	}
	if (net_check(p, &net, have) && mac_unique(p, net.mac))
		g->net[g->net_count++] = net;
}

/* ---- block = PATH [, readonly] ---------------------------------------- */

static void set_block(struct parser *p, struct str v)
{
	struct manifest_guest *g = p->g;
	struct manifest_block *b;
	struct str list = v, path, opt;
	bool ro = false;

	if (g->block_count >= MANIFEST_MAX_BLOCKS) {
		fail_n(p, "too many block entries (max ", MANIFEST_MAX_BLOCKS, ")");
		return;
	}
	next_item(&list, &path);
	if (!path_ok(p, path))
		return;
	while (next_item(&list, &opt)) {
		if (!str_ieq(opt, "readonly")) {
			fail_q(p, "unknown block option ", opt, " (use readonly)");
			return;
		}
		ro = true;
	}
	b = &g->block[g->block_count++];
	copy_field(b->path, sizeof(b->path), path, false);
	b->readonly = ro;
}

/* ---- key tables ------------------------------------------------------- */

static const struct keydef hv_keys[] = {
	{ "log_level", set_log_level, false, false },
	{ "time_slice", set_time_slice, false, false },
	{ "poweroff_when_idle", set_poweroff, false, false },
	{ "selftest", set_selftest, false, false },
	{ NULL, NULL, false, false },
};

static const struct keydef guest_keys[] = {
	{ "image", set_image, false, true },
	{ "memory", set_memory, false, true },
	{ "cmdline", set_cmdline, false, false },
	{ "on_exit", set_on_exit, false, false },
	{ "on_crash", set_on_crash, false, false },
	{ "restart_limit", set_restart_limit, false, false },
	{ "privileged", set_privileged, false, false },
	{ "net", set_net, true, false },
	{ "block", set_block, true, false },
	{ NULL, NULL, false, false },
};

_Static_assert(sizeof(guest_keys) / sizeof(guest_keys[0]) <= KEYS_MAX,
	       "parser.seen[] too small for guest_keys");

static const struct keydef *find_key(const struct keydef *k, struct str name)
{
	for (; k->name; k++)
		if (str_eq(name, k->name))
			return k;
	return NULL;
}

/* ---- sections --------------------------------------------------------- */

static void section_begin(struct parser *p, enum section sec,
			  const struct keydef *keys)
{
	int i;

	p->sec = sec;
	p->keys = keys;
	for (i = 0; i < KEYS_MAX; i++)
		p->seen[i] = 0;
}

/* Report required keys that never came, then forget the section. */
static void section_end(struct parser *p)
{
	const struct keydef *k;

	if (p->sec == SEC_GUEST) {
		for (k = p->keys; k->name; k++)
			if (k->required && !p->seen[k - p->keys])
				fail_at(p, p->g->line, str_of(k->name),
					"required key missing");
	}
	p->sec = SEC_SKIP;
	p->keys = NULL;
	p->g = NULL;
	p->hv = NULL;
}

static void open_hv(struct parser *p)
{
	p->key = str_of("hypervisor");
	section_begin(p, SEC_HV, hv_keys);
	if (!p->hv_line) {
		p->hv_line = p->line;
		p->hv = &p->m->hv;
		return;
	}
	/* Parse a repeat into scratch space so that its errors still show. */
	hv_defaults(&p->scratch);
	p->hv = &p->scratch;
	fail_n(p, "section repeated (first on line ", p->hv_line, ")");
}

static bool name_ok(struct str s)
{
	size_t i;
	char c;

	if (s.n == 0 || s.n >= MANIFEST_NAME_MAX)
		return false;
	for (i = 0; i < s.n; i++) {
		c = s.p[i];
		if (!is_digit(c) && !(to_lower(c) >= 'a' && to_lower(c) <= 'z') &&
		    c != '_' && c != '.' && c != '-')
			return false;
	}
	return true;
}

static void check_name(struct parser *p, struct str name)
{
	const struct manifest_guest *g;
	uint32_t i;

	if (name.n == 0) {
		fail(p, "missing name, as in [guest web]");
		return;
	}
	if (!name_ok(name)) {
		fail_q(p, "bad name ", name, " (1-31 of A-Z a-z 0-9 _ . -)");
		return;
	}
	for (i = 0; i + 1 < p->m->guest_count; i++) {
		g = &p->m->guest[i];
		if (str_eq(name, g->name)) {
			fail_n(p, "duplicate name (first on line ", g->line, ")");
			return;
		}
	}
}

static void open_guest(struct parser *p, struct str name)
{
	struct manifest *m = p->m;
	struct manifest_guest *g;

	p->key = str_of("guest");
	if (m->guest_count >= MANIFEST_MAX_GUESTS) {
		fail_n(p, "too many guests (max ", MANIFEST_MAX_GUESTS, ")");
		return;
	}
	g = &m->guest[m->guest_count++];
	copy_field(g->name, sizeof(g->name), name, true);
	g->line = p->line;
	g->on_exit = MANIFEST_ACTION_DESTROY;
	g->on_crash = MANIFEST_ACTION_DESTROY;
	g->restart_limit = 3;
	g->valid = true;
	section_begin(p, SEC_GUEST, guest_keys);
	p->g = g;
	check_name(p, name);
}

static void open_section(struct parser *p, struct str inner)
{
	struct str word = str_sub(inner, 0, 5);

	if (str_eq(inner, "hypervisor"))
		open_hv(p);
	else if (str_eq(word, "guest") && (inner.n == 5 || is_blank(inner.p[5])))
		open_guest(p, trim(str_sub(inner, 5, inner.n)));
	else
		fail_q(p, "unknown section ", inner,
		       " (use [hypervisor] or [guest NAME])");
}

/* "[name]" with optional blanks inside and a comment after. */
static void parse_header(struct parser *p, struct str s)
{
	size_t close = str_find(s, ']');

	section_end(p);
	p->any_section = true;
	p->key = str_of("");
	open_section(p, trim(str_sub(s, 1, close)));
	if (close == s.n)
		fail(p, "missing ']' in section header");
	else if (!rest_is_comment(str_sub(s, close + 1, s.n)))
		fail(p, "unexpected text after ']'");
}

/* ---- key = value ------------------------------------------------------ */

/* A quoted value: \" and \\ are the only escapes; after the closing quote
 * only a comment may follow.  No key takes more than a command line. */
static bool unquote(struct parser *p, struct str s, struct str *v)
{
	size_t i, n = 0;

	for (i = 1; i < s.n && s.p[i] != '"'; i++) {
		if (s.p[i] == '\\' && ++i < s.n && s.p[i] != '"' &&
		    s.p[i] != '\\') {
			fail_q(p, "bad escape ", str_sub(s, i - 1, i + 1),
			       " in quotes (use \\\" or \\\\)");
			return false;
		}
		if (n == sizeof(p->val) - 1) {
			fail_n(p, "too long (max ", sizeof(p->val) - 1, " bytes)");
			return false;
		}
		if (i < s.n)
			p->val[n++] = s.p[i];
	}
	if (i >= s.n) {
		fail(p, "unterminated quote");
		return false;
	}
	if (!rest_is_comment(str_sub(s, i + 1, s.n))) {
		fail(p, "unexpected text after closing quote");
		return false;
	}
	v->p = p->val;
	v->n = n;
	return true;
}

/* A bare value runs to the end of the line or to a comment.  Quotes inside
 * it are kept as written but still hide '#' and ';'. */
static bool bare_value(struct parser *p, struct str s, struct str *v)
{
	bool inq = false;
	size_t i;

	for (i = 0; i < s.n; i++) {
		if (inq && s.p[i] == '\\')
			i++;
		else if (s.p[i] == '"')
			inq = !inq;
		else if (!inq && comment_at(s, i))
			break;
	}
	if (inq) {
		fail(p, "unterminated quote");
		return false;
	}
	*v = trim(str_sub(s, 0, i));
	if (v->n == 0) {
		fail(p, "empty value");
		return false;
	}
	return true;
}

static bool parse_value(struct parser *p, struct str s, struct str *v)
{
	s = trim(s);
	if (s.n && s.p[0] == '"')
		return unquote(p, s, v);
	return bare_value(p, s, v);
}

/* Index of the '=' of a key = value line, or s.n if none comes before a
 * comment or the end. */
static size_t find_equals(struct str s)
{
	size_t i;

	for (i = 0; i < s.n && !comment_at(s, i); i++)
		if (s.p[i] == '=')
			return i;
	return s.n;
}

static struct str first_word(struct str s)
{
	size_t i = 0;

	while (i < s.n && !is_blank(s.p[i]))
		i++;
	return str_sub(s, 0, i);
}

/* Record the key's first line; refuse a repeat unless the key repeats. */
static bool first_use(struct parser *p, const struct keydef *k)
{
	uint32_t *seen = &p->seen[k - p->keys];

	if (*seen && !k->repeat) {
		fail_n(p, "duplicate key (first on line ", *seen, ")");
		return false;
	}
	if (!*seen)
		*seen = p->line;
	return true;
}

static void parse_keyval(struct parser *p, struct str s)
{
	size_t eq = find_equals(s);
	const struct keydef *k;
	struct str v;

	if (p->sec == SEC_SKIP)
		return;
	p->key = trim(str_sub(s, 0, eq));
	if (eq == s.n) {
		p->key = first_word(s);
		fail(p, "missing '=' (expected key = value)");
	} else if (p->key.n == 0) {
		fail(p, "missing key before '='");
	} else if (p->sec == SEC_NONE) {
		fail(p, "key outside any section");
	} else if (!(k = find_key(p->keys, p->key))) {
		fail(p, p->sec == SEC_HV ? "unknown key in [hypervisor]" :
					   "unknown key in [guest]");
	} else if (first_use(p, k) && parse_value(p, str_sub(s, eq + 1, s.n), &v)) {
		k->set(p, v);
	}
}

/* ---- lines ------------------------------------------------------------ */

static void fail_byte(struct parser *p, unsigned char c, size_t column)
{
	char msg[MANIFEST_MSG_MAX];
	struct sbuf b = sb_init(msg, sizeof(msg));

	if (c) {
		sb_puts(&b, "control byte 0x");
		sb_putc(&b, "0123456789abcdef"[c >> 4]);
		sb_putc(&b, "0123456789abcdef"[c & 15]);
	} else {
		sb_puts(&b, "NUL byte");
	}
	sb_puts(&b, " at column ");
	sb_uint(&b, column);
	sb_puts(&b, " (not a text file?)");
	fail(p, msg);
}

/* Refuse over-long lines and binary bytes before looking at the syntax. */
static bool line_ok(struct parser *p, struct str s)
{
	unsigned char c;
	size_t i;

	p->key = str_of("");
	if (s.n > MANIFEST_LINE_MAX) {
		fail_n(p, "line too long (max ", MANIFEST_LINE_MAX, " bytes)");
		return false;
	}
	for (i = 0; i < s.n; i++) {
		c = (unsigned char)s.p[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			fail_byte(p, c, i + 1);
			return false;
		}
	}
	return true;
}

static void parse_line(struct parser *p, struct str s)
{
	s = trim(s);
	if (s.n == 0 || s.p[0] == '#' || s.p[0] == ';')
		return;
	if (s.p[0] == '[')
		parse_header(p, s);
	else
		parse_keyval(p, s);
}

/* Split at LF; a CR before the LF (or at the very end) is dropped. */
static void parse_text(struct parser *p, const char *text, size_t len)
{
	size_t pos = 0, end;
	struct str line;

	while (pos < len) {
		for (end = pos; end < len && text[end] != '\n'; end++)
			;
		line.p = text + pos;
		line.n = end - pos;
		if (line.n && line.p[line.n - 1] == '\r')
			line.n--;
		if (p->line < UINT32_MAX)
			p->line++;
		if (line_ok(p, line))
			parse_line(p, line);
		pos = end + 1;
	}
}

/* ---- API -------------------------------------------------------------- */

/* A long name keeps its tail, where the file name is. */
static void set_file_name(struct manifest *m, const char *file)
{
	struct str s = str_of(file ? file : "manifest");
	struct sbuf b = sb_init(m->file, sizeof(m->file));
	size_t keep = sizeof(m->file) - 4;

	if (s.n >= sizeof(m->file)) {
		sb_puts(&b, "...");
		s = str_sub(s, s.n - keep, s.n);
	}
	while (s.n--)
		sb_putc(&b, *s.p++);
}

static void parser_init(struct parser *p, struct manifest *m)
{
	p->m = m;
	p->line = 0;
	p->any_section = false;
	p->hv_line = 0;
	p->hv = NULL;
	p->g = NULL;
	p->key = str_of("");
	hv_defaults(&p->scratch);
	section_begin(p, SEC_NONE, NULL);
}

uint32_t manifest_parse(struct manifest *m, const char *file,
			const char *text, size_t len)
{
	const unsigned char *u = (const unsigned char *)text;
	struct parser p;

	zero_manifest(m);
	set_file_name(m, file);
	hv_defaults(&m->hv);
	parser_init(&p, m);
	if (!text)
		len = 0;
	if (len >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf) {
		text += 3;	/* UTF-8 byte order mark, as Notepad writes */
		len -= 3;
	}
	parse_text(&p, text, len);
	section_end(&p);
	if (!p.any_section)
		fail_at(&p, 0, str_of(""), "manifest has no sections");
	sort_errors(m);
	return m->error_count;
}

size_t manifest_format_error(const struct manifest *m, uint32_t i,
			     char *buf, size_t n)
{
	const struct manifest_error *e;
	struct sbuf b = sb_init(buf, buf ? n : 0);

	if (!m || i >= manifest_errors_stored(m))
		return 0;
	e = &m->error[i];
	sb_puts(&b, m->file);
	if (e->line) {
		sb_putc(&b, ':');
		sb_uint(&b, e->line);
	}
	sb_puts(&b, ": ");
	if (e->key[0]) {
		sb_puts(&b, e->key);
		sb_puts(&b, ": ");
	}
	sb_puts(&b, e->msg);
	return b.len;
}

uint32_t manifest_valid_guests(const struct manifest *m)
{
	uint32_t i, n = 0;

	for (i = 0; i < m->guest_count && i < MANIFEST_MAX_GUESTS; i++)
		if (m->guest[i].valid)
			n++;
	return n;
}

const char *manifest_action_name(enum manifest_action a)
{
	switch (a) {
	case MANIFEST_ACTION_DESTROY:
		return "destroy";
	case MANIFEST_ACTION_RESTART:
		return "restart";
	case MANIFEST_ACTION_POWEROFF:
		return "poweroff";
	}
	return "?";
}
