/* Secrets the admin tool generates for an account: the one-time password,
 * the activation code, their argon2id hashes, and the otpauth:// URI of a
 * TOTP secret. */
#ifndef SFTPDROP_ADMIN_CREDENTIALS_H
#define SFTPDROP_ADMIN_CREDENTIALS_H

#include <stddef.h>

#include "conf.h"
#include "defs.h"

/* 20 characters from a 64-symbol alphabet: 120 bits, typed once from an
 * e-mail; longer when the configured minimum length asks for more. */
#define ADMIN_OTP_LEN 20
/* The largest password_min_length the configuration accepts, plus NUL. */
#define ADMIN_OTP_SIZE (128 + 1)
/* Activation code: 12 characters from 32 symbols (60 bits, against an online
 * guesser that the lockout stops after a few tries), shown in groups of 4. */
#define ADMIN_ACTIVATION_CHARS 12
#define ADMIN_ACTIVATION_GROUP 4
/* "K7QM-2XPA-9RTC" plus NUL. */
#define ADMIN_ACTIVATION_SIZE \
	(ADMIN_ACTIVATION_CHARS + ADMIN_ACTIVATION_CHARS / ADMIN_ACTIVATION_GROUP)
/* Base32 of the TOTP secret without padding, plus NUL. */
#define ADMIN_TOTP_B32_SIZE ((SD_TOTP_SECRET_LEN * 8 + 4) / 5 + 1)
/* Longest otpauth:// URI we build (label and secret are bounded). */
#define ADMIN_TOTP_URI_SIZE 512
/* The issuer shown by authenticator apps. */
#define ADMIN_TOTP_ISSUER "sftpdrop"

/* A fresh one-time password for username, uniformly random among the strings
 * that meet the configured password rules and do not contain the user name:
 * ADMIN_OTP_LEN characters, or password_min_length when that is more. out
 * holds ADMIN_OTP_SIZE bytes; the caller wipes it. 0 or -errno. */
int admin_otp_generate(const struct conf *c, const char *username, char *out);

/* A fresh activation code: shown gets the grouped form for the letter
 * ("K7QM-2XPA-9RTC"), canonical the 12 characters without dashes, which is
 * what is hashed (the daemon removes dashes and spaces and folds case before
 * it verifies). Both hold ADMIN_ACTIVATION_SIZE bytes; the caller wipes them.
 * 0 or -errno. */
int admin_activation_generate(char *shown, char *canonical);

/* argon2id PHC string of password at the configured cost, with a fresh
 * 16-byte salt, into out. 0, -ENOSPC (out too small) or -errno. */
int admin_password_hash(const struct conf *c, const char *password, char *out,
			size_t outsz);

/* otpauth://totp/ISSUER:LOGIN?secret=...&issuer=... for the base32 secret.
 * Holds the secret: the caller wipes out. 0 or -ENOSPC. */
int admin_totp_uri(const char *login, const char *secret_b32, char *out, size_t outsz);

#endif
