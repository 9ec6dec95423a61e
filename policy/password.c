/* The portal's password rules (length, no user name, character classes).
 * History and ageing need stored state and live in their own files. */
#include "policy.h"

#include <ctype.h>
#include <string.h>

/* Passwords longer than this are refused outright (argon2 input bound). */
#define POLICY_PW_MAX_BYTES SD_PASSWORD_MAX

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static bool contains_ci(const char *hay, const char *needle)
{
	size_t nl = strlen(needle);

	if (nl == 0)
		return false;
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, nl) == 0)
			return true;
	return false;
}

unsigned policy_password_check(const char *password, const char *user,
			       const struct policy_password_params *p)
{
	bool lower = false, upper = false, digit = false, punct = false;
	unsigned broken = 0;
	unsigned classes;

	if (strlen(password) > POLICY_PW_MAX_BYTES)
		broken |= POLICY_PW_TOO_LONG;
	if (utf8_chars(password) < p->min_length)
		broken |= POLICY_PW_TOO_SHORT;
	if (user && contains_ci(password, user))
		broken |= POLICY_PW_HAS_USERNAME;
	for (const char *c = password; *c; c++) {
		unsigned char u = (unsigned char)*c;

		if (u >= 0x80)
			continue; /* non-ASCII letters count as none of the four classes */
		lower |= islower(u) != 0;
		upper |= isupper(u) != 0;
		digit |= isdigit(u) != 0;
		punct |= ispunct(u) != 0 || u == ' ';
	}
	classes = (unsigned)lower + (unsigned)upper + (unsigned)digit + (unsigned)punct;
	if (classes < p->min_classes)
		broken |= POLICY_PW_FEW_CLASSES;
	return broken;
}
