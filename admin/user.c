/* `user add` and `user list`. A new account gets a one-time password (to be
 * changed at first login) and a TOTP secret; both are shown exactly once, here,
 * and every copy this program makes is wiped before it exits (SQLite's page
 * cache, which holds the stored seed, is beyond its reach). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "credentials.h"
#include "output.h"
#include "util.h"

/* Everything secret about one new account, in one place so that one
 * explicit_bzero() covers it. */
struct new_account {
	char login[SD_LOGIN_MAX];
	char password[ADMIN_OTP_LEN + 1];
	char secret_b32[ADMIN_TOTP_B32_SIZE];
	char uri[ADMIN_TOTP_URI_SIZE];
	char text[2048]; /* the human-readable output */
	struct store_user user;
};

static const char *user_status(const struct store_user *u)
{
	return u->disabled ? "disabled" : "active";
}

static const char *user_kind(const struct store_user *u)
{
	return u->batch ? "batch" : "human";
}

/* Wipe what json-c holds of a secret string (it offers no wiping free). */
static void wipe_json_string(struct json_object *s)
{
	if (s)
		explicit_bzero((char *)json_object_get_string(s),
			       (size_t)json_object_get_string_len(s));
}

/* Add val to o and keep our own reference to it. */
static void add_kept(struct json_object *o, const char *key, struct json_object *val, int *r)
{
	if (json_object_object_add(o, key, json_object_get(val)) != 0) {
		json_object_put(val);
		*r = -ENOMEM;
	}
}

static int print_json_secret(const struct new_account *a)
{
	struct json_object *o = json_object_new_object();
	struct json_object *pw = NULL, *secret = NULL, *uri = NULL;
	const char *doc;
	int r = 0;

	if (!o)
		return -ENOMEM;
	admin_out_json_add_str(o, "login", a->login, &r);
	admin_out_json_add_str(o, "relation", a->user.relation, &r);
	admin_out_json_add_str(o, "username", a->user.username, &r);
	admin_out_json_add_str(o, "name", a->user.full_name, &r);
	admin_out_json_add_str(o, "email", a->user.email, &r);
	admin_out_json_add_bool(o, "must_change_password", true, &r);
	/* Kept by pointer so that their text can be wiped before the free. */
	pw = json_object_new_string(a->password);
	secret = json_object_new_string(a->secret_b32);
	uri = json_object_new_string(a->uri);
	if (!pw || !secret || !uri || r < 0) {
		json_object_put(pw);
		json_object_put(secret);
		json_object_put(uri);
		pw = secret = uri = NULL;
		r = -ENOMEM;
		goto out;
	}
	add_kept(o, "one_time_password", pw, &r);
	add_kept(o, "totp_secret", secret, &r);
	add_kept(o, "totp_uri", uri, &r);
	if (r < 0)
		goto out;
	doc = json_object_to_json_string_ext(o, ADMIN_OUT_JSON_FLAGS);
	if (!doc) {
		r = -ENOMEM;
		goto out;
	}
	r = admin_out_write_direct(doc, strlen(doc));
	if (r == 0)
		r = admin_out_write_direct("\n", 1);
	/* The serialised document lives in the object's print buffer. */
	explicit_bzero((char *)doc, strlen(doc));
out:
	wipe_json_string(pw);
	wipe_json_string(secret);
	wipe_json_string(uri);
	json_object_put(pw);
	json_object_put(secret);
	json_object_put(uri);
	json_object_put(o);
	return r;
}

static int print_secret(const struct admin_ctx *ctx, struct new_account *a)
{
	int n;

	if (ctx->json)
		return print_json_secret(a);
	/* Formatted into our own buffer and written with write(2): stdio would
	 * keep a copy of the password in a buffer we cannot wipe. */
	n = snprintf(a->text, sizeof(a->text),
		     "login:             %s\n"
		     "one-time password: %s\n"
		     "TOTP secret:       %s\n"
		     "TOTP URI:          %s\n"
		     "\n"
		     "Shown only this once. Give the password to the user (e-mail) and\n"
		     "have them add the TOTP secret (or the URI as a QR code) to an\n"
		     "authenticator app.\n",
		     a->login, a->password, a->secret_b32, a->uri);
	if (n < 0 || (size_t)n >= sizeof(a->text))
		return -ENOSPC;
	return admin_out_write_direct(a->text, (size_t)n);
}

/* Fill a with fresh secrets and the hash of the password. */
static int make_credentials(struct admin_ctx *ctx, struct new_account *a)
{
	struct store_user *u = &a->user;
	int r;

	r = admin_otp_generate(u->username, a->password);
	if (r < 0) {
		admin_err("cannot generate a password: %s", strerror(-r));
		return r;
	}
	r = admin_password_hash(&ctx->conf, a->password, u->password_hash,
				sizeof(u->password_hash));
	if (r < 0) {
		admin_err("cannot hash the password (argon2id t=%lld m=%lld KiB p=%lld): %s",
			  (long long)ctx->conf.argon2_t_cost,
			  (long long)ctx->conf.argon2_m_cost_kib,
			  (long long)ctx->conf.argon2_parallelism, strerror(-r));
		return r;
	}
	r = util_random(u->totp_secret, SD_TOTP_SECRET_LEN);
	if (r < 0) {
		admin_err("cannot generate a TOTP secret: %s", strerror(-r));
		return r;
	}
	u->totp_secret_len = SD_TOTP_SECRET_LEN;
	r = util_base32_encode(u->totp_secret, u->totp_secret_len, a->secret_b32,
			       sizeof(a->secret_b32));
	if (r == 0)
		r = admin_totp_uri(a->login, a->secret_b32, a->uri, sizeof(a->uri));
	if (r < 0)
		admin_err("cannot encode the TOTP secret: %s", strerror(-r));
	return r;
}

