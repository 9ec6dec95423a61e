/* The worker: runs the SSH transport with libssh, relays credentials to the
 * monitor (it never learns which factor failed), then serves SFTP on one
 * session channel, confined to the relation directory. */
#include "worker.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "defs.h"
#include "log.h"
#include "monproto.h"
#include "sandbox.h"
#include "sftp.h"

#define PROMPT_PASSWORD "Password: "
/* What a client may try: keys (batch accounts), the password (people). */
#define AUTH_METHODS \
	(SSH_AUTH_METHOD_PUBLICKEY | SSH_AUTH_METHOD_PASSWORD | SSH_AUTH_METHOD_INTERACTIVE)

enum pending { PEND_NONE, PEND_PASSWORD, PEND_ROUND };

/* The next keyboard-interactive round, as the monitor described it. */
struct round {
	char instruction[2048];
	char prompt[64];
	unsigned n_prompts;
	bool echo;
};

struct worker {
	const struct conf *conf;
	ssh_session s;
	int monfd;
	char login[SD_LOGIN_MAX];
	bool have_login;
	bool have_round; /* the monitor gave a round the client has not seen */
	struct round round;
	enum pending pending;
	ssh_channel chan;
	int rootfd;
};

static _Noreturn void worker_exit(struct worker *w, int code)
{
	if (w->s) {
		ssh_disconnect(w->s);
		ssh_free(w->s);
	}
	_exit(code);
}

/* Ask the monitor one question; returns the status byte or -errno. */
static int ask(struct worker *w, struct mon_buf *b, int *fd_out)
{
	uint8_t status;
	int r = mon_send(w->monfd, b, -1);

	mon_buf_wipe(b); /* may have carried a password or code */
	if (r < 0)
		return r;
	r = mon_recv(w->monfd, b, fd_out);
	if (r < 0)
		return r;
	status = b->data[0];
	return status;
}

/* Read the round that follows a MON_ST_CONTINUE status. */
static int take_round(struct worker *w, struct mon_buf *b)
{
	const char *instruction, *prompt;
	uint8_t n, echo;

	if (mon_get_str(b, &instruction, NULL) < 0 || mon_get_str(b, &prompt, NULL) < 0 ||
	    mon_get_u8(b, &n) < 0 || mon_get_u8(b, &echo) < 0 || mon_get_end(b) < 0 || n > 1)
		return -EBADMSG;
	snprintf(w->round.instruction, sizeof(w->round.instruction), "%s", instruction);
	snprintf(w->round.prompt, sizeof(w->round.prompt), "%s", prompt);
	w->round.n_prompts = n;
	w->round.echo = echo != 0;
	w->have_round = true;
	mon_buf_wipe(b);
	return MON_ST_CONTINUE;
}

/* Ask, and keep the next round if the dialogue continues. */
static int ask_dialogue(struct worker *w, struct mon_buf *b)
{
	int st = ask(w, b, NULL);

	return st == MON_ST_CONTINUE ? take_round(w, b) : st;
}

static int ask_password(struct worker *w, const char *pw)
{
	struct mon_buf b;

	mon_buf_init(&b, MON_AUTH_PASSWORD);
	if (mon_put_cstr(&b, w->login) < 0 || mon_put_cstr(&b, pw ? pw : "") < 0) {
		/* An over-long password still counts as an attempt. */
		mon_buf_wipe(&b);
		mon_buf_init(&b, MON_AUTH_PASSWORD);
		mon_put_cstr(&b, w->login);
		mon_put_cstr(&b, "\x01");
	}
	return ask_dialogue(w, &b);
}

/* answer NULL: the client answered a round without prompts. */
static int ask_answer(struct worker *w, const char *answer)
{
	struct mon_buf b;

	mon_buf_init(&b, MON_AUTH_ANSWER);
	mon_put_u8(&b, answer != NULL);
	if (mon_put_cstr(&b, answer ? answer : "") < 0) {
		mon_buf_init(&b, MON_AUTH_ANSWER);
		mon_put_u8(&b, 1);
		mon_put_cstr(&b, "");
	}
	return ask_dialogue(w, &b);
}

