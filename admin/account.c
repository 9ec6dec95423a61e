/* The servicedesk's account commands: `user show`, `user disable|enable`,
 * `user unlock`, `user reset-password` and `user reset-totp`. Each change is
 * an audit row and a log line; `show` never prints a secret (it does not
 * even say how long the password is). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "credentials.h"
#include "output.h"
#include "policy.h"
#include "util.h"

int admin_need_relation(struct admin_ctx *ctx, const char *number)
{
	struct store_relation rel;
	int r = store_relation_get(ctx->store, number, &rel);

	if (r == -ENOENT)
		admin_err("relation %s does not exist", number);
	else if (r < 0)
		admin_err("cannot read relation %s: %s", number, strerror(-r));
	return r;
}

int admin_need_user(struct admin_ctx *ctx, struct store_user *out)
{
	const char *relation = ctx->args[0];
	int r = admin_need_relation(ctx, relation);

	if (r < 0)
		return r;
	r = store_user_get(ctx->store, relation, ctx->username, out);
	if (r == 0) {
		/* No command here needs a secret: drop them at once, keeping
		 * whether TOTP is set up. */
		explicit_bzero(out->password_hash, sizeof(out->password_hash));
		explicit_bzero(out->activation_hash, sizeof(out->activation_hash));
		explicit_bzero(out->totp_secret, sizeof(out->totp_secret));
	}
	if (r == -ENOENT)
		admin_err("user %s.%s does not exist", relation, ctx->username);
	else if (r < 0)
		admin_err("cannot read user %s.%s: %s", relation, ctx->username, strerror(-r));
	return r;
}

void admin_hash_error(const struct admin_ctx *ctx, int r)
{
	admin_err("cannot hash the password (argon2id t=%lld m=%lld KiB p=%lld): %s",
		  (long long)ctx->conf.argon2_t_cost, (long long)ctx->conf.argon2_m_cost_kib,
		  (long long)ctx->conf.argon2_parallelism, strerror(-r));
}

/* ---- user show ---- */

/* What `show` says about an account at now, in both output forms. */
struct account_view {
	char login[SD_LOGIN_MAX];
	bool locked;
	bool human;                /* password expiry applies */
	struct policy_expiry expiry;
	bool warned;               /* the expiry e-mail for this password was sent */
	int keys;                  /* public keys (batch accounts) */
};

static void view_of(const struct admin_ctx *ctx, const struct store_user *u, int64_t now,
		    struct account_view *v)
{
	const struct policy_lock lock = { u->failed_count, u->locked_until };

	snprintf(v->login, sizeof(v->login), "%s.%s", u->relation, u->username);
	v->locked = policy_is_locked(&lock, now);
	v->human = !u->batch;
	v->keys = 0;
	v->expiry = policy_password_expiry(u->password_changed_at, now,
					   ctx->conf.password_max_age_days,
					   ctx->conf.password_warn_days);
	v->warned = u->expiry_notified_for != 0 &&
		    u->expiry_notified_for == u->password_changed_at;
}

static const char *expiry_state(enum policy_pw_age a)
{
	switch (a) {
	case POLICY_PW_VALID:
		break;
	case POLICY_PW_EXPIRING:
		return "expiring";
	case POLICY_PW_EXPIRED:
		return "expired";
	}
	return "valid";
}

static struct json_object *show_json(const struct store_user *u, const struct account_view *v)
{
	struct json_object *o = json_object_new_object();
	int r = 0;

