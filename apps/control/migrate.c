/* Outbound live migrations (docs/migration.md, "Live migration").
 *
 * The domain's live save (SAVE_BEGIN with SAVE_LIVE) goes, piece by
 * piece as the destination takes it, as the chunked body of the
 * destination's `POST /v1/restore`.  The hypervisor decides the rounds;
 * this file only moves bytes and decides the end:
 *   - the destination answered 201: it checked the whole stream and
 *     started the domain, so ours is destroyed (SAVE_END destroy);
 *   - it refused, or the stream never all reached it: ours resumes;
 *   - every byte went but no answer came: it is asked (GET the domain);
 *     when it cannot be asked, ours stays paused: never both running.
 * A client that leaves does not stop a migration: half of one is the
 * only outcome worse than either end. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include "api.h"
#include "json_in.h"
#include "migrate.h"

#define CONNECT_MS 5000
#define STALL_MS   15000     /* the destination took nothing for this long: gone */
#define ANSWER_MS  30000     /* its answer after the last byte */
#define ASK_MS     5000      /* asking it afterwards */

static struct migration migrations[MIGRATIONS_MAX];
static char piece[PV_DOMCTL_SAVE_CHUNK];

const char *migrate_result_name(enum migration_result r)
{
	static const char *const names[] = { "running", "migrated", "failed", "unknown" };

	return names[r];
}

static long save_op(uint16_t op, uint32_t domid, struct pv_domctl_save *s)
{
	return hv_call(s, op, sizeof(*s), domid);
}

static void save_end(struct migration *m, uint32_t then)
{
	struct pv_domctl_save s = { .flags = then };

	save_op(PV_DOMCTL_SAVE_END, m->q.domid, &s);
}

/* ---- the end ------------------------------------------------------------------- */

static void over(struct migration *m, enum migration_result r, uint32_t then)
{
	save_end(m, then);
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	buf_free(&m->out);
	m->state = M_OVER;
	m->result = r;
	m->ended_ms = now_ms();
	printf("control: migration of %s to %s: %s%s%s\n", m->q.name, m->to_text, migrate_result_name(r),
	       *m->message ? ": " : "", m->message);
	if (!m->watched)
		m->used = false;
}

