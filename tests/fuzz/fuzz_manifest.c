/* libFuzzer target for the boot manifest parser: parse any bytes, format
 * every error, and check the promises manifest.h makes.  A broken promise
 * aborts, so libFuzzer saves the input (see tests/fuzz/build.mk). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

static struct manifest m;

#define REQUIRE(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, \
			__FILE__, __LINE__); \
		abort(); \
	} \
} while (0)

static void check_terminated(const char *s, size_t cap)
{
	REQUIRE(memchr(s, 0, cap) != NULL);
}

/* Messages are printable ASCII, whatever the input held. */
static void check_printable(const char *s)
{
	for (; *s; s++)
		REQUIRE(*s >= 0x20 && *s < 0x7f);
}

static void check_errors(void)
{
	uint32_t i, stored = manifest_errors_stored(&m);
	char buf[MANIFEST_FILE_MAX + MANIFEST_KEY_MAX + MANIFEST_MSG_MAX + 16];
	char tiny[5];
	size_t n;

	REQUIRE(m.error_count >= stored);
	for (i = 0; i < stored; i++) {
		check_terminated(m.error[i].key, MANIFEST_KEY_MAX);
		check_terminated(m.error[i].msg, MANIFEST_MSG_MAX);
		check_printable(m.error[i].key);
		check_printable(m.error[i].msg);
		REQUIRE(m.error[i].msg[0] != '\0');
		REQUIRE(i == 0 || m.error[i - 1].line <= m.error[i].line);
		n = manifest_format_error(&m, i, buf, sizeof(buf));
		REQUIRE(n == strlen(buf) && n < sizeof(buf) - 1);
		n = manifest_format_error(&m, i, tiny, sizeof(tiny));
		REQUIRE(n == strlen(tiny) && n < sizeof(tiny));
	}
	REQUIRE(manifest_format_error(&m, stored, buf, sizeof(buf)) == 0);
}

static void check_net(const struct manifest_net *n)
{
	REQUIRE(!(n->mac[0] & 1));
	REQUIRE(n->prefix_len <= 32);
	REQUIRE(n->dhcp ? n->ipv4 == 0 && n->gateway == 0 : n->ipv4 != 0);
	REQUIRE(n->guard == MANIFEST_GUARD_IP || n->guard == MANIFEST_GUARD_MAC);
}

static void check_guest(const struct manifest_guest *g)
{
	uint32_t i;

	check_terminated(g->name, sizeof(g->name));
	check_terminated(g->image, sizeof(g->image));
	check_terminated(g->cmdline, sizeof(g->cmdline));
	REQUIRE(g->net_count <= MANIFEST_MAX_NETS);
	REQUIRE(g->block_count <= MANIFEST_MAX_BLOCKS);
	for (i = 0; i < MANIFEST_MAX_BLOCKS; i++) {
		check_terminated(g->block[i].spec, MANIFEST_BLOCK_SPEC_MAX);
		check_terminated(g->block[i].name, MANIFEST_BLOCK_NAME_MAX);
	}
	REQUIRE(g->on_exit <= MANIFEST_ACTION_POWEROFF);
	REQUIRE(g->on_crash <= MANIFEST_ACTION_POWEROFF);
	REQUIRE(strcmp(manifest_action_name(g->on_exit), "?") != 0);
	REQUIRE(g->restart_limit <= MANIFEST_RESTART_MAX);
	REQUIRE(g->line >= 1);
	for (i = 0; i < g->net_count; i++)	/* stored only when good */
		check_net(&g->net[i]);
	for (i = 0; i < g->block_count; i++)	/* stored only when good */
		REQUIRE(g->block[i].spec[0] && g->block[i].name[0]);
	if (!g->valid)
		return;
	/* A valid guest is complete and within every limit. */
	REQUIRE(g->name[0] && g->image[0]);
	REQUIRE(g->memory >= MANIFEST_MEMORY_MIN &&
		g->memory <= MANIFEST_MEMORY_MAX);
	REQUIRE(g->memory % MANIFEST_PAGE_SIZE == 0);
}

/* Valid guests have unique names, and no two guests share a MAC. */
static void check_unique(void)
{
	uint32_t i, j, a, b;

	for (i = 0; i < m.guest_count; i++) {
		for (j = i; j < m.guest_count; j++) {
			const struct manifest_guest *x = &m.guest[i], *y = &m.guest[j];

			if (i != j && x->valid && y->valid)
				REQUIRE(strcmp(x->name, y->name) != 0);
			for (a = 0; a < x->net_count; a++)
				for (b = i == j ? a + 1 : 0; b < y->net_count; b++)
					REQUIRE(memcmp(x->net[a].mac,
						       y->net[b].mac, 6) != 0);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t i, rc;

	/* An exact-size heap copy lets ASan catch any read past the end. */
	char *text = malloc(size ? size : 1);

	if (!text)
		return 0;
	if (size)
		memcpy(text, data, size);
	rc = manifest_parse(&m, "fuzz.conf", text, size);
	free(text);

	REQUIRE(rc == m.error_count);
	REQUIRE(m.guest_count <= MANIFEST_MAX_GUESTS);
	REQUIRE(manifest_valid_guests(&m) <= m.guest_count);
	REQUIRE(m.hv.log_level <= 3);
	REQUIRE(m.hv.time_slice_us >= MANIFEST_SLICE_MIN_US &&
		m.hv.time_slice_us <= MANIFEST_SLICE_MAX_US);
	REQUIRE(m.hv.selftest <= MANIFEST_SELFTEST_VOLUMES);
	check_terminated(m.file, sizeof(m.file));
	check_errors();
	for (i = 0; i < m.guest_count; i++)
		check_guest(&m.guest[i]);
	check_unique();
	if (m.error_count == 0)
		REQUIRE(manifest_valid_guests(&m) == m.guest_count);
	return 0;
}
