/* The boot manifest parser, part 2 of 3: the keys of [hypervisor] and
 * [guest NAME], the values they take (numbers with units, keywords,
 * paths, net, block and CPU lists) and the key tables that name them.
 * manifest_internal.h lists the files and what they share.
 */
#include "manifest_internal.h"

/* ---- units and keywords ----------------------------------------------- */

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

struct word {
	const char *name;
	uint32_t val;
};

static bool lookup(const struct word *w, struct str s, uint32_t *v)
{
	for (; w->name; w++) {
		if (mf_str_ieq(s, w->name)) {
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
		mf_fail_q(p, "bad boolean ", v, " (use yes or no)");
		return false;
	}
	*out = b;
	return true;
}

/* ---- [hypervisor] keys ------------------------------------------------ */

void mf_hv_defaults(struct manifest_hypervisor *hv)
{
	hv->log_level = 2;
	hv->time_slice_us = 10000;
	hv->poweroff_when_idle = false;
	hv->selftest = MANIFEST_SELFTEST_NONE;
	hv->cpus = 0;
	hv->isolation = MANIFEST_ISOLATION_AUTO;
}

static const struct word log_words[] = {
	{ "error", 0 }, { "warn", 1 }, { "info", 2 }, { "debug", 3 },
	{ "0", 0 }, { "1", 1 }, { "2", 2 }, { "3", 3 }, { NULL, 0 },
};

static void set_log_level(struct parser *p, struct str v)
{
	if (!lookup(log_words, v, &p->hv->log_level))
		mf_fail_q(p, "bad log level ", v,
			  " (use error, warn, info, debug or 0..3)");
}

static void set_time_slice(struct parser *p, struct str v)
{
	uint64_t us;
	bool big;

	if (!mf_parse_quantity(v, time_units, &us, &big))
		mf_fail_q(p, "bad duration ", v, " (use a number with us, ms or s)");
	else if (big || us < MANIFEST_SLICE_MIN_US || us > MANIFEST_SLICE_MAX_US)
		mf_fail_q(p, "duration ", v, " out of range (100us..1s)");
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
	{ "stack", MANIFEST_SELFTEST_STACK },
	{ "lockorder", MANIFEST_SELFTEST_LOCKORDER },
	{ "ipistorm", MANIFEST_SELFTEST_IPISTORM },
	{ "kill", MANIFEST_SELFTEST_KILL },
	{ "deadcpu", MANIFEST_SELFTEST_DEADCPU },
	{ "ptdump", MANIFEST_SELFTEST_PTDUMP },
	{ "textalias", MANIFEST_SELFTEST_TEXTALIAS },
	{ "smash", MANIFEST_SELFTEST_SMASH },
	{ "strayirq", MANIFEST_SELFTEST_STRAYIRQ },
	{ "cpustate", MANIFEST_SELFTEST_CPUSTATE },
	{ "disk", MANIFEST_SELFTEST_DISK },
	{ "volumes", MANIFEST_SELFTEST_VOLUMES },
	{ NULL, 0 },
};

static void set_selftest(struct parser *p, struct str v)
{
	uint32_t t;

	if (lookup(selftest_words, v, &t))
		p->hv->selftest = (enum manifest_selftest)t;
	else
		mf_fail_q(p, "bad selftest ", v, " (use none, or see docs/manifest.md)");
}

static const struct word isolation_words[] = {
	{ "auto", MANIFEST_ISOLATION_AUTO }, { "on", MANIFEST_ISOLATION_ON },
	{ "off", MANIFEST_ISOLATION_OFF }, { NULL, 0 },
};

static void set_isolation(struct parser *p, struct str v)
{
	uint32_t t;

	if (lookup(isolation_words, v, &t))
		p->hv->isolation = (enum manifest_isolation)t;
	else
		mf_fail_q(p, "bad isolation ", v, " (use auto, on or off)");
}

static void set_cpu_count(struct parser *p, struct str v)
{
	uint64_t n;

	if (!mf_parse_uint(v, &n) || n < 1 || n > MANIFEST_MAX_CPUS)
		mf_fail_q(p, "bad CPU count ", v, " (use 1..64)");
	else
		p->hv->cpus = (uint32_t)n;
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
		mf_fail(p, "empty path");
		return false;
	}
	if (s.n >= MANIFEST_PATH_MAX) {
		mf_fail_n(p, "path too long (max ", MANIFEST_PATH_MAX - 1, " bytes)");
		return false;
	}
	for (i = 0; i < s.n; i++) {
		if (!path_char(s.p[i])) {
			mf_fail_q(p, "bad path ", s, " (ASCII only, no \" * : < > ? |)");
			return false;
		}
	}
	if (s.p[s.n - 1] == '/' || s.p[s.n - 1] == '\\') {
		mf_fail_q(p, "path ", s, " names a folder, not a file");
		return false;
	}
	return true;
}

