/* Constants shared by the daemon, the ingest watcher and the admin tool: names
 * on disk that more than one program must agree on. */
#ifndef SFTPDROP_DEFS_H
#define SFTPDROP_DEFS_H

/* Prefix of the private staging file an upload is written to until its clean
 * CLOSE; hidden from listings, refused as a client name, never ingested. */
#define SD_STAGING_PREFIX ".sftpdrop-staging."

/* Longest relation number (digits) and user name part of a login. */
#define SD_RELATION_MAX 12
#define SD_USERNAME_MAX 64
/* Longest login "RELATION.USER" plus NUL. */
#define SD_LOGIN_MAX (SD_RELATION_MAX + 1 + SD_USERNAME_MAX + 1)

/* Longest password we accept from a client; longer input is refused before
 * it reaches argon2 (bounds the work an attacker can ask for). */
#define SD_PASSWORD_MAX 256

/* TOTP: RFC 6238 defaults used by every authenticator app. */
#define SD_TOTP_DIGITS 6
#define SD_TOTP_STEP 30
#define SD_TOTP_SECRET_LEN 20 /* 160 bits, RFC 4226 recommendation */

/* Every name that starts with this belongs to the service: refused as a
 * client name, hidden from listings, never ingested. SD_STAGING_PREFIX and
 * SD_RECEIPTS_DIR start with it. */
#define SD_RESERVED_PREFIX ".sftpdrop-"

/* A relation's receipts, written by sftpdrop-ingest into its upload
 * directory, and the read-only path under which its clients see them. */
#define SD_RECEIPTS_DIR ".sftpdrop-receipts"
#define SD_RECEIPTS_VIRTUAL ".receipts"

#endif
