/* The monitor: one per connection. It forks the worker, which talks to the
 * network, and answers only the requests in mon_table, in the states each is
 * allowed in. Secrets (hashes, TOTP seeds) never leave this process. */
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "auth_pubkey.h"
#include "i18n.h"
#include "login.h"
#include "clock.h"
#include "log.h"
#include "monproto.h"
#include "policy.h"
#include "store.h"
#include "util.h"
#include "worker.h"

/* WAL pages (4 KiB) past which a monitor checkpoints itself; ingest does it
 * long before (SQLite's default, 1000). */
#define MON_CHECKPOINT_PAGES 16000

enum mon_state {
	MS_NONE = 1 << 0,     /* no login attempt under way */
	MS_DIALOGUE = 1 << 1, /* password given; rounds follow */
	MS_AUTHED = 1 << 2,   /* logged in */
};

struct mon_ctx {
	const struct conf *conf;
	struct store *store;
	int sock;
	int notify_fd;
	const char *src;
	enum mon_state state;
	struct login login;
	unsigned passwords; /* password checks asked for (each costs argon2) */
	struct timespec started; /* when the current request arrived */
	const char *log_ctx;     /* "sid=... src=..." */
	bool birth_times;        /* the relation's file system keeps them (statx) */
};

/* Refusals leave after the same delay from the request, whatever the cause. */
static void pad_delay(struct mon_ctx *m)
{
	struct timespec until;
	int64_t ms = m->conf->auth_fail_delay_ms;

	until = m->started;
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
		;
}

static int reply_status(struct mon_ctx *m, uint8_t status)
{
	struct mon_buf b;

	mon_buf_init(&b, status);
	return mon_send(m->sock, &b, -1);
}

/* how: "method=..." and what else the auth_ok line says. */
static void logged_in(struct mon_ctx *m, const char *how)
{
	char ctx[256];

	m->state = MS_AUTHED;
	/* Every later line of this connection names the account. */
	snprintf(ctx, sizeof(ctx), "%s relation=%s user=%s", m->log_ctx, m->login.relation,
		 log_q(m->login.username));
	log_set_context(ctx);
	log_event(LOG_AUTHPRIV | LOG_INFO, "auth_ok", "%s", how);
	if (m->notify_fd >= 0) {
		pid_t me = getpid();

		if (write(m->notify_fd, &me, sizeof(me)) != sizeof(me))
			log_event(LOG_WARNING, "notify_failed", "err=%s", strerror(errno));
	}
}

/* Send the outcome of a dialogue step, with the next round if it continues. */
static int reply_login(struct mon_ctx *m, enum login_result res,
		       const struct dialog_round *next)
{
	struct mon_buf b;
	int r;

	switch (res) {
	case LOGIN_CONTINUE:
		m->state = MS_DIALOGUE;
		mon_buf_init(&b, MON_ST_CONTINUE);
		mon_put_cstr(&b, next->instruction);
		mon_put_cstr(&b, next->prompt);
		mon_put_u8(&b, (uint8_t)next->n_prompts);
		r = mon_put_u8(&b, next->echo);
		if (r == 0)
			r = mon_send(m->sock, &b, -1);
		mon_buf_wipe(&b); /* an enrolment round carries the new TOTP secret */
		return r;
	case LOGIN_OK:
		logged_in(m, "method=password+totp");
		mon_buf_init(&b, MON_ST_OK);
		break;
	case LOGIN_DENIED:
	case LOGIN_DENIED_FINAL:
		m->state = MS_NONE;
		pad_delay(m);
		mon_buf_init(&b, res == LOGIN_DENIED ? MON_ST_DENIED : MON_ST_DENIED_FINAL);
		break;
	}
	return mon_send(m->sock, &b, -1);
}