static void set_image(struct parser *p, struct str v)
{
	if (path_ok(p, v))
		mf_copy_field(p->g->image, sizeof(p->g->image), v, false);
}

static void set_memory(struct parser *p, struct str v)
{
	uint64_t bytes;
	bool big;

	if (!mf_parse_quantity(v, size_units, &bytes, &big))
		mf_fail_q(p, "bad size ", v, " (use a number with K, M or G)");
	else if (big || bytes > MANIFEST_MEMORY_MAX)
		mf_fail_q(p, "size ", v, " too large (max 64G)");
	else if (bytes < MANIFEST_MEMORY_MIN)
		mf_fail_q(p, "size ", v, " too small (min 64K)");
	else if (bytes % MANIFEST_PAGE_SIZE)
		mf_fail_q(p, "size ", v, " is not a multiple of 4K");
	else
		p->g->memory = bytes;
}

/* The command line is the one value that may hold non-ASCII bytes. */
static void set_cmdline(struct parser *p, struct str v)
{
	if (v.n >= MANIFEST_CMDLINE_MAX)
		mf_fail_n(p, "too long (max ", MANIFEST_CMDLINE_MAX - 1, " bytes)");
	else
		mf_copy_field(p->g->cmdline, sizeof(p->g->cmdline), v, false);
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
		mf_fail_q(p, "bad action ", v, " (use destroy, restart or poweroff)");
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

	if (!mf_parse_uint(v, &n) || n > MANIFEST_RESTART_MAX)
		mf_fail_q(p, "bad count ", v, " (use 0..1000)");
	else
		p->g->restart_limit = (uint32_t)n;
}

static void set_restart_delay(struct parser *p, struct str v)
{
	uint64_t us;
	bool big;

	if (!mf_parse_quantity(v, time_units, &us, &big))
		mf_fail_q(p, "bad duration ", v, " (use a number with us, ms or s)");
	else if (big || us > MANIFEST_RESTART_DELAY_MAX_US)
		mf_fail_q(p, "duration ", v, " out of range (0..10s)");
	else
		p->g->restart_delay_us = (uint32_t)us;
}

static void set_privileged(struct parser *p, struct str v)
{
	parse_bool(p, v, &p->g->privileged);
}

static void set_weight(struct parser *p, struct str v)
{
	uint64_t n;

	if (!mf_parse_uint(v, &n) || n < 1 || n > MANIFEST_WEIGHT_MAX)
		mf_fail_q(p, "bad weight ", v, " (use 1..65535)");
	else
		p->g->weight = (uint32_t)n;
}

static void set_instances(struct parser *p, struct str v)
{
	uint64_t n;

	if (!mf_parse_uint(v, &n) || n < 1 || n > MANIFEST_INSTANCES_MAX)
		mf_fail_q(p, "bad count ", v, " (use 1..10000)");
	else
		p->g->instances = (uint32_t)n;
}

/* ---- net = mac=..., ip=A.B.C.D/N, gw=A.B.C.D | dhcp [, guard=ip|mac] -- */

#define NET_MAC		1u
#define NET_IP		2u
#define NET_GW		4u
#define NET_DHCP	8u
#define NET_GUARD	16u


