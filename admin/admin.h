/* sftpdrop-admin: what the command handlers share. main.c parses and checks the
 * command line into a struct admin_ctx, opens the configuration and the store
 * when the command needs them, and calls one handler. */
#ifndef SFTPDROP_ADMIN_H
#define SFTPDROP_ADMIN_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "defs.h"
#include "store.h"

/* Exit statuses: 1 for "the command was valid but could not be done", 2 for
 * "the command line is wrong" (what getopt-style tools use). */
#define ADMIN_EXIT_FAIL 1
#define ADMIN_EXIT_USAGE 2

/* No command takes more positional arguments than this. */
#define ADMIN_MAX_ARGS 4

/* Command options that take a value; ctx->opt[] is indexed by these. */
enum admin_opt {
	ADMIN_OPT_NAME,
	ADMIN_OPT_EMAIL,
	ADMIN_OPT_DIR,
	ADMIN_OPT_LISTEN,
	ADMIN_OPT_RELATION,
	ADMIN_OPT_USER,
	ADMIN_OPT_SINCE,
	ADMIN_OPT_TOTP, /* a flag: non-NULL when given */
	ADMIN_OPT_PARTIAL, /* a flag: uploads --partial */
	ADMIN_OPT_BATCH, /* a flag: user add --batch */
	ADMIN_OPT_FROM,  /* user add --from CIDR,... (batch accounts) */
	ADMIN_OPT_COUNT
};

struct admin_ctx {
	bool json;
	const char *config_path;             /* -c, else $SFTPDROP_CONFIG; NULL for init */
	const char *args[ADMIN_MAX_ARGS];    /* positional arguments after the command words */
	unsigned n_args;
	const char *opt[ADMIN_OPT_COUNT];    /* option values, NULL when not given */
	char username[SD_USERNAME_MAX + 1];  /* the USERNAME argument, folded to lower case */
	char user_opt[SD_USERNAME_MAX + 1];  /* --user, folded; opt[ADMIN_OPT_USER] points here */
	char address[STORE_SRC_MAX];         /* an ADDRESS argument in the daemon's form */
	struct conf conf;                    /* loaded when the command needs the store */
	struct store *store;
};

/* The clock of every command (one place, so tests can substitute it). */
int64_t admin_now(void);

/* Record that this operator did event (an audit row with src "admin" and the
 * caller's uid, and one log line). relation/username may be NULL. On failure
 * prints why and returns -errno: the action itself has already happened. */
int admin_audit(struct admin_ctx *ctx, int64_t now, const char *relation,
		const char *username, const char *event);
/* The same with an outcome ("ok", "fail") and extra "key=value" text for the
 * detail column and the log line (NULL: none; values in it already quoted). */
int admin_audit_ex(struct admin_ctx *ctx, int64_t now, const char *relation,
		   const char *username, const char *event, const char *outcome,
		   const char *extra);

/* Is there a relation with this number? 0, or -errno after saying why
 * ("relation N does not exist"). */
int admin_need_relation(struct admin_ctx *ctx, const char *number);
/* The account ctx->args[0] . ctx->username, its secrets already wiped
 * (totp_secret_len still says whether TOTP is set up). 0, or -errno after
 * saying why. */
int admin_need_user(struct admin_ctx *ctx, struct store_user *out);
/* Say why an argon2id hash could not be made (r from admin_password_hash). */
void admin_hash_error(const struct admin_ctx *ctx, int r);

/* Command handlers. Each prints its own error message once (to stderr, via
 * admin_err()) and returns 0 or -errno; arguments are already validated. */
int admin_cmd_init(struct admin_ctx *ctx);
int admin_cmd_relation_add(struct admin_ctx *ctx);
int admin_cmd_relation_list(struct admin_ctx *ctx);
int admin_cmd_user_add(struct admin_ctx *ctx);
int admin_cmd_user_list(struct admin_ctx *ctx);
int admin_cmd_user_show(struct admin_ctx *ctx);
int admin_cmd_user_disable(struct admin_ctx *ctx);
int admin_cmd_user_enable(struct admin_ctx *ctx);
int admin_cmd_user_unlock(struct admin_ctx *ctx);
int admin_cmd_user_reset_password(struct admin_ctx *ctx);
int admin_cmd_user_reset_activation(struct admin_ctx *ctx);
int admin_cmd_user_reset_totp(struct admin_ctx *ctx);
int admin_cmd_bans(struct admin_ctx *ctx);
int admin_cmd_bans_lift(struct admin_ctx *ctx);
int admin_cmd_audit(struct admin_ctx *ctx);
int admin_cmd_notify_expiring(struct admin_ctx *ctx);
int admin_cmd_uploads(struct admin_ctx *ctx);
int admin_cmd_key_add(struct admin_ctx *ctx);
int admin_cmd_key_list(struct admin_ctx *ctx);
int admin_cmd_key_remove(struct admin_ctx *ctx);

#endif