static int on_password(struct mon_ctx *m, struct mon_buf *req)
{
	struct dialog_round next;
	const char *login, *pw;
	enum login_result res;
	size_t pwlen;
	int r;

	if (mon_get_str(req, &login, NULL) < 0 || mon_get_str(req, &pw, &pwlen) < 0 ||
	    mon_get_end(req) < 0)
		return -EBADMSG;
	if (++m->passwords > 2 * (unsigned)m->conf->max_auth_tries) {
		log_event(LOG_AUTHPRIV | LOG_NOTICE, "auth_abuse",
			  "reason=too_many_password_requests");
		return -EPERM;
	}
	res = login_password(&m->login, login, pw, pwlen, &next);
	r = reply_login(m, res, &next);
	explicit_bzero(&next, sizeof(next));
	return r;
}

static int on_answer(struct mon_ctx *m, struct mon_buf *req)
{
	struct dialog_round next;
	const char *answer = NULL;
	enum login_result res;
	uint8_t answered;
	int r;

	if (mon_get_u8(req, &answered) < 0 || mon_get_str(req, &answer, NULL) < 0 ||
	    mon_get_end(req) < 0)
		return -EBADMSG;
	res = login_answer(&m->login, answered ? answer : NULL, &next);
	r = reply_login(m, res, &next);
	explicit_bzero(&next, sizeof(next));
	return r;
}

/* A batch account's key: a query (may it?) or, with the signature verified
 * by libssh in the worker, the login itself (auth_pubkey.c decides). */
static int on_pubkey(struct mon_ctx *m, struct mon_buf *req)
{
	const char *login, *type, *b64;
	char fp[STORE_FINGERPRINT_MAX], how[128];
	enum login_result res;
	uint8_t verified;

	if (mon_get_str(req, &login, NULL) < 0 || mon_get_str(req, &type, NULL) < 0 ||
	    mon_get_str(req, &b64, NULL) < 0 || mon_get_u8(req, &verified) < 0 ||
	    mon_get_end(req) < 0 || verified > 1)
		return -EBADMSG;
	/* Any dialogue under way is abandoned (auth_pubkey_login resets it). */
	m->state = MS_NONE;
	res = auth_pubkey_login(&m->login, login, type, b64, verified != 0, fp);
	switch (res) {
	case LOGIN_OK:
		if (!verified)
			return reply_status(m, MON_ST_OK);
		snprintf(how, sizeof(how), "method=publickey fingerprint=%s", fp);
		logged_in(m, how);
		return reply_status(m, MON_ST_OK);
	case LOGIN_DENIED:
	case LOGIN_DENIED_FINAL:
		pad_delay(m);
		return reply_status(m, res == LOGIN_DENIED ? MON_ST_DENIED : MON_ST_DENIED_FINAL);
	case LOGIN_CONTINUE:
		break;
	}
	return -EPROTO;
}

static int on_open_root(struct mon_ctx *m, struct mon_buf *req)
{
	struct statx sx;
	struct mon_buf b;
	char path[4096];
	int fd;
	int r;

	if (mon_get_end(req) < 0)
		return -EBADMSG;
	snprintf(path, sizeof(path), "%s/%s", m->conf->upload_root, m->login.relation);
	if (mkdir(path, 0750) < 0 && errno != EEXIST) {
		log_event(LOG_ERR, "root_error", "path=%s err=%s", log_q(path), strerror(errno));
		return -errno;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		log_event(LOG_ERR, "root_error", "path=%s err=%s", log_q(path), strerror(errno));
		return -errno;
	}
	m->birth_times = statx(fd, "", AT_EMPTY_PATH, STATX_BTIME, &sx) == 0 &&
			 (sx.stx_mask & STATX_BTIME);
	mon_buf_init(&b, MON_ST_OK);
	mon_put_cstr(&b, m->login.relation);
	mon_put_cstr(&b, m->login.username);
	r = mon_send(m->sock, &b, fd);
	close(fd);
	return r;
}