static void wipe_str(const char *s)
{
	/* Answers live in libssh's buffers; scrub them once relayed. */
	if (s)
		explicit_bzero((char *)s, strlen(s));
}

/* The first round of keyboard-interactive alone: the password. */
static int ask_client_password(ssh_message msg, struct worker *w)
{
	const char *prompts[1] = { PROMPT_PASSWORD };
	char echo[1] = { 0 };

	w->pending = PEND_PASSWORD;
	return ssh_message_auth_interactive_request(msg, "", "", 1, prompts, echo);
}

/* Show the client the round the monitor asked for. */
static int send_round(ssh_message msg, struct worker *w)
{
	const char *prompts[1] = { w->round.prompt };
	char echo[1] = { w->round.echo };

	w->pending = PEND_ROUND;
	w->have_round = false;
	return ssh_message_auth_interactive_request(msg, "", w->round.instruction,
						    w->round.n_prompts, prompts, echo);
}

static void auth_failed(struct worker *w, ssh_message msg, int status)
{
	w->have_round = false;
	w->pending = PEND_NONE;
	ssh_set_auth_methods(w->s, AUTH_METHODS);
	ssh_message_reply_default(msg);
	if (status == MON_ST_DENIED_FINAL || status < 0) {
		ssh_message_free(msg);
		worker_exit(w, 0);
	}
}

/* The login name must stay the same for the whole connection. A name too
 * long to be a login is kept as "" (which the monitor refuses as malformed),
 * so that it still compares equal to itself on the next attempt. */
static bool take_login(struct worker *w, const char *user)
{
	const char *name = user && strlen(user) < sizeof(w->login) ? user : "";

	if (!user)
		return w->have_login;
	if (w->have_login)
		return strcmp(w->login, name) == 0;
	snprintf(w->login, sizeof(w->login), "%s", name);
	w->have_login = true;
	return true;
}

/* Ask the monitor about the key of a publickey request; verified: libssh
 * has checked the signature. The status, or -errno. */
