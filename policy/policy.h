/* Account policy: pure decisions over their inputs (login names, password
 * rules). No I/O, no logging, no clock: time and limits are arguments. */
#ifndef SFTPDROP_POLICY_H
#define SFTPDROP_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "defs.h"

/* Split "RELATIENUMMER.USERNAME" at the first dot. The relation is 1..12
 * ASCII digits; the user name 1..64 characters of [a-z0-9._-] starting with a
 * letter or digit (upper case is folded to lower). relation and user must
 * hold SD_RELATION_MAX+1 and SD_USERNAME_MAX+1 bytes; written only on success.
 * 0 or -EINVAL. */
int policy_parse_login(const char *login, char *relation, char *user);

bool policy_relation_valid(const char *relation);
/* Validates an already lower-case user name. */
bool policy_username_valid(const char *user);

/* Password rules; each broken rule sets its bit. */
enum policy_pw_rule {
	POLICY_PW_TOO_SHORT = 1 << 0,
	POLICY_PW_HAS_USERNAME = 1 << 1,
	POLICY_PW_FEW_CLASSES = 1 << 2,
	POLICY_PW_TOO_LONG = 1 << 3,
};

struct policy_password_params {
	unsigned min_length;  /* characters (UTF-8 code points) */
	unsigned min_classes; /* of: lower, upper, digit, punctuation */
};

/* The portal's defaults: 12 characters, 3 of 4 classes. */
#define POLICY_PASSWORD_DEFAULTS ((struct policy_password_params){ 12, 3 })

/* Which rules does password break for user (0: none)? Case-insensitive check
 * for the user name. */
unsigned policy_password_check(const char *password, const char *user,
			       const struct policy_password_params *p);

#endif
