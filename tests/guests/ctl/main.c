/* Drives PV_HC_DOMCTL (public/domctl.h) and prints what it got, one
 * "ctl: ..." line per check, for tests/system/test_domctl.py.
 *   ctl priv     host info, list, info, bad headers and pointers, then
 *                destroys every domain named victim* and lists again
 *   ctl unpriv   every operation must answer -EPERM, then stay 1.5 s
 *   ctl cycles N N creates of hello, each destroyed at once
 *   ctl images   the named image store, CREATE by hash, GET_CONFIG (images.c)
 *   ctl store N  the store's limits, then N add/create/destroy/remove cycles
 *   ctl race T N N rounds of racing another ctl for one name (below)
 *   ctl timing N KIB  CREATE of hello with KIB of memory (by hash, then
 *                with bytes) and DESTROY, each timed, N times (timing.c) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <paravane.h>
#include <public/errno.h>

#include "ctl.h"

static struct pv_domctl_dominfo entries[64];

void hdr(struct pv_domctl_hdr *h, uint16_t op, uint32_t size, uint32_t domid)
{
	memset(h, 0, size);
	h->magic = PV_DOMCTL_MAGIC;
	h->version = PV_DOMCTL_VERSION;
	h->op = op;
	h->size = size;
	h->domid = domid;
}

static void host(void)
{
	struct pv_domctl_host h;
	long r;

	hdr(&h.hdr, PV_DOMCTL_HOST_INFO, sizeof(h), 0);
	r = pv_domctl(&h, sizeof(h));
	printf("ctl: host r=%ld cpus=%u found=%u total_mib=%lu free_mib=%lu domains=%u max=%u version=%s abi=%u\n",
	       r, h.cpus, h.cpus_found, (unsigned long)(h.memory_total >> 20),
	       (unsigned long)(h.memory_free >> 20), h.domains, h.domains_max, h.version, h.abi_version);
}

/* Every live domain, 2 per call so that paging is exercised. */
static int list_all(void)
{
	struct pv_domctl_list l;
	int n = 0;
	long r;

	do {
		hdr(&l.hdr, PV_DOMCTL_LIST, sizeof(l), 0);
		l.after_id = n ? entries[n - 1].domid : 0;
		l.max = 2;
		l.buf_gva = (uintptr_t)&entries[n];
		r = pv_domctl(&l, sizeof(l));
		n += r ? 0 : (int)l.count;
	} while (!r && l.count == 2 && n < 62);
	printf("ctl: list r=%ld count=%d total=%u names=", r, n, l.total);
	for (int i = 0; i < n; i++)
		printf("%s%s:%u:%u", i ? "," : "", entries[i].name, entries[i].domid, entries[i].state);
	printf("\n");
	return n;
}

static void info(uint32_t id, const char *label)
{
	struct pv_domctl_info q;
	long r;

	hdr(&q.hdr, PV_DOMCTL_INFO, sizeof(q), id);
	r = pv_domctl(&q, sizeof(q));
	printf("ctl: info-%s r=%ld id=%u name=%s state=%u memory_kib=%lu private_kib=%lu hypercalls=%lu flags=%u "
	       "hash=%02x%02x%02x%02x msg=%s\n",
	       label, r, q.info.domid, q.info.name, q.info.state, (unsigned long)(q.info.memory >> 10),
	       (unsigned long)(q.info.private_bytes >> 10), (unsigned long)q.info.hypercalls, q.info.flags,
	       q.info.image_hash[0], q.info.image_hash[1], q.info.image_hash[2], q.info.image_hash[3],
	       q.hdr.message[0] ? q.hdr.message : "-");
}

static void bad_headers(void)
{
	struct pv_domctl_host h;

	hdr(&h.hdr, PV_DOMCTL_HOST_INFO, sizeof(h), 0);
	h.hdr.magic ^= 1;
	printf("ctl: bad-magic r=%ld\n", pv_domctl(&h, sizeof(h)));
	hdr(&h.hdr, PV_DOMCTL_HOST_INFO, sizeof(h), 0);
	h.hdr.version = 99;
	printf("ctl: bad-version r=%ld\n", pv_domctl(&h, sizeof(h)));
	hdr(&h.hdr, PV_DOMCTL_HOST_INFO, sizeof(h), 0);
	printf("ctl: bad-size r=%ld\n", pv_domctl(&h, sizeof(h) - 8));
	hdr(&h.hdr, 77, sizeof(h), 0);
	printf("ctl: bad-op r=%ld\n", pv_domctl(&h, sizeof(h)));
	printf("ctl: bad-pointer r=%ld\n", pv_domctl((void *)0xffff800000000000ul, sizeof(h)));
	printf("ctl: read-only r=%ld\n", pv_domctl((void *)(uintptr_t)&hdr, sizeof(h)));
}

