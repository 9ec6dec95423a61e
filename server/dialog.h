/* The texts of the login dialogue (prompts and instructions), in the
 * configured language. Prompt texts are stable per language: scripts match
 * them. The password prompt is "Password: " in every language. */
#ifndef SFTPDROP_DIALOG_H
#define SFTPDROP_DIALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define DIALOG_TEXT_MAX 2048

/* One keyboard-interactive round: an instruction and 0 or 1 prompt. */
struct dialog_round {
	char instruction[DIALOG_TEXT_MAX];
	char prompt[64];
	bool echo;
	unsigned n_prompts;
};

enum dialog_prompt {
	DIALOG_ACTIVATION,
	DIALOG_NEW_PASSWORD,
	DIALOG_REPEAT_PASSWORD,
	DIALOG_CODE,
};

/* The prompt text of a round (translated). */
const char *dialog_prompt(enum dialog_prompt p);

/* Why the password must be changed now. */
enum dialog_change_why { DIALOG_CHANGE_ONE_TIME, DIALOG_CHANGE_EXPIRED };

/* Instruction texts; each writes into out (DIALOG_TEXT_MAX bytes). */
void dialog_activation(char *out);
void dialog_change_intro(char *out, enum dialog_change_why why, const struct conf *c);
/* broken: POLICY_PW_* bits; mismatch: the repeat differed; tries_left > 0. */
void dialog_change_rejected(char *out, unsigned broken, bool mismatch, unsigned tries_left,
			    const struct conf *c);
void dialog_enrol(char *out, const char *secret_b32, const char *uri, bool retry);
/* The last round: greeting by name and part of day, the previous login, and
 * what changed or is about to (new password's validity, expiry warning). */
struct dialog_final {
	const char *full_name;
	int64_t now;
	int64_t prev_login_at; /* 0: first login */
	const char *prev_login_src;
	bool password_changed;
	bool enrolled;
	int64_t expires_at;    /* of the password in force after this login */
	int64_t days_left;     /* > 0: warn */
};
void dialog_final(char *out, const struct dialog_final *f);

#endif