static int on_upload(struct mon_ctx *m, struct mon_buf *req)
{
	const char *name;
	uint64_t size, dev, ino;
	bool lax;
	int r;

	if (mon_get_str(req, &name, NULL) < 0 || mon_get_u64(req, &size) < 0 ||
	    mon_get_u64(req, &dev) < 0 || mon_get_u64(req, &ino) < 0 || mon_get_end(req) < 0)
		return -EBADMSG;
	/* Asked before the final name exists (sftp_handlers.c: publish), so
	 * that ingest never finds a published file the store does not know.
	 * Without sync_on_close the upload itself is not durable at CLOSE, so
	 * neither need its row be: a row lost to a power failure leaves a file
	 * that ingest claims as unknown (store_upload_claim_file), while any
	 * later durable commit (ingest's) carries this one to disk too. Only
	 * where birth times tell a new file on a reused inode from the earlier
	 * upload of that inode: without them, the earlier row would make ingest
	 * take the new file for one it has ingested already. */
	lax = !m->conf->sync_on_close && m->birth_times;
	if (lax)
		store_set_durable(m->store, false);
	r = store_upload_received_from(m->store, m->login.relation, m->login.username, m->src,
				       name, size, dev, ino, clock_now());
	if (lax)
		store_set_durable(m->store, true);
	if (r < 0)
		log_event(LOG_ERR, "store_error", "op=upload_received name=%s err=%s",
			  log_q(name), strerror(-r));
	return reply_status(m, r < 0 ? MON_ST_DENIED : MON_ST_OK);
}

static int on_upload_abort(struct mon_ctx *m, struct mon_buf *req)
{
	uint64_t dev, ino;
	int r;

	if (mon_get_u64(req, &dev) < 0 || mon_get_u64(req, &ino) < 0 || mon_get_end(req) < 0)
		return -EBADMSG;
	r = store_upload_forget(m->store, m->login.relation, dev, ino);
	if (r < 0)
		log_event(LOG_ERR, "store_error", "op=upload_forget err=%s", strerror(-r));
	return reply_status(m, r < 0 ? MON_ST_DENIED : MON_ST_OK);
}

/* The fixed request table: type, handler, states in which it may come. */
static const struct mon_handler {
	uint8_t type;
	int (*fn)(struct mon_ctx *m, struct mon_buf *req);
	unsigned states;
} mon_table[] = {
	{ MON_AUTH_PASSWORD, on_password, MS_NONE | MS_DIALOGUE },
	{ MON_AUTH_ANSWER, on_answer, MS_DIALOGUE },
	{ MON_AUTH_PUBKEY, on_pubkey, MS_NONE | MS_DIALOGUE },
	{ MON_OPEN_ROOT, on_open_root, MS_AUTHED },
	{ MON_UPLOAD, on_upload, MS_AUTHED },
	{ MON_UPLOAD_ABORT, on_upload_abort, MS_AUTHED },
};

static int dispatch(struct mon_ctx *m, struct mon_buf *req)
{
	uint8_t type = req->data[0];

	for (size_t i = 0; i < sizeof(mon_table) / sizeof(mon_table[0]); i++) {
		if (mon_table[i].type != type)
			continue;
		if (!(mon_table[i].states & m->state))
			break;
		return mon_table[i].fn(m, req);
	}
	log_event(LOG_AUTHPRIV | LOG_WARNING, "monitor_violation", "type=%u state=%u",
		  (unsigned)type, (unsigned)m->state);
	return -EPERM;
}

/* A source banned after too many failures is refused before any dialogue. */
static bool banned(struct mon_ctx *m)
{
	struct store_ban b;
	struct policy_ban pb;
	char until[32];

	if (store_ban_get(m->store, m->src, &b) < 0)
		return false;
	pb = (struct policy_ban){ b.failures, b.window_start, b.banned_until };
	if (!policy_is_banned(&pb, clock_now()))
		return false;
	util_iso8601(b.banned_until, until, sizeof(until));
	log_event(LOG_AUTHPRIV | LOG_NOTICE, "connection_refused", "reason=banned until=%s",
		  until);
	return true;
}