void destroy(uint32_t id, const char *label)
{
	struct pv_domctl_hdr h;
	long r;

	hdr(&h, PV_DOMCTL_DESTROY, sizeof(h), id);
	r = pv_domctl(&h, sizeof(h));
	printf("ctl: destroy-%s r=%ld msg=%s\n", label, r, h.message[0] ? h.message : "-");
}

void nap_ms(long ms)
{
	nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000 }, NULL);
}

/* A whole stream in chunks of `chunk` bytes, following `next`. */
static size_t read_stream(uint16_t op, uint32_t id, char *out, size_t room, uint32_t chunk, long *err)
{
	struct pv_domctl_read q;
	uint64_t at = 0;
	size_t got = 0;

	do {
		hdr(&q.hdr, op, sizeof(q), id);
		q.offset = at;
		q.buf_gva = (uintptr_t)(out + got);
		q.len = (uint32_t)(room - got < chunk ? room - got : chunk);
		*err = pv_domctl(&q, sizeof(q));
		if (*err || q.start != at)
			break;
		got += q.count;
		at = q.next;
	} while (q.count && got < room);
	out[got] = 0;
	return got;
}

static char stream[16384];

/* One line per check: whether the text was found, never the text itself. */
static void streams(uint32_t bystander)
{
	long err;
	size_t n = read_stream(PV_DOMCTL_EVENTS_READ, 0, stream, sizeof(stream) - 1, 700, &err);

	printf("ctl: events r=%ld bytes=%zu has_ctl=%d has_bystander=%d\n", err, n,
	       strstr(stream, "domain-created id=1 name=ctl ") != NULL, strstr(stream, "name=bystander") != NULL);
	n = read_stream(PV_DOMCTL_CONSOLE_READ, bystander, stream, sizeof(stream) - 1, 5, &err);
	printf("ctl: console r=%ld bytes=%zu has_spin=%d\n", err, n, strstr(stream, "spin: spinning 3\n") != NULL);
	n = read_stream(PV_DOMCTL_CONSOLE_READ, 99999, stream, sizeof(stream) - 1, 64, &err);
	printf("ctl: console-missing r=%ld\n", err);
}

/* Whether domain `id` printed `text` within about `ms` milliseconds: a
 * guest just created on another CPU may not have run yet. */
int console_shows(uint32_t id, const char *text, long ms)
{
	static char seen[4096];
	long err;

	for (long waited = 0; waited <= ms; waited += 20) {
		read_stream(PV_DOMCTL_CONSOLE_READ, id, seen, sizeof(seen) - 1, 1024, &err);
		if (!err && strstr(seen, text))
			return 1;
		nap_ms(20);
	}
	return 0;
}

/* CREATE from bytes in our memory; prints r, id, the hash's first bytes
 * and the hypervisor's message. */
static uint32_t create(const char *label, const char *name, const void *img, uint64_t size, uint64_t memory)
{
	struct pv_domctl_create q;
	long r;

	hdr(&q.hdr, PV_DOMCTL_CREATE, sizeof(q), 0);
	q.image_gva = (uintptr_t)img;
	q.image_size = size;
	strncpy(q.config.name, name, sizeof(q.config.name) - 1);
	q.config.memory = memory;
	r = pv_domctl(&q, sizeof(q));
	printf("ctl: create-%s r=%ld id=%u hash=%02x%02x%02x%02x msg=%s\n", label, r, q.hdr.domid, q.image_hash[0],
	       q.image_hash[1], q.image_hash[2], q.image_hash[3], q.hdr.message[0] ? q.hdr.message : "-");
	return r ? 0 : q.hdr.domid;
}

static void creates(void)
{
	uint64_t size = (uint64_t)(hello_image_end - hello_image);
	uint32_t id;

	id = create("hello", "made", hello_image, size, 1 << 20);
	info(id, "made");
	create("again", "made2", hello_image, size, 1 << 20);
	create("dupname", "ctl", hello_image, size, 1 << 20);
	create("badname", "bad name!", hello_image, size, 1 << 20);
	create("truncated", "cut", hello_image, 200, 1 << 20);
	create("huge", "huge", hello_image, size, 60ull << 30);
	create("badptr", "ptr", (void *)0xffff800000000000ul, size, 1 << 20);
	create("toosmall", "small", hello_image, size, 64 << 10);
	(void)id;
}

long simple(uint16_t op, uint32_t id)
{
	struct pv_domctl_hdr h;

	hdr(&h, op, sizeof(h), id);
	return pv_domctl(&h, sizeof(h));
}

static uint64_t cpu_of(uint32_t id, uint32_t *state)
{
	struct pv_domctl_info q;

	hdr(&q.hdr, PV_DOMCTL_INFO, sizeof(q), id);
	pv_domctl(&q, sizeof(q));
	*state = q.info.state;
	return q.info.cpu_ns;
}

