/* `user add` and `user list`. A new account gets a one-time password (sent
 * to the user by e-mail, changed at first login), an activation code (sent by
 * letter, used once at first login) and, with --totp, a pre-provisioned TOTP
 * secret (otherwise the user enrols at first login). The secrets are shown
 * exactly once, here, and every copy this program makes is wiped before it
 * exits (SQLite's page cache, which holds the stored seed, is beyond its
 * reach). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "credentials.h"
#include "output.h"
#include "policy.h"
#include "util.h"

/* Everything secret about one new account, in one place so that one
 * explicit_bzero() covers it. */
struct new_account {
	char login[SD_LOGIN_MAX];
	char password[ADMIN_OTP_SIZE];
	char activation[ADMIN_ACTIVATION_SIZE];
	char activation_canonical[ADMIN_ACTIVATION_SIZE];
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

static int print_secret(const struct admin_ctx *ctx, struct new_account *a)
{
	const struct store_user *u = &a->user;
	bool totp = u->totp_secret_len > 0;
	const struct admin_secret_item items[] = {
		{ .key = "login", .label = "login", .value = a->login },
		{ .key = "relation", .value = u->relation },
		{ .key = "username", .value = u->username },
		{ .key = "name", .value = u->full_name },
		{ .key = "email", .value = u->email },
		{ .key = "must_change_password", .is_bool = true, .flag = true },
		{ .key = "one_time_password", .label = "one-time password", .value = a->password,
		  .secret = true },
		{ .key = "activation_code", .label = "activation code", .value = a->activation,
		  .secret = true },
		{ .key = "totp_enrolled", .is_bool = true, .flag = totp },
		{ .key = "totp_secret", .label = "TOTP secret", .value = totp ? a->secret_b32 : NULL,
		  .secret = true },
		{ .key = "totp_uri", .label = "TOTP URI", .value = totp ? a->uri : NULL,
		  .secret = true },
	};
	const char *note =
		totp ? "Shown only this once. Send the one-time password to the user by e-mail\n"
		       "and the activation code by letter: the first login needs both. Have\n"
		       "them add the TOTP secret (or the URI as a QR code) to an authenticator\n"
		       "app.\n"
		     : "Shown only this once. Send the one-time password to the user by e-mail\n"
		       "and the activation code by letter: the first login needs both. The\n"
		       "user sets up two-step verification (TOTP) at the first login.\n";

	return admin_out_secrets(ctx->json, items, sizeof(items) / sizeof(items[0]), note,
				 a->text, sizeof(a->text));
}

/* Fill a with fresh secrets and the hashes of the password and the
 * activation code; with totp also a TOTP secret. */
static int make_credentials(struct admin_ctx *ctx, struct new_account *a, bool totp)
{
	struct store_user *u = &a->user;
	int r;

	r = admin_otp_generate(&ctx->conf, u->username, a->password);
	if (r == 0)
		r = admin_activation_generate(a->activation, a->activation_canonical);
	if (r < 0) {
		admin_err("cannot generate a password: %s", strerror(-r));
		return r;
	}
	r = admin_password_hash(&ctx->conf, a->password, u->password_hash,
				sizeof(u->password_hash));
	if (r == 0)
		r = admin_password_hash(&ctx->conf, a->activation_canonical, u->activation_hash,
					sizeof(u->activation_hash));
	if (r < 0) {
		admin_hash_error(ctx, r);
		return r;
	}
	if (!totp)
		return 0;
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

/* A batch account logs in with its keys only: its password hash is that of
 * 32 random bytes nobody ever sees (a real argon2id hash, so that a password
 * attempt costs the same as for a person), it is activated, never asked to
 * change anything, and has no TOTP. */
static int make_batch(struct admin_ctx *ctx, struct new_account *a)
{
	struct store_user *u = &a->user;
	uint8_t raw[32];
	char hex[65];
	int r;

	r = util_random(raw, sizeof(raw));
	if (r < 0) {
		admin_err("cannot generate random bytes: %s", strerror(-r));
		return r;
	}
	util_hex(raw, sizeof(raw), hex);
	r = admin_password_hash(&ctx->conf, hex, u->password_hash, sizeof(u->password_hash));
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(hex, sizeof(hex));
	if (r < 0) {
		admin_hash_error(ctx, r);
		return r;
	}
	u->batch = true;
	u->must_change = false;
	u->activation_hash[0] = '\0';
	u->totp_secret_len = 0;
	if (ctx->opt[ADMIN_OPT_FROM])
		snprintf(u->allowed_from, sizeof(u->allowed_from), "%s", ctx->opt[ADMIN_OPT_FROM]);
	return 0;
}

static int print_batch(const struct admin_ctx *ctx, struct new_account *a)
{
	const struct store_user *u = &a->user;
	const struct admin_secret_item items[] = {
		{ .key = "login", .label = "login", .value = a->login },
		{ .key = "relation", .value = u->relation },
		{ .key = "username", .value = u->username },
		{ .key = "name", .value = u->full_name },
		{ .key = "email", .value = u->email },
		{ .key = "kind", .label = "kind", .value = "batch" },
		{ .key = "allowed_from", .label = "allowed from",
		  .value = u->allowed_from[0] ? u->allowed_from : NULL },
	};
	char note[256];

	snprintf(note, sizeof(note),
		 "A key-only account%s. Add its public keys with:\n"
		 "  sftpdrop-admin key add %s %s < id_ed25519.pub\n",
		 u->allowed_from[0] ? "" : " (any source address)", u->relation, u->username);
	return admin_out_secrets(ctx->json, items, sizeof(items) / sizeof(items[0]), note,
				 a->text, sizeof(a->text));
}

int admin_cmd_user_add(struct admin_ctx *ctx)
{
	const char *relation = ctx->args[0];
	bool batch = ctx->opt[ADMIN_OPT_BATCH] != NULL;
	struct new_account *a = NULL;
	struct store_user *u;
	int64_t now = admin_now();
	char extra[POLICY_CIDR_TEXT_MAX + 64];
	int pr;
	int r;

	if (batch && ctx->opt[ADMIN_OPT_TOTP]) {
		admin_err("--totp and --batch do not go together: a batch account has no TOTP");
		return -EINVAL;
	}
	if (!batch && ctx->opt[ADMIN_OPT_FROM]) {
		admin_err("--from applies to batch accounts only (add --batch)");
		return -EINVAL;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		r = -ENOMEM;
		admin_err("out of memory");
		goto out;
	}
	u = &a->user;
	snprintf(a->login, sizeof(a->login), "%s.%s", relation, ctx->username);
	r = admin_need_relation(ctx, relation);
	if (r < 0)
		goto out;
	/* Ask before spending argon2 hashes on a name that is taken. */
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
	r = batch ? make_batch(ctx, a) : make_credentials(ctx, a, ctx->opt[ADMIN_OPT_TOTP] != NULL);
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
	if (batch)
		snprintf(extra, sizeof(extra), "kind=batch allowed_from=%s",
			 u->allowed_from[0] ? u->allowed_from : "any");
	else
		snprintf(extra, sizeof(extra), "%s",
			 u->totp_secret_len ? "totp=provisioned" : "totp=at_first_login");
	r = admin_audit_ex(ctx, now, relation, ctx->username, "user_add", "ok", extra);
	/* The account exists: its secrets must be shown even if the audit failed,
	 * or nobody could ever log in with it. */
	pr = batch ? print_batch(ctx, a) : print_secret(ctx, a);
	if (pr < 0) {
		admin_err("user %s was added, but its credentials could not be written "
			  "(%s); its activation code is lost: disable the account",
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
		r = admin_need_relation(ctx, relation);
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