	if (!o)
		return NULL;
	admin_out_json_add_str(o, "login", v->login, &r);
	admin_out_json_add_str(o, "relation", u->relation, &r);
	admin_out_json_add_str(o, "username", u->username, &r);
	admin_out_json_add_str(o, "name", u->full_name, &r);
	admin_out_json_add_opt_str(o, "email", u->email, &r);
	admin_out_json_add_str(o, "kind", u->batch ? "batch" : "human", &r);
	admin_out_json_add_str(o, "status", u->disabled ? "disabled" : "active", &r);
	admin_out_json_add_bool(o, "locked", v->locked, &r);
	admin_out_json_add_time(o, "locked_until", v->locked ? u->locked_until : 0, &r);
	admin_out_json_add_int(o, "failed_logins", u->failed_count, &r);
	admin_out_json_add_bool(o, "activated", u->activated, &r);
	admin_out_json_add_bool(o, "must_change_password", u->must_change, &r);
	admin_out_json_add_bool(o, "totp_enrolled", u->totp_secret_len > 0, &r);
	admin_out_json_add_time(o, "password_changed_at", u->password_changed_at, &r);
	if (v->human) {
		admin_out_json_add_time(o, "password_expires_at", v->expiry.expires_at, &r);
		admin_out_json_add_str(o, "password_state", expiry_state(v->expiry.state), &r);
		admin_out_json_add_int(o, "password_days_left", v->expiry.days_left, &r);
		admin_out_json_add_bool(o, "expiry_warning_sent", v->warned, &r);
	} else {
		admin_out_json_add_time(o, "password_expires_at", 0, &r);
		admin_out_json_add_opt_str(o, "password_state", NULL, &r);
		admin_out_json_add_opt_str(o, "password_days_left", NULL, &r);
		admin_out_json_add_bool(o, "expiry_warning_sent", false, &r);
	}
	admin_out_json_add_time(o, "last_login_at", u->last_login_at, &r);
	admin_out_json_add_opt_str(o, "last_login_from", u->last_login_src, &r);
	admin_out_json_add_time(o, "created_at", u->created_at, &r);
	if (u->batch) {
		admin_out_json_add_opt_str(o, "allowed_from", u->allowed_from, &r);
		admin_out_json_add_int(o, "keys", v->keys, &r);
	}
	if (r < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int show_human(const struct store_user *u, const struct account_view *v)
{
	static const char *const keys[] = {
		"login",     "name",          "e-mail",           "kind",
		"status",    "locked",        "failed logins",    "activated",
		"must change password",       "two-step (TOTP)",  "password changed",
		"password expires",           "last login",       "created",
		"allowed from",               "keys",
	};
	char locked[64], failed[24], changed[32], expires[96], last[128], created[32];
	char n_keys[24];
	char iso[32];
	const char *values[sizeof(keys) / sizeof(keys[0])];
	size_t i = 0;

	if (v->locked) {
		util_iso8601(u->locked_until, iso, sizeof(iso));
		snprintf(locked, sizeof(locked), "yes, until %s", iso);
	} else {
		snprintf(locked, sizeof(locked), "no");
	}
	snprintf(failed, sizeof(failed), "%" PRId64, u->failed_count);
	util_iso8601(u->password_changed_at, changed, sizeof(changed));
	util_iso8601(u->created_at, created, sizeof(created));
	if (!v->human) {
		snprintf(expires, sizeof(expires), "never (key-only account)");
	} else {
		util_iso8601(v->expiry.expires_at, iso, sizeof(iso));
		if (v->expiry.state == POLICY_PW_EXPIRED)
			snprintf(expires, sizeof(expires), "%s (expired)", iso);
		else
			snprintf(expires, sizeof(expires), "%s (in %" PRId64 " day%s%s)", iso,
				 v->expiry.days_left, v->expiry.days_left == 1 ? "" : "s",
				 v->warned ? ", warned by e-mail" : "");
	}
	if (u->last_login_at) {
		util_iso8601(u->last_login_at, iso, sizeof(iso));
		snprintf(last, sizeof(last), "%s from %s", iso,
			 u->last_login_src[0] ? u->last_login_src : "?");
	} else {
		snprintf(last, sizeof(last), "never");
	}
	values[i++] = v->login;
	values[i++] = u->full_name;
	values[i++] = u->email[0] ? u->email : NULL;
	values[i++] = u->batch ? "batch" : "human";
	values[i++] = u->disabled ? "disabled" : "active";
	values[i++] = locked;
	values[i++] = failed;
	values[i++] = u->activated ? "yes" : "no (the activation code is still needed)";
	values[i++] = u->must_change ? "yes" : "no";
	values[i++] = u->batch ? "none (key-only account)"
		      : u->totp_secret_len > 0 ? "enrolled"
					       : "not enrolled (set up at the next login)";
	values[i++] = changed;
	values[i++] = expires;
	values[i++] = last;
	values[i++] = created;
	if (u->batch) {
		snprintf(n_keys, sizeof(n_keys), "%d", v->keys);
		values[i++] = u->allowed_from[0] ? u->allowed_from : "anywhere";
		values[i++] = n_keys;
	}
	return admin_out_fields_print(keys, values, i);
}

/* Print the account as `show` does (re-read, so that it shows the result of
 * a change). */
static int print_account(struct admin_ctx *ctx, int64_t now)
{
	struct store_user u;
	struct account_view v;
	struct json_object *o;
	int r;

	r = admin_need_user(ctx, &u);
	if (r < 0)
		return r;
	view_of(ctx, &u, now, &v);
	if (u.batch) {
		v.keys = store_key_count(ctx->store, u.id);
		if (v.keys < 0) {
			admin_err("cannot count the keys of %s: %s", v.login, strerror(-v.keys));
			return v.keys;
		}
	}
	if (!ctx->json) {
		r = show_human(&u, &v);
	} else {
		o = show_json(&u, &v);
		r = o ? admin_out_json_print(o) : -ENOMEM;
		json_object_put(o);
	}
	if (r < 0)
		admin_err("cannot write the result: %s", strerror(-r));
	return r;
}

int admin_cmd_user_show(struct admin_ctx *ctx)
{
	return print_account(ctx, admin_now());
}

/* ---- disable, enable, unlock, reset-totp ---- */

enum account_change { CHANGE_DISABLE, CHANGE_ENABLE, CHANGE_UNLOCK, CHANGE_RESET_TOTP };

static int apply(struct admin_ctx *ctx, enum account_change what)
{
	const char *relation = ctx->args[0], *user = ctx->username;

	switch (what) {
	case CHANGE_DISABLE:
		return store_user_set_disabled(ctx->store, relation, user, true);
	case CHANGE_ENABLE:
		return store_user_set_disabled(ctx->store, relation, user, false);
	case CHANGE_UNLOCK:
		return store_user_unlock(ctx->store, relation, user);
	case CHANGE_RESET_TOTP:
		return store_user_reset_totp(ctx->store, relation, user);
	}
	return -EINVAL;
}

static int change(struct admin_ctx *ctx, enum account_change what)
{
	static const char *const events[] = { "user_disable", "user_enable", "user_unlock",
					      "user_reset_totp" };
	const char *relation = ctx->args[0];
	int64_t now = admin_now();
	struct store_user u;
	char login[SD_LOGIN_MAX];
	char extra[96] = "";
	char msg[256];
	bool locked;
	int r, ar;

	r = admin_need_user(ctx, &u);
	if (r < 0)
		return r;
	snprintf(login, sizeof(login), "%s.%s", relation, ctx->username);
	if (what == CHANGE_RESET_TOTP && u.batch) {
		admin_err("user %s is a batch account: it logs in with a key, not TOTP", login);
		return -EINVAL;
	}
	locked = policy_is_locked(&(struct policy_lock){ u.failed_count, u.locked_until }, now);
	switch (what) {
	case CHANGE_DISABLE:
		snprintf(msg, sizeof(msg), "user %s %s: it cannot log in until it is enabled\n",
			 login, u.disabled ? "was already disabled" : "disabled");
		snprintf(extra, sizeof(extra), "changed=%s", u.disabled ? "no" : "yes");
		break;
	case CHANGE_ENABLE:
		snprintf(msg, sizeof(msg), "user %s %s\n", login,
			 u.disabled ? "enabled" : "was already enabled");
		snprintf(extra, sizeof(extra), "changed=%s", u.disabled ? "yes" : "no");
		break;
	case CHANGE_UNLOCK:
		snprintf(msg, sizeof(msg), "user %s %s; its failed logins (%" PRId64 ") are reset\n",
			 login, locked ? "unlocked" : "was not locked", u.failed_count);
		snprintf(extra, sizeof(extra), "was_locked=%s failures=%" PRId64,
			 locked ? "yes" : "no", u.failed_count);
		break;
	case CHANGE_RESET_TOTP:
		snprintf(msg, sizeof(msg),
			 "user %s: %s; two-step verification is set up again at the next login\n",
			 login, u.totp_secret_len ? "TOTP secret removed" : "had no TOTP secret");
		snprintf(extra, sizeof(extra), "had_totp=%s", u.totp_secret_len ? "yes" : "no");
		break;
	}
	r = apply(ctx, what);
	if (r < 0) {
		if (r == -ENOENT)
			admin_err("user %s does not exist", login);
		else
			admin_err("cannot change user %s: %s", login, strerror(-r));
		return r;
	}
	ar = admin_audit_ex(ctx, now, relation, ctx->username, events[what], "ok", extra);
	if (ctx->json) {
		r = print_account(ctx, now);
	} else {
		fputs(msg, stdout);
		r = fflush(stdout) == 0 && !ferror(stdout) ? 0 : -EIO;
		if (r < 0)
			admin_err("cannot write the result: %s", strerror(-r));
	}
	return r < 0 ? r : ar;
}

int admin_cmd_user_disable(struct admin_ctx *ctx)
{
	return change(ctx, CHANGE_DISABLE);
}

int admin_cmd_user_enable(struct admin_ctx *ctx)
{
	return change(ctx, CHANGE_ENABLE);
}

int admin_cmd_user_unlock(struct admin_ctx *ctx)
{
	return change(ctx, CHANGE_UNLOCK);
}

int admin_cmd_user_reset_totp(struct admin_ctx *ctx)
{
	return change(ctx, CHANGE_RESET_TOTP);
}

/* ---- reset-password ---- */

/* The secrets of one reset, in one place so that one explicit_bzero() covers
 * them. */
struct reset {
	char login[SD_LOGIN_MAX];
	char password[ADMIN_OTP_SIZE];
	char phc[STORE_HASH_MAX];
	char text[1024];
};

int admin_cmd_user_reset_password(struct admin_ctx *ctx)
{
	const char *relation = ctx->args[0];
	int64_t now = admin_now();
	struct store_user u;
	struct reset *x = NULL;
	bool activated;
	int r, pr;

	r = admin_need_user(ctx, &u);
	if (r < 0)
		return r;
	activated = u.activated;
	x = calloc(1, sizeof(*x));
	if (!x) {
		admin_err("out of memory");
		return -ENOMEM;
	}
	snprintf(x->login, sizeof(x->login), "%s.%s", relation, ctx->username);
	if (u.batch) {
		admin_err("user %s is a batch account: it logs in with a key, not a password",
			  x->login);
		r = -EINVAL;
		goto out;
	}
	r = admin_otp_generate(&ctx->conf, ctx->username, x->password);
	if (r < 0) {
		admin_err("cannot generate a password: %s", strerror(-r));
		goto out;
	}
	r = admin_password_hash(&ctx->conf, x->password, x->phc, sizeof(x->phc));
	if (r < 0) {
		admin_hash_error(ctx, r);
		goto out;
	}
	/* conf bounds password_history to 1..100. */
	r = store_user_reset_password(ctx->store, relation, ctx->username, x->phc,
				      (unsigned)ctx->conf.password_history, now);
	if (r < 0) {
		if (r == -ENOENT)
			admin_err("user %s does not exist", x->login);
		else
			admin_err("cannot reset the password of %s: %s", x->login, strerror(-r));
		goto out;
	}
	r = admin_audit(ctx, now, relation, ctx->username, "user_reset_password");
	{
		const struct admin_secret_item items[] = {
			{ .key = "login", .label = "login", .value = x->login },
			{ .key = "one_time_password", .label = "one-time password",
			  .value = x->password, .secret = true },
			{ .key = "must_change_password", .is_bool = true, .flag = true },
			{ .key = "activated", .is_bool = true, .flag = activated },
		};
		const char *note =
			activated
				? "Shown only this once. Send it to the user by e-mail; it must be\n"
				  "changed at the next login. The account is unlocked.\n"
				: "Shown only this once. Send it to the user by e-mail; it must be\n"
				  "changed at the next login. The account is unlocked. It is not\n"
				  "activated yet: the first login still needs the activation code.\n";

		pr = admin_out_secrets(ctx->json, items, sizeof(items) / sizeof(items[0]), note,
				       x->text, sizeof(x->text));
	}
	if (pr < 0) {
		admin_err("the password of %s was reset, but it could not be written (%s); "
			  "reset it again",
			  x->login, strerror(-pr));
		if (r == 0)
			r = pr;
	}
out:
	explicit_bzero(x, sizeof(*x));
	free(x);
	return r;
}

/* A lost letter: a new activation code for an account never activated. */
int admin_cmd_user_reset_activation(struct admin_ctx *ctx)
{
	const char *relation = ctx->args[0];
	int64_t now = admin_now();
	struct {
		char login[SD_LOGIN_MAX];
		char shown[ADMIN_ACTIVATION_SIZE];
		char canonical[ADMIN_ACTIVATION_SIZE];
		char phc[STORE_HASH_MAX];
		char text[1024];
	} *x = calloc(1, sizeof(*x));
	int r, pr;

	if (!x) {
		admin_err("out of memory");
		return -ENOMEM;
	}
	snprintf(x->login, sizeof(x->login), "%s.%s", relation, ctx->username);
	r = admin_activation_generate(x->shown, x->canonical);
	if (r < 0) {
		admin_err("cannot generate an activation code: %s", strerror(-r));
		goto out;
	}
	r = admin_password_hash(&ctx->conf, x->canonical, x->phc, sizeof(x->phc));
	if (r < 0) {
		admin_hash_error(ctx, r);
		goto out;
	}
	r = store_user_reset_activation(ctx->store, relation, ctx->username, x->phc);
	if (r < 0) {
		if (r == -ENOENT)
			admin_err("user %s does not exist", x->login);
		else if (r == -EALREADY)
			admin_err("user %s is already activated: nothing to reset", x->login);
		else
			admin_err("cannot reset the activation code of %s: %s", x->login,
				  strerror(-r));
		goto out;
	}
	r = admin_audit(ctx, now, relation, ctx->username, "user_reset_activation");
	{
		const struct admin_secret_item items[] = {
			{ .key = "login", .label = "login", .value = x->login },
			{ .key = "activation_code", .label = "activation code", .value = x->shown,
			  .secret = true },
		};

		pr = admin_out_secrets(ctx->json, items, sizeof(items) / sizeof(items[0]),
				       "Shown only this once. Send it to the user by letter; the "
				       "earlier code no longer works.\n",
				       x->text, sizeof(x->text));
	}
	if (pr < 0) {
		admin_err("the activation code of %s was reset, but it could not be written "
			  "(%s); reset it again",
			  x->login, strerror(-pr));
		if (r == 0)
			r = pr;
	}
out:
	explicit_bzero(x, sizeof(*x));
	free(x);
	return r;
}
