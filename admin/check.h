/* Checks of command-line values before any of them reaches the store or the
 * config file: relation numbers, user names, names, e-mail addresses. */
#ifndef SFTPDROP_ADMIN_CHECK_H
#define SFTPDROP_ADMIN_CHECK_H

#include <stddef.h>
#include <stdint.h>

enum admin_arg_kind {
	ADMIN_ARG_RELATION, /* 1..12 ASCII digits */
	ADMIN_ARG_USERNAME, /* policy user name; upper case accepted (folded later) */
	ADMIN_ARG_TEXT,     /* a person's or organisation's name */
	ADMIN_ARG_EMAIL,
	ADMIN_ARG_LISTEN,   /* ADDR:PORT or [ADDR6]:PORT */
	ADMIN_ARG_PATH,
	ADMIN_ARG_TIME,     /* YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ (UTC) or epoch seconds */
	ADMIN_ARG_ADDRESS,  /* a numeric IPv4 or IPv6 address */
	ADMIN_ARG_CIDRS,    /* comma-separated IPv4/IPv6 ranges (policy_cidr_list_check) */
	ADMIN_ARG_FINGERPRINT, /* SHA256:<43 base64 characters>, as ssh-keygen -l prints */
};

/* Is value acceptable as kind? 0, or -EINVAL with the reason (a phrase that
 * completes "<what> <why>", e.g. "must be 1 to 12 digits") in why. */
int admin_check_arg(enum admin_arg_kind kind, const char *value, char *why, size_t whylen);

/* The time an ADMIN_ARG_TIME value names, in epoch seconds. 0 or -EINVAL. */
int admin_parse_time(const char *value, int64_t *out);

/* A numeric IPv4 or IPv6 address in the form the daemon records a source:
 * inet_ntop's, with IPv4-mapped IPv6 shown as IPv4. 0 or -EINVAL. */
int admin_canonical_address(const char *value, char *out, size_t outsz);

/* Copy a user name with ASCII upper case folded to lower; -ENAMETOOLONG if it
 * does not fit in outsz bytes. */
int admin_fold_username(const char *in, char *out, size_t outsz);

#endif
