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
#include "clock.h"
#include "log.h"
#include "monproto.h"
#include "policy.h"
#include "store.h"
#include "util.h"
#include "worker.h"

enum mon_state {
	MS_NONE = 1 << 0,      /* no credentials yet */
	MS_PASSWORD = 1 << 1,  /* password given (right or wrong: only we know) */
	MS_AUTHED = 1 << 2,    /* both factors accepted */
};

struct mon_ctx {
	const struct conf *conf;
	struct store *store;
	int sock;
	int notify_fd;
	const char *src;
	enum mon_state state;
	/* The login being attempted; secrets in user are wiped on reset. */
	char relation[SD_RELATION_MAX + 1];
	char username[SD_USERNAME_MAX + 1];
	struct store_user user;
	bool password_ok;
	const char *cause; /* why the current attempt will fail, for the log */
	unsigned failures;
	unsigned passwords; /* password checks asked for (each costs argon2) */
	struct timespec started; /* when the current request arrived */
	const char *log_ctx;     /* "sid=... src=..." */
};

static void reset_attempt(struct mon_ctx *m)
{
	store_user_wipe(&m->user);
	m->relation[0] = '\0';
	m->username[0] = '\0';
	m->password_ok = false;
	m->cause = NULL;
	m->state = MS_NONE;
}

static void audit(struct mon_ctx *m, const char *event, const char *outcome,
		  const char *detail)
{
	int r = store_audit(m->store, clock_now(), m->relation[0] ? m->relation : NULL,
			    m->username[0] ? m->username : NULL, m->src, event, outcome,
			    detail);

	if (r < 0)
		log_event(LOG_ERR, "store_error", "op=audit err=%s", strerror(-r));
}

static int reply_status(struct mon_ctx *m, uint8_t status)
{
	struct mon_buf b;

	mon_buf_init(&b, status);
	return mon_send(m->sock, &b, -1);
}

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

static int on_password(struct mon_ctx *m, struct mon_buf *req)
{
	struct auth_argon2_cost cost = {
		(uint32_t)m->conf->argon2_t_cost,
		(uint32_t)m->conf->argon2_m_cost_kib,
		(uint32_t)m->conf->argon2_parallelism,
	};
	struct store_relation rel;
	const char *login, *pw;
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
	reset_attempt(m);
	m->state = MS_PASSWORD;
	if (pwlen > SD_PASSWORD_MAX) {
		m->cause = "password_too_long";
		pwlen = SD_PASSWORD_MAX; /* still spend the same work */
	}
	if (policy_parse_login(login, m->relation, m->username) < 0) {
		snprintf(m->username, sizeof(m->username), "%s", "");
		m->cause = "bad_login_syntax";
		log_event(LOG_AUTHPRIV | LOG_INFO, "auth_login", "login=%s", log_q(login));
		auth_password_dummy(&cost, pw, pwlen);
		return reply_status(m, MON_ST_CONTINUE);
	}
	r = store_relation_get(m->store, m->relation, &rel);
	if (r == 0)
		r = store_user_get(m->store, m->relation, m->username, &m->user);
	if (r < 0) {
		m->cause = r == -ENOENT ? "unknown_user" : "store_error";
		auth_password_dummy(&cost, pw, pwlen);
		return reply_status(m, MON_ST_CONTINUE);
	}
	m->password_ok = auth_password_verify(m->user.password_hash, pw, pwlen);
	if (!m->cause) {
		if (rel.disabled)
			m->cause = "relation_disabled";
		else if (m->user.disabled)
			m->cause = "user_disabled";
		else if (m->user.batch)
			m->cause = "batch_account_password";
		else if (!m->password_ok)
			m->cause = "bad_password";
	}
	return reply_status(m, MON_ST_CONTINUE);
}

static int deny(struct mon_ctx *m, const char *cause)
{
	bool final;

	m->failures++;
	final = m->failures >= (unsigned)m->conf->max_auth_tries;
	log_event(LOG_AUTHPRIV | LOG_NOTICE, "auth_fail", "relation=%s user=%s reason=%s%s",
		  m->relation[0] ? m->relation : "-", log_q(m->username), cause,
		  final ? " final=yes" : "");
	audit(m, "auth_fail", "denied", cause);
	reset_attempt(m);
	pad_delay(m);
	return reply_status(m, final ? MON_ST_DENIED_FINAL : MON_ST_DENIED);
}

