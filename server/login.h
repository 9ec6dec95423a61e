/* The login state machine run by the monitor: the password, then the rounds
 * the account needs (activation code, new password, TOTP enrolment or code),
 * then a last round with the greeting. Everything is saved in one
 * transaction at the very end, so an interrupted login changes nothing. */
#ifndef SFTPDROP_LOGIN_H
#define SFTPDROP_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "defs.h"
#include "dialog.h"
#include "store.h"

enum login_step {
	LS_NONE,       /* no password yet */
	LS_DOOMED,     /* the attempt will fail: one more (code) round, then no */
	LS_ACTIVATION,
	LS_NEW_PASSWORD,
	LS_REPEAT_PASSWORD,
	LS_ENROL,
	LS_CODE,
	LS_FINAL,      /* zero-prompt round with the greeting */
	LS_DONE,       /* authenticated */
};

enum login_result {
	LOGIN_CONTINUE, /* *round holds the next round */
	LOGIN_OK,
	LOGIN_DENIED,
	LOGIN_DENIED_FINAL,
};

/* Secrets inside: login_reset() wipes them. */
struct login {
	const struct conf *conf;
	struct store *store;
	const char *src;
	enum login_step step;
	char relation[SD_RELATION_MAX + 1];
	char username[SD_USERNAME_MAX + 1];
	struct store_user user;
	const char *cause; /* why this attempt will fail (log only) */
	bool need_activation, need_change, need_enrol;
	enum dialog_change_why change_why;
	bool activated;
	char new_password[SD_PASSWORD_MAX + 1];
	char new_hash[STORE_HASH_MAX];
	char rehash[STORE_HASH_MAX];
	uint8_t enrol_secret[SD_TOTP_SECRET_LEN];
	int64_t enrol_step;
	unsigned change_tries, enrol_tries;
	unsigned failures; /* refused attempts in this connection */
};

void login_init(struct login *l, const struct conf *c, struct store *s, const char *src);
/* Forget the current attempt and wipe its secrets. */
void login_reset(struct login *l);

/* The password for login (any method). Always continues (a wrong password is
 * found out only at the end, after the same rounds and delay), unless the
 * connection has used up its attempts. */
enum login_result login_password(struct login *l, const char *login, const char *pw,
				 size_t len, struct dialog_round *next);
/* Is password one of the user's last depth passwords (the current one
 * counts as the first)? 1 yes, 0 no, or -errno. */
int login_password_reused(struct store *s, int64_t user_id, unsigned depth,
			  const char *password);

/* What a refusal counts towards, besides the connection's max_auth_tries. */
#define LOGIN_COUNT_ACCOUNT 1u /* the account's lockout (when l->user is known) */
#define LOGIN_COUNT_SOURCE 2u  /* the source address's ban */

/* Refuse the current attempt for cause (a reason= word of docs/login.md):
 * log auth_fail (extra, "key=value ..." or NULL, appended to the line and the
 * audit detail), count it as count says, and forget the attempt.
 * LOGIN_DENIED_FINAL once the connection has used up max_auth_tries. */
enum login_result login_refuse(struct login *l, const char *cause, const char *extra,
			       unsigned count);

/* The answer to the current round (answer NULL for a zero-prompt round). */
enum login_result login_answer(struct login *l, const char *answer,
			       struct dialog_round *next);

#endif
