/* Account policy: pure decisions over their inputs (login names, password
 * rules). No I/O, no logging, no clock: time and limits are arguments. */
#ifndef SFTPDROP_POLICY_H
#define SFTPDROP_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
	POLICY_PW_REUSED = 1 << 4, /* one of the last N: decided by the caller */
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

/* ---- password ageing (expiry.c) ---- */

enum policy_pw_age {
	POLICY_PW_VALID = 0,   /* nothing to say */
	POLICY_PW_EXPIRING,    /* within the warning period: warn */
	POLICY_PW_EXPIRED,     /* must be changed at this login */
};

struct policy_expiry {
	enum policy_pw_age state;
	int64_t expires_at; /* changed_at + max_age */
	int64_t days_left;  /* whole days until expires_at, rounded up; 0 when expired */
};

/* A password set at changed_at is valid max_age_days; from warn_days before
 * the end the user is warned. */
struct policy_expiry policy_password_expiry(int64_t changed_at, int64_t now,
					    int64_t max_age_days, int64_t warn_days);

/* ---- lockout and source bans (lockout.c) ---- */

/* Failed logins of one account. */
struct policy_lock {
	int64_t failures;     /* consecutive failures since the last success or lock */
	int64_t locked_until; /* 0: not locked */
};

bool policy_is_locked(const struct policy_lock *l, int64_t now);
/* One more failed login at now. A failure while locked changes nothing (it
 * never extends the lock). Returns true when this failure locks the account:
 * the threshold-th consecutive failure locks it for lock_seconds. */
bool policy_lock_fail(struct policy_lock *l, int64_t now, int64_t threshold,
		      int64_t lock_seconds);

/* Failed logins from one source address within a sliding window. */
struct policy_ban {
	int64_t failures;
	int64_t window_start;
	int64_t banned_until; /* 0: not banned */
};

bool policy_is_banned(const struct policy_ban *b, int64_t now);
/* One more failure at now; a window older than window_seconds starts anew.
 * Returns true when this failure bans the source for ban_seconds. */
bool policy_ban_fail(struct policy_ban *b, int64_t now, int64_t window_seconds,
		     int64_t threshold, int64_t ban_seconds);

/* ---- greeting (greeting.c) ---- */

enum policy_daypart { POLICY_MORNING, POLICY_AFTERNOON, POLICY_EVENING, POLICY_NIGHT };

/* Part of the day for a local hour 0..23: 6-12 morning, 12-18 afternoon,
 * 18-24 evening, 0-6 night. */
enum policy_daypart policy_daypart(int hour);

/* ---- source address ranges (cidr.c) ---- */

/* Most ranges in one list, and its longest text (a stored column, an admin
 * argument: enough for a few dozen ranges). */
#define POLICY_CIDR_LIST_MAX 32
#define POLICY_CIDR_TEXT_MAX 1024

/* Is list a comma-separated list (no spaces) of IPv4 or IPv6 ranges
 * "ADDR/BITS" (or bare addresses) with no host bits set? 0 or -EINVAL. */
int policy_cidr_list_check(const char *list);
/* Is addr (IPv4 dotted or IPv6 text) inside one of the ranges of list? An
 * address only matches ranges of its own family. 1 yes, 0 no, -EINVAL when
 * the list or the address is malformed (callers refuse then). */
int policy_cidr_list_match(const char *list, const char *addr);

/* ---- authorized_keys lines (authkeys.c) ---- */

/* Longest line we read (an RSA 16384-bit key is about 2.8 KB of base64). */
#define POLICY_AUTHKEY_LINE_MAX 8192
/* Longest comment kept. */
#define POLICY_AUTHKEY_COMMENT_MAX 256

enum policy_authkey_status {
	POLICY_AUTHKEY_OK = 0,
	POLICY_AUTHKEY_EMPTY,      /* blank or a # comment: skip it */
	POLICY_AUTHKEY_OPTIONS,    /* an options prefix (from=, command=, ...): refused,
				    * since ignoring a restriction would widen access */
	POLICY_AUTHKEY_BAD_TYPE,   /* the first word is not a key type we accept */
	POLICY_AUTHKEY_NO_KEY,     /* no base64 after the type */
	POLICY_AUTHKEY_BAD_BASE64, /* characters outside base64, or bad padding */
	POLICY_AUTHKEY_BAD_COMMENT, /* control characters in the comment */
	POLICY_AUTHKEY_TOO_LONG,
};

/* Where the parts of one line are (offsets into the caller's buffer). */
struct policy_authkey {
	size_t type_off, type_len;
	size_t b64_off, b64_len;
	size_t comment_off, comment_len; /* 0 length: none */
};

/* Split one OpenSSH authorized_keys line buf[pos..len) (no newline; a
 * trailing CR is ignored): [options] type base64 [comment]. Types accepted:
 * ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa. A line whose first
 * word is not a type but a later one is, has options: refused. The key
 * itself is not decoded (that is the SSH library's job). *out is written for
 * OK only. */
enum policy_authkey_status policy_authkey_parse(const char *buf, size_t len, size_t pos,
						struct policy_authkey *out);
/* Text for a status, for messages ("unsupported key type"). */
const char *policy_authkey_error(enum policy_authkey_status st);

#endif
