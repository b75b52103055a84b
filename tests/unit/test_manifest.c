/* Unit tests for the boot manifest parser (sdk/manifest/manifest.c). */
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"
#include "manifest.h"

static struct manifest m;	/* ~80 KiB: too big for the stack */

static uint32_t parse_n(const char *text, size_t len)
{
	return manifest_parse(&m, "t.conf", text, len);
}

static uint32_t parse(const char *text)
{
	return parse_n(text, strlen(text));
}

static void dump_errors(void)
{
	char buf[256];
	uint32_t i;

	for (i = 0; i < manifest_errors_stored(&m); i++) {
		manifest_format_error(&m, i, buf, sizeof(buf));
		fprintf(stderr, "    %s\n", buf);
	}
}

/* Is there an error on line with this key whose message contains msg? */
static bool has_error(uint32_t line, const char *key, const char *msg)
{
	uint32_t i;

	for (i = 0; i < manifest_errors_stored(&m); i++) {
		const struct manifest_error *e = &m.error[i];

		if (e->line == line && strcmp(e->key, key) == 0 &&
		    strstr(e->msg, msg))
			return true;
	}
	return false;
}

#define CHECK_ERROR(line, key, msg) do { \
	if (!CHECK(has_error(line, key, msg))) \
		dump_errors(); \
} while (0)

#define CHECK_CLEAN() do { \
	if (!CHECK_EQ_INT(m.error_count, 0)) \
		dump_errors(); \
} while (0)

/* Exactly one error, and it is this one. */
#define CHECK_ONE_ERROR(line, key, msg) do { \
	CHECK_EQ_INT(m.error_count, 1); \
	CHECK_ERROR(line, key, msg); \
} while (0)

static const struct manifest_guest *guest(const char *name)
{
	uint32_t i;

	for (i = 0; i < m.guest_count; i++)
		if (strcmp(m.guest[i].name, name) == 0)
			return &m.guest[i];
	return NULL;
}

/* Every stored string must be terminated inside its field. */
static bool strings_terminated(void)
{
	uint32_t i, j;
	bool ok = memchr(m.file, 0, sizeof(m.file)) != NULL;

	for (i = 0; i < manifest_errors_stored(&m); i++)
		ok &= memchr(m.error[i].key, 0, MANIFEST_KEY_MAX) &&
		      memchr(m.error[i].msg, 0, MANIFEST_MSG_MAX);
	for (i = 0; i < m.guest_count && i < MANIFEST_MAX_GUESTS; i++) {
		const struct manifest_guest *g = &m.guest[i];

		ok &= memchr(g->name, 0, sizeof(g->name)) &&
		      memchr(g->image, 0, sizeof(g->image)) &&
		      memchr(g->cmdline, 0, sizeof(g->cmdline));
		for (j = 0; j < MANIFEST_MAX_BLOCKS; j++)
			ok &= memchr(g->block[j].spec, 0, MANIFEST_BLOCK_SPEC_MAX) &&
			      memchr(g->block[j].name, 0, MANIFEST_BLOCK_NAME_MAX);
	}
	return ok;
}

/* The example of docs/manifest.md, kept in step with it by hand. */
static const char example[] =
	"# Paravane boot manifest: two guests and a shared disk.\n"
	"; both comment styles work\n"
	"\n"
	"[hypervisor]\n"
	"log_level = debug           # error|warn|info|debug or 0..3\n"
	"time_slice = 5ms\n"
	"poweroff_when_idle = yes\n"
	"selftest = none\n"
	"cpus = 2                    # start at most 2 CPUs\n"
	"\n"
	"[guest web]\n"
	"image = apps/httpd.elf\n"
	"memory = 16M\n"
	"cmdline = \"httpd --root /srv --banner \\\"hi # there\\\"\"\n"
	"on_exit = restart\n"
	"on_crash = restart\n"
	"restart_limit = 5\n"
	"cpus = 0-1                  # may run on CPUs 0 and 1\n"
	"weight = 512                # twice the default share\n"
	"net = mac=02:00:00:00:00:01, ip=10.0.0.2/24, gw=10.0.0.1\n"
	"block = lvm:vg0/www, readonly\n"
	"\n"
	"[guest hello]\n"
	"  image = \\apps\\hello.elf\n"
	"\tmemory = 512K\n"
	"cmdline = hello --name world   ; bare text, comment dropped\n"
	"on_exit = poweroff\n"
	"privileged = yes\n"
	"net = mac=02:00:00:00:00:02, dhcp\n"
	"block = gpt:scratch\n"
	"block = disk:1, rw, name=logs\n";

static void check_example(void)
{
	const struct manifest_guest *web, *hello;

	CHECK_CLEAN();
	CHECK_EQ_INT(m.hv.log_level, 3);
	CHECK_EQ_INT(m.hv.time_slice_us, 5000);
	CHECK(m.hv.poweroff_when_idle);
	CHECK_EQ_INT(m.hv.selftest, MANIFEST_SELFTEST_NONE);
	CHECK_EQ_INT(m.hv.cpus, 2);
	CHECK_EQ_INT(m.guest_count, 2);
	CHECK_EQ_INT(manifest_valid_guests(&m), 2);

	web = guest("web");
	if (!CHECK(web != NULL))
		return;
	CHECK(web->valid);
	CHECK_EQ_INT(web->line, 11);
	CHECK_STR(web->image, "apps/httpd.elf");
	CHECK_EQ_U64(web->memory, 16ull << 20);
	CHECK_STR(web->cmdline, "httpd --root /srv --banner \"hi # there\"");
	CHECK_EQ_INT(web->on_exit, MANIFEST_ACTION_RESTART);
	CHECK_EQ_INT(web->on_crash, MANIFEST_ACTION_RESTART);
	CHECK_EQ_INT(web->restart_limit, 5);
	CHECK_EQ_U64(web->cpu_mask, 0x3);
	CHECK_EQ_INT(web->weight, 512);
	CHECK(!web->privileged);
	CHECK_EQ_INT(web->net_count, 1);
	CHECK_EQ_INT(web->net[0].mac[5], 1);
	CHECK(!web->net[0].dhcp);
	CHECK_EQ_U64(web->net[0].ipv4, 0x0a000002);
	CHECK_EQ_INT(web->net[0].prefix_len, 24);
	CHECK_EQ_U64(web->net[0].gateway, 0x0a000001);
	CHECK_EQ_INT(web->block_count, 1);
	CHECK_STR(web->block[0].spec, "lvm:vg0/www");
	CHECK_STR(web->block[0].name, "www");
	CHECK(web->block[0].readonly);

	hello = guest("hello");
	if (!CHECK(hello != NULL))
		return;
	CHECK(hello->valid);
	CHECK_EQ_INT(hello->line, 23);
	CHECK_STR(hello->image, "\\apps\\hello.elf");
	CHECK_EQ_U64(hello->memory, 512 * 1024);
	CHECK_STR(hello->cmdline, "hello --name world");
	CHECK_EQ_INT(hello->on_exit, MANIFEST_ACTION_POWEROFF);
	CHECK_EQ_INT(hello->on_crash, MANIFEST_ACTION_DESTROY);
	CHECK_EQ_INT(hello->restart_limit, 3);
	CHECK_EQ_U64(hello->cpu_mask, 0);
	CHECK_EQ_INT(hello->weight, MANIFEST_WEIGHT_DEFAULT);
	CHECK(hello->privileged);
	CHECK_EQ_INT(hello->net_count, 1);
	CHECK(hello->net[0].dhcp);
	CHECK_EQ_U64(hello->net[0].ipv4, 0);
	CHECK_EQ_INT(hello->block_count, 2);
	CHECK_STR(hello->block[0].spec, "gpt:scratch");
	CHECK_STR(hello->block[0].name, "scratch");
	CHECK(!hello->block[0].readonly);
	CHECK_STR(hello->block[1].spec, "disk:1");
	CHECK_STR(hello->block[1].name, "logs");
	CHECK(!hello->block[1].readonly);
	CHECK(strings_terminated());
}

static void test_example(void)
{
	CHECK_EQ_INT(parse(example), 0);
	check_example();
}

/* The same text with CR LF line ends, and without the last newline. */
static void test_crlf(void)
{
	char buf[sizeof(example) * 2];
	size_t i, n = 0;

	for (i = 0; example[i]; i++) {
		if (example[i] == '\n')
			buf[n++] = '\r';
		buf[n++] = example[i];
	}
	parse_n(buf, n);
	check_example();
	parse_n(buf, n - 2);	/* drop the final CR LF */
	check_example();
	parse_n(buf, n - 1);	/* a lone CR at the very end */
	check_example();
}

