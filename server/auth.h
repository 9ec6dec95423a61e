/* Credential checks done by the monitor: argon2id passwords and TOTP codes.
 * Each is a small file of its own (auth_password.c, auth_totp.c). */
#ifndef SFTPDROP_AUTH_H
#define SFTPDROP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct auth_argon2_cost {
	uint32_t t_cost;
	uint32_t m_cost_kib;
	uint32_t parallelism;
};

/* Verify password against an argon2id PHC string. true only on a match. */
bool auth_password_verify(const char *phc, const char *password, size_t len);
/* argon2id PHC string of password at cost c with a fresh 16-byte salt.
 * 0, -ENOSPC (out too small) or -EINVAL. */
int auth_password_hash(const struct auth_argon2_cost *c, const char *password, size_t len,
		       char *out, size_t outsz);
/* Spend the same work as a verification at cost c, for unknown users, so that
 * their refusal takes as long as a real one. */
void auth_password_dummy(const struct auth_argon2_cost *c, const char *password, size_t len);

/* Result of a TOTP check. */
enum auth_totp_result {
	AUTH_TOTP_BAD = 0,   /* no step within the window matches */
	AUTH_TOTP_MATCH = 1, /* matched *step (caller still checks it was unused) */
};

/* Compare code (6 ASCII digits) in constant time against the codes of the
 * steps now/30 - window .. now/30 + window. On a match writes the step. */
enum auth_totp_result auth_totp_check(const uint8_t *secret, size_t secret_len,
				      const char *code, int64_t now, unsigned window,
				      int64_t *step);

#endif