/* Is there a relation with this number? 0, or -errno after saying why. */
static int need_relation(struct admin_ctx *ctx, const char *number)
{
	struct store_relation rel;
	int r = store_relation_get(ctx->store, number, &rel);

	if (r == -ENOENT)
		admin_err("relation %s does not exist", number);
	else if (r < 0)
		admin_err("cannot read relation %s: %s", number, strerror(-r));
	return r;
}

int admin_cmd_user_add(struct admin_ctx *ctx)
{
	const char *relation = ctx->args[0];
	struct new_account *a = NULL;
	struct store_user *u;
	int64_t now = admin_now();
	int pr;
	int r;

	a = calloc(1, sizeof(*a));
	if (!a) {
		r = -ENOMEM;
		admin_err("out of memory");
		goto out;
	}
	u = &a->user;
	snprintf(a->login, sizeof(a->login), "%s.%s", relation, ctx->username);
	r = need_relation(ctx, relation);
	if (r < 0)
		goto out;
	/* Ask before spending an argon2 hash on a name that is taken. */
	r = store_user_get(ctx->store, relation, ctx->username, u);
	store_user_wipe(u);
	if (r == 0) {
		r = -EEXIST;
		admin_err("user %s already exists", a->login);
		goto out;
	}
	if (r != -ENOENT) {
		admin_err("cannot read user %s: %s", a->login, strerror(-r));
		goto out;
	}
	/* Lengths were checked against these fields when the arguments were parsed. */
	snprintf(u->relation, sizeof(u->relation), "%s", relation);
	snprintf(u->username, sizeof(u->username), "%s", ctx->username);
	snprintf(u->full_name, sizeof(u->full_name), "%s", ctx->opt[ADMIN_OPT_NAME]);
	snprintf(u->email, sizeof(u->email), "%s", ctx->opt[ADMIN_OPT_EMAIL]);
	u->batch = false;
	u->disabled = false;
	u->must_change = true;
	u->password_changed_at = now;
	u->totp_last_step = -1;
	u->created_at = now;
	r = make_credentials(ctx, a);
	if (r < 0)
		goto out;
	r = store_user_add(ctx->store, u);
	if (r < 0) {
		if (r == -EEXIST)
			admin_err("user %s already exists", a->login);
		else if (r == -ENOENT)
			admin_err("relation %s does not exist", relation);
		else
			admin_err("cannot add user %s: %s", a->login, strerror(-r));
		goto out;
	}
	r = admin_audit(ctx, now, relation, ctx->username, "user_add");
	/* The account exists: its secrets must be shown even if the audit failed,
	 * or nobody could ever log in with it. */
	pr = print_secret(ctx, a);
	if (pr < 0) {
		admin_err("user %s was added, but its credentials could not be written "
			  "(%s); reset its password and TOTP",
			  a->login, strerror(-pr));
		if (r == 0)
			r = pr;
	}
out:
	if (a)
		explicit_bzero(a, sizeof(*a));
	free(a);
	return r;
}

static int user_row(const struct store_user *u, void *ud)
{
	struct admin_out_list *l = ud;
	char login[SD_LOGIN_MAX];
	char created[32], last[32];
	struct json_object *o;
	int r = 0;

	snprintf(login, sizeof(login), "%s.%s", u->relation, u->username);
	if (!l->json) {
		const char *cells[7] = { login,	       u->full_name, u->email, user_kind(u),
					 user_status(u), created,      last };

		util_iso8601(u->created_at, created, sizeof(created));
		if (u->last_login_at)
			util_iso8601(u->last_login_at, last, sizeof(last));
		else
			snprintf(last, sizeof(last), "never");
		return admin_out_list_row(l, cells);
	}
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	admin_out_json_add_str(o, "login", login, &r);
	admin_out_json_add_str(o, "relation", u->relation, &r);
	admin_out_json_add_str(o, "username", u->username, &r);
	admin_out_json_add_str(o, "name", u->full_name, &r);
	admin_out_json_add_str(o, "email", u->email, &r);
	admin_out_json_add_str(o, "status", user_status(u), &r);
	admin_out_json_add_str(o, "kind", user_kind(u), &r);
	admin_out_json_add_bool(o, "must_change_password", u->must_change, &r);
	admin_out_json_add_bool(o, "totp_enrolled", u->totp_secret_len > 0, &r);
	admin_out_json_add_time(o, "created_at", u->created_at, &r);
	admin_out_json_add_time(o, "last_login_at", u->last_login_at, &r);
	admin_out_json_add_opt_str(o, "last_login_from", u->last_login_src, &r);
	if (r < 0) {
		json_object_put(o);
		return r;
	}
	return admin_out_list_object(l, o);
}

int admin_cmd_user_list(struct admin_ctx *ctx)
{
	static const char *const headers[] = { "LOGIN",	 "NAME",    "EMAIL",     "KIND",
					       "STATUS", "CREATED", "LAST LOGIN" };
	const char *relation = ctx->n_args > 0 ? ctx->args[0] : NULL;
	struct admin_out_list l;
	int r;

	r = admin_out_list_begin(&l, ctx->json, headers, 7);
	if (r < 0) {
		admin_err("out of memory");
		goto out;
	}
	if (relation) {
		r = need_relation(ctx, relation);
		if (r < 0)
			goto out;
	}
	r = store_user_list(ctx->store, relation, user_row, &l);
	if (r < 0) {
		admin_err("cannot list users: %s", strerror(-r));
		goto out;
	}
	r = admin_out_list_print(&l);
	if (r < 0)
		admin_err("cannot write the list: %s", strerror(-r));
out:
	admin_out_list_free(&l);
	return r;
}