static void test_defaults(void)
{
	const struct manifest_guest *g;

	parse("[guest a]\nimage = a.elf\nmemory = 64K\n");
	CHECK_CLEAN();
	CHECK_STR(m.file, "t.conf");
	CHECK_EQ_INT(m.hv.log_level, 2);
	CHECK_EQ_INT(m.hv.time_slice_us, 10000);
	CHECK(!m.hv.poweroff_when_idle);
	CHECK_EQ_INT(m.hv.selftest, MANIFEST_SELFTEST_NONE);
	CHECK_EQ_INT(m.hv.cpus, 0);
	g = guest("a");
	if (!CHECK(g != NULL))
		return;
	CHECK(g->valid);
	CHECK_STR(g->cmdline, "");
	CHECK_EQ_INT(g->on_exit, MANIFEST_ACTION_DESTROY);
	CHECK_EQ_INT(g->on_crash, MANIFEST_ACTION_DESTROY);
	CHECK_EQ_INT(g->restart_limit, 3);
	CHECK(!g->privileged);
	CHECK_EQ_U64(g->cpu_mask, 0);
	CHECK_EQ_INT(g->weight, 256);
	CHECK_EQ_INT(g->net_count, 0);
	CHECK_EQ_INT(g->block_count, 0);
}

/* Parse "memory = v" in an otherwise good guest. */
static void parse_memory(const char *v)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "[guest g]\nimage = g.elf\nmemory = %s\n", v);
	parse(buf);
}

static void test_sizes(void)
{
	static const struct { const char *v; uint64_t bytes; } good[] = {
		{ "64K", 64 << 10 }, { "4M", 4 << 20 }, { "1G", 1 << 30 },
		{ "4MiB", 4 << 20 }, { "64KiB", 64 << 10 }, { "2GiB", 2ull << 30 },
		{ "65536", 65536 }, { "4 M", 4 << 20 }, { "64G", 64ull << 30 },
		{ "\"8M\"", 8 << 20 }, { "0004M", 4 << 20 },
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		parse_memory(good[i].v);
		CHECK_CLEAN();
		CHECK_EQ_U64(m.guest[0].memory, good[i].bytes);
		CHECK(m.guest[0].valid);
	}
	parse_memory("4Q");
	CHECK_ONE_ERROR(3, "memory", "bad size \"4Q\" (use a number with K, M or G)");
	CHECK(!m.guest[0].valid);
	CHECK_EQ_U64(m.guest[0].memory, 0);
	parse_memory("99999999999G");
	CHECK_ONE_ERROR(3, "memory", "too large (max 64G)");
	parse_memory("99999999999999999999999");
	CHECK_ONE_ERROR(3, "memory", "too large");
	parse_memory("65G");
	CHECK_ONE_ERROR(3, "memory", "too large");
	parse_memory("60K");
	CHECK_ONE_ERROR(3, "memory", "too small (min 64K)");
	parse_memory("0");
	CHECK_ONE_ERROR(3, "memory", "too small");
	parse_memory("65537");
	CHECK_ONE_ERROR(3, "memory", "not a multiple of 4K");
	parse_memory("66K");
	CHECK_ONE_ERROR(3, "memory", "not a multiple of 4K");
	parse_memory("4m");
	CHECK_ONE_ERROR(3, "memory", "bad size \"4m\"");
	parse_memory("-4M");
	CHECK_ONE_ERROR(3, "memory", "bad size");
	parse_memory("M");
	CHECK_ONE_ERROR(3, "memory", "bad size");
	parse_memory("4.5M");
	CHECK_ONE_ERROR(3, "memory", "bad size");
	parse_memory("0x1000000");
	CHECK_ONE_ERROR(3, "memory", "bad size");
}

static void parse_hv(const char *key, const char *v)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "[hypervisor]\n%s = %s\n", key, v);
	parse(buf);
}

static void test_durations(void)
{
	static const struct { const char *v; uint32_t us; } good[] = {
		{ "10ms", 10000 }, { "100us", 100 }, { "1s", 1000000 },
		{ "10", 10000 }, { "1000000us", 1000000 }, { "250 us", 250 },
	};
	static const char *const bad[] = { "1.5ms", "10m", "fast", "-5ms", "ms" };
	static const char *const range[] = {
		"99us", "0", "2s", "1001ms", "99999999999999999999s",
		"18446744073709551615s",
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		parse_hv("time_slice", good[i].v);
		CHECK_CLEAN();
		CHECK_EQ_INT(m.hv.time_slice_us, good[i].us);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse_hv("time_slice", bad[i]);
		CHECK_ONE_ERROR(2, "time_slice", "bad duration");
		CHECK_EQ_INT(m.hv.time_slice_us, 10000);	/* default kept */
	}
	for (i = 0; i < sizeof(range) / sizeof(range[0]); i++) {
		parse_hv("time_slice", range[i]);
		CHECK_ONE_ERROR(2, "time_slice", "out of range (100us..1s)");
	}
}

static void test_booleans(void)
{
	static const struct { const char *v; bool b; } good[] = {
		{ "yes", true }, { "no", false }, { "true", true },
		{ "false", false }, { "on", true }, { "off", false },
		{ "1", true }, { "0", false }, { "YES", true }, { "Off", false },
	};
	static const char *const bad[] = { "maybe", "2", "y", "yess", "\"\"" };
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		parse_hv("poweroff_when_idle", good[i].v);
		CHECK_CLEAN();
		CHECK_EQ_INT(m.hv.poweroff_when_idle, good[i].b);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse_hv("poweroff_when_idle", bad[i]);
		CHECK_ONE_ERROR(2, "poweroff_when_idle", "bad boolean");
	}
}

static void test_words(void)
{
	static const struct { const char *v; uint32_t level; } levels[] = {
		{ "error", 0 }, { "warn", 1 }, { "info", 2 }, { "debug", 3 },
		{ "0", 0 }, { "3", 3 }, { "DEBUG", 3 },
	};
	size_t i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		parse_hv("log_level", levels[i].v);
		CHECK_CLEAN();
		CHECK_EQ_INT(m.hv.log_level, levels[i].level);
	}
	parse_hv("log_level", "4");
	CHECK_ONE_ERROR(2, "log_level", "bad log level \"4\"");
	CHECK_EQ_INT(m.hv.log_level, 2);
	parse_hv("log_level", "verbose");
	CHECK_ONE_ERROR(2, "log_level", "bad log level");
	parse_hv("selftest", "fault");
	CHECK_EQ_INT(m.hv.selftest, MANIFEST_SELFTEST_FAULT);
	parse_hv("selftest", "timer");
	CHECK_EQ_INT(m.hv.selftest, MANIFEST_SELFTEST_TIMER);
	parse_hv("selftest", "textalias");
	CHECK_EQ_INT(m.hv.selftest, MANIFEST_SELFTEST_TEXTALIAS);
	parse_hv("selftest", "smash");
	CHECK_EQ_INT(m.hv.selftest, MANIFEST_SELFTEST_SMASH);
	parse_hv("selftest", "strayirq");
	CHECK_EQ_INT(m.hv.selftest, MANIFEST_SELFTEST_STRAYIRQ);
	parse_hv("selftest", "cpustate");
	CHECK_EQ_INT(m.hv.selftest, MANIFEST_SELFTEST_CPUSTATE);
	parse_hv("selftest", "disk");
	CHECK_EQ_INT(m.hv.selftest, MANIFEST_SELFTEST_DISK);
	parse_hv("selftest", "volumes");
	CHECK_EQ_INT(m.hv.selftest, MANIFEST_SELFTEST_VOLUMES);
	parse_hv("selftest", "panic");
	CHECK_ONE_ERROR(2, "selftest", "bad selftest \"panic\"");

	parse("[guest a]\nimage=a\nmemory=1M\non_exit = reboot\n");
	CHECK_ONE_ERROR(4, "on_exit", "bad action \"reboot\"");
	parse("[guest a]\nimage=a\nmemory=1M\non_crash = PowerOff\n");
	CHECK_CLEAN();
	CHECK_EQ_INT(m.guest[0].on_crash, MANIFEST_ACTION_POWEROFF);

	parse("[guest a]\nimage=a\nmemory=1M\nrestart_limit = 0\n");
	CHECK_CLEAN();
	CHECK_EQ_INT(m.guest[0].restart_limit, 0);
	parse("[guest a]\nimage=a\nmemory=1M\nrestart_limit = 1000\n");
	CHECK_EQ_INT(m.guest[0].restart_limit, 1000);
	parse("[guest a]\nimage=a\nmemory=1M\nrestart_limit = 1001\n");
	CHECK_ONE_ERROR(4, "restart_limit", "bad count \"1001\" (use 0..1000)");
	parse("[guest a]\nimage=a\nmemory=1M\nrestart_limit = -1\n");
	CHECK_ONE_ERROR(4, "restart_limit", "bad count");
	parse("[guest a]\nimage=a\nmemory=1M\n");
	CHECK_EQ_U64(m.guest[0].restart_delay_us, MANIFEST_RESTART_DELAY_BUILD);
	parse("[guest a]\nimage=a\nmemory=1M\nrestart_delay = 0\n");
	CHECK_CLEAN();
	CHECK_EQ_INT(m.guest[0].restart_delay_us, 0);
	parse("[guest a]\nimage=a\nmemory=1M\nrestart_delay = 10s\n");
	CHECK_EQ_INT(m.guest[0].restart_delay_us, 10000000);
	parse("[guest a]\nimage=a\nmemory=1M\nrestart_delay = 250us\n");
	CHECK_EQ_INT(m.guest[0].restart_delay_us, 250);
	parse("[guest a]\nimage=a\nmemory=1M\nrestart_delay = 10001ms\n");
	CHECK_ONE_ERROR(4, "restart_delay", "out of range (0..10s)");
	parse("[guest a]\nimage=a\nmemory=1M\nrestart_delay = soon\n");
	CHECK_ONE_ERROR(4, "restart_delay", "bad duration \"soon\"");
	parse("[guest a]\nimage=a\nmemory=1M\nprivileged = sure\n");
	CHECK_ONE_ERROR(4, "privileged", "bad boolean \"sure\"");
}

