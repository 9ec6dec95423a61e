/* `notify-expiring`: the password expiry warning by e-mail, run daily by
 * systemd/sftpdrop-notify.timer. A user is warned once per password: the
 * store records the password_changed_at whose warning was sent, so a second
 * run sends nothing and a new password makes the user eligible again when it
 * in turn nears its end. Accounts that cannot or need not log in with their
 * password as it is are left alone: batch (key-only) and disabled accounts,
 * accounts of a disabled relation, and accounts that must change their
 * password at the next login anyway (a one-time password not yet used). */
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "check.h"
#include "expiry_mail.h"
#include "i18n.h"
#include "log.h"
#include "output.h"
#include "policy.h"
#include "sendmail.h"
#include "util.h"

/* One account whose password is in its warning period and not yet warned. */
struct candidate {
	int64_t id;
	char relation[SD_RELATION_MAX + 1];
	char username[SD_USERNAME_MAX + 1];
	char full_name[STORE_NAME_MAX];
	char email[STORE_EMAIL_MAX];
	int64_t changed_at;
	struct policy_expiry expiry;
};

struct candidates {
	const struct conf *conf;
	int64_t now;
	struct candidate *v;
	size_t n, cap;
};

static int collect(const struct store_user *u, void *ud)
{
	struct candidates *c = ud;
	struct policy_expiry e;
	struct candidate *x;

	if (u->batch || u->disabled || u->must_change)
		return 0;
	e = policy_password_expiry(u->password_changed_at, c->now, c->conf->password_max_age_days,
				   c->conf->password_warn_days);
	if (e.state != POLICY_PW_EXPIRING || u->expiry_notified_for == u->password_changed_at)
		return 0;
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 16;
		struct candidate *nv = reallocarray(c->v, ncap, sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		c->v = nv;
		c->cap = ncap;
	}
	x = &c->v[c->n++];
	memset(x, 0, sizeof(*x));
	x->id = u->id;
	snprintf(x->relation, sizeof(x->relation), "%s", u->relation);
	snprintf(x->username, sizeof(x->username), "%s", u->username);
	snprintf(x->full_name, sizeof(x->full_name), "%s", u->full_name);
	snprintf(x->email, sizeof(x->email), "%s", u->email);
	x->changed_at = u->password_changed_at;
	x->expiry = e;
	return 0;
}

/* What became of one candidate. */
enum outcome { SENT, SKIPPED, FAILED };

static const char *outcome_text(enum outcome o)
{
	switch (o) {
	case SENT:
		return "sent";
	case SKIPPED:
		return "skipped";
	case FAILED:
		break;
	}
	return "failed";
}

static int report(struct admin_out_list *l, const struct candidate *x, const char *login,
		  enum outcome o, const char *error)
{
	char expires[32], days[24], result[320];
	struct json_object *obj;
	int r = 0;

	util_iso8601(x->expiry.expires_at, expires, sizeof(expires));
	if (!l->json) {
		const char *cells[5] = { login, x->email[0] ? x->email : NULL, expires, days,
					 result };

		snprintf(days, sizeof(days), "%" PRId64, x->expiry.days_left);
		snprintf(result, sizeof(result), "%s%s%s", outcome_text(o), error ? ": " : "",
			 error ? error : "");
		return admin_out_list_row(l, cells);
	}
	obj = json_object_new_object();
	if (!obj)
		return -ENOMEM;
	admin_out_json_add_str(obj, "login", login, &r);
	admin_out_json_add_opt_str(obj, "email", x->email, &r);
	admin_out_json_add_time(obj, "expires_at", x->expiry.expires_at, &r);
	admin_out_json_add_int(obj, "days_left", x->expiry.days_left, &r);
	admin_out_json_add_bool(obj, "sent", o == SENT, &r);
	admin_out_json_add_str(obj, "result", outcome_text(o), &r);
	admin_out_json_add_opt_str(obj, "error", error, &r);
	if (r < 0) {
		json_object_put(obj);
		return r;
	}
	return admin_out_list_object(l, obj);
}

/* Is the relation of x switched off? (Its users cannot log in: no warning.) */
static bool relation_disabled(struct admin_ctx *ctx, const struct candidate *x)
{
	struct store_relation rel;

	return store_relation_get(ctx->store, x->relation, &rel) == 0 && rel.disabled;
}

/* The configured language is switched on only while a message is composed:
 * the operator's messages, strerror() among them, stay in English. (This
 * program never calls setlocale() otherwise: its locale is "C".) */
static int language_on(const struct admin_ctx *ctx)
{
	return i18n_init(ctx->conf.language);
}

static void language_off(void)
{
	setlocale(LC_MESSAGES, "C");
	setlocale(LC_CTYPE, "C");
}

