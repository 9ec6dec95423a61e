/* Public-key login of batch accounts, decided by the monitor (auth_pubkey.c). */
#ifndef SFTPDROP_AUTH_PUBKEY_H
#define SFTPDROP_AUTH_PUBKEY_H

#include <stdbool.h>
#include <stddef.h>

#include "login.h"
#include "store.h"

/* The key (type name and base64 blob, as libssh exports them) offered for
 * login. verified false: the client only asks whether the key would do
 * (LOGIN_OK: yes, the worker sends PK_OK; nothing is recorded); verified
 * true: libssh has checked the signature, and LOGIN_OK means logged in (last
 * login recorded, failure count reset, auth_ok audited). A refusal goes
 * through login_refuse() with a reason= of docs/login.md and the key's
 * fingerprint. fp receives "SHA256:..." (or "-" if the key cannot be read). */
enum login_result auth_pubkey_login(struct login *l, const char *login, const char *type,
				    const char *b64, bool verified,
				    char fp[STORE_FINGERPRINT_MAX]);

/* "SHA256:<base64>" of the public key, as OpenSSH prints it. 0 or -EINVAL. */
int auth_pubkey_fingerprint(const char *type, const char *b64,
			    char fp[STORE_FINGERPRINT_MAX]);

#endif