/* [hypervisor] cpus: a count, 1..64; errors keep the default 0 (all). */
static void test_cpu_count(void)
{
	static const struct { const char *v; uint32_t n; } good[] = {
		{ "1", 1 }, { "2", 2 }, { "64", 64 }, { "\"8\"", 8 }, { "004", 4 },
	};
	static const char *const bad[] = {
		"0", "65", "-1", "all", "any", "1.5", "4 cpus", "0x4", "\"\"",
		"99999999999999999999999",
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		parse_hv("cpus", good[i].v);
		CHECK_CLEAN();
		CHECK_EQ_INT(m.hv.cpus, good[i].n);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse_hv("cpus", bad[i]);
		CHECK_ONE_ERROR(2, "cpus", "bad CPU count");
		CHECK_EQ_INT(m.hv.cpus, 0);
	}
	parse_hv("cpus", "65");
	CHECK_ONE_ERROR(2, "cpus", "bad CPU count \"65\" (use 1..64)");
	/* A bad count is the hypervisor's error: guests still boot. */
	parse("[hypervisor]\ncpus = 0\n[guest a]\nimage = a\nmemory = 1M\n");
	CHECK_ONE_ERROR(2, "cpus", "bad CPU count \"0\"");
	CHECK(guest("a")->valid);
	parse("[hypervisor]\ncpus = 2\ncpus = 4\n");
	CHECK_ONE_ERROR(3, "cpus", "duplicate key (first on line 2)");
	CHECK_EQ_INT(m.hv.cpus, 2);
}

/* Parse "key = v" on line 7, in guest "a" between two good guests. */
static void parse_middle_guest(const char *key, const char *v)
{
	char buf[512];

	snprintf(buf, sizeof(buf),
		 "[guest b]\nimage = b\nmemory = 1M\n"
		 "[guest a]\nimage = a\nmemory = 1M\n%s = %s\n"
		 "[guest c]\nimage = c\nmemory = 1M\n", key, v);
	parse(buf);
}

/* The error is on line 7, key `key`; only guest "a" is invalid. */
static void check_middle_guest_error(const char *key, const char *msg)
{
	CHECK_ONE_ERROR(7, key, msg);
	CHECK(!guest("a")->valid);
	CHECK(guest("b")->valid);
	CHECK(guest("c")->valid);
	CHECK_EQ_INT(manifest_valid_guests(&m), 2);
}

static void test_cpu_affinity(void)
{
	static const struct { const char *v; uint64_t mask; } good[] = {
		{ "any", 0 }, { "ANY", 0 }, { "\" any \"", 0 },
		{ "0", 0x1 }, { "5", 0x20 }, { "007", 0x80 },
		{ "1,3", 0xa }, { "0-3", 0xf }, { "0-1, 5, 7-9", 0x3a3 },
		{ "  2 ,\t4  ", 0x14 }, { "1 - 3", 0xe }, { "5-5", 0x20 },
		{ "63", 1ull << 63 }, { "62-63", 3ull << 62 },
		{ "0-63", UINT64_MAX }, { "0,63", 1ull | 1ull << 63 },
		{ "3, 1, 3, 0-3, 2-2", 0xf },	/* repeats and overlaps */
		{ "\"0, 2\"", 0x5 }, { "0,1 # comment", 0x3 },
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		parse_middle_guest("cpus", good[i].v);
		CHECK_CLEAN();
		CHECK_EQ_U64(guest("a")->cpu_mask, good[i].mask);
		CHECK_EQ_U64(guest("b")->cpu_mask, 0);
	}
	parse("[guest a]\nimage = a\nmemory = 1M\ncpus = 1\ncpus = 2\n");
	CHECK_ONE_ERROR(5, "cpus", "duplicate key (first on line 4)");
	CHECK_EQ_U64(m.guest[0].cpu_mask, 0x2);
	/* [hypervisor] cpus and a guest's cpus are different keys. */
	parse("[hypervisor]\ncpus = 4\n[guest a]\nimage = a\nmemory = 1M\ncpus = 2-3\n");
	CHECK_CLEAN();
	CHECK_EQ_INT(m.hv.cpus, 4);
	CHECK_EQ_U64(m.guest[0].cpu_mask, 0xc);
}

/* Each bad list fails its own guest only, which keeps cpu_mask 0. */
static void test_cpu_affinity_errors(void)
{
	static const struct { const char *v, *msg; } bad[] = {
		{ "\"\"", "empty CPU list (use any, or CPUs such as 0-3, 5)" },
		{ "\"  \"", "empty CPU list" },
		{ "1,,2", "empty item in CPU list" },
		{ ",1", "empty item in CPU list" },
		{ "1,", "empty item in CPU list" },
		{ "1, ,2", "empty item in CPU list" },
		{ "x", "bad CPU list item \"x\" (use N or N-M)" },
		{ "all", "bad CPU list item \"all\"" },
		{ "any, 1", "bad CPU list item \"any\"" },
		{ "1-x", "bad CPU list item \"1-x\"" },
		{ "-1", "bad CPU list item \"-1\"" },
		{ "1-", "bad CPU list item \"1-\"" },
		{ "-", "bad CPU list item \"-\"" },
		{ "1-2-3", "bad CPU list item \"1-2-3\"" },
		{ "0x3", "bad CPU list item \"0x3\"" },
		{ "1.5", "bad CPU list item \"1.5\"" },
		{ "+1", "bad CPU list item \"+1\"" },
		{ "1 2", "bad CPU list item \"1 2\"" },
		{ "3x", "bad CPU list item \"3x\"" },
		{ "0-3 foo", "bad CPU list item \"0-3 foo\"" },
		{ "0, 1;2", "bad CPU list item \"1;2\"" },
		{ "64", "CPU number out of range in \"64\" (use 0..63)" },
		{ "0-64", "CPU number out of range in \"0-64\"" },
		{ "1, 100-2", "CPU number out of range in \"100-2\"" },
		{ "99999999999999999999999", "CPU number out of range" },
		{ "3-1", "reversed CPU range \"3-1\" (lower number first)" },
		{ "0-1, 9-8", "reversed CPU range \"9-8\"" },
	};
	char buf[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse_middle_guest("cpus", bad[i].v);
		check_middle_guest_error("cpus", bad[i].msg);
		CHECK_EQ_U64(guest("a")->cpu_mask, 0);
	}
	parse_middle_guest("cpus", "");
	check_middle_guest_error("cpus", "empty value");
	parse_middle_guest("cpus", "7-3");
	manifest_format_error(&m, 0, buf, sizeof(buf));
	CHECK_STR(buf, "t.conf:7: cpus: reversed CPU range \"7-3\" (lower number first)");
}

static void test_instances(void)
{
	static const char *const bad[] = { "0", "10001", "-1", "many", "1.5", "" };
	size_t i;

	parse_middle_guest("instances", "1000");
	CHECK_CLEAN();
	CHECK_EQ_INT(guest("a")->instances, 1000);
	CHECK_EQ_INT(guest("b")->instances, 1);
	parse_middle_guest("instances", "10000");
	CHECK_CLEAN();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse_middle_guest("instances", bad[i]);
		CHECK(!guest("a")->valid && guest("b")->valid && guest("c")->valid);
	}
	parse_middle_guest("instances", "10001");
	check_middle_guest_error("instances", "bad count \"10001\" (use 1..10000)");
	/* copies cannot share a MAC: the error names the section's line */
	parse("[guest w]\nimage = w\nmemory = 1M\ninstances = 2\nnet = mac=02:00:00:00:00:01, dhcp\n"
	      "[guest ok]\nimage = o\nmemory = 1M\n");
	CHECK_ONE_ERROR(1, "instances", "a guest with net devices runs once (each copy would need its own MAC)");
	CHECK(!guest("w")->valid && guest("ok")->valid);
	/* room for "-10000" after the name */
	parse("[guest abcdefghijklmnopqrstuvwxy]\nimage = w\nmemory = 1M\ninstances = 2\n");
	CHECK_ONE_ERROR(1, "instances", "name too long for numbered copies (max 24 characters)");
	parse("[guest abcdefghijklmnopqrstuvwx]\nimage = w\nmemory = 1M\ninstances = 2\n");
	CHECK_CLEAN();
}

