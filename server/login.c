/* The login state machine (see login.h). Causes of failure are kept for the
 * log; the client only ever learns yes or no at the end. */
#include "login.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "clock.h"
#include "log.h"
#include "policy.h"
#include "util.h"

/* Enrolment codes a user may get wrong before the attempt fails. */
#define LOGIN_ENROL_TRIES 3
#define TOTP_ISSUER "sftpdrop"

static struct auth_argon2_cost cost_of(const struct conf *c)
{
	return (struct auth_argon2_cost){ (uint32_t)c->argon2_t_cost,
					  (uint32_t)c->argon2_m_cost_kib,
					  (uint32_t)c->argon2_parallelism };
}

void login_init(struct login *l, const struct conf *c, struct store *s, const char *src)
{
	memset(l, 0, sizeof(*l));
	l->conf = c;
	l->store = s;
	l->src = src;
	l->step = LS_NONE;
}

void login_reset(struct login *l)
{
	unsigned failures = l->failures;
	const struct conf *c = l->conf;
	struct store *s = l->store;
	const char *src = l->src;

	explicit_bzero(l, sizeof(*l));
	login_init(l, c, s, src);
	l->failures = failures;
}

static void audit(struct login *l, const char *event, const char *outcome, const char *detail)
{
	int r = store_audit(l->store, clock_now(), l->relation[0] ? l->relation : NULL,
			    l->username[0] ? l->username : NULL, l->src, event, outcome, detail);

	if (r < 0)
		log_event(LOG_ERR, "store_error", "op=audit err=%s", strerror(-r));
}

/* Log and audit one step of the dialogue. */
static void step_event(struct login *l, const char *event, const char *outcome,
		       const char *detail)
{
	log_event(LOG_AUTHPRIV | LOG_INFO, event, "relation=%s user=%s outcome=%s%s%s",
		  l->relation[0] ? l->relation : "-", log_q(l->username), outcome,
		  detail ? " detail=" : "", detail ? log_q(detail) : "");
	audit(l, event, outcome, detail);
}

enum login_result login_refuse(struct login *l, const char *cause, const char *extra,
			       unsigned count)
{
	int64_t now = clock_now();
	char detail[256];
	bool final;
	int r;

	l->failures++;
	final = l->failures >= (unsigned)l->conf->max_auth_tries;
	log_event(LOG_AUTHPRIV | LOG_NOTICE, "auth_fail", "relation=%s user=%s reason=%s%s%s%s",
		  l->relation[0] ? l->relation : "-", log_q(l->username), cause,
		  extra ? " " : "", extra ? extra : "", final ? " final=yes" : "");
	snprintf(detail, sizeof(detail), "%s%s%s", cause, extra ? " " : "", extra ? extra : "");
	audit(l, "auth_fail", "denied", detail);
	if (l->user.id > 0 && (count & LOGIN_COUNT_ACCOUNT)) {
		r = store_user_fail(l->store, l->user.id, now, l->conf->lockout_threshold,
				    l->conf->lockout_seconds);
		if (r == 1) {
			char until[32];

			util_iso8601(now + l->conf->lockout_seconds, until, sizeof(until));
			step_event(l, "account_locked", "locked", until);
		} else if (r < 0) {
			log_event(LOG_ERR, "store_error", "op=user_fail err=%s", strerror(-r));
		}
	}
	r = !(count & LOGIN_COUNT_SOURCE)
		    ? 0
		    : store_ban_fail(l->store, l->src, now, l->conf->ban_window,
				     l->conf->ban_threshold, l->conf->ban_seconds);
	if (r == 1) {
		log_event(LOG_AUTHPRIV | LOG_WARNING, "source_banned", "seconds=%lld",
			  (long long)l->conf->ban_seconds);
		audit(l, "source_banned", "banned", l->src);
	} else if (r < 0) {
		log_event(LOG_ERR, "store_error", "op=ban_fail err=%s", strerror(-r));
	}
	login_reset(l);
	return final ? LOGIN_DENIED_FINAL : LOGIN_DENIED;
}

static enum login_result deny(struct login *l, const char *cause)
{
	/* A batch account cannot log in with a password at all: password
	 * attempts on it must not let anyone lock the job out of its keys. */
	unsigned count = l->user.batch ? LOGIN_COUNT_SOURCE
				       : LOGIN_COUNT_ACCOUNT | LOGIN_COUNT_SOURCE;

	return login_refuse(l, cause, NULL, count);
}

static void set_round(struct dialog_round *next, const char *instruction,
		      enum dialog_prompt prompt)
{
	snprintf(next->instruction, sizeof(next->instruction), "%s", instruction);
	snprintf(next->prompt, sizeof(next->prompt), "%s", dialog_prompt(prompt));
	next->echo = false;
	next->n_prompts = 1;
}

