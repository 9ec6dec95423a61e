/* Password verification with argon2id (libargon2). Unknown users get the same
 * amount of hashing work so that timing does not tell them apart. */
#include "auth.h"

#include <argon2.h>
#include <errno.h>
#include <string.h>

#include "util.h"

bool auth_password_verify(const char *phc, const char *password, size_t len)
{
	if (!phc || strncmp(phc, "$argon2id$", 10) != 0)
		return false;
	/* argon2_verify compares the hashes in constant time. */
	return argon2id_verify(phc, password, len) == ARGON2_OK;
}

int auth_password_hash(const struct auth_argon2_cost *c, const char *password, size_t len,
		       char *out, size_t outsz)
{
	uint8_t salt[16];
	int r;

	if (argon2_encodedlen(c->t_cost, c->m_cost_kib, c->parallelism, sizeof(salt), 32,
			      Argon2_id) > outsz)
		return -ENOSPC;
	r = util_random(salt, sizeof(salt));
	if (r < 0)
		return r;
	r = argon2id_hash_encoded(c->t_cost, c->m_cost_kib, c->parallelism, password, len, salt,
				  sizeof(salt), 32, out, outsz);
	return r == ARGON2_OK ? 0 : -EINVAL;
}

void auth_password_dummy(const struct auth_argon2_cost *c, const char *password, size_t len)
{
	uint8_t salt[16] = { 0 };
	uint8_t out[32];

	util_random(salt, sizeof(salt));
	argon2id_hash_raw(c->t_cost, c->m_cost_kib, c->parallelism, password, len, salt,
			  sizeof(salt), out, sizeof(out));
	explicit_bzero(out, sizeof(out));
}