static void test_weight(void)
{
	static const struct { const char *v; uint32_t w; } good[] = {
		{ "1", 1 }, { "256", 256 }, { "512", 512 }, { "65535", 65535 },
		{ "\"100\"", 100 }, { "0010", 10 },
	};
	static const char *const bad[] = {
		"0", "65536", "-1", "heavy", "1.5", "1e3", "10 %", "0x100", "\"\"",
		"99999999999999999999999",
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		parse_middle_guest("weight", good[i].v);
		CHECK_CLEAN();
		CHECK_EQ_INT(guest("a")->weight, good[i].w);
		CHECK_EQ_INT(guest("b")->weight, MANIFEST_WEIGHT_DEFAULT);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse_middle_guest("weight", bad[i]);
		check_middle_guest_error("weight", "bad weight");
		CHECK_EQ_INT(guest("a")->weight, MANIFEST_WEIGHT_DEFAULT);
	}
	parse_middle_guest("weight", "65536");
	check_middle_guest_error("weight", "bad weight \"65536\" (use 1..65535)");
	parse_middle_guest("weight", "0");
	check_middle_guest_error("weight", "bad weight \"0\" (use 1..65535)");
	parse_middle_guest("weight", "");
	check_middle_guest_error("weight", "empty value");
	parse("[hypervisor]\nweight = 5\n");
	CHECK_ONE_ERROR(2, "weight", "unknown key in [hypervisor]");
}

/* Parse "cmdline = v" in a good guest; return the stored command line. */
static const char *cmdline(const char *v)
{
	char buf[1200];

	snprintf(buf, sizeof(buf), "[guest g]\nimage = g\nmemory = 1M\n"
		 "cmdline = %s\n", v);
	parse(buf);
	return m.guest[0].cmdline;
}

static void test_quoting(void)
{
	char longv[300], quoted[310];

	CHECK_STR(cmdline("\"hello --name \\\"world\\\"\""),
		  "hello --name \"world\"");
	CHECK_CLEAN();
	CHECK_STR(cmdline("\"a # b ; c\"  # real comment"), "a # b ; c");
	CHECK_STR(cmdline("\"back\\\\slash\""), "back\\slash");
	CHECK_STR(cmdline("\"\""), "");
	CHECK_CLEAN();
	CHECK_STR(cmdline("\"  keep blanks  \""), "  keep blanks  ");
	CHECK_STR(cmdline("a b   # comment"), "a b");
	CHECK_STR(cmdline("a b ; comment"), "a b");
	CHECK_STR(cmdline("a#b;c"), "a#b;c");
	CHECK_STR(cmdline("x \"y # z\" w"), "x \"y # z\" w");
	CHECK_STR(cmdline("x \"y \\\" # z\""), "x \"y \\\" # z\"");
	CHECK_CLEAN();
	CHECK_STR(cmdline("caf\xc3\xa9 \"\xe2\x9c\x93\""), "caf\xc3\xa9 \"\xe2\x9c\x93\"");
	CHECK_CLEAN();

	cmdline("\"abc");
	CHECK_ONE_ERROR(4, "cmdline", "unterminated quote");
	CHECK(!m.guest[0].valid);
	cmdline("abc \"def # x");
	CHECK_ONE_ERROR(4, "cmdline", "unterminated quote");
	cmdline("\"abc\\\"");
	CHECK_ONE_ERROR(4, "cmdline", "unterminated quote");
	cmdline("\"a\\nb\"");
	CHECK_ONE_ERROR(4, "cmdline", "bad escape \"\\n\"");
	cmdline("\"abc\" def");
	CHECK_ONE_ERROR(4, "cmdline", "unexpected text after closing quote");
	cmdline("# only a comment");
	CHECK_ONE_ERROR(4, "cmdline", "empty value");

	memset(longv, 'x', sizeof(longv));
	longv[MANIFEST_CMDLINE_MAX - 1] = '\0';
	CHECK_EQ_INT(strlen(cmdline(longv)), MANIFEST_CMDLINE_MAX - 1);
	CHECK_CLEAN();
	longv[MANIFEST_CMDLINE_MAX - 1] = 'x';
	longv[MANIFEST_CMDLINE_MAX] = '\0';
	cmdline(longv);
	CHECK_ONE_ERROR(4, "cmdline", "too long (max 255 bytes)");

	/* The same limits hold for a quoted value. */
	longv[MANIFEST_CMDLINE_MAX - 1] = '\0';
	snprintf(quoted, sizeof(quoted), "\"%s\"", longv);
	CHECK_EQ_INT(strlen(cmdline(quoted)), MANIFEST_CMDLINE_MAX - 1);
	CHECK_CLEAN();
	longv[MANIFEST_CMDLINE_MAX - 1] = 'x';
	snprintf(quoted, sizeof(quoted), "\"%s\"", longv);
	cmdline(quoted);
	CHECK_ONE_ERROR(4, "cmdline", "too long (max 255 bytes)");
	snprintf(quoted, sizeof(quoted), "\"%s", longv);
	cmdline(quoted);
	CHECK_ONE_ERROR(4, "cmdline", "too long (max 255 bytes)");
}

static void test_comments(void)
{
	parse("# head\n; head\n   # indented\n\t; tab\n"
	      "[guest a]   # a comment after a header\n"
	      "image = a.elf # trailing\n"
	      "memory = 4M;not a comment\n");
	CHECK_ONE_ERROR(7, "memory", "bad size \"4M;not a comment\"");
	parse("[guest a] ; c\nimage = a#b.elf\nmemory = 4M ;c\n");
	CHECK_CLEAN();
	CHECK_STR(m.guest[0].image, "a#b.elf");
	parse("[hypervisor]#no blank needed after ]\n");
	CHECK_CLEAN();
	parse("[guest a]\n  image  =  a.elf  \n\tmemory\t=\t4M\t\n");
	CHECK_CLEAN();
	CHECK_STR(m.guest[0].image, "a.elf");
	/* UTF-8 in comments is fine, and so is a byte order mark. */
	parse("\xef\xbb\xbf# caf\xc3\xa9\n[guest a]\nimage = a\nmemory = 4M # \xe2\x9c\x93\n");
	CHECK_CLEAN();
	CHECK_EQ_INT(m.guest[0].line, 2);
}

static void test_duplicate_keys(void)
{
	parse("[guest a]\nimage = a\nmemory = 4M\nmemory = 8M\n");
	CHECK_ONE_ERROR(4, "memory", "duplicate key (first on line 3)");
	CHECK_EQ_U64(m.guest[0].memory, 4 << 20);
	CHECK(!m.guest[0].valid);
	/* The first bad value still counts as the first use. */
	parse("[guest a]\nimage = a\nmemory = 4Q\nmemory = 8M\n");
	CHECK_EQ_INT(m.error_count, 2);
	CHECK_ERROR(4, "memory", "duplicate key (first on line 3)");
	parse("[hypervisor]\nlog_level = info\nlog_level = debug\n");
	CHECK_ONE_ERROR(3, "log_level", "duplicate key (first on line 2)");
	CHECK_EQ_INT(m.hv.log_level, 2);
	/* Keys are per section: the same key in two guests is fine. */
	parse("[guest a]\nimage = a\nmemory = 4M\n[guest b]\nimage = b\nmemory = 4M\n");
	CHECK_CLEAN();
}

static void test_unknown(void)
{
	parse("[guest a]\nimage = a\nmemory = 4M\nimgae = b\n");
	CHECK_ONE_ERROR(4, "imgae", "unknown key in [guest]");
	CHECK(!m.guest[0].valid);
	parse("[hypervisor]\nloglevel = 2\n[guest a]\nimage = a\nmemory = 4M\n");
	CHECK_ONE_ERROR(2, "loglevel", "unknown key in [hypervisor]");
	CHECK(m.guest[0].valid);
	parse("[hypervisor]\nimage = a\n");
	CHECK_ONE_ERROR(2, "image", "unknown key");
	parse("[guest a]\nimage = a\nmemory = 4M\nIMAGE = b\n");
	CHECK_ONE_ERROR(4, "IMAGE", "unknown key");
	/* An unknown section is reported once; its body is skipped. */
	parse("[network]\nfoo = bar\nbaz\n[guest a]\nimage = a\nmemory = 4M\n");
	CHECK_ONE_ERROR(1, "", "unknown section \"network\"");
	CHECK_EQ_INT(manifest_valid_guests(&m), 1);
	parse("[guests a]\n");
	CHECK_ONE_ERROR(1, "", "unknown section \"guests a\"");
	CHECK_EQ_INT(m.guest_count, 0);
}

