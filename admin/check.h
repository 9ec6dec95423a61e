/* Checks of command-line values before any of them reaches the store or the
 * config file: relation numbers, user names, names, e-mail addresses. */
#ifndef SFTPDROP_ADMIN_CHECK_H
#define SFTPDROP_ADMIN_CHECK_H

#include <stddef.h>

enum admin_arg_kind {
	ADMIN_ARG_RELATION, /* 1..12 ASCII digits */
	ADMIN_ARG_USERNAME, /* policy user name; upper case accepted (folded later) */
	ADMIN_ARG_TEXT,     /* a person's or organisation's name */
	ADMIN_ARG_EMAIL,
	ADMIN_ARG_LISTEN,   /* ADDR:PORT or [ADDR6]:PORT */
	ADMIN_ARG_PATH,
};

/* Is value acceptable as kind? 0, or -EINVAL with the reason (a phrase that
 * completes "<what> <why>", e.g. "must be 1 to 12 digits") in why. */
int admin_check_arg(enum admin_arg_kind kind, const char *value, char *why, size_t whylen);

/* Copy a user name with ASCII upper case folded to lower; -ENAMETOOLONG if it
 * does not fit in outsz bytes. */
int admin_fold_username(const char *in, char *out, size_t outsz);

#endif
