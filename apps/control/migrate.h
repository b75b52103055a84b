/* Outbound live migrations (migrate.c): a domain's live save streamed to
 * another host's control domain, driven from the select() loop so the
 * API goes on answering meanwhile. */
#ifndef CONTROL_MIGRATE_H
#define CONTROL_MIGRATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include "buf.h"
#include "control.h"

#define MIGRATIONS_MAX 2

enum migration_state { M_CONNECT, M_SEND, M_ANSWER, M_OVER };

/* How it ended: the domain runs on there (and is gone here), runs on
 * here, or is paused here because the destination could not be asked
 * whether it started (never both running). */
enum migration_result { MR_RUNNING, MR_MIGRATED, MR_FAILED, MR_UNKNOWN };

struct migration_req {
	uint32_t domid;
	char name[PV_NAME_MAX + 1];     /* its name there */
	struct sockaddr_in to;          /* the destination's API */
	char token[128];                /* the destination's bearer token */
};

struct migration {
	bool used, watched;             /* watched: an API stream reports it */
	enum migration_state state;
	enum migration_result result;
	int fd;
	struct migration_req q;
	char to_text[24];               /* a.b.c.d:port */
	struct buf out;                 /* to the destination */
	size_t out_off;                 /* of it sent */
	bool last_queued;               /* the stream's END and the last chunk are in out */
	uint64_t offset, pages;         /* stream bytes read, pages sent */
	uint32_t round;
	bool held;                      /* the domain is stopped for its last pages */
	uint64_t started_ms, held_ms, sent_ms, ended_ms, deadline_ms;
	char in[2048];                  /* the destination's answer */
	size_t in_len;
	int status;                     /* its status, or 0 */
	char code[32], message[240];    /* why it failed */
	uint32_t reported_round;        /* what the watcher told already */
	bool reported_stop;
};

/* Begin: the live save and the connection.  NULL with err (-PV_E*, or
 * -PV_EAGAIN: no slot) and msg. */
struct migration *migrate_start(const struct migration_req *q, long *err, char *msg, size_t n);
/* Its watcher is gone: freed once it is over (it never stops half way). */
void migrate_release(struct migration *m);
int migrate_fill_sets(fd_set *rd, fd_set *wr, int maxfd);
void migrate_service(fd_set *rd, fd_set *wr);
const char *migrate_result_name(enum migration_result r);

#endif