static void test_syntax(void)
{
	parse("image = a\n[guest a]\nimage = a\nmemory = 4M\n");
	CHECK_ONE_ERROR(1, "image", "key outside any section");
	CHECK(m.guest[0].valid);
	parse("[guest a]\nimage a.elf\nmemory = 4M\n");
	CHECK_EQ_INT(m.error_count, 2);
	CHECK_ERROR(2, "image", "missing '='");
	CHECK_ERROR(1, "image", "required key missing");
	parse("[guest a]\nimage = a\nmemory = 4M\nprivileged # = yes\n");
	CHECK_ONE_ERROR(4, "privileged", "missing '='");
	parse("[guest a]\nimage = a\nmemory =\n");
	CHECK_ONE_ERROR(3, "memory", "empty value");
	parse("[guest a]\nimage = a\nmemory =   # nothing\n");
	CHECK_ONE_ERROR(3, "memory", "empty value");
	parse("[guest a]\nimage = a\nmemory = 4M\n = yes\n");
	CHECK_ONE_ERROR(4, "", "missing key before '='");
	/* '=' inside a value is part of the value. */
	parse("[guest a]\nimage = a\nmemory = 4M\ncmdline = x=1 y==2\n");
	CHECK_CLEAN();
	CHECK_STR(m.guest[0].cmdline, "x=1 y==2");
}

static void test_headers(void)
{
	parse("[ guest   web ]\nimage = a\nmemory = 4M\n");
	CHECK_CLEAN();
	CHECK_STR(m.guest[0].name, "web");
	parse("[guest web\nimage = a\nmemory = 4M\n");
	CHECK_ONE_ERROR(1, "guest", "missing ']'");
	CHECK(!m.guest[0].valid);
	parse("[guest web] x\nimage = a\nmemory = 4M\n");
	CHECK_ONE_ERROR(1, "guest", "unexpected text after ']'");
	parse("[guest]\nimage = a\nmemory = 4M\n");
	CHECK_ONE_ERROR(1, "guest", "missing name");
	parse("[guest a b]\nimage = a\nmemory = 4M\n");
	CHECK_ONE_ERROR(1, "guest", "bad name \"a b\"");
	parse("[guest a/b]\nimage = a\nmemory = 4M\n");
	CHECK_ONE_ERROR(1, "guest", "bad name");
	parse("[guest Web-1.test_x]\nimage = a\nmemory = 4M\n");
	CHECK_CLEAN();
	parse("[guest aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\nimage = a\nmemory = 4M\n");
	CHECK_CLEAN();	/* 31 characters */
	parse("[guest aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\nimage = a\nmemory = 4M\n");
	CHECK_ONE_ERROR(1, "guest", "bad name");	/* 32 */
	CHECK_EQ_INT(strlen(m.guest[0].name), MANIFEST_NAME_MAX - 1);
	parse("[guest caf\xc3\xa9]\nimage = a\nmemory = 4M\n");
	CHECK_ONE_ERROR(1, "guest", "bad name \"caf??\"");
	CHECK_STR(m.guest[0].name, "caf??");
}

static void test_missing_required(void)
{
	parse("[guest a]\nmemory = 4M\n[guest b]\nimage = b\nmemory = 4M\n");
	CHECK_ONE_ERROR(1, "image", "required key missing");
	CHECK(!guest("a")->valid);
	CHECK(guest("b")->valid);
	/* Reported at the header, sorted before the later errors. */
	parse("[guest a]\nfoo = 1\n");
	CHECK_EQ_INT(m.error_count, 3);
	CHECK_ERROR(1, "image", "required key missing");
	CHECK_ERROR(1, "memory", "required key missing");
	CHECK_ERROR(2, "foo", "unknown key");
	CHECK_STR(m.error[0].key, "image");
	CHECK_STR(m.error[1].key, "memory");
	CHECK_STR(m.error[2].key, "foo");
	/* A key that was present but bad is not also "missing". */
	parse("[guest a]\nimage = a\nmemory = lots\n");
	CHECK_ONE_ERROR(3, "memory", "bad size");
}

static void test_empty(void)
{
	parse("");
	CHECK_ONE_ERROR(0, "", "manifest has no sections");
	parse_n(NULL, 0);
	CHECK_ONE_ERROR(0, "", "manifest has no sections");
	parse("\n\n  \n\r\n");
	CHECK_ONE_ERROR(0, "", "manifest has no sections");
	parse("# just a comment\n");
	CHECK_ONE_ERROR(0, "", "manifest has no sections");
	parse("key = value\n");
	CHECK_EQ_INT(m.error_count, 2);
	CHECK_ERROR(1, "key", "key outside any section");
	CHECK_ERROR(0, "", "manifest has no sections");
	/* No guests is not an error by itself. */
	parse("[hypervisor]\n");
	CHECK_CLEAN();
	CHECK_EQ_INT(m.guest_count, 0);
}

static void test_long_line(void)
{
	char buf[2 * MANIFEST_LINE_MAX + 100];
	size_t n;

	/* A comment line exactly MANIFEST_LINE_MAX long is fine. */
	n = (size_t)sprintf(buf, "[guest a]\nimage = a\nmemory = 4M\n");
	buf[n] = '#';
	memset(buf + n + 1, 'x', MANIFEST_LINE_MAX - 1);
	n += MANIFEST_LINE_MAX;
	n += (size_t)sprintf(buf + n, "\r\n");
	parse_n(buf, n);
	CHECK_CLEAN();
	/* One byte more is an error, and the guest is invalid. */
	n = (size_t)sprintf(buf, "[guest a]\nimage = a\nmemory = 4M\ncmdline = ");
	memset(buf + n, 'x', MANIFEST_LINE_MAX + 1 - 10);
	n += MANIFEST_LINE_MAX + 1 - 10;
	n += (size_t)sprintf(buf + n, "\n[guest b]\nimage = b\nmemory = 4M\n");
	parse_n(buf, n);
	CHECK_ONE_ERROR(4, "", "line too long (max 1024 bytes)");
	CHECK(!guest("a")->valid);
	CHECK(guest("b")->valid);
	CHECK_EQ_INT(guest("b")->line, 5);
}