static int totp_uri(const struct login *l, const char *b32, char *out, size_t outsz)
{
	/* Relation numbers and user names are URI-safe by construction. */
	int n = snprintf(out, outsz,
			 "otpauth://totp/%s:%s.%s?secret=%s&issuer=%s&algorithm=SHA1&digits=%d"
			 "&period=%d",
			 TOTP_ISSUER, l->relation, l->username, b32, TOTP_ISSUER, SD_TOTP_DIGITS,
			 SD_TOTP_STEP);

	return n < 0 || (size_t)n >= outsz ? -ENOSPC : 0;
}

static void enrol_round(struct login *l, struct dialog_round *next, bool retry)
{
	char b32[64], uri[256], text[DIALOG_TEXT_MAX];

	util_base32_encode(l->enrol_secret, sizeof(l->enrol_secret), b32, sizeof(b32));
	totp_uri(l, b32, uri, sizeof(uri));
	dialog_enrol(text, b32, uri, retry);
	set_round(next, text, DIALOG_CODE);
	explicit_bzero(b32, sizeof(b32));
	explicit_bzero(uri, sizeof(uri));
	explicit_bzero(text, sizeof(text));
}

static void final_round(struct login *l, struct dialog_round *next)
{
	int64_t now = clock_now();
	struct policy_expiry e = policy_password_expiry(
		l->new_hash[0] ? now : l->user.password_changed_at, now,
		l->conf->password_max_age_days, l->conf->password_warn_days);
	struct dialog_final f = {
		.full_name = l->user.full_name,
		.now = now,
		.prev_login_at = l->user.last_login_at,
		.prev_login_src = l->user.last_login_src,
		.password_changed = l->new_hash[0] != '\0',
		.enrolled = l->need_enrol,
		.expires_at = e.expires_at,
		.days_left = e.state == POLICY_PW_EXPIRING ? e.days_left : 0,
	};

	dialog_final(next->instruction, &f);
	next->prompt[0] = '\0';
	next->echo = false;
	next->n_prompts = 0;
}

/* Move to the next round the account needs and describe it. */
static enum login_result advance(struct login *l, struct dialog_round *next)
{
	char text[DIALOG_TEXT_MAX];

	if (l->need_activation && !l->activated) {
		l->step = LS_ACTIVATION;
		dialog_activation(text);
		set_round(next, text, DIALOG_ACTIVATION);
	} else if (l->need_change && !l->new_hash[0]) {
		l->step = LS_NEW_PASSWORD;
		dialog_change_intro(text, l->change_why, l->conf);
		set_round(next, text, DIALOG_NEW_PASSWORD);
	} else if (l->need_enrol && l->enrol_step < 0) {
		l->step = LS_ENROL;
		enrol_round(l, next, false);
	} else if (!l->need_enrol && l->step != LS_CODE && l->step != LS_FINAL) {
		l->step = LS_CODE;
		set_round(next, "", DIALOG_CODE);
	} else {
		l->step = LS_FINAL;
		final_round(l, next);
	}
	return LOGIN_CONTINUE;
}

/* argon2 parameters of a PHC string differ from the configured cost? */
static bool needs_rehash(const struct conf *c, const char *phc)
{
	unsigned m, t, p;

	if (sscanf(phc, "$argon2id$v=%*u$m=%u,t=%u,p=%u$", &m, &t, &p) != 3)
		return true;
	return m != (unsigned)c->argon2_m_cost_kib || t != (unsigned)c->argon2_t_cost ||
	       p != (unsigned)c->argon2_parallelism;
}

static void plan(struct login *l, const char *pw, size_t len)
{
	int64_t now = clock_now();
	struct policy_expiry e = policy_password_expiry(l->user.password_changed_at, now,
							l->conf->password_max_age_days,
							l->conf->password_warn_days);
	struct auth_argon2_cost cost = cost_of(l->conf);

	l->need_activation = !l->user.activated;
	l->need_change = l->user.must_change || e.state == POLICY_PW_EXPIRED;
	l->change_why = l->user.must_change ? DIALOG_CHANGE_ONE_TIME : DIALOG_CHANGE_EXPIRED;
	l->need_enrol = l->user.totp_secret_len == 0;
	l->enrol_step = -1;
	if (l->need_enrol)
		util_random(l->enrol_secret, sizeof(l->enrol_secret));
	if (l->need_change)
		log_event(LOG_AUTHPRIV | LOG_INFO, "password_change_required",
			  "relation=%s user=%s reason=%s", l->relation, log_q(l->username),
			  l->user.must_change ? "one_time_password" : "expired");
	else if (needs_rehash(l->conf, l->user.password_hash) &&
		 auth_password_hash(&cost, pw, len, l->rehash, sizeof(l->rehash)) < 0)
		l->rehash[0] = '\0';
}