static void failed(struct migration *m, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void failed(struct migration *m, const char *code, const char *fmt, ...)
{
	va_list ap;

	snprintf(m->code, sizeof(m->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(m->message, sizeof(m->message), fmt, ap);
	va_end(ap);
	over(m, MR_FAILED, PV_DOMCTL_SAVE_RESUME);
}

void migrate_release(struct migration *m)
{
	m->watched = false;
	if (m->state == M_OVER)
		m->used = false;
}

/* ---- beginning ------------------------------------------------------------------- */

static struct migration *slot(void)
{
	for (int i = 0; i < MIGRATIONS_MAX; i++)
		if (!migrations[i].used)
			return &migrations[i];
	return NULL;
}

/* No Nagle: the last round's tail and the closing chunk go at once, not
 * after the ACK of what went before (the domain is stopped meanwhile). */
static int connect_to(const struct sockaddr_in *to)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return -1;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)to, sizeof(*to)) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static void request_head(struct migration *m)
{
	buf_printf(&m->out, "POST /v1/restore?name=%s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
		   "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n"
		   "Connection: close\r\n\r\n", m->q.name, m->to_text, m->q.token);
}

static void addr_text(const struct sockaddr_in *a, char *out, size_t n)
{
	const uint8_t *b = (const uint8_t *)&a->sin_addr;

	snprintf(out, n, "%u.%u.%u.%u:%u", b[0], b[1], b[2], b[3], ntohs(a->sin_port));
}

struct migration *migrate_start(const struct migration_req *q, long *err, char *msg, size_t n)
{
	struct migration *m = slot();
	struct pv_domctl_save s = { .flags = PV_DOMCTL_SAVE_LIVE };

	if (!m)
		return *err = -PV_EAGAIN, snprintf(msg, n, "%d migrations are in progress", MIGRATIONS_MAX), NULL;
	*err = save_op(PV_DOMCTL_SAVE_BEGIN, q->domid, &s);
	if (*err)
		return snprintf(msg, n, "%.*s", (int)PV_DOMCTL_MSG_MAX, s.hdr.message), NULL;
	*m = (struct migration){ .used = true, .watched = true, .q = *q, .started_ms = now_ms() };
	addr_text(&q->to, m->to_text, sizeof(m->to_text));
	m->fd = connect_to(&q->to);
	if (m->fd < 0) {
		save_end(m, PV_DOMCTL_SAVE_RESUME);
		m->used = false;
		*err = -PV_EIO;
		return snprintf(msg, n, "cannot connect to %s", m->to_text), NULL;
	}
	m->deadline_ms = m->started_ms + CONNECT_MS;
	request_head(m);
	printf("control: migrating %s (%u pages in the first round) to %s\n", q->name, (unsigned)s.pages,
	       m->to_text);
	return m;
}

static void lost(struct migration *m, const char *why);

/* ---- sending --------------------------------------------------------------------- */

/* The stream's next piece as a chunk; after the END record, the last
 * chunk.  A failed read ends it (the hypervisor says why). */
static void produce(struct migration *m)
{
	struct pv_domctl_save s = { .offset = m->offset, .buf_gva = (uintptr_t)piece, .len = sizeof(piece) };

	long err = save_op(PV_DOMCTL_SAVE_READ, m->q.domid, &s);

	if (err == -PV_ENOENT)      /* its save ended with it (core/save.c) */
		return failed(m, "domain_ended", "the domain ended during its migration (at byte %lu)",
			      (unsigned long)m->offset);
	if (err)
		return failed(m, "save_failed", "the save stopped at byte %lu: %.*s", (unsigned long)m->offset,
			      (int)PV_DOMCTL_MSG_MAX, s.hdr.message);
	if (s.count) {
		buf_printf(&m->out, "%x\r\n", s.count);
		buf_add(&m->out, piece, s.count);
		buf_str(&m->out, "\r\n");
	}
	m->offset += s.count;
	m->round = s.round;
	m->pages = s.pages;
	if ((s.flags & PV_DOMCTL_SAVE_HELD) && !m->held)
		m->held = true, m->held_ms = now_ms();
	if (s.flags & PV_DOMCTL_SAVE_DONE) {
		buf_str(&m->out, "0\r\n\r\n");
		m->last_queued = true;
	}
	if (m->out.failed)
		failed(m, "internal", "the control domain has no room for the next piece");
}

static void connected(struct migration *m)
{
	int e = 0;
	socklen_t len = sizeof(e);

	if (getsockopt(m->fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0 || e)
		return failed(m, "unreachable", "cannot connect to %s (error %d)", m->to_text, e ? e : errno);
	m->state = M_SEND;
	m->deadline_ms = now_ms() + STALL_MS;
}

static bool all_sent(const struct migration *m)
{
	return m->last_queued && m->out_off == m->out.len;
}

static void send_some(struct migration *m)
{
	ssize_t k = send(m->fd, m->out.p + m->out_off, m->out.len - m->out_off, 0);

	if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		return lost(m, "the connection to the destination broke");
	if (k > 0) {
		m->out_off += (size_t)k;
		m->deadline_ms = now_ms() + STALL_MS;
	}
	if (m->out_off == m->out.len) {
		buf_reset(&m->out);
		m->out_off = 0;
	}
	if (all_sent(m)) {
		m->sent_ms = now_ms();
		m->state = M_ANSWER;
		m->deadline_ms = now_ms() + ANSWER_MS;
	}
}

/* ---- the answer ------------------------------------------------------------------ */

/* The status of a complete answer in m->in, 0 while incomplete; *body
 * is where its body starts. */
static int parse_answer(struct migration *m, const char **body, bool closed)
{
	const char *end, *cl;
	unsigned long len = 0;
	int status;

	m->in[m->in_len] = 0;
	end = strstr(m->in, "\r\n\r\n");
	if (!end || sscanf(m->in, "HTTP/1.%*d %d", &status) != 1)
		return closed && m->in_len ? -1 : 0;
	*body = end + 4;
	for (cl = strstr(m->in, "\r\n"); cl && cl < end; cl = strstr(cl + 2, "\r\n"))
		if (!strncasecmp(cl + 2, "content-length:", 15))
			len = strtoul(cl + 17, NULL, 10);
	return closed || (size_t)(m->in + m->in_len - *body) >= len ? status : 0;
}

/* The destination's {"error":{"code","message"}}, into m->code and m->message. */
static void error_of(struct migration *m, int status, const char *body)
{
	static struct jdoc doc;
	struct jerr err;
	char code[32] = "refused", msg[160] = "";
	int e;

	if (json_parse(&doc, body, strlen(body), &err) && (e = json_get(&doc, 0, "error")) >= 0) {
		int c = json_get(&doc, e, "code"), t = json_get(&doc, e, "message");

		if (c >= 0)
			json_string(&doc, c, "code", code, sizeof(code), &err);
		if (t >= 0)
			json_string(&doc, t, "message", msg, sizeof(msg), &err);
	}
	if (!*msg)                /* not our API's error: its first bytes, printable */
		for (size_t i = 0; i < sizeof(msg) - 1 && body[i]; i++)
			msg[i] = body[i] >= ' ' && body[i] <= '~' ? body[i] : '.';
	failed(m, "destination_refused", "the destination answered %d %s: %s", status, code, msg);
}

static void answered(struct migration *m, int status, const char *body)
{
	if (status == 201)      /* it started the domain: ours must not run again */
		return over(m, MR_MIGRATED, PV_DOMCTL_SAVE_DESTROY);
	if (status < 0)
		return lost(m, "the destination's answer was malformed");
	error_of(m, status, body);
}

static void read_answer(struct migration *m)
{
	ssize_t k = recv(m->fd, m->in + m->in_len, sizeof(m->in) - 1 - m->in_len, 0);
	bool closed = k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK) ||
		      m->in_len + (k > 0 ? (size_t)k : 0) == sizeof(m->in) - 1;
	const char *body = NULL;
	int status;

	m->in_len += k > 0 ? (size_t)k : 0;
	status = parse_answer(m, &body, closed);
	if (status)
		return answered(m, status, body);
	if (closed)
		lost(m, "the destination closed the connection without an answer");
}

/* ---- no answer: asking ------------------------------------------------------------ */

static bool wait_fd(int fd, bool write, uint64_t until)
{
	for (uint64_t now = now_ms(); now < until; now = now_ms()) {
		fd_set s;
		struct timeval tv = { 0, (long)((until - now < 100 ? until - now : 100) * 1000) };

		FD_ZERO(&s);
		FD_SET(fd, &s);
		if (select(fd + 1, write ? NULL : &s, write ? &s : NULL, NULL, &tv) > 0)
			return true;
	}
	return false;
}

/* GET the domain there, the loop stopped meanwhile (a rare path, and at
 * most ASK_MS): its status (200, 404...), or -1 when it cannot be asked. */
static int ask(struct migration *m)
{
	uint64_t until = now_ms() + ASK_MS;
	int fd = connect_to(&m->q.to), status = -1;
	const char *body;
	char req[400];
	int n = snprintf(req, sizeof(req), "GET /v1/domains/%s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
			 "Connection: close\r\n\r\n", m->q.name, m->to_text, m->q.token);

	m->in_len = 0;
	if (fd < 0 || !wait_fd(fd, true, until) || send(fd, req, (size_t)n, 0) != n)
		goto out;
	while (wait_fd(fd, false, until)) {
		ssize_t k = recv(fd, m->in + m->in_len, sizeof(m->in) - 1 - m->in_len, 0);

		m->in_len += k > 0 ? (size_t)k : 0;
		if ((status = parse_answer(m, &body, k <= 0)) != 0)
			break;
	}
out:
	if (fd >= 0)
		close(fd);
	return status > 0 ? status : -1;
}

/* The connection went (or timed out) before an answer.  A stream that
 * did not all go cannot have been taken (the destination starts the
 * domain only after its END record); one that did is asked about. */
static void lost(struct migration *m, const char *why)
{
	int status;

	if (!all_sent(m))
		return failed(m, "destination_lost", "%s before the stream was all sent", why);
	status = ask(m);
	if (status == 200) {
		snprintf(m->message, sizeof(m->message), "%s after the whole stream; it runs there", why);
		return over(m, MR_MIGRATED, PV_DOMCTL_SAVE_DESTROY);
	}
	if (status == 404)
		return failed(m, "destination_lost", "%s after the whole stream; it did not start there", why);
	snprintf(m->code, sizeof(m->code), "destination_unknown");
	snprintf(m->message, sizeof(m->message), "%s after the whole stream, and the destination cannot be "
		 "asked whether it started there: the domain stays paused here (resume or delete it)", why);
	over(m, MR_UNKNOWN, PV_DOMCTL_SAVE_PAUSE);
}

/* ---- the loop --------------------------------------------------------------------- */

static void timed_out(struct migration *m)
{
	if (m->state == M_CONNECT)
		return failed(m, "unreachable", "cannot connect to %s within %d s", m->to_text, CONNECT_MS / 1000);
	lost(m, m->state == M_SEND ? "the destination took nothing for 15 s" : "no answer within 30 s");
}

static int fill_one(struct migration *m, fd_set *rd, fd_set *wr, int maxfd)
{
	if (m->state == M_SEND && !m->out.len && !m->last_queued)
		produce(m);
	if (m->state != M_OVER && now_ms() > m->deadline_ms)
		timed_out(m);
	if (m->state == M_OVER)
		return maxfd;
	if (m->state != M_ANSWER && m->out.len > m->out_off)
		FD_SET(m->fd, wr);
	if (m->state == M_CONNECT)
		FD_SET(m->fd, wr);
	else
		FD_SET(m->fd, rd);           /* an early refusal, or the answer */
	return m->fd > maxfd ? m->fd : maxfd;
}

int migrate_fill_sets(fd_set *rd, fd_set *wr, int maxfd)
{
	for (int i = 0; i < MIGRATIONS_MAX; i++)
		if (migrations[i].used && migrations[i].state != M_OVER)
			maxfd = fill_one(&migrations[i], rd, wr, maxfd);
	return maxfd;
}

static void service_one(struct migration *m, fd_set *rd, fd_set *wr)
{
	if (m->state == M_CONNECT && FD_ISSET(m->fd, wr))
		return connected(m);
	if (m->state == M_SEND && FD_ISSET(m->fd, wr))
		send_some(m);
	if ((m->state == M_SEND || m->state == M_ANSWER) && FD_ISSET(m->fd, rd))
		read_answer(m);
}

void migrate_service(fd_set *rd, fd_set *wr)
{
	for (int i = 0; i < MIGRATIONS_MAX; i++)
		if (migrations[i].used && migrations[i].state != M_OVER)
			service_one(&migrations[i], rd, wr);
}