static void test_nul_and_control(void)
{
	static const char nul[] = "[guest a]\nimage = a\0b.elf\nmemory = 4M\n"
				  "[guest b]\nimage = b\nmemory = 4M\n";
	parse_n(nul, sizeof(nul) - 1);
	CHECK_EQ_INT(m.error_count, 2);
	CHECK_ERROR(2, "", "NUL byte at column 10");
	CHECK_ERROR(1, "image", "required key missing");
	CHECK(!guest("a")->valid);
	CHECK(guest("b")->valid);
	/* A refused line sets nothing, so its key is missing as well. */
	parse("[guest a]\nimage = a\x01\nmemory = 4M\n");
	CHECK_EQ_INT(m.error_count, 2);
	CHECK_ERROR(2, "", "control byte 0x01 at column 10");
	CHECK_ERROR(1, "image", "required key missing");
	parse("[guest a]\nimage = a\rb\nmemory = 4M\n");
	CHECK_ERROR(2, "", "control byte 0x0d");
	parse("[guest a]\nimage = a\x7f\nmemory = 4M\n");
	CHECK_ERROR(2, "", "control byte 0x7f");
	parse("[guest a]\nimage = a\nmemory = 4M\x1b[0m\n");
	CHECK_EQ_INT(m.error_count, 2);
	CHECK_ERROR(3, "", "control byte 0x1b");
	CHECK_ERROR(1, "memory", "required key missing");
	parse("[guest a]\nimage = a\nmemory = 4M\n\f\n");
	CHECK_ONE_ERROR(4, "", "control byte 0x0c");
	/* Non-ASCII bytes outside comments and cmdline are refused. */
	parse("[guest a]\nimage = caf\xc3\xa9.elf\nmemory = 4M\n");
	CHECK_ONE_ERROR(2, "image", "bad path \"caf??.elf\"");
	parse("[guest a]\nimage = a\nmemory = 4M\xc2\xa0\n");
	CHECK_ONE_ERROR(3, "memory", "bad size");
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Random bytes, and random bytes spliced into a good manifest. */
static void test_binary_garbage(void)
{
	static char buf[8192];
	char line[300];
	size_t i, j, n;

	for (i = 0; i < 300; i++) {
		n = rng() % sizeof(buf);
		for (j = 0; j < n; j++)
			buf[j] = (char)rng();
		parse_n(buf, n);
		CHECK(m.error_count > 0);
		CHECK(m.guest_count <= MANIFEST_MAX_GUESTS);
		CHECK(strings_terminated());
		for (j = 0; j < manifest_errors_stored(&m); j++)
			CHECK(manifest_format_error(&m, (uint32_t)j, line,
						    sizeof(line)) < sizeof(line));
	}
	for (i = 0; i < 300; i++) {
		n = strlen(example);
		memcpy(buf, example, n);
		for (j = 0; j < 4; j++)
			buf[rng() % n] = (char)rng();
		parse_n(buf, n);
		CHECK(strings_terminated());
		CHECK(m.guest_count <= 2);
	}
}

static void test_isolation(void)
{
	parse("[guest a]\nimage = a\nmemory = 4M\n"
	      "[guest b]\nimage = b\nmemory = 4Q\n"
	      "[guest c]\nimage = c\nmemory = 4M\n");
	CHECK_ONE_ERROR(6, "memory", "bad size");
	CHECK_EQ_INT(m.guest_count, 3);
	CHECK_EQ_INT(manifest_valid_guests(&m), 2);
	CHECK(guest("a")->valid);
	CHECK(!guest("b")->valid);
	CHECK(guest("c")->valid);
	/* An error in [hypervisor] keeps the defaults and no guest fails. */
	parse("[hypervisor]\nlog_level = loud\ntime_slice = 3ms\n"
	      "[guest a]\nimage = a\nmemory = 4M\n");
	CHECK_ONE_ERROR(2, "log_level", "bad log level");
	CHECK_EQ_INT(m.hv.log_level, 2);
	CHECK_EQ_INT(m.hv.time_slice_us, 3000);
	CHECK(guest("a")->valid);
}

static void test_duplicate_sections(void)
{
	parse("[guest a]\nimage = a\nmemory = 4M\n"
	      "[guest a]\nimage = b\nmemory = 4M\n");
	CHECK_ONE_ERROR(4, "guest", "duplicate name (first on line 1)");
	CHECK_EQ_INT(m.guest_count, 2);
	CHECK(m.guest[0].valid);
	CHECK(!m.guest[1].valid);
	CHECK_STR(m.guest[0].image, "a");
	/* A repeated [hypervisor] is refused but its keys are still checked. */
	parse("[hypervisor]\nlog_level = warn\n[hypervisor]\nlog_level = debug\n"
	      "time_slice = 1h\n");
	CHECK_EQ_INT(m.error_count, 2);
	CHECK_ERROR(3, "hypervisor", "section repeated (first on line 1)");
	CHECK_ERROR(5, "time_slice", "bad duration \"1h\"");
	CHECK_EQ_INT(m.hv.log_level, 1);
}

static void test_too_many_guests(void)
{
	static char buf[MANIFEST_MAX_GUESTS * 64 + 256];
	size_t n = 0;
	int i;

	for (i = 0; i <= MANIFEST_MAX_GUESTS; i++)
		n += (size_t)sprintf(buf + n,
				     "[guest g%d]\nimage = g.elf\nmemory = 1M\n", i);
	parse_n(buf, n);
	CHECK_ONE_ERROR(3 * MANIFEST_MAX_GUESTS + 1, "guest", "too many guests (max 64)");
	CHECK_EQ_INT(m.guest_count, MANIFEST_MAX_GUESTS);
	CHECK_EQ_INT(manifest_valid_guests(&m), MANIFEST_MAX_GUESTS);
	CHECK_STR(m.guest[MANIFEST_MAX_GUESTS - 1].name, "g63");
}

/* Parse one net line in guest "a" (after a guest "b" with a known MAC). */
static void parse_net(const char *v)
{
	char buf[512];

	snprintf(buf, sizeof(buf),
		 "[guest b]\nimage = b\nmemory = 1M\nnet = mac=02:00:00:00:00:0b, dhcp\n"
		 "[guest a]\nimage = a\nmemory = 1M\nnet = %s\n", v);
	parse(buf);
}

static void test_net(void)
{
	static const struct { const char *v, *msg; } bad[] = {
		{ "mac=03:00:00:00:00:01, dhcp", "is multicast" },
		{ "mac=00:00:00:00:00:00, dhcp", "not allowed" },
		{ "mac=02:00:00:00:00, dhcp", "bad MAC \"02:00:00:00:00\"" },
		{ "mac=02-00-00-00-00-01, dhcp", "bad MAC" },
		{ "mac=02:00:00:00:00:0g, dhcp", "bad MAC" },
		{ "dhcp", "needs mac=" },
		{ "mac=02:00:00:00:00:01", "needs ip=ADDR/LEN or dhcp" },
		{ "mac=02:00:00:00:00:01, dhcp, ip=10.0.0.2/24", "not both" },
		{ "mac=02:00:00:00:00:01, dhcp, gw=10.0.0.1", "gw= needs ip=" },
		{ "mac=02:00:00:00:00:01, ip=10.0.0.2", "bad prefix length" },
		{ "mac=02:00:00:00:00:01, ip=10.0.0.2/33", "bad prefix length" },
		{ "mac=02:00:00:00:00:01, ip=10.0.0.256/24", "bad address" },
		{ "mac=02:00:00:00:00:01, ip=10.0.0/24", "bad address" },
		{ "mac=02:00:00:00:00:01, ip=10.0.0.02/24", "bad address" },
		{ "mac=02:00:00:00:00:01, ip=0.0.0.0/0", "bad address" },
		{ "mac=02:00:00:00:00:01, ip=10.0.0.2/24, gw=10.0.1.1", "outside the ip= subnet" },
		{ "mac=02:00:00:00:00:01, ip=10.0.0.2/24, gw=10.0.0.2", "own address" },
		{ "mac=02:00:00:00:00:01, ip=10.0.0.2/24, gw=x", "bad gateway \"x\"" },
		{ "mac=02:00:00:00:00:01, mac=02:00:00:00:00:02, dhcp", "repeated net option \"mac\"" },
		{ "mac=02:00:00:00:00:01, dhcp, dhcp", "repeated net option \"dhcp\"" },
		{ "mac=02:00:00:00:00:01, dhcp, mtu=9000", "unknown net option \"mtu=9000\"" },
		{ "mac=02:00:00:00:00:01,, dhcp", "empty item" },
		{ "mac=02:00:00:00:00:0b, dhcp", "MAC already used by another guest" },
		{ "mac=02:00:00:00:00:01, dhcp, guard=ipv6", "bad guard \"ipv6\" (use guard=ip or guard=mac)" },
		{ "mac=02:00:00:00:00:01, dhcp, guard=", "bad guard \"\"" },
		{ "mac=02:00:00:00:00:01, dhcp, guard", "unknown net option \"guard\"" },
		{ "mac=02:00:00:00:00:01, dhcp, guard=ip, guard=mac", "repeated net option \"guard\"" },
	};
	const struct manifest_guest *a;
	int i;

	parse_net("mac=02:AB:cd:00:00:01, ip=192.168.1.20/16, gw=192.168.0.1");
	CHECK_CLEAN();
	a = guest("a");
	CHECK_EQ_INT(a->net[0].mac[1], 0xab);
	CHECK_EQ_INT(a->net[0].mac[2], 0xcd);
	CHECK_EQ_U64(a->net[0].ipv4, 0xc0a80114);
	CHECK_EQ_INT(a->net[0].prefix_len, 16);
	CHECK_EQ_U64(a->net[0].gateway, 0xc0a80001);
	parse_net("  DHCP ,  mac = 02:00:00:00:00:01  ");
	CHECK_CLEAN();
	CHECK(guest("a")->net[0].dhcp);
	parse_net("mac=02:00:00:00:00:01, ip=10.0.0.2/24");
	CHECK_CLEAN();
	CHECK_EQ_U64(guest("a")->net[0].gateway, 0);

	for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
		parse_net(bad[i].v);
		CHECK_ONE_ERROR(8, "net", bad[i].msg);
		CHECK(guest("b")->valid);
		CHECK(!guest("a")->valid);
	}
	/* /0 is a legal prefix: every gateway is inside. */
	parse_net("mac=02:00:00:00:00:01, ip=10.0.0.2/0, gw=192.168.0.1");
	CHECK_CLEAN();
}

/* guard= picks what the switch checks; the IP guard is the default. */
static void test_net_guard(void)
{
	char buf[128];

	parse_net("mac=02:00:00:00:00:01, ip=10.0.0.2/24");
	CHECK_CLEAN();
	CHECK_EQ_INT(guest("a")->net[0].guard, MANIFEST_GUARD_IP);
	parse_net("mac=02:00:00:00:00:01, GUARD = Mac, ip=10.0.0.2/24");
	CHECK_CLEAN();
	CHECK_EQ_INT(guest("a")->net[0].guard, MANIFEST_GUARD_MAC);
	parse_net("guard=ip, mac=02:00:00:00:00:01, dhcp");
	CHECK_CLEAN();
	CHECK_EQ_INT(guest("a")->net[0].guard, MANIFEST_GUARD_IP);
	parse_net("mac=02:00:00:00:00:01, dhcp, guard=off");
	manifest_format_error(&m, 0, buf, sizeof(buf));
	CHECK_STR(buf, "t.conf:8: net: bad guard \"off\" (use guard=ip or guard=mac)");
}