static bool parse_mac(struct str s, uint8_t mac[6])
{
	int i, hi, lo;

	if (s.n != 17)
		return false;
	for (i = 0; i < 6; i++) {
		hi = mf_hex_value(s.p[3 * i]);
		lo = mf_hex_value(s.p[3 * i + 1]);
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
		for (o = 0; i < s.n && mf_is_digit(s.p[i]) && i - start < 3; i++)
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
		mf_fail_q(p, "bad MAC ", v, " (use 6 hex pairs, 02:00:00:00:00:01)");
		return false;
	}
	if (net->mac[0] & 1) {
		mf_fail_q(p, "MAC ", v, " is multicast (first octet must be even)");
		return false;
	}
	if (!(net->mac[0] | net->mac[1] | net->mac[2] | net->mac[3] |
	      net->mac[4] | net->mac[5])) {
		mf_fail(p, "MAC 00:00:00:00:00:00 is not allowed");
		return false;
	}
	return true;
}

static bool net_ip(struct parser *p, struct str v, struct manifest_net *net)
{
	size_t slash = mf_str_find(v, '/');
	struct str len = mf_str_sub(v, slash + 1, v.n);
	uint64_t prefix;

	if (!parse_ipv4(mf_str_sub(v, 0, slash), &net->ipv4) || !net->ipv4) {
		mf_fail_q(p, "bad address ", v, " (use ip=10.0.0.2/24)");
		return false;
	}
	if (slash == v.n || !mf_parse_uint(len, &prefix) || prefix > 32) {
		mf_fail_q(p, "bad prefix length in ", v, " (use /0../32)");
		return false;
	}
	net->prefix_len = (uint8_t)prefix;
	return true;
}

static bool net_gw(struct parser *p, struct str v, struct manifest_net *net)
{
	if (!parse_ipv4(v, &net->gateway) || !net->gateway) {
		mf_fail_q(p, "bad gateway ", v, " (use gw=10.0.0.1)");
		return false;
	}
	return true;
}

static bool net_guard(struct parser *p, struct str v, struct manifest_net *net)
{
	if (mf_str_ieq(v, "ip"))
		net->guard = MANIFEST_GUARD_IP;
	else if (mf_str_ieq(v, "mac"))
		net->guard = MANIFEST_GUARD_MAC;
	else {
		mf_fail_q(p, "bad guard ", v, " (use guard=ip or guard=mac)");
		return false;
	}
	return true;
}

/* One "name=value" or "dhcp" item of a net line. */
static bool net_item(struct parser *p, struct str it,
		     struct manifest_net *net, uint32_t *have)
{
	size_t eq = mf_str_find(it, '=');
	struct str name = mf_trim(mf_str_sub(it, 0, eq));
	struct str val = mf_trim(mf_str_sub(it, eq + 1, it.n));
	uint32_t bit;

