/* Secrets the admin tool generates for a new account: the one-time password,
 * its argon2id hash, and the otpauth:// URI of a TOTP secret. */
#ifndef SFTPDROP_ADMIN_CREDENTIALS_H
#define SFTPDROP_ADMIN_CREDENTIALS_H

#include <stddef.h>

#include "conf.h"
#include "defs.h"

/* 20 characters from a 64-symbol alphabet: 120 bits, typed once from a letter. */
#define ADMIN_OTP_LEN 20
/* Base32 of the TOTP secret without padding, plus NUL. */
#define ADMIN_TOTP_B32_SIZE ((SD_TOTP_SECRET_LEN * 8 + 4) / 5 + 1)
/* Longest otpauth:// URI we build (label and secret are bounded). */
#define ADMIN_TOTP_URI_SIZE 512
/* The issuer shown by authenticator apps. */
#define ADMIN_TOTP_ISSUER "sftpdrop"

/* A fresh one-time password for username, uniformly random among the strings
 * that meet the password rules and do not contain the user name. out holds
 * ADMIN_OTP_LEN + 1 bytes; the caller wipes it. 0 or -errno. */
int admin_otp_generate(const char *username, char *out);

/* argon2id PHC string of password at the configured cost, with a fresh
 * 16-byte salt, into out. 0, -ENOSPC (out too small) or -errno. */
int admin_password_hash(const struct conf *c, const char *password, char *out,
			size_t outsz);

/* otpauth://totp/ISSUER:LOGIN?secret=...&issuer=... for the base32 secret.
 * Holds the secret: the caller wipes out. 0 or -ENOSPC. */
int admin_totp_uri(const char *login, const char *secret_b32, char *out, size_t outsz);

#endif