static void test_net_limits(void)
{
	parse("[guest a]\nimage = a\nmemory = 1M\n"
	      "net = mac=02:00:00:00:00:01, dhcp\n"
	      "net = mac=02:00:00:00:00:02, dhcp\n"
	      "net = mac=02:00:00:00:00:03, dhcp\n"
	      "net = mac=02:00:00:00:00:04, dhcp\n"
	      "net = mac=02:00:00:00:00:05, dhcp\n");
	CHECK_ONE_ERROR(8, "net", "too many net entries (max 4)");
	CHECK_EQ_INT(m.guest[0].net_count, MANIFEST_MAX_NETS);
	parse("[guest a]\nimage = a\nmemory = 1M\n"
	      "net = mac=02:00:00:00:00:01, dhcp\n"
	      "net = mac=02:00:00:00:00:01, ip=10.0.0.2/8\n");
	CHECK_ONE_ERROR(5, "net", "MAC repeated in this guest");
	CHECK_EQ_INT(m.guest[0].net_count, 1);
	/* The second user of a MAC is the one marked invalid. */
	parse("[guest a]\nimage = a\nmemory = 1M\nnet = mac=02:00:00:00:00:01, dhcp\n"
	      "[guest b]\nimage = b\nmemory = 1M\nnet = mac=02:00:00:00:00:01, dhcp\n"
	      "[guest c]\nimage = c\nmemory = 1M\nnet = mac=02:00:00:00:00:03, dhcp\n");
	CHECK_ONE_ERROR(8, "net", "already used");
	CHECK_EQ_INT(manifest_valid_guests(&m), 2);
	CHECK(!guest("b")->valid);
}

static void parse_block(const char *v)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "[guest a]\nimage = a\nmemory = 1M\nblock = %s\n", v);
	parse(buf);
}

static void test_block(void)
{
	static const struct { const char *v, *spec, *name; bool ro; } good[] = {
		{ "lvm:vg0/data", "lvm:vg0/data", "data", false },
		{ "lvm:my-vg+1/lv_2.x , RO", "lvm:my-vg+1/lv_2.x", "lv_2.x", true },
		{ "gpt:logs, readonly", "gpt:logs", "logs", true },
		{ "gpt:0FC63DAF-8483-4772-8E79-3D69D8477DE4", "gpt:0FC63DAF-8483-4772-8E79-3D69D8477DE4",
		  "gpt-0fc63daf", false },
		{ "disk:7,rw", "disk:7", "disk7", false },
		{ "\"disk:0, ro, name=boot\"", "disk:0", "boot", true },
		{ "lvm:vg/a-very-long-lv-name, name = short", "lvm:vg/a-very-long-lv-name", "short", false },
	};
	static const struct { const char *v, *msg; } bad[] = {
		{ "/disks/www.img", "bad block spec \"/disks/www.img\" (use lvm:VG/LV, gpt:NAME|GUID or disk:N)" },
		{ "d.img, readonly", "bad block spec \"d.img\"" },
		{ "", "empty value" },
		{ "lvm:vg0", "bad block spec" },
		{ "lvm:vg0/", "bad block spec" },
		{ "lvm:/lv", "bad block spec" },
		{ "lvm:vg/a/b", "bad block spec" },
		{ "lvm:-vg/a", "bad block spec" },
		{ "gpt:", "bad block spec" },
		{ "gpt:has space", "bad block spec" },
		{ "gpt:0123456789012345678901234567890123456", "bad block spec" },
		{ "disk:8", "bad block spec" },
		{ "disk:-1", "bad block spec" },
		{ "disk:", "bad block spec" },
		{ "LVM:vg/a", "bad block spec" },
		{ "gpt:0123456789012345678901234567890123456789-long", "bad block spec \"gpt:0123456789012345678901234567...\" "
		  "(use lvm:VG/LV, gpt:NAME|GUID or disk:N)" },
		{ "disk:0, ro, rw", "both ro and rw given" },
		{ "disk:0, rw, readonly", "both ro and rw given" },
		{ "disk:0, ", "unknown block option \"\" (use ro, rw or name=NAME)" },
		{ "disk:0, sync", "unknown block option \"sync\"" },
		{ "disk:0, name=", "bad device name \"\"" },
		{ "disk:0, name=sixteen-chars-xx", "bad device name \"sixteen-chars-xx\"" },
		{ "disk:0, name=a b", "bad device name" },
		{ "lvm:vg/a-very-long-lv-name", "device name \"a-very-long-lv-name\" too long "
		  "for a device (add name=NAME)" },
	};
	int i;

	for (i = 0; i < (int)(sizeof(good) / sizeof(good[0])); i++) {
		parse_block(good[i].v);
		CHECK_CLEAN();
		if (!CHECK_EQ_INT(m.guest[0].block_count, 1))
			continue;
		CHECK_STR(m.guest[0].block[0].spec, good[i].spec);
		CHECK_STR(m.guest[0].block[0].name, good[i].name);
		CHECK_EQ_INT(m.guest[0].block[0].readonly, good[i].ro);
	}
	for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
		parse_block(bad[i].v);
		CHECK_ONE_ERROR(4, "block", bad[i].msg);
		CHECK_EQ_INT(m.guest[0].block_count, 0);
		CHECK(strings_terminated());
	}
	parse("[guest a]\nimage = a\nmemory = 1M\n"
	      "block = disk:0\nblock = disk:1\nblock = disk:2\nblock = disk:3\n"
	      "block = disk:4\n");
	CHECK_ONE_ERROR(8, "block", "too many block entries (max 4)");
	CHECK_EQ_INT(m.guest[0].block_count, MANIFEST_MAX_BLOCKS);
}

static void parse_mount(const char *v)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "[guest a]\nimage = a\nmemory = 1M\n"
		 "block = gpt:data\nblock = gpt:web, ro\nmount = %s\n", v);
	parse(buf);
}

/* mount = PATH:DEVICE [, ro | rw]: checked when written, and against the
 * guest's block devices when its section ends. */
static void test_mount(void)
{
	static const struct { const char *v, *path, *dev; bool ro; } good[] = {
		{ "/data:data", "/data", "data", false },
		{ "/:data, ro", "/", "data", true },
		{ " /srv/www : web", "/srv/www", "web", true },     /* ro device: ro */
		{ "/a.b/c-d_e:data,readonly", "/a.b/c-d_e", "data", true },
		{ "/x/y/z:data, rw", "/x/y/z", "data", false },
	};
	static const struct { const char *v, *msg; } bad[] = {
		{ "data", "bad mount \"data\" (use PATH:DEVICE, e.g. /data:vol0)" },
		{ "/data:", "bad mount \"/data:\"" },
		{ "data:data", "bad mount path \"data\"" },
		{ "/data/:data", "bad mount path \"/data/\"" },
		{ "/a//b:data", "bad mount path" },
		{ "/a/./b:data", "bad mount path" },
		{ "/a/..:data", "bad mount path" },
		{ "/a b:data", "bad mount path" },
		{ "/0123456789012345678901234567890123456789012345678901234567890123:data",
		  "bad mount path" },
		{ "/data:sixteen-chars-xx", "bad device name \"sixteen-chars-xx\"" },
		{ "/data:data, ro, rw", "both ro and rw given" },
		{ "/data:data, sync", "unknown mount option \"sync\" (use ro or rw)" },
	};
	int i;

	for (i = 0; i < (int)(sizeof(good) / sizeof(good[0])); i++) {
		parse_mount(good[i].v);
		CHECK_CLEAN();
		if (!CHECK_EQ_INT(m.guest[0].mount_count, 1))
			continue;
		CHECK_STR(m.guest[0].mount[0].path, good[i].path);
		CHECK_STR(m.guest[0].mount[0].device, good[i].dev);
		CHECK_EQ_INT(m.guest[0].mount[0].readonly, good[i].ro);
	}
	for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
		parse_mount(bad[i].v);
		CHECK_ONE_ERROR(6, "mount", bad[i].msg);
		CHECK_EQ_INT(m.guest[0].mount_count, 0);
		CHECK(!m.guest[0].valid);
	}
	/* Known only at the section's end, reported on the mount's line. */
	parse_mount("/data:nosuch");
	CHECK_ONE_ERROR(6, "mount", "no block device of that name in this guest");
	CHECK(!m.guest[0].valid);
	parse_mount("/srv:web, rw");
	CHECK_ONE_ERROR(6, "mount", "device is read-only (block = ..., ro): mount it ro");
	/* A block line after the mount still counts. */
	parse("[guest a]\nimage = a\nmemory = 1M\nmount = /d:late\nblock = disk:0, name=late\n");
	CHECK_CLEAN();
	CHECK_EQ_INT(m.guest[0].mount_count, 1);
	parse("[guest a]\nimage = a\nmemory = 1M\nblock = disk:0\nblock = disk:1\n"
	      "mount = /a:disk0\nmount = /a:disk1\nmount = /b:disk0\n");
	CHECK_EQ_INT(m.error_count, 2);
	CHECK_ERROR(7, "mount", "mount path \"/a\" repeated in this guest");
	CHECK_ERROR(8, "mount", "device \"disk0\" mounted twice in this guest");
	parse("[guest a]\nimage = a\nmemory = 1M\n"
	      "block = disk:0\nblock = disk:1\nblock = disk:2\nblock = disk:3\n"
	      "mount = /a:disk0\nmount = /b:disk1\nmount = /c:disk2\nmount = /d:disk3\n"
	      "mount = /e:disk0\n");
	CHECK_ONE_ERROR(12, "mount", "too many mount entries (max 4)");
}