static int serve(struct mon_ctx *m, pid_t worker)
{
	struct timespec t0;
	struct mon_buf *req = malloc(sizeof(*req));
	int r = 0;

	if (!req)
		return -ENOMEM;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { .fd = m->sock, .events = POLLIN };
		int timeout = -1;

		if (m->state != MS_AUTHED) {
			struct timespec now;
			int64_t left;

			clock_gettime(CLOCK_MONOTONIC, &now);
			left = m->conf->login_grace_time * 1000 -
			       ((now.tv_sec - t0.tv_sec) * 1000 +
				(now.tv_nsec - t0.tv_nsec) / 1000000);
			if (left <= 0) {
				log_event(LOG_AUTHPRIV | LOG_NOTICE, "login_timeout",
					  "grace=%llds", (long long)m->conf->login_grace_time);
				r = -ETIMEDOUT;
				break;
			}
			timeout = (int)left;
		}
		r = poll(&p, 1, timeout);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			continue;
		r = mon_recv(m->sock, req, NULL);
		if (r < 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &m->started);
		r = dispatch(m, req);
		mon_buf_wipe(req);
		if (r < 0)
			break;
	}
	mon_buf_wipe(req);
	free(req);
	if (r != -EPIPE)
		kill(worker, SIGKILL);
	return r == -EPIPE ? 0 : r;
}

_Noreturn void srv_monitor_main(const struct conf *c, ssh_bind bind, struct srv_conn *conn)
{
	struct mon_ctx m = { .conf = c, .notify_fd = conn->notify_fd, .src = conn->src,
			     .state = MS_NONE, .sock = -1 };
	uint8_t sid_raw[6];
	char sid[13], ctx[128];
	int sv[2];
	pid_t worker;
	bool authed;
	int status = 0;
	int r;

	for (unsigned i = 0; i < conn->n_close_fds; i++)
		close(conn->close_fds[i]);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	util_random(sid_raw, sizeof(sid_raw));
	util_hex(sid_raw, sizeof(sid_raw), sid);
	snprintf(ctx, sizeof(ctx), "sid=%s src=%s", sid, conn->src);
	log_set_context(ctx);
	m.log_ctx = ctx;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_event(LOG_ERR, "monitor_error", "op=socketpair err=%s", strerror(errno));
		_exit(1);
	}
	worker = fork();
	if (worker < 0) {
		log_event(LOG_ERR, "monitor_error", "op=fork err=%s", strerror(errno));
		_exit(1);
	}
	if (worker == 0) {
		close(sv[0]);
		if (conn->notify_fd >= 0)
			close(conn->notify_fd);
		srv_worker_main(c, bind, conn->fd, sv[1], conn->src);
	}
	close(sv[1]);
	close(conn->fd);
	ssh_bind_free(bind); /* host keys stay with the worker that needs them */
	m.sock = sv[0];
	/* The store is opened only now: the worker never had the handle. */
	r = store_open(c->database, false, &m.store);
	if (r < 0) {
		log_event(LOG_ERR, "store_error", "op=open path=%s err=%s", log_q(c->database),
			  strerror(-r));
		kill(worker, SIGKILL);
		waitpid(worker, &status, 0);
		_exit(1);
	}
	/* Checkpoints are left to sftpdrop-ingest, which commits after every
	 * batch anyway: a monitor doing one would hold up the CLOSE it records
	 * for a few ms. It still does one if the log grows past this much
	 * (ingest stopped). */
	store_set_checkpoint_pages(m.store, MON_CHECKPOINT_PAGES);
	if (i18n_init(c->language) < 0)
		log_event(LOG_WARNING, "catalog_missing", "language=%s", c->language);
	login_init(&m.login, c, m.store, conn->src);
	if (banned(&m)) {
		kill(worker, SIGKILL);
		r = 0;
	} else {
		r = serve(&m, worker);
	}
	authed = m.state == MS_AUTHED;
	login_reset(&m.login);
	while (waitpid(worker, &status, 0) < 0 && errno == EINTR)
		;
	store_close(m.store);
	log_event(LOG_INFO, "connection_end", "authenticated=%s worker_status=%d%s",
		  authed ? "yes" : "no",
		  WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
		  r < 0 ? " monitor=error" : "");
	_exit(0);
}