/* Warn one user. Returns the outcome; why says what went wrong. */
static enum outcome warn_one(struct admin_ctx *ctx, char *const argv[], int64_t now,
			     const struct candidate *x, const char *login, char *why,
			     size_t whylen)
{
	const struct admin_expiry_mail m = {
		.from = ctx->conf.mail_from,
		.to = x->email,
		.full_name = x->full_name,
		.login = login,
		.now = now,
		.expires_at = x->expiry.expires_at,
		.days_left = x->expiry.days_left,
	};
	char expires[32], extra[STORE_EMAIL_MAX + 96], check[160];
	char *msg = NULL;
	size_t len = 0;
	int r;

	if (!x->email[0]) {
		snprintf(why, whylen, "no e-mail address");
		return SKIPPED;
	}
	if (admin_check_arg(ADMIN_ARG_EMAIL, x->email, check, sizeof(check)) < 0) {
		snprintf(why, whylen, "the e-mail address %s", check);
		return SKIPPED;
	}
	util_iso8601(x->expiry.expires_at, expires, sizeof(expires));
	language_on(ctx);
	r = admin_expiry_mail(&m, &msg, &len);
	language_off();
	if (r < 0) {
		snprintf(why, whylen, "cannot compose the message: %s", strerror(-r));
		return FAILED;
	}
	r = admin_sendmail_run(argv, msg, len, ADMIN_SENDMAIL_TIMEOUT_MS, why, whylen);
	free(msg);
	if (r < 0) {
		snprintf(extra, sizeof(extra), "expires_at=%s to=%s error=%s", expires, x->email,
			 log_q(why));
		admin_audit_ex(ctx, now, x->relation, x->username, "expiry_notified", "fail",
			       extra);
		return FAILED;
	}
	r = store_user_mark_notified(ctx->store, x->id, x->changed_at);
	if (r < 0) {
		snprintf(why, whylen,
			 "sent, but not recorded (%s): it will be sent again at the next run",
			 strerror(-r));
		return FAILED;
	}
	snprintf(extra, sizeof(extra), "expires_at=%s to=%s", expires, x->email);
	admin_audit_ex(ctx, now, x->relation, x->username, "expiry_notified", "ok", extra);
	return SENT;
}

int admin_cmd_notify_expiring(struct admin_ctx *ctx)
{
	static const char *const headers[] = { "LOGIN", "EMAIL", "EXPIRES", "DAYS LEFT",
					       "RESULT" };
	struct candidates c = { .conf = &ctx->conf, .now = admin_now() };
	char *argv[ADMIN_SENDMAIL_MAX_ARGS + 1];
	char *argbuf = NULL;
	struct admin_out_list l = { 0 };
	size_t failed = 0, reported = 0;
	int r;

	r = admin_sendmail_split(ctx->conf.sendmail_command, &argbuf, argv);
	if (r < 0) {
		admin_err("sendmail_command %s: %s", admin_q(ctx->conf.sendmail_command),
			  r == -E2BIG ? "too many words"
			  : r == -ENOMEM ? "out of memory"
					 : "must start with an absolute program path");
		goto out;
	}
	if (admin_mail_header_safe(ctx->conf.mail_from) < 0) {
		r = -EINVAL;
		admin_err("mail_from %s: must be an address of printable ASCII",
			  admin_q(ctx->conf.mail_from));
		goto out;
	}
	r = language_on(ctx);
	language_off();
	if (r < 0) {
		/* Better an English warning than none. */
		admin_err("no message catalog for language %s: the e-mails are in English",
			  ctx->conf.language);
		log_event(LOG_WARNING, "catalog_missing", "language=%s", ctx->conf.language);
	}
	r = admin_out_list_begin(&l, ctx->json, headers, 5);
	if (r < 0) {
		admin_err("out of memory");
		goto out;
	}
	/* Collected first: no read transaction stays open while mail is sent. */
	r = store_user_list(ctx->store, NULL, collect, &c);
	if (r < 0) {
		admin_err("cannot list users: %s", strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < c.n; i++) {
		const struct candidate *x = &c.v[i];
		char login[SD_LOGIN_MAX];
		char why[256] = "";
		enum outcome o;

		if (relation_disabled(ctx, x))
			continue;
		snprintf(login, sizeof(login), "%s.%s", x->relation, x->username);
		o = warn_one(ctx, argv, c.now, x, login, why, sizeof(why));
		if (o != SENT)
			admin_err("%s: %s: %s", login, o == SKIPPED ? "not warned" : "warning failed",
				  why);
		if (o == FAILED)
			failed++;
		reported++;
		r = report(&l, x, login, o, o == SENT ? NULL : why);
		if (r < 0) {
			admin_err("out of memory");
			goto out;
		}
	}
	if (!ctx->json && reported == 0) {
		printf("no password expires within %" PRId64 " days without a warning sent\n",
		       ctx->conf.password_warn_days);
		r = fflush(stdout) == 0 && !ferror(stdout) ? 0 : -EIO;
	} else {
		r = admin_out_list_print(&l);
	}
	if (r < 0) {
		admin_err("cannot write the result: %s", strerror(-r));
		goto out;
	}
	if (failed > 0)
		r = -EAGAIN; /* each failure was reported above */
out:
	admin_out_list_free(&l);
	free(c.v);
	free(argbuf);
	return r;
}