	if (eq == it.n && mf_str_ieq(it, "dhcp"))
		bit = NET_DHCP;
	else if (eq < it.n && mf_str_ieq(name, "mac"))
		bit = NET_MAC;
	else if (eq < it.n && mf_str_ieq(name, "ip"))
		bit = NET_IP;
	else if (eq < it.n && mf_str_ieq(name, "gw"))
		bit = NET_GW;
	else if (eq < it.n && mf_str_ieq(name, "guard"))
		bit = NET_GUARD;
	else {
		mf_fail_q(p, "unknown net option ", it, " (use mac=, ip=, gw=, dhcp, guard=)");
		return false;
	}
	if (*have & bit) {
		mf_fail_q(p, "repeated net option ", eq < it.n ? name : it, "");
		return false;
	}
	*have |= bit;
	if (bit == NET_MAC)
		return net_mac(p, val, net);
	if (bit == NET_IP)
		return net_ip(p, val, net);
	if (bit == NET_GW)
		return net_gw(p, val, net);
	if (bit == NET_GUARD)
		return net_guard(p, val, net);
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
		mf_fail(p, err);
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
			mf_fail_at(p, p->line, p->key,
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
	struct manifest_net net = { .guard = MANIFEST_GUARD_IP };
	struct str list = v, item;
	uint32_t have = 0;

	if (g->net_count >= MANIFEST_MAX_NETS) {
		mf_fail_n(p, "too many net entries (max ", MANIFEST_MAX_NETS, ")");
		return;
	}
	while (mf_next_item(&list, &item)) {
		if (item.n == 0) {
			mf_fail(p, "empty item in net list");
			return;
		}
		if (!net_item(p, item, &net, &have))
			return;
	}
	if (net_check(p, &net, have) && mac_unique(p, net.mac))
		g->net[g->net_count++] = net;
}

/* ---- cpus = any | N, N-M, ... ----------------------------------------- */

_Static_assert(MANIFEST_MAX_CPUS == 64,
	       "cpu_mask holds 64 CPUs; messages and docs say 0..63 and 1..64");

/* A bare number, told apart from one too big for 64 bits (out of range). */
static const struct unit no_unit[] = { { "", 1 }, { NULL, 0 } };

static bool cpu_number(struct parser *p, struct str s, struct str item,
		       uint32_t *cpu)
{
	uint64_t n;
	bool big;

	if (!mf_parse_quantity(s, no_unit, &n, &big)) {
		mf_fail_q(p, "bad CPU list item ", item, " (use N or N-M)");
		return false;
	}
	if (big || n >= MANIFEST_MAX_CPUS) {
		mf_fail_q(p, "CPU number out of range in ", item, " (use 0..63)");
		return false;
	}
	*cpu = (uint32_t)n;
	return true;
}

/* CPUs first..last, inclusive; last < 64. */
static uint64_t cpu_range_bits(uint32_t first, uint32_t last)
{
	return (UINT64_MAX << first) & (UINT64_MAX >> (63 - last));
}

/* One "N" or "N-M" item of a cpus list, blanks allowed around the '-'. */
static bool cpu_item(struct parser *p, struct str it, uint64_t *mask)
{
	size_t dash = mf_str_find(it, '-');
	struct str first = mf_trim(mf_str_sub(it, 0, dash));
	struct str last = mf_trim(mf_str_sub(it, dash + 1, it.n));
	uint32_t lo, hi;

	if (dash == it.n)
		last = first;	/* "N" is the range N-N */
	if (!cpu_number(p, first, it, &lo) || !cpu_number(p, last, it, &hi))
		return false;
	if (lo > hi) {
		mf_fail_q(p, "reversed CPU range ", it, " (lower number first)");
		return false;
	}
	*mask |= cpu_range_bits(lo, hi);
	return true;
}

/* Items may repeat or overlap: the list is a set. */
static bool parse_cpu_list(struct parser *p, struct str v, uint64_t *mask)
{
	struct str list = v, item;

	while (mf_next_item(&list, &item)) {
		if (item.n == 0) {
			mf_fail(p, "empty item in CPU list");
			return false;
		}
		if (!cpu_item(p, item, mask))
			return false;
	}
	return true;
}

static void set_cpu_affinity(struct parser *p, struct str v)
{
	uint64_t mask = 0;

	v = mf_trim(v);
	if (v.n == 0)
		mf_fail(p, "empty CPU list (use any, or CPUs such as 0-3, 5)");
	else if (mf_str_ieq(v, "any"))
		p->g->cpu_mask = 0;
	else if (parse_cpu_list(p, v, &mask))
		p->g->cpu_mask = mask;
}

/* ---- key tables ------------------------------------------------------- */

const struct keydef mf_hv_keys[] = {
	{ "log_level", set_log_level, false, false },
	{ "time_slice", set_time_slice, false, false },
	{ "poweroff_when_idle", set_poweroff, false, false },
	{ "selftest", set_selftest, false, false },
	{ "cpus", set_cpu_count, false, false },
	{ "isolation", set_isolation, false, false },
	{ NULL, NULL, false, false },
};

const struct keydef mf_guest_keys[] = {
	{ "image", set_image, false, true },
	{ "memory", set_memory, false, true },
	{ "cmdline", set_cmdline, false, false },
	{ "on_exit", set_on_exit, false, false },
	{ "on_crash", set_on_crash, false, false },
	{ "restart_limit", set_restart_limit, false, false },
	{ "restart_delay", set_restart_delay, false, false },
	{ "privileged", set_privileged, false, false },
	{ "cpus", set_cpu_affinity, false, false },
	{ "weight", set_weight, false, false },
	{ "instances", set_instances, false, false },
	{ "net", set_net, true, false },
	{ "block", mf_set_block, true, false },
	{ "mount", mf_set_mount, true, false },
	{ NULL, NULL, false, false },
};

_Static_assert(sizeof(mf_guest_keys) / sizeof(mf_guest_keys[0]) <= KEYS_MAX,
	       "parser.seen[] too small for mf_guest_keys");