static int ask_pubkey(struct worker *w, ssh_key key, bool verified)
{
	const char *type = ssh_key_type_to_char(ssh_key_type(key));
	struct mon_buf b;
	char *b64 = NULL;
	int r;

	if (!type || ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		return MON_ST_DENIED; /* not a key libssh can describe: no */
	mon_buf_init(&b, MON_AUTH_PUBKEY);
	r = mon_put_cstr(&b, w->login);
	if (r == 0)
		r = mon_put_cstr(&b, type);
	if (r == 0)
		r = mon_put_cstr(&b, b64);
	if (r == 0)
		r = mon_put_u8(&b, verified ? 1 : 0);
	ssh_string_free_char(b64);
	if (r < 0)
		return MON_ST_DENIED; /* too big for any key we accept */
	return ask(w, &b, NULL);
}

/* A publickey request (batch accounts). Without a signature it is a query,
 * answered with PK_OK when the monitor says the key would do; with one
 * (already verified by libssh, else it never gets here) it is the login. */
static bool on_pubkey(struct worker *w, ssh_message msg)
{
	ssh_key key = ssh_message_auth_pubkey(msg);
	enum ssh_publickey_state_e state = ssh_message_auth_publickey_state(msg);
	int st;

	/* Keys and passwords do not mix: a password dialogue under way is over. */
	w->have_round = false;
	w->pending = PEND_NONE;
	if (!key || (state != SSH_PUBLICKEY_STATE_NONE && state != SSH_PUBLICKEY_STATE_VALID)) {
		auth_failed(w, msg, MON_ST_DENIED);
		return false;
	}
	st = ask_pubkey(w, key, state == SSH_PUBLICKEY_STATE_VALID);
	if (st != MON_ST_OK) {
		auth_failed(w, msg, st);
		return false;
	}
	if (state == SSH_PUBLICKEY_STATE_NONE) {
		ssh_message_auth_reply_pk_ok_simple(msg);
		return false;
	}
	ssh_message_auth_reply_success(msg, 0);
	return true;
}

/* One authentication message. Returns true once authenticated. */
static bool on_auth(struct worker *w, ssh_message msg)
{
	int sub = ssh_message_subtype(msg);
	int st;

	if (sub == SSH_AUTH_METHOD_INTERACTIVE && ssh_message_auth_kbdint_is_response(msg)) {
		int n = ssh_userauth_kbdint_getnanswers(w->s);
		const char *ans = n == 1 ? ssh_userauth_kbdint_getanswer(w->s, 0) : NULL;

		if (w->pending == PEND_PASSWORD && n == 1) {
			st = ask_password(w, ans);
		} else if (w->pending == PEND_ROUND && n >= 0 &&
			   (unsigned)n == w->round.n_prompts) {
			st = ask_answer(w, ans);
		} else {
			auth_failed(w, msg, MON_ST_DENIED);
			return false;
		}
		wipe_str(ans);
		if (st == MON_ST_CONTINUE) {
			send_round(msg, w);
			return false;
		}
		if (st == MON_ST_OK) {
			ssh_message_auth_reply_success(msg, 0);
			return true;
		}
		auth_failed(w, msg, st);
		return false;
	}
	if (!take_login(w, ssh_message_auth_user(msg))) {
		log_event(LOG_AUTHPRIV | LOG_NOTICE, "auth_fail",
			  "reason=login_changed login=%s", log_q(ssh_message_auth_user(msg)));
		auth_failed(w, msg, MON_ST_DENIED_FINAL);
		return false;
	}
	switch (sub) {
	case SSH_AUTH_METHOD_PASSWORD: {
		const char *pw = ssh_message_auth_password(msg);

		st = ask_password(w, pw);
		wipe_str(pw);
		if (st != MON_ST_CONTINUE) {
			auth_failed(w, msg, st);
			return false;
		}
		/* Partial success whatever the password was: only the final
		 * answer, after the last round, says yes or no. */
		ssh_set_auth_methods(w->s, SSH_AUTH_METHOD_INTERACTIVE);
		ssh_message_auth_reply_success(msg, 1);
		return false;
	}
	case SSH_AUTH_METHOD_INTERACTIVE:
		if (w->have_round)
			send_round(msg, w);
		else
			ask_client_password(msg, w);
		return false;
	case SSH_AUTH_METHOD_PUBLICKEY:
		return on_pubkey(w, msg);
	default:
		/* none, hostbased, gssapi */
		ssh_message_reply_default(msg);
		return false;
	}
}

static void authenticate(struct worker *w)
{
	ssh_set_auth_methods(w->s, AUTH_METHODS);
	for (;;) {
		ssh_message msg = ssh_message_get(w->s);
		bool done = false;

		if (!msg) {
			log_event(LOG_INFO, "disconnect", "stage=auth reason=%s",
				  log_q(ssh_get_error(w->s)));
			worker_exit(w, 0);
		}
		if (ssh_message_type(msg) == SSH_REQUEST_AUTH)
			done = on_auth(w, msg);
		else
			ssh_message_reply_default(msg); /* service request is accepted here */
		ssh_message_free(msg);
		if (done)
			return;
	}
}

/* After authentication: wait for one session channel with the sftp
 * subsystem; everything else (shell, exec, pty, forwarding) is refused. */
static void open_sftp_channel(struct worker *w)
{
	for (;;) {
		ssh_message msg = ssh_message_get(w->s);
		int type, sub;

		if (!msg)
			worker_exit(w, 0);
		type = ssh_message_type(msg);
		sub = ssh_message_subtype(msg);
		if (type == SSH_REQUEST_CHANNEL_OPEN && sub == SSH_CHANNEL_SESSION && !w->chan) {
			w->chan = ssh_message_channel_request_open_reply_accept(msg);
		} else if (type == SSH_REQUEST_CHANNEL && w->chan &&
			   ssh_message_channel_request_channel(msg) == w->chan &&
			   sub == SSH_CHANNEL_REQUEST_SUBSYSTEM &&
			   strcmp(ssh_message_channel_request_subsystem(msg), "sftp") == 0) {
			ssh_message_channel_request_reply_success(msg);
			ssh_message_free(msg);
			return;
		} else if (type == SSH_REQUEST_CHANNEL && sub == SSH_CHANNEL_REQUEST_ENV) {
			ssh_message_reply_default(msg); /* LANG and friends: quietly no */
		} else {
			log_event(LOG_NOTICE, "request_refused", "type=%d subtype=%d", type, sub);
			ssh_message_reply_default(msg);
		}
		ssh_message_free(msg);
	}
}

/* While SFTP runs, other requests (a second channel, a shell) are refused:
 * one SFTP channel per connection is served (clients that want more, such
 * as OpenSSH's ControlMaster, open another connection when refused). */
static int refuse_message(ssh_session s, ssh_message msg, void *ud)
{
	int type = ssh_message_type(msg);

	(void)s;
	(void)ud;
	log_event(LOG_NOTICE, "request_refused", "type=%d subtype=%d stage=sftp reason=%s",
		  type, ssh_message_subtype(msg),
		  type == SSH_REQUEST_CHANNEL_OPEN ? "channel_limit" : "not_allowed");
	return 1; /* libssh sends the default (negative) reply */
}

static ssize_t chan_read(void *ctx, void *buf, size_t len)
{
	struct worker *w = ctx;
	int n;

	if (len > INT32_MAX)
		len = INT32_MAX;
	n = ssh_channel_read_timeout(w->chan, buf, (uint32_t)len, 0,
				     (int)(w->conf->idle_timeout * 1000));
	if (n == SSH_ERROR)
		/* The client went away without closing the channel first. */
		return ssh_is_connected(w->s) && !ssh_channel_is_closed(w->chan) ? -EIO
										 : -ECONNRESET;
	if (n == 0) {
		if (ssh_channel_is_eof(w->chan) || ssh_channel_is_closed(w->chan))
			return 0;
		return -ETIMEDOUT;
	}
	return n;
}

static int chan_write(void *ctx, const void *buf, size_t len)
{
	struct worker *w = ctx;
	const char *p = buf;

	while (len > 0) {
		uint32_t chunk = len > (1u << 20) ? (1u << 20) : (uint32_t)len;
		int n = ssh_channel_write(w->chan, p, chunk);

		if (n == SSH_ERROR || n <= 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int on_published(void *ctx, const char *path, uint64_t size, uint64_t dev,
			uint64_t ino)
{
	struct worker *w = ctx;
	struct mon_buf b;
	int st;

	mon_buf_init(&b, MON_UPLOAD);
	if (mon_put_cstr(&b, path) < 0 || mon_put_u64(&b, size) < 0 ||
	    mon_put_u64(&b, dev) < 0 || mon_put_u64(&b, ino) < 0) {
		log_event(LOG_ERR, "upload_not_recorded", "path=%s reason=too_long", log_q(path));
		return -ENAMETOOLONG;
	}
	st = ask(w, &b, NULL);
	if (st != MON_ST_OK) {
		log_event(LOG_ERR, "upload_not_recorded", "path=%s status=%d", log_q(path), st);
		return -EIO;
	}
	return 0;
}

static void on_unpublished(void *ctx, uint64_t dev, uint64_t ino)
{
	struct worker *w = ctx;
	struct mon_buf b;

	mon_buf_init(&b, MON_UPLOAD_ABORT);
	mon_put_u64(&b, dev);
	mon_put_u64(&b, ino);
	if (ask(w, &b, NULL) != MON_ST_OK)
		log_event(LOG_ERR, "upload_not_forgotten", "ino=%llu", (unsigned long long)ino);
}

static int get_root(struct worker *w)
{
	struct mon_buf b;
	int fd = -1;
	int st;

	mon_buf_init(&b, MON_OPEN_ROOT);
	st = ask(w, &b, &fd);
	if (st != MON_ST_OK || fd < 0) {
		if (fd >= 0)
			close(fd);
		return -EACCES;
	}
	return fd;
}

static void serve_sftp(struct worker *w)
{
	struct srv_sftp_limits lim = {
		.max_packet = (uint32_t)w->conf->sftp_max_packet,
		.max_handles = (uint32_t)w->conf->sftp_max_handles,
		.allow_download = w->conf->allow_download,
		.sync_on_close = w->conf->sync_on_close,
		.max_file_size = (uint64_t)w->conf->max_file_size,
		.quota = (uint64_t)w->conf->relation_quota,
		.max_path = (uint32_t)w->conf->sftp_max_path,
		.max_depth = (uint32_t)w->conf->sftp_max_depth,
	};
	struct srv_sftp_io io = { .ctx = w, .read = chan_read, .write = chan_write,
				  .published = on_published, .unpublished = on_unpublished };
	int abi = 0;
	int r;

	/* Read the time zone before Landlock hides /etc/localtime (ls -l dates). */
	tzset();
	r = srv_sandbox_worker(w->rootfd, &abi);
	if (r < 0) {
		log_event(LOG_ERR, "sandbox_failed", "err=%s", strerror(-r));
		worker_exit(w, 1);
	}
	log_event(LOG_INFO, "sftp_start", "landlock=%d", abi);
	ssh_set_message_callback(w->s, refuse_message, NULL);
	r = srv_sftp_serve(w->rootfd, &lim, &io);
	if (r == 0 || r == -ECONNRESET || r == -ETIMEDOUT)
		log_event(LOG_INFO, "sftp_end", "reason=%s",
			  r == 0 ? "eof" : r == -ECONNRESET ? "disconnect" : "idle_timeout");
	else
		log_event(LOG_WARNING, "sftp_end", "reason=error err=%s", strerror(-r));
	if (ssh_channel_is_open(w->chan)) {
		ssh_channel_request_send_exit_status(w->chan, r == 0 ? 0 : 1);
		ssh_channel_send_eof(w->chan);
		ssh_channel_close(w->chan);
	}
	if (r == 0) {
		/* Let the client close the connection, as it expects once its
		 * only channel is closed; hanging up first makes OpenSSH print
		 * "closed by remote host". Bounded: 2 s. */
		long linger = 2;
		ssh_message msg;

		ssh_options_set(w->s, SSH_OPTIONS_TIMEOUT, &linger);
		alarm(3);
		while ((msg = ssh_message_get(w->s)) != NULL) {
			ssh_message_reply_default(msg);
			ssh_message_free(msg);
		}
		alarm(0);
	}
}

static void session_options(struct worker *w)
{
	ssh_options_set(w->s, SSH_OPTIONS_COMPRESSION_C_S, "none");
	ssh_options_set(w->s, SSH_OPTIONS_COMPRESSION_S_C, "none");
}

_Noreturn void srv_worker_main(const struct conf *c, ssh_bind bind, int fd, int monfd,
			       const char *src)
{
	struct worker w = { .conf = c, .monfd = monfd, .rootfd = -1 };

	(void)src;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Login grace: the whole handshake and dialogue must fit in it. */
	signal(SIGALRM, SIG_DFL);
	/* A file size limit must give the client EFBIG, not kill the worker. */
	signal(SIGXFSZ, SIG_IGN);
	alarm((unsigned)c->login_grace_time);
	w.s = ssh_new();
	if (!w.s || ssh_bind_accept_fd(bind, w.s, fd) != SSH_OK) {
		log_event(LOG_ERR, "accept_failed", "err=%s", log_q(ssh_get_error(bind)));
		_exit(1);
	}
	ssh_bind_free(bind);
	session_options(&w);
	if (ssh_handle_key_exchange(w.s) != SSH_OK) {
		log_event(LOG_INFO, "kex_failed", "err=%s", log_q(ssh_get_error(w.s)));
		worker_exit(&w, 0);
	}
	authenticate(&w);
	w.rootfd = get_root(&w);
	if (w.rootfd < 0) {
		log_event(LOG_ERR, "root_unavailable", "%s", "");
		worker_exit(&w, 1);
	}
	alarm((unsigned)c->idle_timeout);
	open_sftp_channel(&w);
	alarm(0);
	serve_sftp(&w);
	worker_exit(&w, 0);
}
