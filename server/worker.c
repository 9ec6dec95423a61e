/* The worker: runs the SSH transport with libssh, relays credentials to the
 * monitor (it never learns which factor failed), then serves SFTP on up to
 * max_sessions_per_connection session channels, confined to the relation
 * directory. */
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

/* Session channels per connection, whatever the config says. */
#define SD_MAX_CHANNELS 16

struct sftp_chan;

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
	ssh_channel chan; /* the first channel, until SFTP starts */
	int rootfd;
	/* SFTP: the open session channels (serve_channels) */
	struct srv_sftp_limits lim;
	struct srv_sftp_usage usage; /* the relation's, shared by the channels */
	struct sftp_chan *chans[SD_MAX_CHANNELS];
	unsigned n_chans, max_chans, chans_opened;
	bool closing;  /* no more channels: refuse everything */
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

/* ---- SFTP channels --------------------------------------------------
 * Up to max_sessions_per_connection session channels, each with its own
 * SFTP session, served from one loop: libssh's event poll reads the socket
 * and files each channel's data in its buffer (and new requests through
 * the message callback); each pass then feeds every channel's buffered
 * bytes to its engine, which answers at once. One libssh session, one
 * thread: libssh 0.10 is not thread-safe per session. */

/* While waiting, wake at least this often: a channel opened meanwhile has
 * its first bytes answered within this time even in the rare case that
 * they were filed while another channel was being looked at. */
#define SFTP_POLL_MS 200

struct sftp_chan {
	struct worker *w;
	ssh_channel ch;
	struct srv_sftp_session *ss; /* NULL until the sftp subsystem starts */
	struct srv_sftp_io io;
	unsigned no;                 /* for the log: 1 for the first channel */
};

