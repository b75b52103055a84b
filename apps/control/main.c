/* control: the Paravane control domain (docs/api.md, docs/pvctl.md).
 *
 *   control [--port=N] [--token=TOKEN] [--metrics-open] [--hint-url=URL]
 *
 * Must run in a domain the manifest marks `privileged = yes`.  Without
 * --token a token is generated and printed once on the console.
 * --hint-url is where the host sees the API (make run's forward): only
 * used to print a line a newcomer can paste. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>
#include <paravane.h>
#include <pv_net.h>
#include "conn.h"
#include "migrate.h"
#include "hv.h"

#define LOOP_MS 100      /* how often streams look for new bytes */

uint64_t now_ms(void)
{
	return pv_monotonic_ns() / 1000000;
}

static const char *option(const char *arg, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(arg, name, n) ? arg + n : NULL;
}

static int parse_args(int argc, char **argv, const char **token, const char **hint)
{
	int port = 80;

	for (int i = 1; i < argc; i++) {
		const char *v;

		if ((v = option(argv[i], "--port=")))
			port = atoi(v);
		else if ((v = option(argv[i], "--token=")))
			*token = v;
		else if ((v = option(argv[i], "--hint-url=")))
			*hint = v;
		else if (!strcmp(argv[i], "--metrics-open"))
			metrics_open = true;
		else
			printf("control: ignoring unknown argument %s\n", argv[i]);
	}
	if (port < 1 || port > 65535) {
		printf("control: --port must be 1..65535\n");
		exit(1);
	}
	return port;
}

/* Without the privilege nothing here can work: say so plainly. */
static void check_privilege(void)
{
	struct pv_domctl_host h;
	long r = hv_host(&h);

	if (r) {
		printf("control: the hypervisor refused domain control (error %ld): this domain needs "
		       "`privileged = yes` in its manifest section\n", r);
		exit(1);
	}
}

static void serve(int lfd)
{
	for (;;) {
		fd_set rd, wr;
		struct timeval tv = { 0, LOOP_MS * 1000 };
		int maxfd;

		FD_ZERO(&rd);
		FD_ZERO(&wr);
		FD_SET(lfd, &rd);
		maxfd = conn_fill_sets(&rd, &wr, lfd);
		maxfd = migrate_fill_sets(&rd, &wr, maxfd);
		if (select(maxfd + 1, &rd, &wr, NULL, &tv) <= 0)
			continue;
		if (FD_ISSET(lfd, &rd))
			conn_accept(lfd);
		conn_service(&rd, &wr);
		migrate_service(&rd, &wr);
	}
}

int main(int argc, char **argv)
{
	const char *token = NULL, *hint = NULL;
	int port = parse_args(argc, argv, &token, &hint), lfd;
	char addr[96];

	check_privilege();
	auth_init(token);
	conn_init();
	if (pv_net_start() < 0 && pv_net_netif() == NULL)
		printf("control: warning: no network device\n");
	pv_net_address(addr, sizeof(addr));
	lfd = pv_net_listen(port, 16, 1);
	if (lfd < 0) {
		printf("control: cannot listen on port %d (errno %d)\n", port, -lfd);
		return 1;
	}
	if (!token)
		printf("control: API token: %s (generated; --token= in the manifest sets one)\n", auth_token());
	printf("control: API serving on %s port %d\n", addr, port);
	if (hint && !token)
		printf("control: dashboard %s/ ; try: PARAVANE_URL=%s PARAVANE_TOKEN=%s sdk/tools/pvctl list\n",
		       hint, hint, auth_token());
	fflush(stdout);
	serve(lfd);
}