enum login_result login_password(struct login *l, const char *login, const char *pw,
				 size_t len, struct dialog_round *next)
{
	struct auth_argon2_cost cost = cost_of(l->conf);
	struct store_relation rel;
	int64_t now = clock_now();
	struct policy_lock lock;
	bool ok;
	int r;

	login_reset(l);
	if (l->failures >= (unsigned)l->conf->max_auth_tries)
		return LOGIN_DENIED_FINAL;
	l->step = LS_DOOMED;
	set_round(next, "", DIALOG_CODE);
	if (len > SD_PASSWORD_MAX) {
		l->cause = "password_too_long";
		len = SD_PASSWORD_MAX; /* the same work as any other attempt */
	}
	if (policy_parse_login(login, l->relation, l->username) < 0) {
		l->cause = "bad_login_syntax";
		log_event(LOG_AUTHPRIV | LOG_INFO, "auth_login", "login=%s", log_q(login));
		auth_password_dummy(&cost, pw, len);
		return LOGIN_CONTINUE;
	}
	r = store_relation_get(l->store, l->relation, &rel);
	if (r == 0)
		r = store_user_get(l->store, l->relation, l->username, &l->user);
	if (r < 0) {
		l->cause = r == -ENOENT ? "unknown_user" : "store_error";
		l->user.id = 0;
		auth_password_dummy(&cost, pw, len);
		return LOGIN_CONTINUE;
	}
	ok = auth_password_verify(l->user.password_hash, pw, len);
	lock = (struct policy_lock){ l->user.failed_count, l->user.locked_until };
	if (!l->cause) {
		if (rel.disabled)
			l->cause = "relation_disabled";
		else if (l->user.disabled)
			l->cause = "user_disabled";
		else if (l->user.batch)
			l->cause = "batch_account_password";
		else if (policy_is_locked(&lock, now))
			l->cause = "account_locked";
		else if (!ok)
			l->cause = "bad_password";
	}
	if (l->cause)
		return LOGIN_CONTINUE;
	step_event(l, "auth_password", "ok", NULL);
	plan(l, pw, len);
	return advance(l, next);
}

static enum login_result on_activation(struct login *l, const char *answer,
				       struct dialog_round *next)
{
	char code[64];
	size_t n = 0;

	/* Letters are typed in any case and with or without dashes. */
	for (const char *p = answer; *p && n + 1 < sizeof(code); p++) {
		if (*p == '-' || *p == ' ')
			continue;
		code[n++] = (*p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : *p;
	}
	code[n] = '\0';
	if (!auth_password_verify(l->user.activation_hash, code, n)) {
		explicit_bzero(code, sizeof(code));
		return deny(l, "bad_activation_code");
	}
	explicit_bzero(code, sizeof(code));
	l->activated = true;
	step_event(l, "auth_activation", "ok", NULL);
	return advance(l, next);
}

struct history_check {
	const char *pw;
	size_t len;
	bool found;
};

static int in_history(const char *phc, void *ud)
{
	struct history_check *h = ud;

	if (auth_password_verify(phc, h->pw, h->len)) {
		h->found = true;
		return 1; /* stop */
	}
	return 0;
}

int login_password_reused(struct store *s, int64_t user_id, unsigned depth,
			  const char *password)
{
	struct history_check h = { .pw = password, .len = strlen(password) };
	int r = store_user_history(s, user_id, depth, in_history, &h);

	if (r < 0)
		return r;
	return h.found ? 1 : 0;
}

static enum login_result change_refused(struct login *l, unsigned broken, bool mismatch,
					struct dialog_round *next)
{
	char text[DIALOG_TEXT_MAX];
	char rules[64];
	unsigned left;

	snprintf(rules, sizeof(rules), "rules=0x%x%s", broken, mismatch ? " mismatch" : "");
	step_event(l, "password_rejected", "rejected", rules);
	explicit_bzero(l->new_password, sizeof(l->new_password));
	l->change_tries++;
	if (l->change_tries >= (unsigned)l->conf->password_change_tries)
		return deny(l, "password_change_failed");
	left = (unsigned)l->conf->password_change_tries - l->change_tries;
	dialog_change_rejected(text, broken, mismatch, left, l->conf);
	l->step = LS_NEW_PASSWORD;
	set_round(next, text, DIALOG_NEW_PASSWORD);
	return LOGIN_CONTINUE;
}

static enum login_result on_new_password(struct login *l, const char *answer,
					 struct dialog_round *next)
{
	struct policy_password_params p = { (unsigned)l->conf->password_min_length,
					    (unsigned)l->conf->password_min_classes };
	unsigned broken = policy_password_check(answer, l->username, &p);

