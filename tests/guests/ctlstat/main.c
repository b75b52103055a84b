/* Drives the metrics side of PV_HC_DOMCTL (public/domctl.h) and restarts of
 * domains created at run time, one "ctlstat: ..." line per check, for
 * tests/system/test_domctl_stats.py.
 *   ctlstat stats          CPU_STATS (twice, idle between), its refusals,
 *                          then run-time domains that restart (restart.c)
 *   ctlstat ports MAC N    N test frames to the echoing guest at MAC and
 *                          5 forged ones, with NET_PORTS before and after
 *   ctlstat unpriv         CPU_STATS and NET_PORTS must answer -EPERM and
 *                          leave the request untouched */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ctlstat.h"

void domctl_hdr(struct pv_domctl_hdr *h, uint16_t op, uint32_t size, uint32_t domid)
{
	memset(h, 0, size);
	h->magic = PV_DOMCTL_MAGIC;
	h->version = PV_DOMCTL_VERSION;
	h->op = op;
	h->size = size;
	h->domid = domid;
}

long domctl_simple(uint16_t op, uint32_t domid)
{
	struct pv_domctl_hdr h;

	domctl_hdr(&h, op, sizeof(h), domid);
	return pv_domctl(&h, sizeof(h));
}

void nap_ms(long ms)
{
	nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000 }, NULL);
}

/* A privilege failure reads and writes nothing: the request comes back as
 * it went in (a bad header would have been answered -EINVAL). */
static void unpriv_one(uint16_t op, void *q, uint32_t size)
{
	static unsigned char before[256];
	long r;

	domctl_hdr(q, op, size, 0);
	memset((char *)q + sizeof(struct pv_domctl_hdr), 0x5a, size - sizeof(struct pv_domctl_hdr));
	memcpy(before, q, size);
	r = pv_domctl(q, size);
	printf("ctlstat: unpriv op=%u r=%ld untouched=%d\n", op, r, !memcmp(before, q, size));
}

static int unprivileged(void)
{
	struct pv_domctl_cpus c;
	struct pv_domctl_ports p;

	unpriv_one(PV_DOMCTL_CPU_STATS, &c, sizeof(c));
	unpriv_one(PV_DOMCTL_NET_PORTS, &p, sizeof(p));
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "stats";
	int r = 2;

	if (!strcmp(mode, "unpriv"))
		r = unprivileged();
	else if (!strcmp(mode, "ports") && argc > 3)
		r = run_ports(argv[2], atol(argv[3]));
	else if (!strcmp(mode, "stats")) {
		r = run_cpus();
		r |= run_restart();
	} else
		printf("ctlstat: bad mode %s\n", mode);
	printf("ctlstat: done\n");
	return r;
}