static int on_code(struct mon_ctx *m, struct mon_buf *req)
{
	const char *code;
	int64_t step = 0;
	int64_t now = clock_now();
	int r;

	if (mon_get_str(req, &code, NULL) < 0 || mon_get_end(req) < 0)
		return -EBADMSG;
	if (m->cause)
		return deny(m, m->cause);
	if (m->user.totp_secret_len == 0)
		return deny(m, "totp_not_enrolled");
	if (auth_totp_check(m->user.totp_secret, m->user.totp_secret_len, code, now,
			    (unsigned)m->conf->totp_window, &step) != AUTH_TOTP_MATCH)
		return deny(m, "bad_code");
	r = store_user_use_totp_step(m->store, m->user.id, step);
	if (r < 0)
		return deny(m, "store_error");
	if (r == 0)
		return deny(m, "reused_code");
	store_user_record_login(m->store, m->user.id, now, m->src);
	m->state = MS_AUTHED;
	store_user_wipe(&m->user);
	{
		char ctx[256];

		/* Every later line of this connection names the account. */
		snprintf(ctx, sizeof(ctx), "%s relation=%s user=%s", m->log_ctx, m->relation,
			 log_q(m->username));
		log_set_context(ctx);
		log_event(LOG_AUTHPRIV | LOG_INFO, "auth_ok", "method=password+totp");
	}
	audit(m, "auth_ok", "ok", "password+totp");
	if (m->notify_fd >= 0) {
		pid_t me = getpid();

		if (write(m->notify_fd, &me, sizeof(me)) != sizeof(me))
			log_event(LOG_WARNING, "notify_failed", "err=%s", strerror(errno));
	}
	return reply_status(m, MON_ST_OK);
}

static int on_open_root(struct mon_ctx *m, struct mon_buf *req)
{
	struct mon_buf b;
	char path[4096];
	int fd;
	int r;

	if (mon_get_end(req) < 0)
		return -EBADMSG;
	snprintf(path, sizeof(path), "%s/%s", m->conf->upload_root, m->relation);
	if (mkdir(path, 0750) < 0 && errno != EEXIST) {
		log_event(LOG_ERR, "root_error", "path=%s err=%s", log_q(path), strerror(errno));
		return -errno;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		log_event(LOG_ERR, "root_error", "path=%s err=%s", log_q(path), strerror(errno));
		return -errno;
	}
	mon_buf_init(&b, MON_ST_OK);
	mon_put_cstr(&b, m->relation);
	mon_put_cstr(&b, m->username);
	r = mon_send(m->sock, &b, fd);
	close(fd);
	return r;
}

static int on_upload(struct mon_ctx *m, struct mon_buf *req)
{
	const char *name;
	uint64_t size, dev, ino;
	int r;

	if (mon_get_str(req, &name, NULL) < 0 || mon_get_u64(req, &size) < 0 ||
	    mon_get_u64(req, &dev) < 0 || mon_get_u64(req, &ino) < 0 || mon_get_end(req) < 0)
		return -EBADMSG;
	r = store_upload_received(m->store, m->relation, m->username, name, size, dev, ino,
				  clock_now());
	if (r < 0)
		log_event(LOG_ERR, "store_error", "op=upload_received name=%s err=%s",
			  log_q(name), strerror(-r));
	return reply_status(m, r < 0 ? MON_ST_DENIED : MON_ST_OK);
}

/* The fixed request table: type, handler, states in which it may come. */
static const struct mon_handler {
	uint8_t type;
	int (*fn)(struct mon_ctx *m, struct mon_buf *req);
	unsigned states;
} mon_table[] = {
	{ MON_AUTH_PASSWORD, on_password, MS_NONE | MS_PASSWORD },
	{ MON_AUTH_CODE, on_code, MS_PASSWORD },
	{ MON_OPEN_ROOT, on_open_root, MS_AUTHED },
	{ MON_UPLOAD, on_upload, MS_AUTHED },
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
	r = serve(&m, worker);
	authed = m.state == MS_AUTHED;
	reset_attempt(&m);
	while (waitpid(worker, &status, 0) < 0 && errno == EINTR)
		;
	store_close(m.store);
	log_event(LOG_INFO, "connection_end", "authenticated=%s worker_status=%d%s",
		  authed ? "yes" : "no",
		  WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
		  r < 0 ? " monitor=error" : "");
	_exit(0);
}
