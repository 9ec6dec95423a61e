/* TOTP (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits) with liboath generating the
 * expected codes; the comparison is ours and constant-time. */
#include "auth.h"

#include <liboath/oath.h>
#include <string.h>

#include "defs.h"
#include "util.h"

static bool six_digits(const char *code)
{
	if (strlen(code) != SD_TOTP_DIGITS)
		return false;
	for (int i = 0; i < SD_TOTP_DIGITS; i++)
		if (code[i] < '0' || code[i] > '9')
			return false;
	return true;
}

enum auth_totp_result auth_totp_check(const uint8_t *secret, size_t secret_len,
				      const char *code, int64_t now, unsigned window,
				      int64_t *step)
{
	int64_t base = now / SD_TOTP_STEP;
	enum auth_totp_result res = AUTH_TOTP_BAD;
	int64_t found = 0;
	bool well_formed = six_digits(code);

	if (oath_init() != OATH_OK)
		return AUTH_TOTP_BAD;
	/* Walk the whole window even after a match: same work whatever the code. */
	for (int64_t s = base - (int64_t)window; s <= base + (int64_t)window; s++) {
		char expect[SD_TOTP_DIGITS + 1];

		if (s < 0)
			continue;
		if (oath_totp_generate((const char *)secret, secret_len,
				       (time_t)(s * SD_TOTP_STEP), SD_TOTP_STEP, 0,
				       SD_TOTP_DIGITS, expect) != OATH_OK)
			continue;
		if (well_formed && util_ct_equal(expect, code, SD_TOTP_DIGITS) &&
		    res == AUTH_TOTP_BAD) {
			res = AUTH_TOTP_MATCH;
			found = s;
		}
		explicit_bzero(expect, sizeof(expect));
	}
	if (res == AUTH_TOTP_MATCH)
		*step = found;
	return res;
}
