/* Credential checks: argon2id verification and TOTP windows (RFC 6238
 * SHA-1 test vectors, truncated to 6 digits). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <argon2.h>
#include <string.h>

#include "auth.h"

static const uint8_t rfc_secret[] = "12345678901234567890";

static void totp_matches_rfc6238_vectors(void **st)
{
	int64_t step = 0;

	(void)st;
	/* T = 59 -> 94287082; T = 1111111109 -> 07081804 */
	assert_int_equal(auth_totp_check(rfc_secret, 20, "287082", 59, 0, &step),
			 AUTH_TOTP_MATCH);
	assert_int_equal(step, 1);
	assert_int_equal(auth_totp_check(rfc_secret, 20, "081804", 1111111109, 0, &step),
			 AUTH_TOTP_MATCH);
	assert_int_equal(step, 1111111109 / 30);
}

static void totp_window_is_plus_minus_one_step(void **st)
{
	int64_t step = 0;

	(void)st;
	/* code of step 37037036 (T=1111111109) checked 30 s later and earlier */
	assert_int_equal(auth_totp_check(rfc_secret, 20, "081804", 1111111109 + 30, 1, &step),
			 AUTH_TOTP_MATCH);
	assert_int_equal(auth_totp_check(rfc_secret, 20, "081804", 1111111109 - 30, 1, &step),
			 AUTH_TOTP_MATCH);
	assert_int_equal(auth_totp_check(rfc_secret, 20, "081804", 1111111109 + 60, 1, &step),
			 AUTH_TOTP_BAD);
	assert_int_equal(auth_totp_check(rfc_secret, 20, "081804", 1111111109 + 30, 0, &step),
			 AUTH_TOTP_BAD);
}

static void totp_rejects_malformed_codes(void **st)
{
	int64_t step = 0;

	(void)st;
	assert_int_equal(auth_totp_check(rfc_secret, 20, "", 59, 1, &step), AUTH_TOTP_BAD);
	assert_int_equal(auth_totp_check(rfc_secret, 20, "28708", 59, 1, &step), AUTH_TOTP_BAD);
	assert_int_equal(auth_totp_check(rfc_secret, 20, "2870822", 59, 1, &step),
			 AUTH_TOTP_BAD);
	assert_int_equal(auth_totp_check(rfc_secret, 20, "28708a", 59, 1, &step), AUTH_TOTP_BAD);
}

static void password_verifies_only_the_right_one(void **st)
{
	char phc[256];
	uint8_t salt[16] = "0123456789abcdef";

	(void)st;
	assert_int_equal(argon2id_hash_encoded(1, 8192, 1, "Geheim-Wachtwoord1", 18, salt, 16, 32,
					       phc, sizeof(phc)),
			 ARGON2_OK);
	assert_true(auth_password_verify(phc, "Geheim-Wachtwoord1", 18));
	assert_false(auth_password_verify(phc, "Geheim-Wachtwoord2", 18));
	assert_false(auth_password_verify(phc, "", 0));
	assert_false(auth_password_verify("$argon2i$v=19$m=8192,t=1,p=1$x$y", "a", 1));
	assert_false(auth_password_verify(NULL, "a", 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(totp_matches_rfc6238_vectors),
		cmocka_unit_test(totp_window_is_plus_minus_one_step),
		cmocka_unit_test(totp_rejects_malformed_codes),
		cmocka_unit_test(password_verifies_only_the_right_one),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