/* A paused domain gets no CPU; unpaused it runs again. */
static void pause_resume(uint32_t id)
{
	uint32_t paused_state, resumed_state;
	long r = simple(PV_DOMCTL_PAUSE, id);
	uint64_t a, b, c;

	nap_ms(50);
	a = cpu_of(id, &paused_state);
	nap_ms(300);
	b = cpu_of(id, &paused_state);
	printf("ctl: pause-self r=%ld\n", simple(PV_DOMCTL_PAUSE, pv_domid()));
	printf("ctl: pause-missing r=%ld\n", simple(PV_DOMCTL_PAUSE, 99999));
	printf("ctl: unpause r=%ld\n", simple(PV_DOMCTL_UNPAUSE, id));
	nap_ms(300);
	c = cpu_of(id, &resumed_state);
	printf("ctl: pause r=%ld state=%u ran_while_paused_us=%lu state_after=%u ran_after_us=%lu\n", r, paused_state,
	       (unsigned long)((b - a) / 1000), resumed_state, (unsigned long)((c - b) / 1000));
}

static uint32_t id_of(int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(entries[i].name, name))
			return entries[i].domid;
	return 0;
}

static void privileged(void)
{
	int n;

	nap_ms(300);
	host();
	n = list_all();
	streams(id_of(n, "bystander"));
	pause_resume(id_of(n, "bystander"));
	creates();
	info(pv_domid(), "self");
	info(99999, "missing");
	bad_headers();
	destroy(pv_domid(), "self");
	destroy(99999, "missing");
	for (int i = 0; i < n; i++)
		if (!strncmp(entries[i].name, "victim", 6))
			destroy(entries[i].domid, entries[i].name);
	nap_ms(300);
	list_all();
}

static void unprivileged(void)
{
	struct pv_domctl_create q;   /* the largest of them: every op's header fits */

	for (uint16_t op = 1; op < PV_DOMCTL_OP_MAX; op++) {
		hdr(&q.hdr, op, sizeof(q), 1);
		printf("ctl: unpriv op=%u r=%ld\n", op, pv_domctl(&q, sizeof(q)));
	}
	nap_ms(1500);    /* still alive when the privileged one lists */
}

/* n create/destroy cycles of hello; every frame must come back. */
static void cycles(long n)
{
	uint64_t size = (uint64_t)(hello_image_end - hello_image);
	long failed = 0;

	for (long i = 0; i < n; i++) {
		struct pv_domctl_create q;
		long r;

		hdr(&q.hdr, PV_DOMCTL_CREATE, sizeof(q), 0);
		q.image_gva = (uintptr_t)hello_image;
		q.image_size = size;
		snprintf(q.config.name, sizeof(q.config.name), "cycle%ld", i);
		q.config.memory = 1 << 20;
		r = pv_domctl(&q, sizeof(q));
		if (!r)
			r = simple(PV_DOMCTL_DESTROY, q.hdr.domid);
		failed += r && r != -PV_ENOENT;     /* ENOENT: it had already exited */
	}
	nap_ms(500);
	printf("ctl: cycles done=%ld failed=%ld\n", n, failed);
}

/* ctl race AT_MS N: in round k, at AT_MS + 100k ms of system time (the
 * same clock in every domain), CREATE spin as "race-k"; a winner destroys
 * it 50 ms later.  Two of these racing must never both win a round. */
static void race(long at_ms, long rounds)
{
	for (long k = 0; k < rounds; k++) {
		uint64_t when = (uint64_t)(at_ms + 100 * k) * 1000000u;
		struct pv_domctl_create q;
		long r;

		while (pv_monotonic_ns() < when)
			;                       /* to the mark: every racer starts together */
		hdr(&q.hdr, PV_DOMCTL_CREATE, sizeof(q), 0);
		q.image_gva = (uintptr_t)spin_image;
		q.image_size = (uint64_t)(spin_image_end - spin_image);
		snprintf(q.config.name, sizeof(q.config.name), "race-%ld", k);
		q.config.memory = 1 << 20;
		r = pv_domctl(&q, sizeof(q));
		printf("ctl: race round=%ld r=%ld\n", k, r);
		if (!r) {
			nap_ms(50);
			simple(PV_DOMCTL_DESTROY, q.hdr.domid);
		}
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "unpriv"))
		unprivileged();
	else if (argc > 2 && !strcmp(argv[1], "cycles"))
		cycles(atol(argv[2]));
	else if (argc > 1 && !strcmp(argv[1], "images"))
		images();
	else if (argc > 2 && !strcmp(argv[1], "store"))
		store_cycles(atol(argv[2]));
	else if (argc > 3 && !strcmp(argv[1], "race"))
		race(atol(argv[2]), atol(argv[3]));
	else if (argc > 3 && !strcmp(argv[1], "timing"))
		timing(atol(argv[2]), atol(argv[3]));
	else
		privileged();
	printf("ctl: done\n");
	return 0;
}