/* Device names are unique in a guest; one writer per volume. */
static void test_block_sharing(void)
{
	parse("[guest a]\nimage = a\nmemory = 1M\n"
	      "block = lvm:vg0/data\nblock = lvm:vg1/data\n");
	CHECK_ONE_ERROR(5, "block", "device name \"data\" repeated in this guest (use name=NAME)");
	parse("[guest a]\nimage = a\nmemory = 1M\n"
	      "block = lvm:vg0/data\nblock = lvm:vg1/data, name=data1\n");
	CHECK_CLEAN();
	/* Two writers of one volume: refused, in one guest or two. */
	parse("[guest a]\nimage = a\nmemory = 1M\nblock = lvm:vg0/data\n"
	      "[guest b]\nimage = b\nmemory = 1M\nblock = lvm:vg0/data\n");
	CHECK_ONE_ERROR(8, "block", "\"lvm:vg0/data\" written by guest a too (one writer: add ro)");
	CHECK(guest("a")->valid && !guest("b")->valid);
	parse("[guest a]\nimage = a\nmemory = 1M\nblock = disk:0\nblock = disk:0, name=again\n");
	CHECK_ONE_ERROR(5, "block", "\"disk:0\" written twice here (one writer: add ro)");
	parse("[guest a]\nimage = a\nmemory = 1M\nblock = gpt:0fc63daf-8483-4772-8e79-3d69d8477de4\n"
	      "[guest b]\nimage = b\nmemory = 1M\nblock = gpt:0FC63DAF-8483-4772-8E79-3D69D8477DE4\n");
	CHECK_ONE_ERROR(8, "block", "written by guest a too");
	/* Readers share, with each other and with one writer. */
	parse("[guest a]\nimage = a\nmemory = 1M\nblock = lvm:vg0/data, ro\n"
	      "[guest b]\nimage = b\nmemory = 1M\nblock = lvm:vg0/data\n"
	      "[guest c]\nimage = c\nmemory = 1M\nblock = lvm:vg0/data, readonly\n");
	CHECK_CLEAN();
	/* Copies of a guest would all write its volume. */
	parse("[guest a]\nimage = a\nmemory = 1M\ninstances = 2\nblock = disk:0\n");
	CHECK_ONE_ERROR(1, "instances", "a guest with a read-write block device runs once");
	parse("[guest a]\nimage = a\nmemory = 1M\ninstances = 2\nblock = disk:0, ro\n");
	CHECK_CLEAN();
}

static void test_paths(void)
{
	char buf[400], path[200];

	parse("[guest a]\nimage = /EFI/paravane/a.elf\nmemory = 1M\n");
	CHECK_CLEAN();
	CHECK_STR(m.guest[0].image, "/EFI/paravane/a.elf");
	parse("[guest a]\nimage = \"my apps/a b.elf\"\nmemory = 1M\n");
	CHECK_CLEAN();
	CHECK_STR(m.guest[0].image, "my apps/a b.elf");

	memset(path, 'p', sizeof(path));
	path[MANIFEST_PATH_MAX - 1] = '\0';
	snprintf(buf, sizeof(buf), "[guest a]\nimage = %s\nmemory = 1M\n", path);
	parse(buf);
	CHECK_CLEAN();
	CHECK_EQ_INT(strlen(m.guest[0].image), MANIFEST_PATH_MAX - 1);
	path[MANIFEST_PATH_MAX - 1] = 'p';
	path[MANIFEST_PATH_MAX] = '\0';
	snprintf(buf, sizeof(buf), "[guest a]\nimage = %s\nmemory = 1M\n", path);
	parse(buf);
	CHECK_ONE_ERROR(2, "image", "path too long (max 111 bytes)");
	CHECK_STR(m.guest[0].image, "");
	parse("[guest a]\nimage = \"\"\nmemory = 1M\n");
	CHECK_ONE_ERROR(2, "image", "empty path");
	parse("[guest a]\nimage = a|b\nmemory = 1M\n");
	CHECK_ONE_ERROR(2, "image", "bad path \"a|b\"");
}

static void test_error_cap(void)
{
	static char buf[4096];
	size_t n = (size_t)sprintf(buf, "[guest a]\nimage = a\nmemory = 1M\n");
	int i;

	for (i = 0; i < 40; i++)
		n += (size_t)sprintf(buf + n, "bogus%d = 1\n", i);
	parse_n(buf, n);
	CHECK_EQ_INT(m.error_count, 40);
	CHECK_EQ_INT(manifest_errors_stored(&m), MANIFEST_MAX_ERRORS);
	CHECK_STR(m.error[MANIFEST_MAX_ERRORS - 1].key, "bogus31");
	CHECK_EQ_INT(m.error[MANIFEST_MAX_ERRORS - 1].line, 35);
}

static void test_format(void)
{
	char buf[256];
	size_t n;

	parse("[guest a]\nimage = a\nmemory = 4Q\n");
	n = manifest_format_error(&m, 0, buf, sizeof(buf));
	CHECK_STR(buf, "t.conf:3: memory: bad size \"4Q\" (use a number with K, M or G)");
	CHECK_EQ_INT(n, strlen(buf));
	n = manifest_format_error(&m, 0, buf, 8);
	CHECK_STR(buf, "t.conf:");
	CHECK_EQ_INT(n, 7);
	buf[0] = 'x';
	CHECK_EQ_INT(manifest_format_error(&m, 0, buf, 0), 0);
	CHECK_EQ_INT(buf[0], 'x');
	CHECK_EQ_INT(manifest_format_error(&m, 1, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "");

	parse("");
	manifest_format_error(&m, 0, buf, sizeof(buf));
	CHECK_STR(buf, "t.conf: manifest has no sections");
	parse("[foo]\n");
	manifest_format_error(&m, 0, buf, sizeof(buf));
	CHECK_STR(buf, "t.conf:1: unknown section \"foo\" (use [hypervisor] or [guest NAME])");

	/* A very long file name keeps its tail. */
	manifest_parse(&m, "/a/very/long/path/that/does/not/fit/in/the/field/at/all/manifest.conf",
		       "", 0);
	CHECK_EQ_INT(strlen(m.file), MANIFEST_FILE_MAX - 1);
	CHECK(strncmp(m.file, "...", 3) == 0);
	CHECK(strstr(m.file, "/at/all/manifest.conf") != NULL);
	manifest_parse(&m, NULL, "", 0);
	CHECK_STR(m.file, "manifest");

	/* Long bad values are shortened in messages, never overflowed. */
	parse("[hypervisor]\nselftest = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
	CHECK_ERROR(2, "selftest", "aaaa...\" (use none, or see docs/manifest.md)");
}

static void test_action_name(void)
{
	CHECK_STR(manifest_action_name(MANIFEST_ACTION_DESTROY), "destroy");
	CHECK_STR(manifest_action_name(MANIFEST_ACTION_RESTART), "restart");
	CHECK_STR(manifest_action_name(MANIFEST_ACTION_POWEROFF), "poweroff");
	CHECK_STR(manifest_action_name((enum manifest_action)7), "?");
}

/* The configs shipped in the tree must stay clean. */
static void test_demo_conf(void)
{
	static char buf[1 << 16];
	FILE *f = fopen("configs/demo.conf", "rb");
	size_t n;

	if (!f) {
		printf("(configs/demo.conf not found; skipped)\n");
		return;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	manifest_parse(&m, "configs/demo.conf", buf, n);
	CHECK_CLEAN();
}

int main(void)
{
	RUN(test_example);
	RUN(test_crlf);
	RUN(test_defaults);
	RUN(test_sizes);
	RUN(test_durations);
	RUN(test_booleans);
	RUN(test_words);
	RUN(test_cpu_count);
	RUN(test_cpu_affinity);
	RUN(test_cpu_affinity_errors);
	RUN(test_weight);
	RUN(test_instances);
	RUN(test_quoting);
	RUN(test_comments);
	RUN(test_duplicate_keys);
	RUN(test_unknown);
	RUN(test_syntax);
	RUN(test_headers);
	RUN(test_missing_required);
	RUN(test_empty);
	RUN(test_long_line);
	RUN(test_nul_and_control);
	RUN(test_binary_garbage);
	RUN(test_isolation);
	RUN(test_duplicate_sections);
	RUN(test_too_many_guests);
	RUN(test_net);
	RUN(test_net_guard);
	RUN(test_net_limits);
	RUN(test_block);
	RUN(test_block_sharing);
	RUN(test_mount);
	RUN(test_paths);
	RUN(test_error_cap);
	RUN(test_format);
	RUN(test_action_name);
	RUN(test_demo_conf);
	return harness_report();
}