static int chan_write(void *ctx, const void *buf, size_t len)
{
	struct sftp_chan *c = ctx;
	const char *p = buf;

	while (len > 0) {
		uint32_t chunk = len > (1u << 20) ? (1u << 20) : (uint32_t)len;
		int n = ssh_channel_write(c->ch, p, chunk);

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
	struct sftp_chan *c = ctx;
	struct worker *w = c->w;
	struct mon_buf b;
	int st;

	mon_buf_init(&b, MON_UPLOAD);
	if (mon_put_cstr(&b, path) < 0 || mon_put_u64(&b, size) < 0 ||
	    mon_put_u64(&b, dev) < 0 || mon_put_u64(&b, ino) < 0) {
		log_event(LOG_ERR, "upload_not_recorded", "path=%s reason=too_long", log_q(path));
		return -ENAMETOOLONG;
	}
	/* The answer is read by on_published_wait(). */
	st = mon_send(w->monfd, &b, -1);
	if (st < 0) {
		log_event(LOG_ERR, "upload_not_recorded", "path=%s error=%s", log_q(path),
			  strerror(-st));
		return st;
	}
	return 0;
}

static int on_published_wait(void *ctx)
{
	struct sftp_chan *c = ctx;
	struct mon_buf b;
	int r = mon_recv(c->w->monfd, &b, NULL);

	if (r < 0 || b.data[0] != MON_ST_OK) {
		log_event(LOG_ERR, "upload_not_recorded", "status=%d", r < 0 ? r : b.data[0]);
		return -EIO;
	}
	return 0;
}

static void on_unpublished(void *ctx, uint64_t dev, uint64_t ino)
{
	struct sftp_chan *c = ctx;
	struct worker *w = c->w;
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

static struct sftp_chan *chan_find(struct worker *w, ssh_channel ch)
{
	for (unsigned i = 0; i < w->n_chans; i++)
		if (w->chans[i]->ch == ch)
			return w->chans[i];
	return NULL;
}

static struct sftp_chan *chan_add(struct worker *w, ssh_channel ch)
{
	struct sftp_chan *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->w = w;
	c->ch = ch;
	c->no = ++w->chans_opened;
	/* No read: serve_channels feeds the engine. One usage count for all
	 * channels, so that together they stay within the quota. */
	c->io = (struct srv_sftp_io){ .ctx = c, .write = chan_write,
				      .published = on_published,
				      .published_wait = on_published_wait,
				      .unpublished = on_unpublished, .usage = &w->usage };
	w->chans[w->n_chans++] = c;
	return c;
}

/* Start SFTP on a channel whose client asked for the subsystem. */
static int chan_start(struct worker *w, struct sftp_chan *c)
{
	int r = srv_sftp_open(w->rootfd, &w->lim, &c->io, &c->ss);

	if (r < 0)
		log_event(LOG_ERR, "sftp_end", "reason=error err=%s channel=%u", strerror(-r),
			  c->no);
	else
		log_event(LOG_INFO, "sftp_channel", "channel=%u channels=%u", c->no, w->n_chans);
	return r;
}

/* End a channel's SFTP session (r: 0 clean EOF, or why it ended), close
 * the channel and forget it. */
static void chan_end(struct worker *w, struct sftp_chan *c, int r)
{
	unsigned i;

	if (c->ss) {
		int rc = srv_sftp_close(c->ss, r == 0);

		if (r == 0)
			r = rc;
		if (r == 0 || r == -ECONNRESET || r == -ETIMEDOUT)
			log_event(LOG_INFO, "sftp_end", "reason=%s channel=%u",
				  r == 0 ? "eof" : r == -ECONNRESET ? "disconnect" : "idle_timeout",
				  c->no);
		else
			log_event(LOG_WARNING, "sftp_end", "reason=error err=%s channel=%u",
				  strerror(-r), c->no);
	}
	if (ssh_channel_is_open(c->ch)) {
		ssh_channel_request_send_exit_status(c->ch, r == 0 ? 0 : 1);
		ssh_channel_send_eof(c->ch);
		ssh_channel_close(c->ch);
	}
	ssh_channel_free(c->ch);
	for (i = 0; i < w->n_chans && w->chans[i] != c; i++)
		;
	for (; i + 1 < w->n_chans; i++)
		w->chans[i] = w->chans[i + 1];
	w->n_chans--;
	free(c);
}

/* Channels still in use: one whose client sent EOF or CLOSE is on its way
 * out (the loop ends it next) and no longer takes a place. */
static unsigned live_chans(const struct worker *w)
{
	unsigned n = 0;

	for (unsigned i = 0; i < w->n_chans; i++)
		n += !ssh_channel_is_eof(w->chans[i]->ch) && !ssh_channel_is_closed(w->chans[i]->ch);
	return n;
}

/* Requests while SFTP runs: more session channels with the sftp subsystem
 * up to the limit; everything else (shell, exec, pty, forwarding, channels
 * past the limit) is refused. Return 0: handled; 1: libssh sends the
 * default (negative) reply. */
static int on_message(ssh_session s, ssh_message msg, void *ud)
{
	struct worker *w = ud;
	int type = ssh_message_type(msg), sub = ssh_message_subtype(msg);
	const char *reason = "not_allowed";
	struct sftp_chan *c;

	(void)s;
	if (w->closing) {
		reason = "closing";
	} else if (type == SSH_REQUEST_CHANNEL_OPEN && sub == SSH_CHANNEL_SESSION) {
		ssh_channel ch;

		if (live_chans(w) >= w->max_chans || w->n_chans >= SD_MAX_CHANNELS) {
			reason = "channel_limit";
			goto refuse;
		}
		ch = ssh_message_channel_request_open_reply_accept(msg);
		if (!ch)
			return 0; /* libssh could not answer: nothing more to say */
		if (!chan_add(w, ch))
			ssh_channel_free(ch);
		return 0;
	} else if (type == SSH_REQUEST_CHANNEL) {
		c = chan_find(w, ssh_message_channel_request_channel(msg));
		if (c && !c->ss && sub == SSH_CHANNEL_REQUEST_SUBSYSTEM &&
		    strcmp(ssh_message_channel_request_subsystem(msg), "sftp") == 0) {
			if (chan_start(w, c) < 0)
				return 1;
			ssh_message_channel_request_reply_success(msg);
			return 0;
		}
		if (sub == SSH_CHANNEL_REQUEST_ENV)
			return 1; /* LANG and friends: quietly no */
	}
refuse:
	log_event(LOG_NOTICE, "request_refused", "type=%d subtype=%d stage=sftp reason=%s", type,
		  sub, reason);
	return 1;
}

/* Feed a channel what it has buffered. 1: bytes were served; 0: nothing
 * there; the channel is ended (and freed) when its client is done. */
static int chan_service(struct worker *w, struct sftp_chan *c)
{
	int served = 0;

	for (;;) {
		void *buf;
		size_t room;
		uint8_t scratch[4096];
		int n, r;

		if (c->ss) {
			srv_sftp_inbuf(c->ss, &buf, &room);
		} else {
			/* No subsystem yet: nothing may be said on it. */
			buf = scratch;
			room = sizeof(scratch);
		}
		if (room > INT32_MAX)
			room = INT32_MAX;
		n = ssh_channel_read_nonblocking(c->ch, buf, (uint32_t)room, 0);
		if (n > 0) {
			served = 1;
			if (!c->ss)
				continue;
			r = srv_sftp_input(c->ss, (size_t)n);
			if (r < 0) {
				chan_end(w, c, r);
				return served;
			}
			continue;
		}
		if (n == SSH_ERROR) {
			chan_end(w, c, ssh_is_connected(w->s) ? -EIO : -ECONNRESET);
			return served;
		}
		if (n == SSH_EOF || ssh_channel_is_eof(c->ch) || ssh_channel_is_closed(c->ch))
			chan_end(w, c, 0);
		return served;
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Serve every channel until the client is gone or idle. Without channels
 * the connection stays, for a client that opens the next one later (an
 * OpenSSH ControlMaster with ControlPersist); plain clients disconnect
 * once their channel is closed, which ends this loop. */
static void serve_channels(struct worker *w)
{
	int64_t idle_ms = w->conf->idle_timeout * 1000, last = now_ms();
	ssh_event ev = ssh_event_new();

	if (!ev || ssh_event_add_session(ev, w->s) != SSH_OK) {
		log_event(LOG_ERR, "sftp_end", "reason=error err=%s", "event loop");
		if (ev)
			ssh_event_free(ev);
		while (w->n_chans)
			chan_end(w, w->chans[w->n_chans - 1], -ENOMEM);
		return;
	}
	for (;;) {
		int served = 0;
		int64_t left;

		/* File what the socket holds first, so that no channel's bytes
		 * wait behind another's. */
		ssh_event_dopoll(ev, 0);
		for (unsigned i = w->n_chans; i-- > 0;)
			if (i < w->n_chans)
				served |= chan_service(w, w->chans[i]);
		if (!ssh_is_connected(w->s)) {
			while (w->n_chans)
				chan_end(w, w->chans[w->n_chans - 1], -ECONNRESET);
			break;
		}
		if (served) {
			last = now_ms();
			continue;
		}
		left = idle_ms - (now_ms() - last);
		if (left <= 0) {
			while (w->n_chans)
				chan_end(w, w->chans[w->n_chans - 1], -ETIMEDOUT);
			break;
		}
		if (ssh_event_dopoll(ev, (int)(left < SFTP_POLL_MS ? left : SFTP_POLL_MS)) ==
			    SSH_ERROR &&
		    !ssh_is_connected(w->s)) {
			while (w->n_chans)
				chan_end(w, w->chans[w->n_chans - 1], -ECONNRESET);
			break;
		}
	}
	ssh_event_remove_session(ev, w->s);
	ssh_event_free(ev);
}

static void serve_sftp(struct worker *w)
{
	struct sftp_chan *first;
	int abi = 0;
	int r;

	w->lim = (struct srv_sftp_limits){
		.max_packet = (uint32_t)w->conf->sftp_max_packet,
		.max_handles = (uint32_t)w->conf->sftp_max_handles,
		.allow_download = w->conf->allow_download,
		.sync_on_close = w->conf->sync_on_close,
		.max_file_size = (uint64_t)w->conf->max_file_size,
		.quota = (uint64_t)w->conf->relation_quota,
		.max_path = (uint32_t)w->conf->sftp_max_path,
		.max_depth = (uint32_t)w->conf->sftp_max_depth,
	};
	w->max_chans = (unsigned)w->conf->max_sessions_per_connection;
	if (w->max_chans > SD_MAX_CHANNELS)
		w->max_chans = SD_MAX_CHANNELS;
	/* Read the time zone before Landlock hides /etc/localtime (ls -l dates). */
	tzset();
	r = srv_sandbox_worker(w->rootfd, &abi);
	if (r < 0) {
		log_event(LOG_ERR, "sandbox_failed", "err=%s", strerror(-r));
		worker_exit(w, 1);
	}
	log_event(LOG_INFO, "sftp_start", "landlock=%d", abi);
	first = chan_add(w, w->chan);
	if (!first || chan_start(w, first) < 0)
		worker_exit(w, 1);
	w->chan = NULL;
	ssh_set_message_callback(w->s, on_message, w);
	serve_channels(w);
	w->closing = true;
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
