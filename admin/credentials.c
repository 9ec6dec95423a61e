/* Generation of account secrets. The one-time password is drawn uniformly from
 * an alphabet without look-alike characters (it is read from an e-mail or a
 * screen and typed by hand) and re-drawn until it meets the password rules, so
 * that the daemon's policy check on first login never refuses it. The
 * activation code is printed in a letter: upper case and digits only, without
 * I/1 and O/0. */
#include "credentials.h"

#include <argon2.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "util.h"

/* No l/1/I, o/0/O; punctuation that every keyboard layout has and that needs
 * no quoting in a shell or a URL form field. 64 symbols: 6 bits each. */
static const char otp_lower[] = "abcdefghijkmnpqrstuvwxyz";
static const char otp_upper[] = "ABCDEFGHJKLMNPQRSTUVWXYZ";
static const char otp_digit[] = "23456789";
static const char otp_punct[] = "!#%+-=?@";
/* 32 symbols: 5 bits each. */
static const char activation_alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/* A draw misses a class with probability < 0.25; 200 misses in a row do not
 * happen unless the random source is broken. */
#define OTP_MAX_DRAWS 200

#define ARGON2_SALT_LEN 16
#define ARGON2_HASH_LEN 32

static bool has_any(const char *s, const char *set)
{
	return strpbrk(s, set) != NULL;
}

int admin_otp_generate(const struct conf *c, const char *username, char *out)
{
	const struct policy_password_params rules = {
		.min_length = (unsigned)c->password_min_length,
		.min_classes = (unsigned)c->password_min_classes,
	};
	char alphabet[sizeof(otp_lower) + sizeof(otp_upper) + sizeof(otp_digit) +
		      sizeof(otp_punct)];
	char pw[ADMIN_OTP_SIZE];
	size_t len = ADMIN_OTP_LEN;
	uint32_t alen;
	int r = -EAGAIN;

	/* conf bounds password_min_length to what ADMIN_OTP_SIZE holds. */
	if (rules.min_length > len)
		len = rules.min_length;
	if (len >= sizeof(pw))
		return -EINVAL;
	snprintf(alphabet, sizeof(alphabet), "%s%s%s%s", otp_lower, otp_upper, otp_digit,
		 otp_punct);
	alen = (uint32_t)strlen(alphabet);
	/* Rejection of whole draws keeps the result uniform over the accepted set. */
	for (int draw = 0; draw < OTP_MAX_DRAWS; draw++) {
		for (size_t i = 0; i < len; i++) {
			uint32_t k;

			r = util_random_below(alen, &k);
			if (r < 0)
				goto out;
			pw[i] = alphabet[k];
		}
		pw[len] = '\0';
		r = -EAGAIN;
		if (!has_any(pw, otp_lower) || !has_any(pw, otp_upper) ||
		    !has_any(pw, otp_digit) || !has_any(pw, otp_punct))
			continue;
		if (policy_password_check(pw, username, &rules) != 0)
			continue;
		memcpy(out, pw, len + 1);
		r = 0;
		break;
	}
out:
	explicit_bzero(pw, sizeof(pw));
	return r;
}

int admin_activation_generate(char *shown, char *canonical)
{
	uint32_t alen = (uint32_t)strlen(activation_alphabet);
	size_t o = 0;

	for (size_t i = 0; i < ADMIN_ACTIVATION_CHARS; i++) {
		uint32_t k;
		int r = util_random_below(alen, &k);

		if (r < 0) {
			explicit_bzero(shown, ADMIN_ACTIVATION_SIZE);
			explicit_bzero(canonical, ADMIN_ACTIVATION_SIZE);
			return r;
		}
		if (i > 0 && i % ADMIN_ACTIVATION_GROUP == 0)
			shown[o++] = '-';
		shown[o++] = activation_alphabet[k];
		canonical[i] = activation_alphabet[k];
	}
	shown[o] = '\0';
	canonical[ADMIN_ACTIVATION_CHARS] = '\0';
	return 0;
}

int admin_password_hash(const struct conf *c, const char *password, char *out,
			size_t outsz)
{
	uint8_t salt[ARGON2_SALT_LEN];
	size_t need;
	int ar;
	int r;

	/* conf bounds the costs far below UINT32_MAX. */
	need = argon2_encodedlen((uint32_t)c->argon2_t_cost, (uint32_t)c->argon2_m_cost_kib,
				 (uint32_t)c->argon2_parallelism, ARGON2_SALT_LEN,
				 ARGON2_HASH_LEN, Argon2_id);
	if (need > outsz)
		return -ENOSPC;
	r = util_random(salt, sizeof(salt));
	if (r < 0)
		return r;
	ar = argon2id_hash_encoded((uint32_t)c->argon2_t_cost, (uint32_t)c->argon2_m_cost_kib,
				   (uint32_t)c->argon2_parallelism, password, strlen(password),
				   salt, sizeof(salt), ARGON2_HASH_LEN, out, outsz);
	switch (ar) {
	case ARGON2_OK:
		return 0;
	case ARGON2_MEMORY_ALLOCATION_ERROR:
		return -ENOMEM;
	case ARGON2_THREAD_FAIL:
		return -EAGAIN;
	default:
		return -EINVAL;
	}
}

/* Append s percent-encoded (RFC 3986: all but unreserved characters). */
static int append_encoded(char *out, size_t outsz, size_t *o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
			     c == '~';

		if (*o + (plain ? 1 : 3) >= outsz)
			return -ENOSPC;
		if (plain) {
			out[(*o)++] = (char)c;
		} else {
			out[(*o)++] = '%';
			out[(*o)++] = hex[c >> 4];
			out[(*o)++] = hex[c & 0xf];
		}
	}
	out[*o] = '\0';
	return 0;
}

static int append_raw(char *out, size_t outsz, size_t *o, const char *s)
{
	size_t n = strlen(s);

	if (*o + n >= outsz)
		return -ENOSPC;
	memcpy(out + *o, s, n + 1);
	*o += n;
	return 0;
}

int admin_totp_uri(const char *login, const char *secret_b32, char *out, size_t outsz)
{
	char params[96];
	size_t o = 0;
	int r;

	/* Key URI format (Google Authenticator wiki): the label is
	 * "issuer:account", each part percent-encoded, the colon literal. */
	snprintf(params, sizeof(params), "&issuer=%s&algorithm=SHA1&digits=%d&period=%d",
		 ADMIN_TOTP_ISSUER, SD_TOTP_DIGITS, SD_TOTP_STEP);
	r = append_raw(out, outsz, &o, "otpauth://totp/");
	if (r == 0)
		r = append_encoded(out, outsz, &o, ADMIN_TOTP_ISSUER);
	if (r == 0)
		r = append_raw(out, outsz, &o, ":");
	if (r == 0)
		r = append_encoded(out, outsz, &o, login);
	if (r == 0)
		r = append_raw(out, outsz, &o, "?secret=");
	if (r == 0)
		r = append_encoded(out, outsz, &o, secret_b32);
	if (r == 0)
		r = append_raw(out, outsz, &o, params);
	if (r < 0)
		explicit_bzero(out, outsz);
	return r;
}
