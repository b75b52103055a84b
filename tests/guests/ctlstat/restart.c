/* Domains created at run time with a restart policy, from the embedded
 * crash image:
 *   crasher  crashes after 400 ms, on_crash = restart, limit 3: INFO must
 *            show restarts 0, 1, 2, 3 on four successive domains, then the
 *            limit event;
 *   exiter   exits (code 3) at once, on_exit = restart, limit 1;
 *   keeper   restarts either way, but is destroyed: never restarted.
 * Every check reads the hypervisor's event stream (EVENTS_READ). */
#include <stdio.h>
#include <string.h>
#include "ctlstat.h"

extern const char crash_image[], crash_image_end[];

static char events[(64 << 10) + 1];
static struct pv_domctl_dominfo doms[64];

/* The event stream as the hypervisor still holds it. */
static void read_events(void)
{
	struct pv_domctl_read q;
	uint64_t at = 0;
	size_t got = 0;

	do {
		domctl_hdr(&q.hdr, PV_DOMCTL_EVENTS_READ, sizeof(q), 0);
		q.offset = at;
		q.buf_gva = (uintptr_t)(events + got);
		q.len = (uint32_t)(sizeof(events) - 1 - got);
		if (pv_domctl(&q, sizeof(q)))
			break;
		got += q.count;
		at = q.next;
	} while (q.count && got < sizeof(events) - 1);
	events[got] = 0;
}

static int count(const char *needle)
{
	int n = 0;

	for (const char *p = events; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Read the events until needle appears, at most ms. */
static int wait_event(const char *needle, long ms)
{
	for (long t = 0; t < ms; t += 20) {
		read_events();
		if (strstr(events, needle))
			return 1;
		nap_ms(20);
	}
	return 0;
}

static uint32_t create(const char *name, const char *cmdline, uint8_t on_exit, uint8_t on_crash, uint16_t limit,
		       long *r)
{
	struct pv_domctl_create q;

	domctl_hdr(&q.hdr, PV_DOMCTL_CREATE, sizeof(q), 0);
	q.image_gva = (uintptr_t)crash_image;
	q.image_size = (uint64_t)(crash_image_end - crash_image);
	strncpy(q.config.name, name, sizeof(q.config.name) - 1);
	strncpy(q.config.cmdline, cmdline, sizeof(q.config.cmdline) - 1);
	q.config.memory = 1 << 20;
	q.config.on_exit = on_exit;
	q.config.on_crash = on_crash;
	q.config.restart_limit = limit;
	*r = pv_domctl(&q, sizeof(q));
	if (*r)
		printf("ctlstat: create-%s r=%ld msg=%s\n", name, *r, q.hdr.message);
	return *r ? 0 : q.hdr.domid;
}

/* The live domain called name (LIST), or 0. */
static uint32_t find(const char *name)
{
	struct pv_domctl_list l;

	domctl_hdr(&l.hdr, PV_DOMCTL_LIST, sizeof(l), 0);
	l.max = 64;
	l.buf_gva = (uintptr_t)doms;
	if (pv_domctl(&l, sizeof(l)))
		return 0;
	for (uint32_t i = 0; i < l.count; i++)
		if (!strcmp(doms[i].name, name))
			return doms[i].domid;
	return 0;
}

static long info(uint32_t id, struct pv_domctl_info *q)
{
	domctl_hdr(&q->hdr, PV_DOMCTL_INFO, sizeof(*q), id);
	return pv_domctl(q, sizeof(*q));
}

/* Every incarnation of crasher as INFO shows it: "restarts:id,...". */
static void crasher(void)
{
	char seen[256] = "";
	uint32_t last = 0;
	long r;
	uint32_t first = create("crasher", "crash null 400", PV_DOMCTL_ACTION_DESTROY, PV_DOMCTL_ACTION_RESTART, 3, &r);

	for (long t = 0; first && t < 20000; t += 20) {
		uint32_t id = find("crasher");
		struct pv_domctl_info q;

		if (id && id != last && !info(id, &q)) {
			snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%s%u:%u", last ? "," : "",
				 q.info.restarts, id);
			last = id;
		}
		read_events();
		if (strstr(events, "domain-restart-limit name=crasher "))
			break;
		nap_ms(20);
	}
	printf("ctlstat: crasher r=%ld first=%u seen=%s limit=%d restarted=%d crashed=%d\n", r, first, seen,
	       count("domain-restart-limit name=crasher restarts=3\n"), count("domain-restarted name=crasher "),
	       count(" name=crasher reason=null-dereference "));
}

static void exiter(void)
{
	long r;
	uint32_t id = create("exiter", "crash none", PV_DOMCTL_ACTION_RESTART, PV_DOMCTL_ACTION_DESTROY, 1, &r);
	int limit = id && wait_event("domain-restart-limit name=exiter ", 10000);

	printf("ctlstat: exiter r=%ld limit=%d exited=%d restarted=%d\n", r, limit, count(" name=exiter code=3 "),
	       count("domain-restarted name=exiter restart=1\n"));
}

static void keeper(void)
{
	long r, d = -1;
	uint32_t id = create("keeper", "crash null 20000", PV_DOMCTL_ACTION_RESTART, PV_DOMCTL_ACTION_RESTART, 5, &r);
	int stopped = 0;

	if (id) {
		nap_ms(200);
		d = domctl_simple(PV_DOMCTL_DESTROY, id);
		stopped = wait_event(" name=keeper reason=destroyed ", 5000);
		nap_ms(300);                 /* far longer than a first restart's delay */
		read_events();
	}
	printf("ctlstat: keeper r=%ld destroy=%ld stopped=%d restarted=%d listed=%d\n", r, d, stopped,
	       count("domain-restarted name=keeper "), find("keeper") != 0);
}

int run_restart(void)
{
	long r;

	create("badaction", "crash null", PV_DOMCTL_ACTION_DESTROY, 2, 1, &r);
	crasher();
	exiter();
	keeper();
	return 0;
}