	if (!(broken & POLICY_PW_TOO_LONG)) {
		int r = login_password_reused(l->store, l->user.id,
					      (unsigned)l->conf->password_history, answer);

		if (r < 0)
			return deny(l, "store_error");
		if (r == 1)
			broken |= POLICY_PW_REUSED;
	}
	if (broken)
		return change_refused(l, broken, false, next);
	snprintf(l->new_password, sizeof(l->new_password), "%s", answer);
	l->step = LS_REPEAT_PASSWORD;
	set_round(next, "", DIALOG_REPEAT_PASSWORD);
	return LOGIN_CONTINUE;
}

static enum login_result on_repeat_password(struct login *l, const char *answer,
					    struct dialog_round *next)
{
	struct auth_argon2_cost cost = cost_of(l->conf);
	size_t len = strlen(l->new_password);

	if (strlen(answer) != len || !util_ct_equal(answer, l->new_password, len))
		return change_refused(l, 0, true, next);
	if (auth_password_hash(&cost, l->new_password, len, l->new_hash, sizeof(l->new_hash)) < 0)
		return deny(l, "hash_error");
	explicit_bzero(l->new_password, sizeof(l->new_password));
	l->rehash[0] = '\0';
	step_event(l, "password_accepted", "ok", NULL);
	return advance(l, next);
}

static enum login_result on_enrol(struct login *l, const char *answer,
				  struct dialog_round *next)
{
	int64_t step;

	if (auth_totp_check(l->enrol_secret, sizeof(l->enrol_secret), answer, clock_now(),
			    (unsigned)l->conf->totp_window, &step) == AUTH_TOTP_MATCH) {
		l->enrol_step = step;
		step_event(l, "totp_confirmed", "ok", NULL);
		return advance(l, next);
	}
	step_event(l, "totp_confirmed", "bad_code", NULL);
	if (++l->enrol_tries >= LOGIN_ENROL_TRIES)
		return deny(l, "enrolment_failed");
	enrol_round(l, next, true);
	return LOGIN_CONTINUE;
}

static enum login_result on_code(struct login *l, const char *answer,
				 struct dialog_round *next)
{
	int64_t step;
	int r;

	if (auth_totp_check(l->user.totp_secret, l->user.totp_secret_len, answer, clock_now(),
			    (unsigned)l->conf->totp_window, &step) != AUTH_TOTP_MATCH)
		return deny(l, "bad_code");
	r = store_user_use_totp_step(l->store, l->user.id, step);
	if (r < 0)
		return deny(l, "store_error");
	if (r == 0)
		return deny(l, "reused_code");
	step_event(l, "auth_code", "ok", NULL);
	return advance(l, next);
}

static enum login_result on_final(struct login *l)
{
	struct store_login_commit c = {
		.now = clock_now(),
		.src = l->src,
		.activate = l->need_activation,
		.new_hash = l->new_hash[0] ? l->new_hash : NULL,
		.history_depth = (unsigned)l->conf->password_history,
		.rehash = l->rehash[0] ? l->rehash : NULL,
		.totp_secret = l->need_enrol ? l->enrol_secret : NULL,
		.totp_secret_len = sizeof(l->enrol_secret),
		.totp_step = l->enrol_step,
	};
	int r = store_user_commit_login(l->store, l->user.id, &c);

	if (r < 0) {
		log_event(LOG_ERR, "store_error", "op=commit_login err=%s", strerror(-r));
		return deny(l, "store_error");
	}
	if (c.activate)
		step_event(l, "account_activated", "ok", NULL);
	if (c.new_hash)
		step_event(l, "password_changed", "ok",
			   l->change_why == DIALOG_CHANGE_EXPIRED ? "expired" : "one_time_password");
	if (c.rehash)
		step_event(l, "password_rehashed", "ok", NULL);
	if (c.totp_secret)
		step_event(l, "totp_enrolled", "ok", NULL);
	audit(l, "auth_ok", "ok", "password+totp");
	l->step = LS_DONE;
	return LOGIN_OK;
}

enum login_result login_answer(struct login *l, const char *answer,
			       struct dialog_round *next)
{
	const char *a = answer ? answer : "";

	/* A zero-prompt round gets no answer; every other round exactly one. */
	if ((l->step == LS_FINAL) != (answer == NULL) && l->step != LS_DOOMED)
		return deny(l, "protocol");
	switch (l->step) {
	case LS_DOOMED:
		return deny(l, l->cause ? l->cause : "protocol");
	case LS_ACTIVATION:
		return on_activation(l, a, next);
	case LS_NEW_PASSWORD:
		return on_new_password(l, a, next);
	case LS_REPEAT_PASSWORD:
		return on_repeat_password(l, a, next);
	case LS_ENROL:
		return on_enrol(l, a, next);
	case LS_CODE:
		return on_code(l, a, next);
	case LS_FINAL:
		return on_final(l);
	case LS_NONE:
	case LS_DONE:
		break;
	}
	return deny(l, "protocol");
}
